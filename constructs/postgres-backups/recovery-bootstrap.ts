/**
 * A region's CNPG Cluster bootstrapped from its own archive (`backups.restore`): instead of
 * initdb, `bootstrap.recovery` from an `externalClusters` entry that reads the previous archive
 * generation through the barman-cloud plugin and the region's ObjectStore. Only applies when
 * the Cluster is (re)created; CloudNativePG ignores bootstrap on a running Cluster.
 */
import { BARMAN_CLOUD_PLUGIN, postgresBackupNames } from '../../regions/names.js';
import type { PlatformConfig, Region } from '../../regions/schema.js';

/** Cluster spec keys for a recovering region, or `{}`. `initdb: null` removes the chart's default initdb (Helm deletes null keys). */
export function recoveryClusterSpec(c: PlatformConfig, region: Region): { bootstrap?: Record<string, unknown>; externalClusters?: Array<Record<string, unknown>> } {
  const restore = c.backups?.restore;
  if (!restore || restore.region !== region.name) return {};
  const names = postgresBackupNames(c, region);
  if (!names.previousServerName) {
    throw new Error(`backups.restore.region "${region.name}" needs backups.archiveGenerations.${region.name} >= 1 (the schema rule reports this)`);
  }
  return {
    bootstrap: {
      initdb: null,
      recovery: {
        source: names.recoverySource,
        ...(restore.targetTime ? { recoveryTarget: { targetTime: restore.targetTime } } : {}),
      },
    },
    externalClusters: [
      {
        name: names.recoverySource,
        plugin: {
          name: BARMAN_CLOUD_PLUGIN,
          enabled: true,
          parameters: { barmanObjectName: names.objectStore, serverName: names.previousServerName },
        },
      },
    ],
  };
}
