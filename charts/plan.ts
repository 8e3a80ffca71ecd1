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
    const spec = (x: Obj) => x['pgEdge']?.clusterSpec;
    if (!same(spec(b)?.postgresql, spec(a)?.postgresql) || spec(b)?.imageName !== spec(a)?.imageName) {
      return [`CloudNativePG restarts the Postgres instances in ${cluster} one at a time, standbys first (server settings or image changed)`];
    }
    if (!same(b['pgEdge']?.externalNodes, a['pgEdge']?.externalNodes)) return [`pgEdge node list changes in ${cluster}; no pod restarts`];
    return [];
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
  return [];
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
