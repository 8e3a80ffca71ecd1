/**
 * The Cluster's reference to the barman-cloud plugin (CNPG `spec.plugins`): WAL archiving and
 * base backups of this region's node into its ObjectStore. Without backups: nothing at all.
 */
import { BARMAN_CLOUD_PLUGIN, postgresBackupNames } from '../../regions/names.js';
import type { PlatformConfig, Region } from '../../regions/schema.js';

export interface BarmanPluginReference {
  readonly name: string;
  readonly enabled: boolean;
  readonly isWALArchiver: boolean;
  readonly parameters: { readonly barmanObjectName: string; readonly serverName: string };
}

/** `{plugins: [...]}` to merge into the CNPG Cluster spec, or `{}` when backups are off. */
export function barmanClusterPlugins(c: PlatformConfig, region: Region): { plugins?: BarmanPluginReference[] } {
  if (!c.backups) return {};
  const names = postgresBackupNames(c, region);
  return {
    plugins: [
      {
        name: BARMAN_CLOUD_PLUGIN,
        enabled: true,
        isWALArchiver: true,
        parameters: { barmanObjectName: names.objectStore, serverName: names.serverName },
      },
    ],
  };
}
