/**
 * YAML syntax errors, reported so that one typo stays readable: the first error with a code
 * frame, a few more one line each, and a count of the rest. One unclosed `[` makes the yaml
 * parser report an error for nearly every line after it; only the first one matters.
 */
import { Parser, type LineCounter, type YAMLError } from 'yaml';
import { codeFrame } from './code-frame.js';
import { formatProblem, type ConfigProblem } from './config-error.js';

/** Errors printed one line each after the first (framed) one; the rest are counted. */
export const YAML_FOLLOW_UPS = 3;

/** The `(yaml)` problems of a document's errors, in file order. */
export function yamlSyntaxProblems(
  errors: readonly YAMLError[],
  text: string,
  lineCounter: LineCounter,
  file: string,
): ConfigProblem[] {
  const openers = unclosedFlowCollections(text);
  const located = errors.map((err, order) => {
    const unclosed = /^Flow (sequence|map)\b.*\bend with a ([\]}])/.exec(oneLine(err.message));
    const opener = unclosed ? takeOpener(openers, unclosed[2] === ']' ? '[' : '{', err.pos[0]) : undefined;
    const offset = opener ?? err.pos[0];
    const fix =
      opener !== undefined
        ? `this "${unclosed![2] === ']' ? '[' : '{'}" is never closed: add "${unclosed![2]}" after its last item, or remove it`
        : err.code === 'DUPLICATE_KEY'
          ? 'remove or rename one of the two keys'
          : 'fix the YAML syntax at this position';
    const { line, col } = lineCounter.linePos(offset);
    return { offset, order, problem: { file, line, col, path: '(yaml)', message: `${oneLine(err.message)} (${fix})` } };
  });
  located.sort((a, b) => a.offset - b.offset || a.order - b.order);
  return located.map((l) => l.problem);
}

/**
 * The report for YAML syntax problems: the first with a code frame, up to YAML_FOLLOW_UPS
 * more one line each, then how many were left out.
 */
export function formatYamlProblems(problems: readonly ConfigProblem[], text: string): string {
  const [first, ...rest] = problems;
  if (!first) return '';
  const shown = rest.slice(0, YAML_FOLLOW_UPS);
  const suppressed = rest.length - shown.length;
  return [
    formatProblem(first),
    ...codeFrame(text, first.line, first.col),
    ...shown.map(formatProblem),
    ...(suppressed > 0
      ? [`${suppressed} more YAML error(s) suppressed (they usually follow from the first; fix it and run again)`]
      : []),
  ].join('\n');
}

/** A yaml message as one line: no code frame, no ` at line 3, column 4` (prettyErrors adds both). */
function oneLine(message: string): string {
  return message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '').trim();
}

interface Opener {
  readonly char: '[' | '{';
  readonly offset: number;
  used: boolean;
}

/** Every `[` and `{` whose flow collection the parser ended without its `]` or `}`. */
function unclosedFlowCollections(text: string): Opener[] {
  const found: Opener[] = [];
  const walk = (token: unknown): void => {
    if (Array.isArray(token)) return token.forEach(walk);
    if (token === null || typeof token !== 'object') return;
    const t = token as { type?: unknown; start?: { source?: string; offset?: number }; end?: Array<{ source?: string }> };
    if (t.type === 'flow-collection' && (t.start?.source === '[' || t.start?.source === '{')) {
      const close = t.start.source === '[' ? ']' : '}';
      if (!(t.end ?? []).some((e) => e.source === close)) {
        found.push({ char: t.start.source, offset: t.start.offset ?? 0, used: false });
      }
    }
    Object.values(token).forEach(walk);
  };
  for (const token of new Parser().parse(text)) walk(token);
  return found.sort((a, b) => a.offset - b.offset);
}

/** The innermost unused opener of `char` before `offset` (the one the error is about). */
function takeOpener(openers: Opener[], char: '[' | '{', offset: number): number | undefined {
  const candidates = openers.filter((o) => !o.used && o.char === char && o.offset <= offset);
  const opener = candidates[candidates.length - 1];
  if (!opener) return undefined;
  opener.used = true;
  return opener.offset;
}
