/**
 * The nats-server the NATS lab runs: the version production runs, i.e. the chart's appVersion,
 * which the config pins as the NATS image tag (`nats.image.tag: 2.14.2-alpine` -> `v2.14.2`).
 * Built once with `go install github.com/nats-io/nats-server/v2@<version>` from the Go module
 * proxy (the module cache first, so a warm machine needs no network) into
 * `<lab cache>/nats-server/<version>/nats-server`, and checked with `--version` before use.
 * Not the distribution's package: Debian ships 2.9, which behaves differently (reload errors,
 * gateway handling) from what the pods run.
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { PlatformConfig } from '../regions/schema.js';
import { findExecutable, isExecutable, labCacheDir, runLogged, withInstallLock } from './install.js';
import { tailFile } from './process.js';

const MODULE = 'github.com/nats-io/nats-server/v2';
/** A release tag of the official image: `2.14.2`, optionally with a variant suffix (`-alpine`, `-scratch`). */
const IMAGE_TAG = /^(\d+\.\d+\.\d+)(?:-[a-z][a-z0-9]*)?$/;

/** The nats-server release (`v2.14.2`) of the config's NATS image tag; throws for a tag that names none. */
export function natsServerVersionOf(config: Pick<PlatformConfig, 'nats'>): string {
  const tag = config.nats.image.tag;
  const m = IMAGE_TAG.exec(tag);
  if (!m) throw new Error(`nats.image.tag "${tag}" names no nats-server release (expected e.g. "2.14.2-alpine"): the NATS lab runs the release the image carries`);
  return `v${m[1]}`;
}

/** Where the lab keeps nats-server `version`. */
export function natsServerCachePath(version: string): string {
  return join(labCacheDir(), 'nats-server', version, 'nats-server');
}

/** What `<bin> --version` prints (`nats-server: v2.14.2`), or why it could not run. */
export function natsServerVersionLine(bin: string): { ok: true; line: string } | { ok: false; why: string } {
  const r = spawnSync(bin, ['--version'], { encoding: 'utf8', timeout: 10_000 });
  if (r.error) return { ok: false, why: r.error.message };
  if (r.status !== 0) return { ok: false, why: `exit status ${r.status}: ${(r.stderr || r.stdout).trim()}` };
  return { ok: true, line: r.stdout.trim() };
}

function checkVersion(bin: string, version: string, origin: string): void {
  const got = natsServerVersionLine(bin);
  const want = `nats-server: ${version}`;
  if (got.ok && got.line === want) return;
  const found = got.ok ? `reports "${got.line}"` : `does not run (${got.why})`;
  throw new Error(`nats-server ${bin} (${origin}) ${found}, but the config's NATS image needs ${version} ("${want}"): ${origin === 'NATS_SERVER_BIN' ? 'unset NATS_SERVER_BIN to let the lab build it' : `remove ${bin} and run again to rebuild it`}`);
}

function findGo(): string | undefined {
  return findExecutable('go', ['/usr/local/go/bin', '/usr/lib/go/bin']);
}

/** `go install` of `version` into `gobin`, with the given GOPROXY; the exit code. Output goes to `logPath` (appended). */
function goInstall(go: string, version: string, gobin: string, goproxy: string | undefined, logPath: string): Promise<number | null> {
  const env: Record<string, string> = { ...(process.env as Record<string, string>) };
  // Deterministic, offline-capable: no toolchain download (the local Go must be new enough),
  // no workspace or vendoring flags from the caller's environment, no cgo.
  Object.assign(env, { GOBIN: gobin, GOTOOLCHAIN: 'local', GOFLAGS: '-buildvcs=false -trimpath', GOWORK: 'off', GO111MODULE: 'on', CGO_ENABLED: '0' });
  if (goproxy !== undefined) env['GOPROXY'] = goproxy;
  return runLogged(go, ['install', `${MODULE}@${version}`], logPath, 20 * 60_000, { cwd: gobin, env, append: true });
}

/** Calls under way, by version: concurrent callers of one process share one check (and build). */
const inFlight = new Map<string, Promise<string>>();

/**
 * The path of nats-server `version` (`v2.14.2`), built and cached on first use; verified with
 * `--version` every time. `$NATS_SERVER_BIN` names a binary to use instead (it must be that
 * version too). Safe to call from several processes at once (an install lock).
 */
export function ensureNatsServer(version: string, log: (line: string) => void = () => undefined): Promise<string> {
  let p = inFlight.get(version);
  if (!p) {
    p = ensure(version, log);
    inFlight.set(version, p);
    const done = () => inFlight.delete(version);
    p.then(done, done);
  }
  return p;
}

async function ensure(version: string, log: (line: string) => void): Promise<string> {
  if (!/^v\d+\.\d+\.\d+$/.test(version)) throw new Error(`nats-server version "${version}" is not a release (vX.Y.Z)`);
  const fromEnv = process.env['NATS_SERVER_BIN'];
  if (fromEnv) {
    checkVersion(fromEnv, version, 'NATS_SERVER_BIN');
    return fromEnv;
  }
  const bin = natsServerCachePath(version);
  if (isExecutable(bin)) {
    checkVersion(bin, version, 'the lab cache');
    return bin;
  }
  const dir = join(bin, '..');
  return withInstallLock(`${dir}.lock`, `nats-server ${version}`, async () => {
    if (isExecutable(bin)) {
      checkVersion(bin, version, 'the lab cache');
      return bin;
    }
    const go = findGo();
    if (!go) {
      throw new Error(
        `nats-server ${version} is not in the lab cache (${bin}) and building it needs Go (\`go install ${MODULE}@${version}\`; its go.mod sets the minimum Go), which is not on PATH nor in /usr/local/go/bin: install Go, or set NATS_SERVER_BIN to a nats-server ${version}`,
      );
    }
    mkdirSync(dir, { recursive: true });
    const gobin = join(dir, 'gobin.tmp');
    rmSync(gobin, { recursive: true, force: true });
    mkdirSync(gobin, { recursive: true });
    const logPath = join(dir, 'go-install.log');
    rmSync(logPath, { force: true });
    const t0 = Date.now();
    log(`lab install: nats-server ${version}: go install ${MODULE}@${version} (log: ${logPath})`);
    const run = (goproxy: string | undefined) =>
      goInstall(go, version, gobin, goproxy, logPath).catch((e: Error) => {
        throw new Error(`cannot run ${go}: ${e.message}`);
      });
    // The module cache first, as a file proxy (offline when it is warm; GOPROXY=off is not
    // enough: `go install pkg@version` also looks up the module's deprecation in its version
    // list), then the configured proxy for whatever is missing.
    const modcache = spawnSync(go, ['env', 'GOMODCACHE'], { encoding: 'utf8', env: { ...process.env, GOTOOLCHAIN: 'local' } }).stdout?.trim();
    let code: number | null = null;
    if (modcache && existsSync(join(modcache, 'cache', 'download'))) {
      code = await run(`file://${join(modcache, 'cache', 'download')}`);
      if (code !== 0) appendFileSync(logPath, `--- not all in the module cache: again with GOPROXY=${process.env['GOPROXY'] ?? '(go env default)'}\n`);
    }
    if (code !== 0) code = await run(undefined);
    const built = join(gobin, 'nats-server');
    if (code !== 0 || !existsSync(built)) {
      throw new Error(`building nats-server ${version} failed: \`go install ${MODULE}@${version}\` exited ${code}; last lines of ${logPath}:\n${tailFile(logPath, 25)}`);
    }
    checkVersion(built, version, 'just built');
    renameSync(built, bin);
    rmSync(gobin, { recursive: true, force: true });
    log(`lab install: nats-server ${version} in ${bin} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    return bin;
  }, { log });
}
