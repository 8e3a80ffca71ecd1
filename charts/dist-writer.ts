/**
 * Writes dist/ atomically: everything goes to a sibling temp folder first, then the old
 * folder is swapped out in two renames. A failed run leaves the previous dist/ as it was;
 * a renamed object leaves no stale file behind.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { DistFiles } from './render.js';

/** Reads a dist folder as `{path: content}` (empty when it does not exist). */
export function readDist(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  if (!existsSync(dir)) return out;
  const walk = (rel: string) => {
    for (const entry of readdirSync(join(dir, rel), { withFileTypes: true })) {
      const path = rel === '' ? entry.name : `${rel}/${entry.name}`;
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile()) out.set(path, readFileSync(join(dir, path), 'utf8'));
    }
  };
  walk('');
  return out;
}

export interface DistChange {
  readonly added: string[];
  readonly changed: string[];
  readonly removed: string[];
  readonly unchanged: string[];
}

export function diffDist(before: ReadonlyMap<string, string>, after: DistFiles): DistChange {
  const change: DistChange = { added: [], changed: [], removed: [], unchanged: [] };
  for (const [path, content] of after) {
    const old = before.get(path);
    if (old === undefined) change.added.push(path);
    else if (old !== content) change.changed.push(path);
    else change.unchanged.push(path);
  }
  for (const path of before.keys()) if (!after.has(path)) change.removed.push(path);
  for (const list of Object.values(change)) (list as string[]).sort();
  return change;
}

/**
 * Replaces `outDir` with exactly `files`. Returns what changed against `before` (read when not
 * given). When nothing changed, nothing is written (file times stay, and a large dist costs
 * no disk writes).
 */
export function writeDistAtomically(outDir: string, files: DistFiles, before: ReadonlyMap<string, string> = readDist(outDir)): DistChange {
  const change = diffDist(before, files);
  if (change.added.length + change.changed.length + change.removed.length === 0 && existsSync(outDir)) return change;
  const parent = dirname(outDir);
  mkdirSync(parent, { recursive: true });
  const tmp = join(parent, `.${basename(outDir)}.tmp-${process.pid}`);
  const old = join(parent, `.${basename(outDir)}.old-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  try {
    const made = new Set<string>();
    for (const [path, content] of files) {
      if (path.startsWith('/') || path.split('/').includes('..')) throw new Error(`refusing to write outside dist: ${path}`);
      const target = join(tmp, ...path.split('/'));
      const folder = dirname(target);
      if (!made.has(folder)) {
        mkdirSync(folder, { recursive: true });
        made.add(folder);
      }
      writeFileSync(target, content);
    }
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  if (existsSync(outDir)) renameSync(outDir, old);
  try {
    renameSync(tmp, outDir);
  } catch (e) {
    if (existsSync(old)) renameSync(old, outDir);
    throw e;
  }
  rmSync(old, { recursive: true, force: true });
  return change;
}

/** Which cluster (or `docs`) a dist path belongs to, for the summary. */
export function ownerOf(path: string, managementCluster: string): string {
  const parts = path.split('/');
  if ((parts[0] === 'clusters' || parts[0] === 'values') && parts[1]) return parts[1];
  if (parts[0] === 'argocd' || parts[0] === 'bootstrap') return managementCluster;
  return 'docs';
}

/** A short per-cluster table: written / changed / removed. */
export function summarize(change: DistChange, managementCluster: string): string {
  const rows = new Map<string, { written: number; added: number; changed: number; removed: number }>();
  const row = (p: string) => {
    const key = ownerOf(p, managementCluster);
    let r = rows.get(key);
    if (!r) rows.set(key, (r = { written: 0, added: 0, changed: 0, removed: 0 }));
    return r;
  };
  for (const p of [...change.added, ...change.changed, ...change.unchanged]) row(p).written++;
  for (const p of change.added) row(p).added++;
  for (const p of change.changed) row(p).changed++;
  for (const p of change.removed) row(p).removed++;
  const keys = [...rows.keys()].sort();
  const width = Math.max(7, ...keys.map((k) => k.length));
  const lines = [`${'cluster'.padEnd(width)}  written  added  changed  removed`];
  for (const k of keys) {
    const r = rows.get(k)!;
    lines.push(`${k.padEnd(width)}  ${String(r.written).padStart(7)}  ${String(r.added).padStart(5)}  ${String(r.changed).padStart(7)}  ${String(r.removed).padStart(7)}`);
  }
  return lines.join('\n');
}

