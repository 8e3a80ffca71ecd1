import { Construct } from 'constructs';
import { Labels, postgresBackupNames, postgresRegionNames } from '../../regions/names.js';
import { backupsOf } from '../barman-cloud/config.js';
import { regionOf, type ComponentProps } from '../component.js';
import { SecretRequirement } from '../output.js';
import { BarmanObjectStore } from './object-store.js';
import { PostgresScheduledBackup } from './scheduled-backup.js';

/**
 * One region's Postgres backups: the ObjectStore its node archives WAL and base backups to,
 * the ScheduledBackup, and the object store credentials they read. `scope` is the region's
 * `clusters/<cluster>/postgres-backups` folder.
 */
export class PostgresBackups extends Construct {
  constructor(scope: Construct, id: string, props: ComponentProps) {
    super(scope, id);
    const c = props.config;
    const r = regionOf(props, 'postgres-backups');
    const b = backupsOf(c, 'postgres-backups');
    const pg = postgresRegionNames(c, r);
    const names = postgresBackupNames(c, r);
    const labels = { [Labels.partOf]: c.platform, [Labels.component]: 'postgres-backups', [Labels.region]: r.name };

    new BarmanObjectStore(scope, 'object-store', {
      name: names.objectStore,
      namespace: props.namespace,
      labels,
      destinationPath: names.destinationPath,
      endpointURL: b.objectStore.endpointURL,
      credentials: b.objectStore.credentials,
      ...(b.objectStore.region ? { region: b.objectStore.region } : {}),
      retention: b.retention,
      sidecarResources: b.plugin.sidecarResources,
    });
    new PostgresScheduledBackup(scope, 'scheduled-backup', {
      name: names.scheduledBackup,
      namespace: props.namespace,
      labels,
      cluster: pg.cnpgCluster,
      schedule: b.schedule,
    });
    const creds = b.objectStore.credentials;
    new SecretRequirement(this, 'object-store-credentials', {
      cluster: r.cluster,
      namespace: props.namespace,
      name: creds.secretName,
      keys: [creds.accessKeyIdKey, creds.secretAccessKeyKey],
      usedBy: `barman-cloud sidecars of ${pg.cnpgCluster} (ObjectStore ${names.objectStore}: WAL archive and base backups to ${names.destinationPath})`,
    });
  }
}
