import { ApiObject } from 'cdk8s';
import type { Construct } from 'constructs';

export interface MedusaBackupScheduleProps {
  readonly name: string;
  /** Namespace of the CassandraDatacenter in its region's cluster. */
  readonly namespace: string;
  readonly labels: Record<string, string>;
  /** CassandraDatacenter `metadata.name`. */
  readonly datacenter: string;
  /** Standard 5-field cron. */
  readonly cronSchedule: string;
  /** @default differential */
  readonly backupType: 'differential' | 'full';
}

/**
 * A `MedusaBackupSchedule` (medusa.k8ssandra.io/v1alpha1) for one DC: the data-plane operator
 * next to the DC creates a MedusaBackupJob on each tick; never two at once.
 */
export class MedusaBackupSchedule extends ApiObject {
  constructor(scope: Construct, id: string, props: MedusaBackupScheduleProps) {
    if (props.cronSchedule.trim().split(/\s+/).length !== 5) {
      throw new Error(`MedusaBackupSchedule ${props.name}: cronSchedule "${props.cronSchedule}" must have 5 fields (e.g. "0 2 * * *")`);
    }
    super(scope, id, {
      apiVersion: 'medusa.k8ssandra.io/v1alpha1',
      kind: 'MedusaBackupSchedule',
      metadata: { name: props.name, namespace: props.namespace, labels: props.labels },
      spec: {
        cronSchedule: props.cronSchedule,
        backupSpec: { cassandraDatacenter: props.datacenter, backupType: props.backupType },
        operationType: 'backup',
        concurrencyPolicy: 'Forbid',
        disabled: false,
      },
    });
  }
}
