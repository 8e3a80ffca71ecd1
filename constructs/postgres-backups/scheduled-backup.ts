import { ApiObject } from 'cdk8s';
import type { Construct } from 'constructs';
import { BARMAN_CLOUD_PLUGIN } from '../../regions/names.js';

export interface PostgresScheduledBackupProps {
  readonly name: string;
  /** Namespace of the CNPG Cluster. */
  readonly namespace: string;
  readonly labels: Record<string, string>;
  /** The CNPG Cluster to back up. */
  readonly cluster: string;
  /** CloudNativePG cron: 6 fields, seconds first (e.g. `0 0 2 * * *`). */
  readonly schedule: string;
}

/**
 * A CloudNativePG `ScheduledBackup` through the barman-cloud plugin (method `plugin`): base
 * backups on a schedule, the first one as soon as the Cluster exists. WAL is archived
 * continuously by the Cluster's plugin reference; retention is the ObjectStore's.
 */
export class PostgresScheduledBackup extends ApiObject {
  constructor(scope: Construct, id: string, props: PostgresScheduledBackupProps) {
    if (props.schedule.trim().split(/\s+/).length !== 6) {
      throw new Error(`ScheduledBackup ${props.name}: schedule "${props.schedule}" must have 6 fields, seconds first (e.g. "0 0 2 * * *")`);
    }
    super(scope, id, {
      apiVersion: 'postgresql.cnpg.io/v1',
      kind: 'ScheduledBackup',
      metadata: { name: props.name, namespace: props.namespace, labels: props.labels },
      spec: {
        schedule: props.schedule,
        cluster: { name: props.cluster },
        method: 'plugin',
        pluginConfiguration: { name: BARMAN_CLOUD_PLUGIN },
        // A base backup right away: point-in-time recovery needs one before the first schedule.
        immediate: true,
        suspend: false,
        online: true,
        target: 'prefer-standby',
        // Backup objects go with the ScheduledBackup (the data in the bucket stays).
        backupOwnerReference: 'self',
      },
    });
  }
}
