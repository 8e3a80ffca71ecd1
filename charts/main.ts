/**
 * The synth entry point: `npm run synth [-- --config <file>] [--out <dir>] [--check]`.
 * Defaults: regions/platform.yaml and dist/ of this repository, whatever the working
 * directory. `npx cdk8s synth` runs this too (its output folder arrives as CDK8S_OUTDIR).
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../regions/load.js';
import { loadConfigFile } from '../constructs/platform-config.js';
import { assessDanger, formatRefusal } from './danger.js';
import { diffDist, readDist, summarize, writeDistAtomically } from './dist-writer.js';
import { renderDist } from './render.js';
import { baseStateOf } from './state.js';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));

export interface SynthArgs {
  readonly config: string;
  readonly out: string;
  readonly check: boolean;
}

const USAGE = `usage: npm run synth -- [--config <file>] [--out <dir>] [--check]
  --config  platform config (default regions/platform.yaml of this repo)
  --out     output folder (default $CDK8S_OUTDIR, else dist/ of this repo)
  --check   write nothing; exit 1 when the output folder is not up to date`;

export function parseArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): SynthArgs {
  let config = resolve(repoRoot, 'regions/platform.yaml');
  let out = env['CDK8S_OUTDIR'] ? resolve(env['CDK8S_OUTDIR']) : resolve(repoRoot, 'dist');
  let check = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new UsageError(`${arg} needs a value`);
      return v;
    };
    if (arg === '--config') config = resolve(value());
    else if (arg === '--out') out = resolve(value());
    else if (arg === '--check') check = true;
    else if (arg === '--help' || arg === '-h') throw new UsageError('');
    else throw new UsageError(`unknown argument ${JSON.stringify(arg)}`);
  }
  return { config, out, check };
}

class UsageError extends Error {}

export function main(argv: readonly string[]): number {
  let args: SynthArgs;
  try {
    args = parseArgs(argv);
  } catch (e) {
    if (e instanceof UsageError) {
      if (e.message) console.error(`synth: ${e.message}`);
      console.error(USAGE);
      return e.message ? 2 : 0;
    }
    throw e;
  }
  try {
    const config = loadConfigFile(args.config);
    const files = renderDist(config);
    const current = readDist(args.out);
    // A dist without STATE.json is refused, never compared with nothing (see baseStateOf).
    const danger = assessDanger(baseStateOf(current, { folder: args.out }), config);
    for (const note of danger.notes) console.log(`synth: ${note}`);
    if (danger.refused.length > 0) {
      console.error(formatRefusal(danger));
      console.error(`synth: ${args.out} was not changed (see npm run plan for the whole change).`);
      return 1;
    }
    for (const ack of danger.unusedAcknowledgements) {
      console.error(`synth: acknowledgement "${ack}" matches no change any more (remove it from acknowledgedChanges)`);
    }
    if (args.check) {
      const change = diffDist(current, files);
      const stale = [...change.added, ...change.changed, ...change.removed];
      if (stale.length === 0) {
        console.log(`${args.out} is up to date (${files.size} files)`);
        return 0;
      }
      console.error(`${args.out} is stale: ${stale.length} file(s) differ (run npm run synth):`);
      for (const p of stale) console.error(`  ${p}`);
      return 1;
    }
    const change = writeDistAtomically(args.out, files, current);
    console.log(summarize(change, config.managementCluster.name));
    console.log(
      `synth: ${files.size} files in ${args.out} (${change.added.length} added, ${change.changed.length} changed, ${change.removed.length} removed)`,
    );
    return 0;
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(e.message);
      console.error(`synth: ${e.problems.length} problem(s) in the config; ${args.out} was not changed.`);
      return 1;
    }
    console.error(`synth: ${(e as Error).stack ?? String(e)}`);
    console.error(`synth: failed; ${args.out} was not changed.`);
    return 1;
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = main(process.argv.slice(2));
}
