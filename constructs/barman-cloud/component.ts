/**
 * The barman-cloud CNPG-I plugin next to the CloudNativePG operator in every region (only with
 * `backups`). It also draws the backups part of TOPOLOGY.md: the object store the Postgres and
 * Medusa backups share.
 */
import { Construct } from 'constructs';
import { medusaBackupScheduleName, medusaPrefix, postgresBackupNames, postgresRegionNames } from '../../regions/names.js';
import type { PlatformConfig } from '../../regions/schema.js';
import type { ComponentDefinition, ComponentProps } from '../component.js';
import { Placement } from '../component.js';
import { medusaSchedule, retentionDays } from '../cassandra-backups/medusa-storage.js';
import { HelmValuesFile } from '../output.js';
import { BARMAN_CLOUD_CHART, BARMAN_CLOUD_CLUSTER_KINDS, barmanCloudValues } from './barman-cloud-values.js';
import { backupsConfig, backupsOf } from './config.js';

/** Mermaid id of the object store node. */
export const OBJECT_STORE_NODE = 'store';

/** One region's plugin values. */
export class BarmanCloudInstall extends Construct {
  constructor(scope: Construct, id: string, props: ComponentProps) {
    super(scope, id);
    const b = backupsOf(props.config, 'barman-cloud');
    new HelmValuesFile(this, 'plugin-values', { cluster: props.target.cluster, chart: BARMAN_CLOUD_CHART, values: barmanCloudValues(props.config, b) });
  }
}

function summary(c: PlatformConfig): string[] {
  const b = c.backups;
  if (!b) return ['- **Backups**: none (no `backups` in the config): no WAL archive, no base backups, no Medusa.'];
  return [
    `- **Backups**: bucket \`${b.objectStore.bucket}\` at \`${new URL(b.objectStore.endpointURL).host}\`, retention ${b.retention}; Postgres WAL archived continuously + base backups (\`${b.schedule}\`) through the barman-cloud plugin${b.medusa.enabled ? `; Cassandra through Medusa (\`${medusaSchedule(b)}\`)` : '; Cassandra: no backups (backups.medusa.enabled is false)'}.`,
  ];
}

function backupsSection(c: PlatformConfig): string[] {
  const b = c.backups;
  if (!b) return [];
  const lines = [
    '',
    '## Backups',
    '',
    `Object store \`${b.objectStore.endpointURL}\`, bucket \`${b.objectStore.bucket}\`, credentials Secret \`${b.objectStore.credentials.secretName}\`; retention ${b.retention}.`,
    '',
    '| region | Postgres Cluster | ObjectStore | archive folder (destinationPath/serverName) | ScheduledBackup (schedule) | Cassandra DC | MedusaBackupSchedule (schedule) |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const r of c.regions) {
    const pg = postgresRegionNames(c, r);
    const bk = postgresBackupNames(c, r);
    const medusa = b.medusa.enabled ? `${medusaBackupScheduleName(c, r)} (\`${medusaSchedule(b)}\`)` : '-';
    lines.push(
      `| ${r.name} | ${pg.cnpgCluster} | ${bk.objectStore} | \`${bk.destinationPath}/${bk.serverName}\` | ${bk.scheduledBackup} (\`${b.schedule}\`) | ${r.cassandra.datacenter} | ${medusa} |`,
    );
  }
  if (b.medusa.enabled) {
    lines.push('', `Medusa writes every DC under prefix \`${medusaPrefix(c)}\` and purges backups older than ${retentionDays(b.retention)} days.`);
  }
  return lines;
}

export const barmanCloud: ComponentDefinition = {
  name: 'barman-cloud',
  config: backupsConfig,
  enabled: (c) => c.backups !== undefined,
  placement: (c) => Placement.regions(c),
  // Next to the CNPG operator, in the namespace the cnpg-operator component creates.
  namespace: (c) => ({ name: c.postgres.operator.namespace }),
  application: (c) => {
    const chart = c.backups!.plugin.chart;
    return {
      chart: { repoURL: chart.repoURL, chart: BARMAN_CLOUD_CHART, version: chart.version, releaseName: 'barman-cloud' },
      manifests: false,
      // Its Issuer and Certificates wait (dry run skipped, sync retried) for cert-manager's CRDs;
      // its pod waits for the certificates cert-manager issues.
      syncOptions: ['ServerSideApply=true', 'SkipDryRunOnMissingResource=true'],
    };
  },
  construct: BarmanCloudInstall,
  clusterScopedKinds: () => BARMAN_CLOUD_CLUSTER_KINDS,
  topology: {
    summary,
    outsideNodes: (c) => (c.backups ? [`  ${OBJECT_STORE_NODE}[("object store<br/>bucket ${c.backups.objectStore.bucket}")]`] : []),
    sections: backupsSection,
  },
};
