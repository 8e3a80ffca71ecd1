/** Postgres backups (only with `backups`): an ObjectStore and a ScheduledBackup per region's node. */
import type { ComponentDefinition, EffectsOf } from '../component.js';
import { Placement, regionNodeId } from '../component.js';
import { OBJECT_STORE_NODE } from '../barman-cloud/component.js';
import { scheduleEffects } from '../plan-effects.js';
import { PostgresBackups } from './postgres-backups.js';

/**
 * A changed ObjectStore: no pod restarts (the barman-cloud sidecar reads it at each archive
 * and backup), but a new destination starts a new archive and a removed one stops archiving.
 */
const objectStoreEffects: EffectsOf = ({ cluster, before: b, after: a }) => {
  const name = (a ?? b)!['metadata'].name;
  const dest = (x: Record<string, any>) => x['spec']?.configuration?.destinationPath;
  if (!b) return [`ObjectStore ${name} in ${cluster}: WAL and base backups go to ${dest(a!)}, kept ${a!['spec']?.retentionPolicy}`];
  if (!a) return [`ObjectStore ${name} in ${cluster} is removed: WAL archiving to ${dest(b)} stops`];
  if (dest(a) !== dest(b)) return [`ObjectStore ${name} in ${cluster}: new WAL and backups go to ${dest(a)}; the archive at ${dest(b)} stays, but a restore needs the new base backup first`];
  return [`ObjectStore ${name} in ${cluster} changes; the barman-cloud sidecars use it from the next archive or backup, no pod restarts`];
};

const scheduledBackupEffects: EffectsOf = ({ cluster, before: b, after: a }) =>
  scheduleEffects(`base backups of ${a?.['spec']?.cluster?.name ?? b?.['spec']?.cluster?.name}`, cluster, b, a, (x) => x['spec']?.schedule);

export const postgresBackups: ComponentDefinition = {
  name: 'postgres-backups',
  enabled: (c) => c.backups !== undefined,
  placement: (c) => Placement.regions(c),
  // The postgres component creates the namespace.
  namespace: (c) => ({ name: c.postgres.namespace }),
  application: () => ({
    // The ObjectStore CRD arrives with the plugin app.
    syncOptions: ['ServerSideApply=true', 'SkipDryRunOnMissingResource=true'],
  }),
  construct: PostgresBackups,
  topology: {
    outsideEdges: (c, r) => (c.backups ? [`  ${regionNodeId('pg', r.name)} -.->|WAL + base backups| ${OBJECT_STORE_NODE}`] : []),
  },
  plan: { kinds: { ObjectStore: objectStoreEffects, ScheduledBackup: scheduledBackupEffects } },
};
