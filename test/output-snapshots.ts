/**
 * Output snapshots: the full synthesized output of each example config, committed as one file
 * per object under test/snapshots/<example>/<dist path>, so a change to a construct shows in a
 * pull request as exactly the manifests it changes. test/snapshots.test.ts compares; on a
 * difference it fails with the first differing files (a unified-style excerpt) and the command
 * that re-records them, which refuses to run in CI.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import type { DistFiles } from '../charts/render.js';
import { REPO_ROOT } from './helpers.js';

/** The example configs (regions/examples/<name>.yaml) whose output is snapshotted. */
export const SNAPSHOT_EXAMPLES = [
  /** One region: no NATS gateways, no peers; backups on. */
  'one-region',
  /** Three regions, LoadBalancer gateways with mutual TLS, JetStream; backups on. */
  'three-regions-tls',
  /** fsn1 leaving while hel1 joins. */
  'join-and-leave',
  /** Secrets from a store (External Secrets Operator). */
  'external-secrets',
] as const;

export const SNAPSHOT_ROOT = join(REPO_ROOT, 'test', 'snapshots');
export const UPDATE_COMMAND = 'npm run snapshots:update';
/** Files shown in a failure message; the rest are counted. */
const SHOWN = 5;
/** Lines of context around a change. */
const CONTEXT = 3;

/** The committed snapshot of one example: dist path -> content. */
export function readSnapshot(dir: string): Map<string, string> {
  const files = new Map<string, string>();
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true, recursive: true });
  } catch {
    return files;
  }
  for (const e of entries) {
    if (!e.isFile()) continue;
    const full = join(e.parentPath, e.name);
    files.set(relative(dir, full).split('\\').join('/'), readFileSync(full, 'utf8'));
  }
  return files;
}

/** Replaces the snapshot folder with `files`. Refuses in CI: a snapshot is recorded by a person and reviewed. */
export function writeSnapshot(dir: string, files: DistFiles, env: NodeJS.ProcessEnv = process.env): void {
  if (env['CI'] === 'true' || env['CI'] === '1') {
    throw new Error(`refusing to re-record output snapshots in CI (CI=${env['CI']}): run \`${UPDATE_COMMAND}\` locally, review the diff, commit test/snapshots/`);
  }
  rmSync(dir, { recursive: true, force: true });
  for (const [path, content] of files) {
    const full = join(dir, path);
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, content);
  }
}

/** A unified-style excerpt of the first change between two texts: `@@ -a,n +b,m @@`, context, `-` and `+` lines. */
export function unifiedExcerpt(before: string, after: string, maxLines = 24): string {
  const a = before.split('\n');
  const b = after.split('\n');
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  const from = Math.max(0, start - CONTEXT);
  const toA = Math.min(a.length, endA + CONTEXT);
  const toB = Math.min(b.length, endB + CONTEXT);
  const lines = [
    `@@ -${from + 1},${toA - from} +${from + 1},${toB - from} @@`,
    ...a.slice(from, start).map((l) => ` ${l}`),
    ...a.slice(start, endA).map((l) => `-${l}`),
    ...b.slice(start, endB).map((l) => `+${l}`),
    ...a.slice(endA, toA).map((l) => ` ${l}`),
  ];
  return lines.length > maxLines ? [...lines.slice(0, maxLines), `... (${lines.length - maxLines} more lines of this change)`].join('\n') : lines.join('\n');
}

/** Differences between the committed snapshot and the output now; empty when equal. */
export function snapshotDifferences(committed: ReadonlyMap<string, string>, now: DistFiles): { path: string; text: string }[] {
  const paths = [...new Set([...committed.keys(), ...now.keys()])].sort();
  const out: { path: string; text: string }[] = [];
  for (const path of paths) {
    const was = committed.get(path);
    const is = now.get(path);
    if (was === is) continue;
    if (was === undefined) out.push({ path, text: `+++ ${path} (new file, ${is!.split('\n').length} lines)` });
    else if (is === undefined) out.push({ path, text: `--- ${path} (removed)` });
    else out.push({ path, text: `--- a/${path}\n+++ b/${path}\n${unifiedExcerpt(was, is)}` });
  }
  return out;
}

/** The failure message for one example, or undefined when its snapshot is current. */
export function snapshotReport(example: string, committed: ReadonlyMap<string, string>, now: DistFiles): string | undefined {
  const diffs = snapshotDifferences(committed, now);
  if (diffs.length === 0) return undefined;
  const where = `test/snapshots/${example}/`;
  const head =
    committed.size === 0
      ? `no output snapshot of regions/examples/${example}.yaml in ${where}`
      : `the output of regions/examples/${example}.yaml differs from ${where} in ${diffs.length} file(s)`;
  return [
    `${head}. If the change is intended, re-record and commit the snapshots:`,
    '',
    `    ${UPDATE_COMMAND}`,
    '',
    ...diffs.slice(0, SHOWN).flatMap((d) => [d.text, '']),
    ...(diffs.length > SHOWN ? [`... and ${diffs.length - SHOWN} more file(s): ${diffs.slice(SHOWN).map((d) => d.path).join(', ')}`] : []),
  ].join('\n');
}
