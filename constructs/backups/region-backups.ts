import { Construct } from 'constructs';
import { cassandraRegionNames, CassandraSecrets, Labels, medusaBackupScheduleName, medusaPrefix, postgresBackupNames, postgresRegionNames } from '../../regions/names.js';
import type { BackupsConfig, PlatformConfig, Region } from '../../regions/schema.js';
import { HelmValuesFile, SecretRequirement, type OutputChart } from '../output.js';
import { BARMAN_CLOUD_CHART, barmanCloudValues } from './barman-cloud-values.js';
import { MedusaBackupSchedule } from './medusa-backup-schedule.js';
import { medusaSchedule } from './medusa-storage.js';
import { BarmanObjectStore } from './object-store.js';
import { PostgresScheduledBackup } from './scheduled-backup.js';

export interface RegionBackupsProps {
  readonly config: PlatformConfig;
  /** The config's `backups` (this construct exists only when it is set). */
  readonly backups: BackupsConfig;
  readonly region: Region;
  /** `clusters/<cluster>/postgres-backups`: the ObjectStore and the ScheduledBackup. */
  readonly postgres: OutputChart;
  /** `clusters/<cluster>/cassandra-backups`: the MedusaBackupSchedule; omit when Medusa is off. */
  readonly cassandra?: OutputChart;
}

/**
 * One region's backups: the barman-cloud plugin's values (installed next to the CNPG
 * operator), the ObjectStore and ScheduledBackup of its Postgres node, the Medusa schedule
 * of its Cassandra DC, and the credentials Secrets they read.
 */
export class RegionBackups extends Construct {
  public readonly pluginValues: HelmValuesFile;

  constructor(scope: Construct, id: string, props: RegionBackupsProps) {
    super(scope, id);
    const { config: c, backups: b, region: r } = props;
    const pg = postgresRegionNames(c, r);
    const names = postgresBackupNames(c, r);
    const labels = (component: string) => ({ [Labels.partOf]: c.platform, [Labels.component]: component, [Labels.region]: r.name });

    this.pluginValues = new HelmValuesFile(this, 'plugin-values', { cluster: r.cluster, chart: BARMAN_CLOUD_CHART, values: barmanCloudValues(c, b) });

    new BarmanObjectStore(props.postgres, 'object-store', {
      name: names.objectStore,
      namespace: c.postgres.namespace,
      labels: labels('postgres-backups'),
      destinationPath: names.destinationPath,
      endpointURL: b.objectStore.endpointURL,
      credentials: b.objectStore.credentials,
      ...(b.objectStore.region ? { region: b.objectStore.region } : {}),
      retention: b.retention,
      sidecarResources: b.plugin.sidecarResources,
    });
    new PostgresScheduledBackup(props.postgres, 'scheduled-backup', {
      name: names.scheduledBackup,
      namespace: c.postgres.namespace,
      labels: labels('postgres-backups'),
      cluster: pg.cnpgCluster,
      schedule: b.schedule,
    });
    const creds = b.objectStore.credentials;
    new SecretRequirement(this, 'object-store-credentials', {
      cluster: r.cluster,
      namespace: c.postgres.namespace,
      name: creds.secretName,
      keys: [creds.accessKeyIdKey, creds.secretAccessKeyKey],
      usedBy: `barman-cloud sidecars of ${pg.cnpgCluster} (ObjectStore ${names.objectStore}: WAL archive and base backups to ${names.destinationPath})`,
    });

    if (b.medusa.enabled) {
      if (!props.cassandra) throw new Error(`RegionBackups ${r.name}: Medusa is on but no cassandra-backups chart was given`);
      const dc = cassandraRegionNames(c, r);
      new MedusaBackupSchedule(props.cassandra, 'medusa-backup-schedule', {
        name: medusaBackupScheduleName(c, r),
        namespace: c.cassandra.namespace,
        labels: labels('cassandra-backups'),
        datacenter: dc.datacenter,
        cronSchedule: medusaSchedule(b),
        backupType: b.medusa.backupType,
      });
      new SecretRequirement(this, 'medusa-credentials', {
        cluster: r.cluster,
        namespace: c.cassandra.namespace,
        name: CassandraSecrets.medusaBucket,
        keys: ['credentials'],
        usedBy: `Medusa containers of DC ${dc.datacenter} (bucket ${b.objectStore.bucket}, prefix ${medusaPrefix(c)}; the object store's access key as an AWS credentials file: [default] aws_access_key_id, aws_secret_access_key)`,
      });
    }
  }
}
