/**
 * `npm run plan -- [--config <file>] [--out <dist>] [--base <git ref>] [--format text|json|markdown] [--max-chars N]`
 * Synthesizes the config in memory and compares it with the committed dist (the folder, or
 * the folder as of a Git ref). `--format markdown` prints a pull-request comment
 * (plan-markdown.ts), `--json` is `--format json`. Exit 0: safe to merge (or no changes);
 * 2: dangerous changes not acknowledged (whatever the format); 1: error (bad config,
 * unreadable base, bad arguments).
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../regions/load.js';
import { loadConfigFile } from '../constructs/platform-config.js';
import { readDist } from './dist-writer.js';
import { computePlan, formatPlan, planJson } from './plan.js';
import { DEFAULT_MAX_CHARS, renderPlanMarkdown } from './plan-markdown.js';
import { renderDist } from './render.js';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));

const USAGE = `usage: npm run plan -- [--config <file>] [--out <dist>] [--base <git ref>] [--format text|json|markdown] [--json] [--max-chars N]
  --format markdown  a pull-request comment: summary first, per-Application diffs (Secret-like values redacted)
  --max-chars N      markdown only: cut the per-Application detail to stay under N characters (default ${DEFAULT_MAX_CHARS}); the summary stays whole`;

const FORMATS = ['text', 'json', 'markdown'] as const;
type Format = (typeof FORMATS)[number];

/** Reads a dist folder as committed at `ref` (files under the folder, relative to it). */
export function readDistAtRef(dir: string, ref: string): Map<string, string> {
  const top = execFileSync('git', ['-C', existsSync(dir) ? dir : repoRoot, 'rev-parse', '--show-toplevel'], { encoding: 'utf8' }).trim();
  const rel = relative(top, resolve(dir)).split('\\').join('/');
  const list = execFileSync('git', ['-C', top, 'ls-tree', '-r', '-z', '--name-only', ref, '--', rel], { encoding: 'utf8' });
  const out = new Map<string, string>();
  for (const path of list.split('\0').filter(Boolean)) {
    out.set(path.slice(rel.length + 1), execFileSync('git', ['-C', top, 'show', `${ref}:${path}`], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }));
  }
  return out;
}

export function planMain(argv: readonly string[]): number {
  let config = resolve(repoRoot, 'regions/platform.yaml');
  let out = resolve(repoRoot, 'dist');
  let base: string | undefined;
  let format: Format = 'text';
  let maxChars = DEFAULT_MAX_CHARS;
  /** The arguments that reproduce this output (shown in the markdown comment). */
  const shown: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value`);
      return v;
    };
    if (arg === '--config') {
      config = resolve(value());
      shown.push(arg, argv[i]!);
    } else if (arg === '--out') {
      out = resolve(value());
      shown.push(arg, argv[i]!);
    } else if (arg === '--base') {
      base = value();
      shown.push(arg, base);
    } else if (arg === '--json') format = 'json';
    else if (arg === '--format') {
      const v = value();
      if (!(FORMATS as readonly string[]).includes(v)) {
        console.error(`plan: --format must be one of ${FORMATS.join(', ')}, not ${JSON.stringify(v)}\n${USAGE}`);
        return 1;
      }
      format = v as Format;
    } else if (arg === '--max-chars') {
      const v = value();
      if (!/^[1-9][0-9]*$/.test(v)) {
        console.error(`plan: --max-chars needs a positive whole number of characters, not ${JSON.stringify(v)}\n${USAGE}`);
        return 1;
      }
      maxChars = Number(v);
    } else {
      console.error(arg === '--help' ? USAGE : `plan: unknown argument ${JSON.stringify(arg)}\n${USAGE}`);
      return arg === '--help' ? 0 : 1;
    }
  }
  try {
    const cfg = loadConfigFile(config);
    const next = renderDist(cfg);
    const baseFiles = base ? readDistAtRef(out, base) : readDist(out);
    const plan = computePlan(baseFiles, next, cfg, base ? { folder: out, ref: base } : { folder: out });
    if (format === 'markdown') {
      const where = relative(process.cwd(), out).split('\\').join('/') || '.';
      const command = ['npm run plan --', ...shown, '--format markdown'].join(' ');
      process.stdout.write(renderPlanMarkdown({ plan, base: baseFiles, next, baseLabel: base ? `${base}:${where}` : where, command, maxChars }));
    } else console.log(format === 'json' ? planJson(plan).trimEnd() : formatPlan(plan));
    return plan.danger.refused.length > 0 ? 2 : 0;
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(e.message);
      return 1;
    }
    console.error(`plan: ${(e as Error).message}`);
    return 1;
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = planMain(process.argv.slice(2));
}
