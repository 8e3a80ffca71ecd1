/**
 * The summary at the top of the PR comment (`npm run plan -- --format markdown`): the totals,
 * the dangerous changes (refused ones with the exact acknowledgement to add), and per cluster
 * the Applications added / changed / removed, the pods that restart and the data at risk.
 * Never cut by the size limit (see plan-markdown.ts).
 *
 * Effects are sentences written by the components (ComponentDefinition.plan); the summary sorts
 * them by what they say (EFFECT_CLASSES), and every effect, classified or not, is also listed
 * under its Application in the detail.
 */
import type { Plan, PlannedApplication } from './plan.js';

/** Markdown-safe inline text: characters that would start emphasis, links, HTML or table cells are escaped. */
export function mdText(text: string): string {
  return text.replace(/[\\`*_[\]<>|~]/g, (c) => `\\${c}`);
}

/** Inline code that survives backticks in the text. */
export function mdCode(text: string): string {
  const longest = Math.max(0, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(longest + 1);
  return longest === 0 ? `${fence}${text}${fence}` : `${fence} ${text} ${fence}`;
}

/** Code-unit order: the same on every machine (localeCompare depends on the ICU locale). */
export const byCodeUnits = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * How an effect sentence is sorted into the summary. `restart`: pods roll, restart or scale to 0
 * (phrases that say none does, like "no pod restarts", are removed first). `data`: something
 * that holds data (volumes, PVCs, a DC, a database, a keyspace, tables, data) is deleted,
 * decommissioned, lost, wiped or replaced by an empty one, or backups or WAL archiving stop.
 * Deleting other things (a Certificate's Secret, DNS records) is not data at risk here.
 */
const HOLDS_DATA = String.raw`(?:volumes?|PVCs?|DC|datacenter|database|keyspace|tables?|data)`;
const LOSES = String.raw`(?:delet(?:e|es|ed|ing)|decommission(?:s|ed|ing)?|lost|los(?:e|es)|wipe[sd]?|empty)`;
export const EFFECT_CLASSES = {
  notRestart: /\bno pods? restarts?\b|\b(?:do|does) not restart\b|\ba restart only if\b|\bwithout a restart\b/gi,
  restart: /\b(?:rolls?|restarts?|rolling restart|scales? to 0)\b/i,
  data: new RegExp(String.raw`\b${HOLDS_DATA}\b[^.;]*\b${LOSES}\b|\b${LOSES}\b[^.;]*\b${HOLDS_DATA}\b|\b(?:backups?|archiving)\b[^.;]*\bstops?\b`, 'i'),
} as const;

export function restartsPods(effect: string): boolean {
  return EFFECT_CLASSES.restart.test(effect.replace(EFFECT_CLASSES.notRestart, ''));
}

export function putsDataAtRisk(effect: string): boolean {
  return EFFECT_CLASSES.data.test(effect);
}

/** The clusters of the plan in code-unit order, each with its Applications in code-unit order (docs last). */
export function clustersOf(plan: Plan): Array<{ cluster: string; applications: PlannedApplication[] }> {
  const map = new Map<string, PlannedApplication[]>();
  for (const a of plan.applications) map.set(a.cluster, [...(map.get(a.cluster) ?? []), a]);
  return [...map.keys()]
    .sort((a, b) => Number(a === 'docs') - Number(b === 'docs') || byCodeUnits(a, b))
    .map((cluster) => ({ cluster, applications: map.get(cluster)!.sort((a, b) => byCodeUnits(a.application, b.application)) }));
}

const names = (apps: readonly PlannedApplication[]) => apps.map((a) => mdCode(a.application)).join(', ');
const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** The dangerous-change section: refused ones first with the YAML to add, then acknowledged ones, then notes. */
function dangerSection(plan: Plan, command: string): string[] {
  const d = plan.danger;
  const out: string[] = [];
  if (d.refused.length > 0) {
    out.push(
      '> [!CAUTION]',
      `> **${plural(d.refused.length, 'dangerous change')} refused.** ${mdCode(command)} exits 2 and this check fails until the change is undone or the config acknowledges each id below.`,
      '',
      '| refused | why |',
      '|---|---|',
      ...d.refused.map((c) => `| ${mdCode(c.id)} | ${mdText(c.message)} |`),
      '',
      'To accept, add exactly this to the config (`acknowledgedChanges`), then `npm run synth`:',
      '',
      '```yaml',
      'acknowledgedChanges:',
      ...d.refused.map((c) => `  - ${JSON.stringify(c.id)}`),
      '```',
      '',
    );
  }
  const acknowledged = d.changes.filter((c) => !d.refused.includes(c));
  if (acknowledged.length > 0) {
    out.push('**Acknowledged dangerous changes** (the config accepts them):', '', ...acknowledged.map((c) => `- ${mdCode(c.id)}: ${mdText(c.message)}`), '');
  }
  const notes = [...d.notes.map(mdText), ...d.unusedAcknowledgements.map((a) => `acknowledgement ${mdCode(a)} matches no change (remove it from \`acknowledgedChanges\`)`)];
  if (notes.length > 0) out.push(...notes.map((n) => `> [!NOTE]\n> ${n}\n`));
  return out;
}

/** One cluster's block: its Applications by status, the pods that restart, the data at risk. */
function clusterSection(cluster: string, apps: readonly PlannedApplication[], files: { added: number; changed: number; removed: number }): string[] {
  const out = [`#### ${mdCode(cluster)} (files +${files.added} ~${files.changed} -${files.removed})`, ''];
  for (const status of ['added', 'changed', 'removed'] as const) {
    const mine = apps.filter((a) => a.status === status);
    if (mine.length > 0) out.push(`- Applications ${status}: ${names(mine)}`);
  }
  const effects = apps.flatMap((a) => a.effects);
  const restarts = effects.filter(restartsPods);
  const data = effects.filter(putsDataAtRisk);
  out.push(restarts.length === 0 ? '- Pods that restart: none' : `- Pods that restart:\n${restarts.map((e) => `  - ${mdText(e)}`).join('\n')}`);
  out.push(data.length === 0 ? '- Data at risk: none' : `- **Data at risk:**\n${data.map((e) => `  - ${mdText(e)}`).join('\n')}`);
  return [...out, ''];
}

/**
 * The summary: totals, dangerous changes, then one block per cluster and the documents that
 * change. `baseLabel` names what the plan compared with (`origin/main:dist`); `command` is the
 * command that reproduces it.
 */
export function renderSummary(plan: Plan, baseLabel: string, command: string): string {
  const out = ['## regionmesh plan', '', `Compared with ${mdCode(baseLabel)}: **${mdText(plan.summary)}**.`, ''];
  out.push(...dangerSection(plan, command));
  if (!plan.changed) return [...out, 'The config renders exactly the base `dist/`: nothing to sync.', ''].join('\n');
  const clusters = clustersOf(plan).filter((c) => c.cluster !== 'docs');
  out.push(
    '| cluster | Applications + / ~ / - | files + / ~ / - | pods that restart | data at risk |',
    '|---|---|---|---|---|',
    ...clusters.map(({ cluster, applications: apps }) => {
      const t = plan.clusters.find((c) => c.cluster === cluster)!;
      const count = (s: PlannedApplication['status']) => apps.filter((a) => a.status === s).length;
      const effects = apps.flatMap((a) => a.effects);
      return `| ${mdCode(cluster)} | ${count('added')} / ${count('changed')} / ${count('removed')} | ${t.added} / ${t.changed} / ${t.removed} | ${effects.filter(restartsPods).length} | ${effects.filter(putsDataAtRisk).length} |`;
    }),
    '',
  );
  for (const { cluster, applications } of clusters) out.push(...clusterSection(cluster, applications, plan.clusters.find((c) => c.cluster === cluster)!));
  const docs = plan.applications.filter((a) => a.cluster === 'docs').flatMap((a) => [...a.added, ...a.changed, ...a.removed]);
  if (docs.length > 0) out.push(`Documents: ${docs.sort(byCodeUnits).map(mdCode).join(', ')} change (SECRETS.md lists the Secrets to create).`, '');
  return out.join('\n');
}
