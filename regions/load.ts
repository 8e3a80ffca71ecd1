/**
 * Loads the platform YAML and validates it. Every problem is reported as
 * `file:line:col path: problem (fix)` so a human can jump straight to it; problems of one
 * path are grouped under it. YAML syntax errors show the first with a code frame, a few more,
 * and a count of the rest (regions/yaml-syntax.ts).
 */
import { readFileSync } from 'node:fs';
import { isMap, isNode, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import { z } from 'zod';
import { ConfigError, uniqueProblems } from './config-error.js';
import { formatYamlProblems, yamlSyntaxProblems } from './yaml-syntax.js';

export { ConfigError, formatProblem, formatProblems, type ConfigProblem } from './config-error.js';

/** `regions[1].ordinal` from `['regions', 1, 'ordinal']`. */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out === '' ? String(seg) : `.${String(seg)}`;
  }
  return out === '' ? '(root)' : out;
}

/** A config schema: the platform's is composed from the components (constructs/platform-config.ts). */
export type ConfigSchema<T> = z.ZodType<T>;

/** Reads `file` and validates it against `schema`; throws ConfigError. */
export function loadConfigFileWith<T>(schema: ConfigSchema<T>, file: string): T {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError([
      { file, line: 1, col: 1, path: '(file)', message: `cannot read config: ${(e as Error).message} (check the --config path)` },
    ]);
  }
  return parseConfigWith(schema, text, file);
}

/** Validates config text against `schema`; `file` is only used in messages. Throws ConfigError. */
export function parseConfigWith<T>(schema: ConfigSchema<T>, text: string, file: string): T {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true, strict: true });
  const pos = (offset: number) => lineCounter.linePos(offset);

  if (doc.errors.length > 0) {
    const problems = yamlSyntaxProblems(doc.errors, text, lineCounter, file);
    throw new ConfigError(problems, formatYamlProblems(problems, text));
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    // Unresolved or exploding aliases surface only when the document is converted.
    const alias = /alias[^:]*: (\S+)/i.exec((e as Error).message)?.[1];
    const at = alias ? text.indexOf(`*${alias}`) : -1;
    const { line, col } = pos(Math.max(0, at));
    const problems = [
      { file, line, col, path: '(yaml)', message: `${firstLine((e as Error).message)} (define the anchor before its alias, or write the value out)` },
    ];
    throw new ConfigError(problems, formatYamlProblems(problems, text));
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new ConfigError([
      { file, line: 1, col: 1, path: '(root)', message: 'the config must be a YAML mapping (start from regions/platform.yaml)' },
    ]);
  }

  const result = schema.safeParse(data);
  if (result.success) return result.data;

  // One problem per unknown key (zod groups them per mapping).
  const issues: z.core.$ZodIssue[] = result.error.issues.flatMap((issue): z.core.$ZodIssue[] =>
    issue.code === 'unrecognized_keys' ? issue.keys.map((k) => ({ ...issue, keys: [k] })) : [issue],
  );
  const problems = issues.map((issue) => {
    const path = issue.path as PropertyKey[];
    const located = locate(doc, path, issue.code === 'unrecognized_keys' ? issue.keys[0] : undefined);
    const { line, col } = pos(located.offset);
    return {
      file,
      line,
      col,
      path: formatPath(issue.code === 'unrecognized_keys' ? [...path, issue.keys[0]!] : path),
      message: describeIssue(schema, issue, valueAt(data, path), located.found, path),
      offset: located.offset,
    };
  });
  problems.sort((a, b) => a.offset - b.offset || a.path.localeCompare(b.path));
  // The same message at the same path (two checks or rules saying one thing) is reported once.
  throw new ConfigError(uniqueProblems(problems.map(({ offset: _offset, ...p }) => p)));
}

function firstLine(s: string): string {
  return s.split('\n')[0]!.trim();
}

function valueAt(data: unknown, path: readonly PropertyKey[]): unknown {
  let cur: unknown = data;
  for (const seg of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[seg];
  }
  return cur;
}

/** Finds the YAML node at `path` (or the key `key` inside it); falls back to the closest ancestor. */
function locate(doc: Document, path: readonly PropertyKey[], key?: string): { offset: number; found: boolean } {
  let node: Node | null = doc.contents as Node | null;
  let offset = node?.range?.[0] ?? 0;
  let found = true;
  const segments: PropertyKey[] = key === undefined ? [...path] : [...path, key];
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i];
    const isLast = i === segments.length - 1;
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(seg));
      if (!pair) {
        found = false;
        break;
      }
      const keyNode = pair.key as Node;
      // Point at the key for unknown keys, at the value otherwise.
      if (isLast && key !== undefined) {
        offset = keyNode.range?.[0] ?? offset;
        break;
      }
      node = isNode(pair.value) ? (pair.value as Node) : null;
      offset = node?.range?.[0] ?? keyNode.range?.[0] ?? offset;
    } else if (isSeq(node) && typeof seg === 'number') {
      const item = node.items[seg];
      if (!isNode(item)) {
        found = false;
        break;
      }
      node = item as Node;
      offset = node.range?.[0] ?? offset;
    } else {
      found = false;
      break;
    }
  }
  return { offset, found };
}

function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 37)}...` : value);
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return String(value);
}

function typeName(expected: string): string {
  switch (expected) {
    case 'int':
      return 'an integer';
    case 'object':
      return 'a mapping';
    case 'array':
      return 'a list';
    case 'string':
      return 'a string';
    case 'number':
      return 'a number';
    case 'boolean':
      return 'true or false';
    default:
      return expected;
  }
}

function describeIssue(root: ConfigSchema<unknown>, issue: z.core.$ZodIssue, value: unknown, found: boolean, path: readonly PropertyKey[]): string {
  switch (issue.code) {
    case 'invalid_type': {
      const expected = issue.expected === 'number' && isIntegerAt(root, path) ? 'int' : issue.expected;
      if (!found || value === undefined) {
        return `required field is missing (add it: ${typeName(expected)})`;
      }
      return `expected ${typeName(expected)}, got ${show(value)} (write ${typeName(expected)})`;
    }
    case 'unrecognized_keys': {
      const unknown = issue.keys[0]!;
      const valid = validKeysAt(root, issue.path as PropertyKey[]);
      const near = closest(unknown, valid);
      const hint = near ? `did you mean "${near}"?` : 'remove it;';
      return `unknown key "${unknown}" (${hint} valid keys: ${valid.join(', ')})`;
    }
    case 'too_small': {
      if (issue.origin === 'array') return `${issue.message}, got ${Array.isArray(value) ? value.length : 0} (add entries)`;
      if (issue.origin === 'string') return `must not be empty (write a value)`;
      return `must be >= ${String(issue.minimum)}, got ${show(value)} (use a value from ${String(issue.minimum)} up)`;
    }
    case 'too_big': {
      if (issue.origin === 'string') return `${show(value)} is longer than ${String(issue.maximum)} characters (shorten it)`;
      if (issue.origin === 'array') return `at most ${String(issue.maximum)} entries allowed, got ${Array.isArray(value) ? value.length : '?'} (remove entries)`;
      return `must be <= ${String(issue.maximum)}, got ${show(value)} (use a value up to ${String(issue.maximum)})`;
    }
    case 'invalid_value':
      return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}, got ${show(value)} (pick one of them)`;
    case 'invalid_format':
      return `${show(value)} ${issue.message}`;
    case 'custom':
      if (issue.params?.['crossField'] === true) return issue.message;
      return `${show(value)} ${issue.message}`;
    default:
      return `${issue.message}, got ${show(value)}`;
  }
}

/** True when the schema at `path` is an integer (z.int()). */
function isIntegerAt(root: ConfigSchema<unknown>, path: readonly PropertyKey[]): boolean {
  const def = schemaAt(root, path)?._zod.def as unknown as { type: string; format?: string; checks?: unknown[] } | undefined;
  return def?.type === 'number' && (def.format === 'safeint' || def.format === 'int32');
}

/** Keys the schema accepts at `path` (walks through defaults, optionals, arrays and pipes). */
export function validKeysAt(root: ConfigSchema<unknown>, path: readonly PropertyKey[]): string[] {
  const schema = schemaAt(root, path);
  if (!schema) return [];
  const def = schema._zod.def as unknown as Record<string, unknown> & { type: string };
  if (def.type !== 'object') return [];
  return Object.keys(def['shape'] as object).filter((k) => k !== '$schema');
}

function schemaAt(root: ConfigSchema<unknown>, path: readonly PropertyKey[]): z.core.$ZodType | undefined {
  let schema: z.core.$ZodType | undefined = root as unknown as z.core.$ZodType;
  const unwrap = (s: z.core.$ZodType | undefined): z.core.$ZodType | undefined => {
    let cur = s;
    for (let i = 0; i < 10 && cur; i++) {
      const def = cur._zod.def as unknown as Record<string, unknown> & { type: string };
      if (['optional', 'default', 'prefault', 'nullable', 'readonly', 'catch', 'nonoptional'].includes(def.type)) {
        cur = def['innerType'] as z.core.$ZodType;
      } else if (def.type === 'pipe') {
        cur = def['in'] as z.core.$ZodType;
      } else {
        return cur;
      }
    }
    return cur;
  };
  schema = unwrap(schema);
  for (const seg of path) {
    if (!schema) return undefined;
    const def = schema._zod.def as unknown as Record<string, unknown> & { type: string };
    if (def.type === 'object' && typeof seg === 'string') {
      schema = unwrap((def['shape'] as Record<string, z.core.$ZodType>)[seg]);
    } else if (def.type === 'array') {
      schema = unwrap(def['element'] as z.core.$ZodType);
    } else if (def.type === 'record') {
      schema = unwrap(def['valueType'] as z.core.$ZodType);
    } else {
      return undefined;
    }
  }
  return schema;
}

/** Closest candidate by edit distance, if close enough to be a typo. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) {
      bestDistance = d;
      best = c;
    }
  }
  const limit = Math.max(2, Math.floor(word.length / 3));
  return bestDistance <= limit ? best : undefined;
}

function editDistance(a: string, b: string): number {
  const dp = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) dp[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(dp[i - 1]![j]! + 1, dp[i]![j - 1]! + 1, dp[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, dp[i - 2]![j - 2]! + 1);
      dp[i]![j] = v;
    }
  }
  return dp[a.length]![b.length]!;
}
