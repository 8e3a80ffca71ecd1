/**
 * `npm run plan -- --base <ref> --format markdown`: the plan as a pull-request comment.
 *
 * - A hidden marker line first (PLAN_MARKER), so the PR workflow finds its one comment and
 *   updates it instead of adding another.
 * - The summary (plan-markdown-summary.ts): totals, refused dangerous changes with the exact
 *   acknowledgement, per cluster the Applications added / changed / removed, pods that restart,
 *   data at risk. Always whole.
 * - Per Application (clusters and Applications in code-unit order, docs last) a collapsed
 *   `<details>` section: its effects, then every file it adds, changes or removes as a unified
 *   diff of the redacted texts (plan-markdown-redact.ts; the rule is printed in the footer).
 * - When the whole would exceed `maxChars` (default 60,000: GitHub refuses comments over 65,536
 *   characters), Application sections are left out, in order, until the rest fits; a note names
 *   every one left out. The summary and the footer are never cut (if they alone exceed the
 *   limit, the comment does too, and says so).
 *
 * Pure: the same plan and files give the same bytes.
 */
import type { Plan, PlannedApplication } from './plan.js';
import { unifiedDiff } from './plan-markdown-diff.js';
import { REDACTION_RULE, redactFile } from './plan-markdown-redact.js';
import { byCodeUnits, clustersOf, mdCode, mdText, renderSummary } from './plan-markdown-summary.js';
import type { DistFiles } from './render.js';

/** The first line of every comment; the workflow looks for it. */
export const PLAN_MARKER = '<!-- regionmesh-plan -->';

/** Default size limit in characters (UTF-16 code units, as GitHub counts). */
export const DEFAULT_MAX_CHARS = 60_000;

export interface MarkdownPlanInput {
  readonly plan: Plan;
  /** The base dist (`{path: content}`, paths relative to the dist folder). */
  readonly base: ReadonlyMap<string, string>;
  /** The next dist, as the config renders it. */
  readonly next: DistFiles;
  /** What the plan compared with, e.g. `origin/main:dist`. */
  readonly baseLabel: string;
  /** The command that reproduces the comment, shown in notes. */
  readonly command: string;
  /** Size limit in characters (default DEFAULT_MAX_CHARS). */
  readonly maxChars?: number;
}

/** A fence longer than any run of backticks in `text`. */
function fenceFor(text: string): string {
  const longest = Math.max(2, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  return '`'.repeat(longest + 1);
}

/** One file's diff block, redacted on both sides. */
function fileDiff(path: string, sign: '+' | '~' | '-', before: string | undefined, after: string | undefined): string {
  const a = before === undefined ? '' : redactFile(path, before);
  const b = after === undefined ? '' : redactFile(path, after, before, true);
  const diff = unifiedDiff(a, b);
  const what = sign === '+' ? 'added' : sign === '-' ? 'removed' : 'changed';
  if (diff === '') return `**${sign} ${mdCode(path)}** (${what}; only redacted or formatting differences)\n`;
  const fence = fenceFor(diff);
  return `**${sign} ${mdCode(path)}** (${what})\n\n${fence}diff\n${diff}\n${fence}\n`;
}

/** The collapsed section of one Application: effects, then the diff of each of its files. */
function applicationSection(a: PlannedApplication, base: ReadonlyMap<string, string>, next: DistFiles): string {
  const counts = `+${a.added.length} ~${a.changed.length} -${a.removed.length}`;
  const html = (t: string) => t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const where = a.cluster === 'docs' ? 'documents' : `on <code>${html(a.cluster)}</code>`;
  const title = `<code>${html(a.application)}</code> ${where}: ${a.status}, files ${counts}${a.effects.length > 0 ? `, ${a.effects.length} effect(s)` : ''}`;
  const files: Array<[string, '+' | '~' | '-']> = [
    ...a.added.map((p) => [p, '+'] as [string, '+']),
    ...a.changed.map((p) => [p, '~'] as [string, '~']),
    ...a.removed.map((p) => [p, '-'] as [string, '-']),
  ].sort((x, y) => byCodeUnits(x[0], y[0]));
  const body = [
    ...(a.effects.length > 0 ? [a.effects.map((e) => `- ${mdText(e)}`).join('\n'), ''] : []),
    ...files.map(([p, sign]) => fileDiff(p, sign, base.get(p), next.get(p))),
  ];
  return `<details><summary>${title}</summary>\n\n${body.join('\n')}\n</details>\n`;
}

function footer(command: string): string {
  return `---\n<sub>${REDACTION_RULE} Reproduce: ${mdCode(command)}.</sub>\n`;
}

/** The note that replaces the cut detail. */
function cutNote(cut: readonly PlannedApplication[], maxChars: number, command: string): string {
  const list = cut.map((a) => `${mdCode(a.application)}${a.cluster === 'docs' ? '' : ` (${mdCode(a.cluster)})`}`).join(', ');
  return `> [!NOTE]\n> Detail cut to stay under ${maxChars} characters: the diff of ${cut.length} Application(s) is not shown: ${list}. The summary above is complete. Run ${mdCode(command)} for the whole detail.\n`;
}

export function renderPlanMarkdown(input: MarkdownPlanInput): string {
  const maxChars = input.maxChars ?? DEFAULT_MAX_CHARS;
  const head = `${PLAN_MARKER}\n${renderSummary(input.plan, input.baseLabel, input.command)}\n`;
  const foot = footer(input.command);
  if (!input.plan.changed) return `${head}${foot}`;
  const apps = clustersOf(input.plan).flatMap((c) => c.applications);
  const sections = apps.map((a) => applicationSection(a, input.base, input.next));
  const title = '### Changes per Application\n\n';
  const whole = `${head}${title}${sections.join('\n')}\n${foot}`;
  if (whole.length <= maxChars) return whole;
  // Leave sections out, in order, until the rest and the note fit. The note names every section
  // left out, so its length depends on which: reserve it for the worst case (all cut).
  const reserve = cutNote(apps, maxChars, input.command).length + 1;
  let budget = maxChars - head.length - title.length - foot.length - reserve;
  const kept: string[] = [];
  const cut: PlannedApplication[] = [];
  sections.forEach((s, i) => {
    if (s.length + 1 <= budget) {
      kept.push(s);
      budget -= s.length + 1;
    } else cut.push(apps[i]!);
  });
  const over = head.length + foot.length > maxChars ? `> [!WARNING]\n> The summary alone is longer than ${maxChars} characters; it is kept whole.\n\n` : '';
  return `${head}${title}${over}${cutNote(cut, maxChars, input.command)}\n${kept.map((s) => `${s}\n`).join('')}${foot}`;
}
