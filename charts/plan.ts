/**
 * What a config change will do, per cluster and per ArgoCD Application: objects and values
 * files added, changed and removed, the pods that will roll, and the dangerous changes
 * (refused unless acknowledged). Pure: base and next dist come in as `{path: content}`.
 */
import { parse } from 'yaml';
import type { PlatformConfig } from '../regions/schema.js';
import { assessDanger, type DangerReport } from './danger.js';
import { diffDist, ownerOf } from './dist-writer.js';
import type { DistFiles } from './render.js';
import { baseStateOf, type DistLocation } from './state.js';

export interface PlannedApplication {
  /** ArgoCD Application name, or `(docs)` for TOPOLOGY/SECRETS/STATE. */
  readonly application: string;
  readonly cluster: string;
  readonly added: readonly string[];
  readonly changed: readonly string[];
  readonly removed: readonly string[];
  /** Human-readable consequences: pods that roll, jobs that rerun, DCs created. */
  readonly effects: readonly string[];
}

export interface Plan {
  readonly changed: boolean;
  readonly applications: readonly PlannedApplication[];
  readonly clusters: ReadonlyArray<{ cluster: string; added: number; changed: number; removed: number }>;
  readonly danger: DangerReport;
  readonly summary: string;
}

type Obj = Record<string, any>;

const yamlOf = (text: string | undefined): Obj | undefined => (text === undefined ? undefined : (parse(text) as Obj));
const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** Maps dist paths to the Application that syncs them, from the ApplicationSets of both sides. */
function applicationIndex(files: DistFiles[], distRoot: string, rootApp: string): (path: string) => string {
  const byPrefix = new Map<string, string>();
  for (const f of files) {
    for (const [path, text] of f) {
      if (!path.startsWith('argocd/applicationset-')) continue;
      const set = yamlOf(text)!;
      for (const e of set['spec']?.generators?.[0]?.list?.elements ?? []) {
        const strip = (p: string) => p.replace(/^\$values\//, '').replace(new RegExp(`^${distRoot.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/`), '');
        byPrefix.set(`${strip(e.manifests)}/`, e.name);
        if (e.valueFile) byPrefix.set(strip(e.valueFile), e.name);
      }
    }
  }
  return (path) => {
    if (path.startsWith('argocd/') || path.startsWith('bootstrap/')) return rootApp;
    for (const [prefix, app] of byPrefix) if (path === prefix || path.startsWith(prefix)) return app;
    return '(docs)';
  };
}

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
function changedSettings(b: Obj, a: Obj): string[] {
  const params = (x: Obj) => (x['parameters'] ?? {}) as Obj;
  const names = [...new Set([...Object.keys(params(b)), ...Object.keys(params(a))])].filter((k) => !same(params(b)[k], params(a)[k]));
  const blocks = [...new Set([...Object.keys(b), ...Object.keys(a)])].filter((k) => k !== 'parameters' && !same(b[k], a[k]));
  return [...names, ...blocks].sort();
}

/**
 * What a changed pgEdge values file does to the region's CNPG Cluster, as CloudNativePG
 * handles each field (cloudnative-pg docs: scaling, storage, rolling updates).
 */
function pgEdgeEffects(cluster: string, b: Obj, a: Obj): string[] {
  const sb = (b['pgEdge']?.clusterSpec ?? {}) as Obj;
  const sa = (a['pgEdge']?.clusterSpec ?? {}) as Obj;
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

/** What changing `path` from `before` to `after` does to running pods. */
function effectsOf(path: string, before: string | undefined, after: string | undefined): string[] {
  if (!path.endsWith('.yaml')) return [];
  const parts = path.split('/');
  const cluster = parts[1] ?? '';
  const b = yamlOf(before);
  const a = yamlOf(after);
  if (path.startsWith('values/') && path.endsWith('/nats.yaml')) {
    const replicas = (a ?? b)?.['config']?.cluster?.replicas ?? '?';
    if (!b) return [`NATS StatefulSet nats is created in ${cluster} (${replicas} servers)`];
    if (!a) return [`NATS in ${cluster} is no longer managed (its Application element is gone; workloads are preserved)`];
    const gatewaysChanged = !same(b['config']?.gateway?.merge?.gateways, a['config']?.gateway?.merge?.gateways);
    return [
      `NATS StatefulSet nats in ${cluster} rolls its ${replicas} pods one at a time (config checksum${gatewaysChanged ? '; the gateway list changed and is never hot-reloaded' : ''})`,
    ];
  }
  if (path.startsWith('values/') && path.endsWith('/pgedge.yaml')) {
    if (!b) return [`pgEdge node ${a?.['pgEdge']?.nodes?.[0]?.name} (CNPG Cluster) is created in ${cluster}`];
    if (!a) return [`pgEdge in ${cluster} is no longer managed (workloads preserved)`];
    return pgEdgeEffects(cluster, b, a);
  }
  if (path.startsWith('values/')) {
    const chart = parts[2]?.replace(/\.yaml$/, '');
    if (!b) return [`${chart} is installed in ${cluster}`];
    if (!a) return [`${chart} in ${cluster} is no longer managed (workloads preserved)`];
    return [`${chart} pods in ${cluster} restart with the new values`];
  }
  const kind = a?.['kind'] ?? b?.['kind'];
  if (kind === 'Deployment') {
    if (a && b && a['spec']?.replicas === 0 && b['spec']?.replicas !== 0) return [`${a['metadata'].name} in ${cluster} scales to 0 (region leaving)`];
    if (!b) return [`${a!['metadata'].name} pods start in ${cluster}`];
    if (!a) return [`${b['metadata'].name} in ${cluster} is pruned`];
    if (!same(a['spec']?.template, b['spec']?.template)) return [`${a['metadata'].name} pods in ${cluster} roll (maxUnavailable 0)`];
    return [];
  }
  if (kind === 'Job') {
    const name = (a ?? b)!['metadata'].name;
    if (!a) return [];
    return [b ? `Job ${name} runs again after the next sync of ${cluster}` : `Job ${name} runs after the first sync of ${cluster}`];
  }
  if (kind === 'K8ssandraCluster' && a && b) {
    const dcs = (x: Obj) => new Map(((x['spec']?.cassandra?.datacenters ?? []) as Obj[]).map((d) => [d['metadata'].name as string, d]));
    const [bd, ad] = [dcs(b), dcs(a)];
    const out: string[] = [];
    for (const [name, dc] of ad) {
      if (!bd.has(name)) out.push(`Cassandra DC ${name} is created in ${dc['k8sContext']} and rebuilt from the other DCs`);
      else if (!same(bd.get(name), dc)) out.push(`Cassandra pods of DC ${name} (${dc['k8sContext']}) roll one at a time`);
    }
    for (const [name, dc] of bd) if (!ad.has(name)) out.push(`Cassandra DC ${name} in ${dc['k8sContext']} is decommissioned and its volumes deleted`);
    const rest = (x: Obj) => ({ ...x['spec']?.cassandra, datacenters: undefined });
    if (!same(rest(a), rest(b))) out.push('every Cassandra DC rolls, one DC at a time (cluster-level settings changed)');
    if (!same(a['metadata']?.annotations?.['k8ssandra.io/dc-replication'], b['metadata']?.annotations?.['k8ssandra.io/dc-replication']) && a['metadata']?.annotations?.['k8ssandra.io/dc-replication']) {
      out.push(`k8ssandra-operator replicates ${a['metadata'].annotations['k8ssandra.io/dc-replication']} to the new DC(s)`);
    } else if (b['metadata']?.annotations?.['k8ssandra.io/dc-replication'] && !a['metadata']?.annotations?.['k8ssandra.io/dc-replication']) {
      out.push('the dc-replication annotation is removed: the joined DC(s) are now regular members');
    }
    return out;
  }
  if (kind === 'K8ssandraCluster' && a && !b) return ['the Cassandra cluster is created'];
  if (kind === 'ObjectStore' || kind === 'ScheduledBackup' || kind === 'MedusaBackupSchedule') return backupEffects(kind, cluster, b, a);
  return [];
}

/**
 * Backup objects: none of them restarts a pod (the barman-cloud sidecar reads its ObjectStore
 * at each archive and backup; the schedules are read by their controllers), but a removed one
 * stops backups, which the plan says.
 */
function backupEffects(kind: string, cluster: string, b: Obj | undefined, a: Obj | undefined): string[] {
  const name = (a ?? b)!['metadata'].name;
  if (kind === 'ObjectStore') {
    const dest = (x: Obj) => x['spec']?.configuration?.destinationPath;
    if (!b) return [`ObjectStore ${name} in ${cluster}: WAL and base backups go to ${dest(a!)}, kept ${a!['spec']?.retentionPolicy}`];
    if (!a) return [`ObjectStore ${name} in ${cluster} is removed: WAL archiving to ${dest(b)} stops`];
    if (dest(a) !== dest(b)) return [`ObjectStore ${name} in ${cluster}: new WAL and backups go to ${dest(a)}; the archive at ${dest(b)} stays, but a restore needs the new base backup first`];
    return [`ObjectStore ${name} in ${cluster} changes; the barman-cloud sidecars use it from the next archive or backup, no pod restarts`];
  }
  const schedule = (x: Obj) => x['spec']?.schedule ?? x['spec']?.cronSchedule;
  const what = kind === 'ScheduledBackup' ? `base backups of ${a?.['spec']?.cluster?.name ?? b?.['spec']?.cluster?.name}` : `Medusa backups of DC ${(a ?? b)!['spec']?.backupSpec?.cassandraDatacenter}`;
  if (!b) return [`${what} in ${cluster} run on "${schedule(a!)}"${a!['spec']?.immediate ? ', the first one right away' : ''}`];
  if (!a) return [`${what} in ${cluster} stop (schedule ${name} removed); existing backups stay`];
  return schedule(a) !== schedule(b) ? [`${what} in ${cluster} move to "${schedule(a)}"`] : [`${what} in ${cluster}: schedule ${name} changes, no pod restarts`];
}

/**
 * The plan from the dist `base` (read at `baseWhere`) to `next`. A base with files but no
 * STATE.json refuses the plan (see baseStateOf).
 */
export function computePlan(base: DistFiles, next: DistFiles, config: PlatformConfig, baseWhere: DistLocation = { folder: 'dist' }): Plan {
  const change = diffDist(base, next);
  const danger = assessDanger(baseStateOf(base, baseWhere), config);
  const appOf = applicationIndex([base, next], config.gitops.path, `${config.platform}-root`);
  const mgmt = config.managementCluster.name;
  const apps = new Map<string, { application: string; cluster: string; added: string[]; changed: string[]; removed: string[]; effects: string[] }>();
  const entry = (path: string) => {
    const application = appOf(path);
    const cluster = ownerOf(path, mgmt);
    const key = `${cluster}\u0000${application}`;
    let e = apps.get(key);
    if (!e) apps.set(key, (e = { application, cluster, added: [], changed: [], removed: [], effects: [] }));
    return e;
  };
  for (const p of change.added) entry(p).added.push(p);
  for (const p of change.changed) entry(p).changed.push(p);
  for (const p of change.removed) entry(p).removed.push(p);
  for (const p of [...change.added, ...change.changed, ...change.removed]) {
    entry(p).effects.push(...effectsOf(p, base.get(p), next.get(p)));
  }
  const applications = [...apps.values()].sort((a, b) => a.cluster.localeCompare(b.cluster) || a.application.localeCompare(b.application));
  const clusters = [...new Set(applications.map((a) => a.cluster))].sort().map((cluster) => {
    const mine = applications.filter((a) => a.cluster === cluster);
    return {
      cluster,
      added: mine.reduce((n, a) => n + a.added.length, 0),
      changed: mine.reduce((n, a) => n + a.changed.length, 0),
      removed: mine.reduce((n, a) => n + a.removed.length, 0),
    };
  });
  const changed = change.added.length + change.changed.length + change.removed.length > 0;
  const rolls = applications.reduce((n, a) => n + a.effects.length, 0);
  const summary = changed
    ? `${change.added.length} added, ${change.changed.length} changed, ${change.removed.length} removed in ${applications.length} application(s) on ${clusters.length} cluster(s); ${rolls} effect(s); ${danger.refused.length} dangerous change(s) refused${danger.changes.length > danger.refused.length ? `, ${danger.changes.length - danger.refused.length} acknowledged` : ''}`
    : 'no changes';
  return { changed, applications, clusters, danger, summary };
}

export function formatPlan(plan: Plan): string {
  if (!plan.changed && plan.danger.changes.length === 0 && plan.danger.unusedAcknowledgements.length === 0) return 'no changes';
  const lines: string[] = plan.danger.notes.map((n) => `note: ${n}`);
  let cluster = '';
  for (const a of plan.applications) {
    if (a.cluster !== cluster) {
      cluster = a.cluster;
      const totals = plan.clusters.find((c) => c.cluster === cluster)!;
      lines.push('', `${cluster}  (+${totals.added} ~${totals.changed} -${totals.removed})`);
    }
    lines.push(`  ${a.application}`);
    for (const p of a.added) lines.push(`    + ${p}`);
    for (const p of a.changed) lines.push(`    ~ ${p}`);
    for (const p of a.removed) lines.push(`    - ${p}`);
    for (const e of a.effects) lines.push(`    => ${e}`);
  }
  if (plan.danger.changes.length > 0) {
    lines.push('', 'dangerous changes:');
    for (const d of plan.danger.changes) {
      const refused = plan.danger.refused.includes(d);
      lines.push(`  ${refused ? 'REFUSED' : 'acknowledged'}  ${d.id}`, `      ${d.message}`);
    }
    if (plan.danger.refused.length > 0) {
      lines.push('  to accept, add to acknowledgedChanges:', ...plan.danger.refused.map((d) => `    - ${JSON.stringify(d.id)}`));
    }
  }
  for (const ack of plan.danger.unusedAcknowledgements) lines.push(`note: acknowledgement "${ack}" matches no change (remove it)`);
  lines.push('', plan.summary);
  return lines.join('\n').replace(/^\n/, '');
}

/** JSON for bots: the plan without functions, stable key order. */
export function planJson(plan: Plan): string {
  return `${JSON.stringify(
    {
      changed: plan.changed,
      summary: plan.summary,
      refused: plan.danger.refused,
      acknowledged: plan.danger.changes.filter((c) => !plan.danger.refused.includes(c)),
      unusedAcknowledgements: plan.danger.unusedAcknowledgements,
      notes: plan.danger.notes,
      clusters: plan.clusters,
      applications: plan.applications,
    },
    null,
    2,
  )}\n`;
}
