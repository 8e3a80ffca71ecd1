/**
 * A Go program the labs build once with `go install <module>@<version>` into the lab cache
 * (`<lab cache>/<name>/<version>/<name>`), the module cache first (offline when warm), then the
 * configured Go module proxy (nats-server and Mailpit both come from here): GOTOOLCHAIN=local, no cgo,
 * -trimpath, an install lock so concurrent callers (processes or calls) build it once.
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { findExecutable, isExecutable, labCacheDir, runLogged, withInstallLock } from './install.js';
import { tailFile } from './process.js';

export interface GoProgram {
  /** The binary's name (the last path element of the package), e.g. `mailpit`. */
  readonly name: string;
  /** The module, e.g. `github.com/axllent/mailpit` (what `go version -m` reports as `mod`). */
  readonly module: string;
  /** The main package to install when it is not the module root (default `module`), e.g. `github.com/rhysd/actionlint/cmd/actionlint`. */
  readonly package?: string;
  /** A release tag, `v1.33.1`. */
  readonly version: string;
}

export function findGo(): string | undefined {
  return findExecutable('go', ['/usr/local/go/bin', '/usr/lib/go/bin']);
}

/** Where the lab keeps `p`. */
export function goProgramCachePath(p: GoProgram): string {
  return join(labCacheDir(), p.name, p.version, p.name);
}

/**
 * The module version `bin` was built from (`go version -m`), or undefined when Go is not here
 * to tell. A `go install`ed binary reports its version nowhere else (`-ldflags -X` is not set).
 */
export function builtModuleVersion(bin: string, module: string): { version: string } | { problem: string } | undefined {
  const go = findGo();
  if (!go) return undefined;
  const r = spawnSync(go, ['version', '-m', bin], { encoding: 'utf8', timeout: 30_000, env: { ...process.env, GOTOOLCHAIN: 'local' } });
  if (r.status !== 0) return { problem: `\`go version -m\` failed: ${(r.stderr || r.stdout || r.error?.message || '').trim()}` };
  const line = r.stdout.split('\n').find((l) => /^\s*mod\s/.test(l));
  const [, , mod, version] = line?.split(/\s+/) ?? [];
  if (mod !== module || !version) return { problem: `it is not a build of ${module} (go version -m: ${line?.trim() ?? 'no mod line'})` };
  return { version };
}

function check(bin: string, p: GoProgram, origin: string): void {
  const got = builtModuleVersion(bin, p.module);
  if (got === undefined || ('version' in got && got.version === p.version)) return;
  const found = 'version' in got ? `was built from ${p.module}@${got.version}` : got.problem;
  throw new Error(`${p.name} ${bin} (${origin}) ${found}, but the lab needs ${p.version}: remove ${join(bin, '..')} and run again to rebuild it`);
}

/** Calls under way, by cache path: concurrent callers of one process share one build. */
const inFlight = new Map<string, Promise<string>>();

/** The path of `p`, built and cached on first use; checked with `go version -m` when Go is present. */
export function ensureGoProgram(p: GoProgram, log: (line: string) => void = () => undefined): Promise<string> {
  const bin = goProgramCachePath(p);
  let pending = inFlight.get(bin);
  if (!pending) {
    pending = ensure(p, bin, log);
    inFlight.set(bin, pending);
    const done = () => inFlight.delete(bin);
    pending.then(done, done);
  }
  return pending;
}

async function ensure(p: GoProgram, bin: string, log: (line: string) => void): Promise<string> {
  if (!/^v\d+\.\d+\.\d+$/.test(p.version)) throw new Error(`${p.name} version "${p.version}" is not a release (vX.Y.Z)`);
  if (isExecutable(bin)) {
    check(bin, p, 'the lab cache');
    return bin;
  }
  const dir = join(bin, '..');
  return withInstallLock(`${dir}.lock`, `${p.name} ${p.version}`, async () => {
    if (isExecutable(bin)) return bin;
    const go = findGo();
    const spec = `${p.package ?? p.module}@${p.version}`;
    if (!go) throw new Error(`${p.name} ${p.version} is not in the lab cache (${bin}) and building it needs Go (\`go install ${spec}\`), which is not on PATH nor in /usr/local/go/bin: install Go`);
    mkdirSync(dir, { recursive: true });
    const gobin = join(dir, 'gobin.tmp');
    rmSync(gobin, { recursive: true, force: true });
    mkdirSync(gobin, { recursive: true });
    const logPath = join(dir, 'go-install.log');
    rmSync(logPath, { force: true });
    const t0 = Date.now();
    log(`lab install: ${p.name} ${p.version}: go install ${spec} (log: ${logPath})`);
    const env: Record<string, string> = { ...(process.env as Record<string, string>) };
    Object.assign(env, { GOBIN: gobin, GOTOOLCHAIN: 'local', GOFLAGS: '-buildvcs=false -trimpath', GOWORK: 'off', GO111MODULE: 'on', CGO_ENABLED: '0' });
    const run = (goproxy: string | undefined) =>
      runLogged(go, ['install', spec], logPath, 20 * 60_000, { cwd: gobin, env: goproxy === undefined ? env : { ...env, GOPROXY: goproxy }, append: true }).catch((e: Error) => {
        throw new Error(`cannot run ${go}: ${e.message}`);
      });
    const modcache = spawnSync(go, ['env', 'GOMODCACHE'], { encoding: 'utf8', env: { ...process.env, GOTOOLCHAIN: 'local' } }).stdout?.trim();
    let code: number | null = null;
    if (modcache && existsSync(join(modcache, 'cache', 'download'))) {
      code = await run(`file://${join(modcache, 'cache', 'download')}`);
      if (code !== 0) appendFileSync(logPath, `--- not all in the module cache: again with GOPROXY=${process.env['GOPROXY'] ?? '(go env default)'}\n`);
    }
    if (code !== 0) code = await run(undefined);
    const built = join(gobin, p.name);
    if (code !== 0 || !existsSync(built)) {
      throw new Error(`building ${p.name} ${p.version} failed: \`go install ${spec}\` exited ${code}; last lines of ${logPath}:\n${tailFile(logPath, 25)}`);
    }
    check(built, p, 'just built');
    renameSync(built, bin);
    rmSync(gobin, { recursive: true, force: true });
    log(`lab install: ${p.name} ${p.version} in ${bin} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    return bin;
  }, { log });
}
