/**
 * `npm run bench:synth`: wall time of whole synth processes, as a user waits for them:
 * `node scripts/launch.cjs synth` (what `npm run synth` runs, without npm) with `--check` on
 * the default config, and writing a temp dist for the default config and for generated configs
 * of 2, 10 and 50 regions; and `npm run synth -- --check` itself. A bare `node -e 0`, measured
 * in the same rounds, is the baseline: the ratio says how much of the time is ours on this
 * machine. Prints a Markdown table.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { DEFAULT_CONFIG_PATH, inputWithRegions, REPO_ROOT, tempDir } from '../test/helpers.js';

const RUNS = 7;
const SIZES = [2, 10, 50];
const LAUNCHER = 'scripts/launch.cjs';

interface Case {
  readonly label: string;
  readonly command: readonly string[];
  /** The output folder it writes, to count its files. */
  readonly out?: string;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Runs one command to completion; fails loudly on a non-zero exit (a failed synth is not a fast one). */
function timeOnce(c: Case): number {
  const t0 = process.hrtime.bigint();
  const run = spawnSync(c.command[0]!, c.command.slice(1), { cwd: REPO_ROOT, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (run.error) throw run.error;
  if (run.status !== 0) throw new Error(`${c.command.join(' ')} exited ${run.status}:\n${run.stderr}`);
  return ms;
}

function countFiles(dir: string): number {
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).length;
}

const work = tempDir('regionmesh-bench-');
const synth = (label: string, config: string, out: string): Case => ({
  label,
  command: [process.execPath, LAUNCHER, 'synth', '--config', config, '--out', out],
  out,
});
const baseline: Case = { label: '`node -e 0` (baseline)', command: [process.execPath, '-e', '0'] };
const cases: Case[] = [
  baseline,
  { label: 'synth `--check`, default config (reads dist/, writes nothing)', command: [process.execPath, LAUNCHER, 'synth', '--check'] },
  synth('synth, default config', DEFAULT_CONFIG_PATH, join(work, 'default')),
];
for (const n of SIZES) {
  const config = join(work, `regions-${n}.yaml`);
  writeFileSync(config, stringify(inputWithRegions(n)));
  cases.push(synth(`synth, ${n} regions`, config, join(work, `dist-${n}`)));
}
cases.push({ label: '`npm run synth -- --check` (with npm)', command: ['npm', 'run', 'synth', '--', '--check'] });

try {
  // Warm-up: compiles .synth/ when it is stale, writes each temp dist once, fills the page cache.
  for (const c of cases) timeOnce(c);
  const samples = new Map<Case, number[]>(cases.map((c) => [c, []]));
  // Round-robin, so that a busy moment on the machine hits every row alike.
  for (let i = 0; i < RUNS; i++) for (const c of cases) samples.get(c)!.push(timeOnce(c));
  const base = median(samples.get(baseline)!);

  console.log(`whole processes, wall time, ${RUNS} runs each after one warm-up, round-robin (node ${process.version}, ${LAUNCHER})\n`);
  console.log('| process | files | median ms | min ms | max ms | × `node -e 0` |');
  console.log('|---|---:|---:|---:|---:|---:|');
  for (const c of cases) {
    const ms = samples.get(c)!;
    const files = c.out ? String(countFiles(c.out)) : '';
    const ratio = c === baseline ? '1.0' : (median(ms) / base).toFixed(1);
    console.log(`| ${c.label} | ${files} | ${median(ms).toFixed(0)} | ${Math.min(...ms).toFixed(0)} | ${Math.max(...ms).toFixed(0)} | ${ratio} |`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
