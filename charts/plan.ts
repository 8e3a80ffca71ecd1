/**
 * What a config change will do, per cluster and per ArgoCD Application: objects and values
 * files added, changed and removed, the pods that will roll, and the dangerous changes
 * (refused unless acknowledged). Pure: base and next dist come in as `{path: content}`.
 */
import { parse } from 'yaml';
import type { ComponentDefinition, DistObject, EffectsOf } from '../constructs/component.js';
import { COMPONENTS } from '../constructs/components.js';
import { same } from '../constructs/plan-effects.js';
import { Labels } from '../regions/names.js';
import type { PlatformConfig } from '../regions/schema.js';
import { assessDanger, type DangerReport } from './danger.js';
import { diffDist, ownerOf } from './dist-writer.js';
import type { DistFiles } from './render.js';
import { baseStateOf, type DistLocation } from './state.js';

export interface PlannedApplication {
  /** ArgoCD Application name, or `(docs)` for TOPOLOGY/SECRETS/STATE. */
  readonly application: string;
  readonly cluster: string;
  /**
   * Whether the Application itself is new (`added`: none of its files is in the base dist),
   * goes away (`removed`: none is in the next one) or stays (`changed`).
   */
  readonly status: 'added' | 'changed' | 'removed';
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

const yamlOf = (text: string | undefined): DistObject | undefined => (text === undefined ? undefined : (parse(text) as DistObject));

/** The Application (and its component) that syncs a dist path. */
interface Owner {
  readonly application: string;
  readonly component?: string;
}

/** Maps dist paths to the Application that syncs them, from the ApplicationSets of both sides. */
function applicationIndex(files: DistFiles[], distRoot: string, rootApp: string): (path: string) => Owner {
  const byPrefix = new Map<string, Owner>();
  const escaped = distRoot.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const strip = (p: string) => p.replace(/^\$values\//, '').replace(new RegExp(`^${escaped}/`), '');
  for (const f of files) {
    for (const [path, text] of f) {
      if (!path.startsWith('argocd/applicationset-')) continue;
      const set = yamlOf(text)!;
      const component = set['metadata']?.labels?.[Labels.component] as string | undefined;
      for (const e of set['spec']?.generators?.[0]?.list?.elements ?? []) {
        const owner = { application: e.name as string, ...(component ? { component } : {}) };
        byPrefix.set(`${strip(e.manifests)}/`, owner);
        if (e.valueFile) byPrefix.set(strip(e.valueFile), owner);
      }
    }
  }
  return (path) => {
    if (path.startsWith('argocd/') || path.startsWith('bootstrap/')) return { application: rootApp };
    for (const [prefix, owner] of byPrefix) if (path === prefix || path.startsWith(prefix)) return owner;
    return { application: '(docs)' };
  };
}

/** Effects of a values file no component describes: the chart is installed, let go, or its pods restart. */
const chartValuesEffects = (chart: string): EffectsOf => ({ cluster, before: b, after: a }) => {
  if (!b) return [`${chart} is installed in ${cluster}`];
  if (!a) return [`${chart} in ${cluster} is no longer managed (workloads preserved)`];
  return [`${chart} pods in ${cluster} restart with the new values`];
};

/** Effects of the Kubernetes kinds every component may emit. */
const KIND_EFFECTS: Readonly<Record<string, EffectsOf>> = {
  Deployment: ({ cluster, before: b, after: a }) => {
    if (a && b && a['spec']?.replicas === 0 && b['spec']?.replicas !== 0) return [`${a['metadata'].name} in ${cluster} scales to 0 (region leaving)`];
    if (!b) return [`${a!['metadata'].name} pods start in ${cluster}`];
    if (!a) return [`${b['metadata'].name} in ${cluster} is pruned`];
    if (!same(a['spec']?.template, b['spec']?.template)) return [`${a['metadata'].name} pods in ${cluster} roll (maxUnavailable 0)`];
    return [];
  },
  Job: ({ cluster, before: b, after: a }) => {
    if (!a) return [];
    const name = a['metadata'].name;
    return [b ? `Job ${name} runs again after the next sync of ${cluster}` : `Job ${name} runs after the first sync of ${cluster}`];
  },
};

/** What changing `path` from `before` to `after` does to running pods: the owning component says, else the generic effects. */
function effectsOf(path: string, owner: Owner, before: string | undefined, after: string | undefined, components: readonly ComponentDefinition[]): string[] {
  if (!path.endsWith('.yaml')) return [];
  const parts = path.split('/');
  const change = { cluster: parts[1] ?? '', before: yamlOf(before), after: yamlOf(after) };
  const plan = components.find((d) => d.name === owner.component)?.plan;
  if (path.startsWith('values/')) return (plan?.values ?? chartValuesEffects(parts[2]?.replace(/\.yaml$/, '') ?? '?'))(change);
  const kind = (change.after ?? change.before)?.['kind'] as string | undefined;
  const effects = kind === undefined ? undefined : (plan?.kinds?.[kind] ?? KIND_EFFECTS[kind]);
  return effects ? effects(change) : [];
}

/**
 * The plan from the dist `base` (read at `baseWhere`) to `next`. A base with files but no
 * STATE.json refuses the plan (see baseStateOf).
 */
export function computePlan(
  base: DistFiles,
  next: DistFiles,
  config: PlatformConfig,
  baseWhere: DistLocation = { folder: 'dist' },
  components: readonly ComponentDefinition[] = COMPONENTS,
): Plan {
  const change = diffDist(base, next);
  const danger = assessDanger(baseStateOf(base, baseWhere), config, components);
  const appOf = applicationIndex([base, next], config.gitops.path, `${config.platform}-root`);
  const mgmt = config.managementCluster.name;
  const keyOf = (path: string) => `${ownerOf(path, mgmt)}\u0000${appOf(path).application}`;
  const inBase = new Set([...base.keys()].map(keyOf));
  const inNext = new Set([...next.keys()].map(keyOf));
  const apps = new Map<string, { application: string; cluster: string; status: PlannedApplication['status']; added: string[]; changed: string[]; removed: string[]; effects: string[] }>();
  for (const [paths, list] of [
    [change.added, 'added'],
    [change.changed, 'changed'],
    [change.removed, 'removed'],
  ] as const) {
    for (const path of paths) {
      const owner = appOf(path);
      const cluster = ownerOf(path, mgmt);
      const key = `${cluster}\u0000${owner.application}`;
      let e = apps.get(key);
      if (!e) {
        const status = !inBase.has(key) ? 'added' : !inNext.has(key) ? 'removed' : 'changed';
        apps.set(key, (e = { application: owner.application, cluster, status, added: [], changed: [], removed: [], effects: [] }));
      }
      e[list].push(path);
      e.effects.push(...effectsOf(path, owner, base.get(path), next.get(path), components));
    }
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
