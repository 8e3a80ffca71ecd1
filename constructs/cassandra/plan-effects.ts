/** What a change of the K8ssandraCluster does, as k8ssandra-operator reconciles it. */
import type { DistObject, EffectsOf } from '../component.js';
import { same } from '../plan-effects.js';

const DC_REPLICATION = 'k8ssandra.io/dc-replication';

export const k8ssandraClusterEffects: EffectsOf = ({ before: b, after: a }) => {
  if (a && !b) return ['the Cassandra cluster is created'];
  if (!a || !b) return [];
  const dcs = (x: DistObject) => new Map(((x['spec']?.cassandra?.datacenters ?? []) as DistObject[]).map((d) => [d['metadata'].name as string, d]));
  const [bd, ad] = [dcs(b), dcs(a)];
  const out: string[] = [];
  for (const [name, dc] of ad) {
    if (!bd.has(name)) out.push(`Cassandra DC ${name} is created in ${dc['k8sContext']} and rebuilt from the other DCs`);
    else if (!same(bd.get(name), dc)) out.push(`Cassandra pods of DC ${name} (${dc['k8sContext']}) roll one at a time`);
  }
  for (const [name, dc] of bd) if (!ad.has(name)) out.push(`Cassandra DC ${name} in ${dc['k8sContext']} is decommissioned and its volumes deleted`);
  const rest = (x: DistObject) => ({ ...x['spec']?.cassandra, datacenters: undefined });
  if (!same(rest(a), rest(b))) out.push('every Cassandra DC rolls, one DC at a time (cluster-level settings changed)');
  const [ra, rb] = [a['metadata']?.annotations?.[DC_REPLICATION], b['metadata']?.annotations?.[DC_REPLICATION]];
  if (!same(ra, rb) && ra) out.push(`k8ssandra-operator replicates ${ra} to the new DC(s)`);
  else if (rb && !ra) out.push('the dc-replication annotation is removed: the joined DC(s) are now regular members');
  return out;
};
