/**
 * What the labs install for themselves, and where they keep it: a per-user cache directory,
 * install locks (several test files or labs may install at the same time), and Debian packages
 * installed with apt only when the program they bring is missing.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { accessSync, constants as fsConstants, mkdirSync, openSync, readFileSync, rmSync, statSync, writeSync, closeSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { tailText } from './process.js';

/** The repository root (labs resolve everything against it, never the working directory). */
export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The repository's platform config: the lab runs the engines and versions it names. */
export const DEFAULT_CONFIG_PATH = join(REPO_ROOT, 'regions', 'platform.yaml');

/**
 * The labs' cache: `$REGIONMESH_CACHE_DIR`, else `$XDG_CACHE_HOME/regionmesh`, else
 * `~/.cache/regionmesh`. Each engine keeps one directory per version below it.
 */
export function labCacheDir(): string {
  const explicit = process.env['REGIONMESH_CACHE_DIR'];
  if (explicit) return explicit;
  const xdg = process.env['XDG_CACHE_HOME'];
  return join(xdg && xdg.startsWith('/') ? xdg : join(homedir(), '.cache'), 'regionmesh');
}

/** Directories searched after PATH (root's sbin dirs are not always on a user's PATH). */
export const SYSTEM_DIRS = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'] as const;

export function isExecutable(file: string): boolean {
  try {
    accessSync(file, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Absolute path of `name` on PATH, then in `extraDirs` and the system dirs; undefined if none. */
export function findExecutable(name: string, extraDirs: readonly string[] = []): string | undefined {
  const dirs = [...(process.env['PATH'] ?? '').split(delimiter).filter(Boolean), ...extraDirs, ...SYSTEM_DIRS];
  for (const dir of dirs) {
    const candidate = join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function ageMs(file: string): number {
  try {
    return Date.now() - statSync(file).mtimeMs;
  } catch {
    return 0;
  }
}

/** Same-process holders, so that two calls of one process queue instead of both waiting on the file. */
const heldHere = new Map<string, Promise<unknown>>();

/**
 * Runs `fn` holding the lock file `lockPath` (created exclusively; it names the holder's pid).
 * Another live holder is waited for (at most `timeoutMs`, default 30 min); a lock left by a
 * process that is gone is taken over. Other processes and other calls of this one are serialized.
 */
export async function withInstallLock<T>(lockPath: string, what: string, fn: () => Promise<T> | T, opts: { timeoutMs?: number; log?: (line: string) => void } = {}): Promise<T> {
  const before = heldHere.get(lockPath);
  const mine = (async () => {
    if (before) await before.catch(() => undefined);
    mkdirSync(dirname(lockPath), { recursive: true });
    const deadline = Date.now() + (opts.timeoutMs ?? 30 * 60_000);
    let announced = false;
    while (true) {
      try {
        const fd = openSync(lockPath, 'wx');
        writeSync(fd, `${process.pid}\n`);
        closeSync(fd);
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      let holder = NaN;
      try {
        holder = Number.parseInt(readFileSync(lockPath, 'utf8'), 10);
      } catch {
        continue; // released between open and read
      }
      if (Number.isInteger(holder) ? !pidAlive(holder) : ageMs(lockPath) > 5_000) {
        // Left by a process that is gone (an empty file older than 5 s: its writer died too).
        rmSync(lockPath, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`${what}: lock ${lockPath} is still held by process ${holder}; if that process is not installing anything, remove the file`);
      if (!announced) opts.log?.(`${what}: waiting for process ${holder}, which holds ${lockPath}`);
      announced = true;
      await sleep(500);
    }
    try {
      return await fn();
    } finally {
      rmSync(lockPath, { force: true });
    }
  })();
  heldHere.set(lockPath, mine);
  try {
    return await mine;
  } finally {
    if (heldHere.get(lockPath) === mine) heldHere.delete(lockPath);
  }
}

// ---------------------------------------------------------------------------------------------
// Debian packages

/** A Debian package the labs need, and how to tell that what it brings is there. */
export interface AptNeed {
  readonly pkg: string;
  /** True when the program (or file) the package brings is usable already. */
  readonly present: () => boolean;
  /** What needs it, for messages. */
  readonly why: string;
}

let aptListsUpdated = false;

/** `apt-get <args>` (non-interactive, waiting up to 10 min for dpkg's lock, killed after 20 min): whether it exited 0, and its output. */
export function aptGet(args: readonly string[]): { ok: boolean; output: string } {
  const r = spawnSync('apt-get', ['-o', 'DPkg::Lock::Timeout=600', ...args], {
    encoding: 'utf8',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive', PATH: `${process.env['PATH'] ?? ''}:${SYSTEM_DIRS.join(':')}` },
    timeout: 20 * 60_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  return { ok: r.status === 0, output: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? `\n${r.error.message}` : ''}` };
}

/** The lock every apt run of the labs holds (apt's own locks do not cover `update` + `install` as one step). */
export function aptLockPath(): string {
  return join(labCacheDir(), 'apt.lock');
}

/**
 * Installs the packages of `needs` whose program is missing (nothing when all are there):
 * `apt-get update` once per process, then `apt-get install --no-install-recommends`, with
 * DEBIAN_FRONTEND=noninteractive. Needs root; otherwise (or without apt) fails saying what to install.
 * Returns the packages it installed.
 */
export async function ensureAptPackages(needs: readonly AptNeed[], log: (line: string) => void = () => undefined): Promise<string[]> {
  const missingNow = () => needs.filter((n) => !n.present());
  if (missingNow().length === 0) return [];
  return withInstallLock(aptLockPath(), 'apt', () => {
    const missing = missingNow();
    if (missing.length === 0) return [];
    const pkgs = [...new Set(missing.map((n) => n.pkg))];
    const what = missing.map((n) => `${n.pkg} (${n.why})`).join(', ');
    if (process.getuid?.() !== 0) throw new Error(`missing ${what}; installing needs root: run \`apt-get install ${pkgs.join(' ')}\` (Debian/Ubuntu)`);
    if (spawnSync('apt-get', ['--version'], { stdio: 'ignore' }).status !== 0) throw new Error(`missing ${what}, and apt-get is not available: install ${pkgs.join(' ')} with your package manager`);
    if (!aptListsUpdated) {
      log(`lab install: apt-get update (for ${pkgs.join(' ')})`);
      const u = aptGet(['update', '-q']);
      if (!u.ok) throw new Error(`apt-get update failed while installing ${pkgs.join(' ')}:\n${tailText(u.output)}`);
      aptListsUpdated = true;
    }
    log(`lab install: apt-get install ${pkgs.join(' ')}`);
    const r = aptGet(['install', '-y', '-q', '--no-install-recommends', ...pkgs]);
    if (!r.ok) throw new Error(`\`apt-get install ${pkgs.join(' ')}\` failed:\n${tailText(r.output)}`);
    const still = missingNow();
    if (still.length > 0) throw new Error(`after apt-get install ${pkgs.join(' ')}, still missing: ${still.map((n) => `${n.pkg} (${n.why})`).join(', ')}`);
    return pkgs;
  }, { log });
}

/**
 * Runs `bin args` with its output in `logPath` (`append`: added to it, else truncated), killed
 * after `timeoutMs`; resolves with the exit code (null when killed).
 */
export function runLogged(
  bin: string,
  args: readonly string[],
  logPath: string,
  timeoutMs: number,
  opts: { readonly cwd?: string; readonly env?: NodeJS.ProcessEnv; readonly append?: boolean } = {},
): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const out = openSync(logPath, opts.append ? 'a' : 'w');
    let child: ChildProcess;
    try {
      child = spawn(bin, [...args], { cwd: opts.cwd, env: opts.env, stdio: ['ignore', out, out] });
    } finally {
      closeSync(out);
    }
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}
