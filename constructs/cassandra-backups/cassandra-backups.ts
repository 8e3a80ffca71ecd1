import { Construct } from 'constructs';
import { cassandraRegionNames, CassandraSecrets, Labels, medusaBackupScheduleName, medusaPrefix } from '../../regions/names.js';
import { backupsOf } from '../barman-cloud/config.js';
import { regionOf, type ComponentProps } from '../component.js';
import { SecretRequirement } from '../output.js';
import { MedusaBackupSchedule } from './medusa-backup-schedule.js';
import { medusaSchedule } from './medusa-storage.js';

/**
 * One region's Cassandra backups: the MedusaBackupSchedule of its DC and the bucket
 * credentials Medusa reads. `scope` is the region's `clusters/<cluster>/cassandra-backups` folder.
 */
export class CassandraBackups extends Construct {
  constructor(scope: Construct, id: string, props: ComponentProps) {
    super(scope, id);
    const c = props.config;
    const r = regionOf(props, 'cassandra-backups');
    const b = backupsOf(c, 'cassandra-backups');
    if (!b.medusa.enabled) throw new Error('cassandra-backups: Medusa is not enabled (the component is enabled only with backups.medusa.enabled)');
    const dc = cassandraRegionNames(c, r);
    new MedusaBackupSchedule(scope, 'medusa-backup-schedule', {
      name: medusaBackupScheduleName(c, r),
      namespace: props.namespace,
      labels: { [Labels.partOf]: c.platform, [Labels.component]: 'cassandra-backups', [Labels.region]: r.name },
      datacenter: dc.datacenter,
      cronSchedule: medusaSchedule(b),
      backupType: b.medusa.backupType,
    });
    new SecretRequirement(this, 'medusa-credentials', {
      cluster: r.cluster,
      namespace: props.namespace,
      name: CassandraSecrets.medusaBucket,
      keys: ['credentials'],
      usedBy: `Medusa containers of DC ${dc.datacenter} (bucket ${b.objectStore.bucket}, prefix ${medusaPrefix(c)}; the object store's access key as an AWS credentials file: [default] aws_access_key_id, aws_secret_access_key)`,
    });
  }
}
