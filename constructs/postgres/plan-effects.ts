/** What a change of a region's pgEdge values does to its CNPG Cluster. */
import type { DistObject, EffectsOf } from '../component.js';
import { same } from '../plan-effects.js';

/** Kubernetes quantity in bytes (binary and decimal suffixes), for comparing sizes. */
function bytes(q: string): number {
  const m = /^([0-9.]+)([KMGTPE]i?|k)?$/.exec(q);
  if (!m) return NaN;
  const unit = m[2] ?? '';
  const power = { '': 0, k: 1, K: 1, M: 2, G: 3, T: 4, P: 5, E: 6 }[unit.replace('i', '')] ?? NaN;
  return Number(m[1]) * (unit.endsWith('i') ? 1024 : 1000) ** power;
}

/**
 * PostgreSQL settings of `postmaster` context (PostgreSQL docs, "Setting Parameters"): a
 * change takes effect only after a restart. The generator sets these; any other changed
 * setting is reloaded.
 */
const RESTART_SETTINGS: ReadonlySet<string> = new Set([
  'shared_preload_libraries',
  'wal_level',
  'track_commit_timestamp',
  'max_replication_slots',
  'max_wal_senders',
  'max_worker_processes',
  'max_connections',
  'shared_buffers',
]);

/** Names of the changed entries of a CNPG `postgresql` block: parameters by name, other keys (pg_hba...) as a whole. */
function changedSettings(b: DistObject, a: DistObject): string[] {
  const params = (x: DistObject) => (x['parameters'] ?? {}) as DistObject;
  const names = [...new Set([...Object.keys(params(b)), ...Object.keys(params(a))])].filter((k) => !same(params(b)[k], params(a)[k]));
  const blocks = [...new Set([...Object.keys(b), ...Object.keys(a)])].filter((k) => k !== 'parameters' && !same(b[k], a[k]));
  return [...names, ...blocks].sort();
}

/**
 * What a changed pgEdge values file does to the region's CNPG Cluster, as CloudNativePG
 * handles each field (cloudnative-pg docs: scaling, storage, rolling updates).
 */
function pgEdgeChangeEffects(cluster: string, b: DistObject, a: DistObject): string[] {
  const sb = (b['pgEdge']?.clusterSpec ?? {}) as DistObject;
  const sa = (a['pgEdge']?.clusterSpec ?? {}) as DistObject;
  const node = `pgEdge node ${a['pgEdge']?.nodes?.[0]?.name ?? '?'} in ${cluster}`;
  const out: string[] = [];

  const [ib, ia] = [Number(sb['instances'] ?? 1), Number(sa['instances'] ?? 1)];
  if (ia > ib) {
    out.push(`${node}: CloudNativePG adds ${ia - ib} standby pod(s) (${ib} -> ${ia} instances), each cloned from the primary with pg_basebackup onto a new PVC; running pods do not restart`);
  } else if (ia < ib) {
    out.push(
      `${node}: CloudNativePG removes ${ib - ia} standby pod(s) (${ib} -> ${ia} instances) and deletes their PVCs; the primary and its data stay` +
        (ia === 1 ? '; with 1 instance nothing takes over when the primary pod or its Kubernetes node fails (writes in this region stop until it is back)' : ''),
    );
  }

  const [zb, za] = [String(sb['storage']?.size ?? ''), String(sa['storage']?.size ?? '')];
  if (zb !== za) {
    if (bytes(za) > bytes(zb)) {
      out.push(
        `${node}: CloudNativePG resizes every PVC ${zb} -> ${za} in place, no data moves and no pod restarts; the StorageClass must allow volume expansion (allowVolumeExpansion: true), otherwise the API server refuses the resize and the PVCs stay at ${zb}`,
      );
    } else {
      out.push(
        `${node}: storage ${zb} -> ${za} is refused by the CloudNativePG webhook (it never shrinks a volume): the sync of this Application fails and nothing changes until the size is back to at least ${zb}`,
      );
    }
  }
  const [cb, ca] = [sb['storage']?.storageClass, sa['storage']?.storageClass];
  if (cb !== ca) {
    out.push(`${node}: the existing PVCs keep StorageClass ${cb ?? '(default)'} (a PVC's class cannot change); only PVCs created from now on (new instances) use ${ca ?? '(default)'}`);
  }

  const settings = changedSettings(sb['postgresql'] ?? {}, sa['postgresql'] ?? {});
  const restartSettings = settings.filter((k) => RESTART_SETTINGS.has(k));
  const rollFor = [
    !same(sb['resources'], sa['resources']) ? 'resources' : undefined,
    sb['imageName'] !== sa['imageName'] ? 'image' : undefined,
    // The barman-cloud plugin injects its sidecar into the instance pods.
    !same(sb['plugins'], sa['plugins']) ? 'plugins (the barman-cloud WAL archiver sidecar)' : undefined,
    restartSettings.length > 0 ? `server settings (${restartSettings.join(', ')} need a restart)` : undefined,
  ].filter((r): r is string => r !== undefined);
  const otherSettings = settings.filter((k) => !RESTART_SETTINGS.has(k));
  if (rollFor.length > 0) {
    const primary =
      sa['primaryUpdateMethod'] === 'switchover'
        ? 'then a switchover promotes an updated standby and the old primary restarts (writes pause for the switchover)'
        : `then the primary restarts without a switchover (primaryUpdateMethod ${sa['primaryUpdateMethod'] === undefined ? 'is not set: CloudNativePG defaults to restart' : 'restart'}): writes in this region pause until it is back`;
    out.push(
      `${node}: CloudNativePG rolls the Postgres pods for the changed ${rollFor.join(', ')}: ${ia === 1 ? 'its only instance restarts, so the node is down until the pod is back' : `standbys first, one at a time, ${primary}`}`,
    );
  }
  if (otherSettings.length > 0) {
    out.push(`${node}: CloudNativePG applies the changed server settings ${otherSettings.join(', ')} with a reload (a restart only if PostgreSQL reports one of them needs it)`);
  }

  if (!same(b['pgEdge']?.externalNodes, a['pgEdge']?.externalNodes)) {
    out.push(rollFor.length > 0 ? `pgEdge node list changes in ${cluster}` : `pgEdge node list changes in ${cluster}; no pod restarts`);
  }
  return out;
}

/** A changed pgEdge values file: created, no longer managed, or what CloudNativePG does with the change. */
export const pgEdgeValuesEffects: EffectsOf = ({ cluster, before: b, after: a }) => {
  if (!b) return [`pgEdge node ${a?.['pgEdge']?.nodes?.[0]?.name} (CNPG Cluster) is created in ${cluster}`];
  if (!a) return [`pgEdge in ${cluster} is no longer managed (workloads preserved)`];
  return pgEdgeChangeEffects(cluster, b, a);
};
