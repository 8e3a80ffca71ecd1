/** Cassandra backups (only with `backups` and Medusa on): a MedusaBackupSchedule per DC. */
import type { ComponentDefinition, EffectsOf } from '../component.js';
import { Placement, regionNodeId } from '../component.js';
import { OBJECT_STORE_NODE } from '../barman-cloud/component.js';
import { scheduleEffects } from '../plan-effects.js';
import { CassandraBackups } from './cassandra-backups.js';

const medusaScheduleEffects: EffectsOf = ({ cluster, before: b, after: a }) =>
  scheduleEffects(`Medusa backups of DC ${(a ?? b)!['spec']?.backupSpec?.cassandraDatacenter}`, cluster, b, a, (x) => x['spec']?.cronSchedule);

export const cassandraBackups: ComponentDefinition = {
  name: 'cassandra-backups',
  enabled: (c) => c.backups?.medusa.enabled === true,
  placement: (c) => Placement.regions(c),
  // The k8ssandra-operator component creates the namespace.
  namespace: (c) => ({ name: c.cassandra.namespace }),
  application: () => ({
    // The MedusaBackupSchedule CRD arrives with the data-plane k8ssandra-operator app.
    syncOptions: ['ServerSideApply=true', 'SkipDryRunOnMissingResource=true'],
  }),
  construct: CassandraBackups,
  topology: {
    outsideEdges: (c, r) => (c.backups?.medusa.enabled ? [`  ${regionNodeId('cas', r.name)} -.->|Medusa| ${OBJECT_STORE_NODE}`] : []),
  },
  plan: { kinds: { MedusaBackupSchedule: medusaScheduleEffects } },
};
