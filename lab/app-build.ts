/**
 * The lab's backends run what the image runs: app/ compiled by tsc with tsconfig.app.json (the
 * build step of app/Dockerfile), not the sources through tsx. tsx compiles with esbuild's
 * keepNames, which wraps every function expression in `__name(fn, "name")`, a defineProperty
 * each time a closure is created; in the backend's hot paths (a closure per message, per
 * delivery) that was a cost, and deoptimizations, the image does not have.
 *
 * Built once per state of the sources, in `.lab/app-build/<hash>/`: the hash covers every file
 * tsc compiles (app/ without tests and benchmarks), both tsconfigs and the TypeScript version.
 * A build goes to a temporary directory that is renamed into place, so concurrent labs never
 * see half a build (at worst both build, and one rename wins). Builds of other sources are
 * removed after a day.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { REPO_ROOT } from './install.js';

/** Where builds are kept (each in a directory named by its hash). */
export const APP_BUILD_DIR = join(REPO_ROOT, '.lab', 'app-build');

/** The TypeScript compiler of node_modules (the one `npm run typecheck` and the image build run). */
export const TSC = join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

const compiled = (name: string) => name.endsWith('.ts') && !['.test.ts', '.bench.ts', '.d.ts'].some((suffix) => name.endsWith(suffix));

/** The files tsconfig.app.json compiles: app/**\/*.ts without *.test.ts, *.bench.ts and *.d.ts, sorted. */
export function appSources(root = REPO_ROOT): string[] {
  return readdirSync(join(root, 'app'), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && compiled(e.name))
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

/** The hash that names a build of the current sources. */
export function appBuildHash(root = REPO_ROOT): string {
  const h = createHash('sha256');
  const tsVersion = (JSON.parse(readFileSync(join(root, 'node_modules', 'typescript', 'package.json'), 'utf8')) as { version: string }).version;
  h.update(`typescript ${tsVersion}\n`);
  for (const f of [join(root, 'tsconfig.json'), join(root, 'tsconfig.app.json'), ...appSources(root)]) {
    h.update(`${relative(root, f)}\n`);
    h.update(readFileSync(f));
  }
  return h.digest('hex').slice(0, 16);
}

/** Path of the compiled `app/main.js` for the current sources, compiling them first when needed (about 6 s). */
export function appBuild(log: (line: string) => void = () => undefined): string {
  const hash = appBuildHash();
  const dir = join(APP_BUILD_DIR, hash);
  const main = join(dir, 'app', 'main.js');
  if (existsSync(main)) return main;
  mkdirSync(APP_BUILD_DIR, { recursive: true });
  const tmp = join(APP_BUILD_DIR, `.tmp-${hash}-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  const t0 = Date.now();
  try {
    execFileSync(process.execPath, [TSC, '-p', join(REPO_ROOT, 'tsconfig.app.json'), '--outDir', tmp], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      encoding: 'utf8',
    });
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    const out = e as { stdout?: string; stderr?: string };
    throw new Error(`compiling app/ for the lab (tsc -p tsconfig.app.json) failed; fix these errors (npm run typecheck shows them too):\n${`${out.stdout ?? ''}${out.stderr ?? ''}`.trim().slice(0, 4000)}`);
  }
  try {
    renameSync(tmp, dir);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    if (!existsSync(main)) throw e; // another lab's identical build won the rename
  }
  // Builds of other sources a day old: no lab started since can still run them.
  for (const old of readdirSync(APP_BUILD_DIR)) {
    const p = join(APP_BUILD_DIR, old);
    if (old !== hash && Date.now() - statSync(p).mtimeMs > 86_400_000) rmSync(p, { recursive: true, force: true });
  }
  log(`app/ compiled for the lab in ${((Date.now() - t0) / 1000).toFixed(1)} s (${relative(REPO_ROOT, dir)})`);
  return main;
}
