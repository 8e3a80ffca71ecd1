/**
 * The nats-server the NATS lab runs: the version production runs, i.e. the chart's appVersion,
 * which the config pins as the NATS image tag (`nats.image.tag: 2.14.2-alpine` -> `v2.14.2`).
 * Built once with `go install github.com/nats-io/nats-server/v2@<version>` from the Go module
 * proxy by lab/go-install.ts (the module cache first, so a warm machine needs no network) into
 * `<lab cache>/nats-server/<version>/nats-server`, and checked with `--version` before use.
 * Not the distribution's package: Debian ships 2.9, which behaves differently (reload errors,
 * gateway handling) from what the pods run.
 */
import { spawnSync } from 'node:child_process';
import type { PlatformConfig } from '../regions/schema.js';
import { ensureGoProgram } from './go-install.js';

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

/**
 * The path of nats-server `version` (`v2.14.2`), built and cached on first use; verified with
 * `--version` every time. `$NATS_SERVER_BIN` names a binary to use instead (it must be that
 * version too). Safe to call from several processes at once (an install lock).
 */
export async function ensureNatsServer(version: string, log: (line: string) => void = () => undefined): Promise<string> {
  const fromEnv = process.env['NATS_SERVER_BIN'];
  if (fromEnv) {
    if (!/^v\d+\.\d+\.\d+$/.test(version)) throw new Error(`nats-server version "${version}" is not a release (vX.Y.Z)`);
    checkVersion(fromEnv, version, 'NATS_SERVER_BIN');
    return fromEnv;
  }
  // Built like every Go program of the lab (lab/go-install.ts: module cache first, then the
  // proxy; cached in the lab cache), then checked by what it says it is.
  const bin = await ensureGoProgram({ name: 'nats-server', module: MODULE, version }, log);
  checkVersion(bin, version, 'the lab cache');
  return bin;
}
