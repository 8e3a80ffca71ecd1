/**
 * One region's chat backend as its own process, supervised the way a Deployment's pod is:
 *
 *   node_modules/.bin/node --enable-source-maps .lab/app-build/<hash>/app/main.js serve
 *
 * (Node 24, the image's Node, running the image's tsc build of app/: lab/app-build.ts)
 *
 * with exactly the environment the lab built (nothing inherited), stdout and stderr appended to
 * one log file per region, started through `setpriv --pdeathsig SIGKILL` (it dies with the lab,
 * even on kill -9) in its own process group (a Ctrl-C reaches the lab only, which stops it in
 * order), and recorded for leftover cleanup (lab/leftovers.ts).
 *
 * A process that exits while it is wanted, whatever the exit code or signal, is started again
 * after a back-off: 0.5 s, doubling per consecutive crash, at most 5 s; a process that ran 10 s
 * resets it (like a pod's restartPolicy Always with CrashLoopBackOff, shortened for a lab).
 * `kill('SIGKILL')` kills the current process and lets the supervisor restart it; `stop()` ends it
 * for good (SIGTERM: the backend's graceful shutdown, then SIGKILL at the bound).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { appBuild } from './app-build.js';
import { isExecutable, REPO_ROOT } from './install.js';
import { dieWithParent, forgetSpawn, recordSpawn } from './leftovers.js';
import { tailFile } from './process.js';

/** The Node the backends run: the npm `node` package (Node 24, as app/Dockerfile's image). */
export const BACKEND_NODE = join(REPO_ROOT, 'node_modules', '.bin', 'node');

/** `serve` as the image runs it: the tsc build of app/ (compiled first when the sources changed, said on `log`). Source maps only shape stack traces in the lab's logs. */
export function serveCommand(log?: (line: string) => void): { bin: string; args: string[]; cwd: string } {
  if (!isExecutable(BACKEND_NODE)) throw new Error(`${BACKEND_NODE} is missing: the lab's backends run the npm \`node\` package (Node 24, a devDependency): run npm ci`);
  return { bin: BACKEND_NODE, args: ['--enable-source-maps', appBuild(log), 'serve'], cwd: REPO_ROOT };
}

export interface BackendProcessOptions {
  /** Region name (messages; the record names it `backend <region>`). */
  readonly region: string;
  /** Address clients use (default 127.0.0.1). */
  readonly host?: string;
  /** Port the backend listens on (its CHAT_PORT): fixed across restarts, like a Service's. */
  readonly port: number;
  /** The process's whole environment (nothing is inherited; it holds credentials). */
  readonly env: Readonly<Record<string, string>>;
  /** stdout + stderr of every run, appended, each run after a `--- lab:` header line. */
  readonly logFile: string;
  /** What to run (default `serveCommand()`). */
  readonly command?: { readonly bin: string; readonly args: readonly string[]; readonly cwd?: string };
  /** Restart back-off: first delay and cap in ms (default 500 and 5000; doubles per consecutive crash). */
  readonly backoff?: { readonly initialMs: number; readonly maxMs: number };
  /** A run that lasted this long (ms) resets the back-off (default 10 000). */
  readonly stableAfterMs?: number;
  /** stop(): SIGTERM, then SIGKILL after this many ms (default 15 000). */
  readonly stopTimeoutMs?: number;
  /** Human-readable lines: exits and restarts (default none). */
  readonly progress?: (line: string) => void;
}

/** One run that ended. */
export interface BackendExit {
  readonly pid: number;
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** When it ended (epoch ms) and how long it ran (ms). */
  readonly at: number;
  readonly ranMs: number;
}

export interface BackendProcess {
  readonly region: string;
  /** `ws://<host>:<port>/ws`. */
  readonly url: string;
  /** `http://<host>:<port>`. */
  readonly httpUrl: string;
  readonly port: number;
  readonly logFile: string;
  /** The current process's pid; throws while none runs (stopped, or waiting to restart). */
  pid(): number;
  /** True while a process runs. */
  running(): boolean;
  /** Sends `signal` (default SIGKILL) to the current process and waits until it has exited; the supervisor restarts it. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it (if it is not wanted already) and waits until /readyz answers 200. */
  start(timeoutMs?: number): Promise<void>;
  /** Ends it for good: SIGTERM (graceful shutdown), SIGKILL at the bound; no restart. Idempotent. */
  stop(): Promise<void>;
  /** Resolves once /readyz answers 200 (a restart in progress is waited for); rejects at `timeoutMs` (default 60 s) with the log's tail. */
  ready(timeoutMs?: number): Promise<void>;
  /** Runs that ended, oldest first. */
  readonly exits: readonly BackendExit[];
  /** How many times the supervisor started it again after an exit. */
  readonly restarts: number;
}

/** Exit code 2: `serve` refused its environment (EnvError): restarting cannot help, so ready() fails at once. */
const BAD_ENVIRONMENT = 2;

/** A supervised backend process (not started: call `start()`). */
export function backendProcess(opts: BackendProcessOptions): BackendProcess {
  const host = opts.host ?? '127.0.0.1';
  const progress = opts.progress ?? (() => undefined);
  const command = opts.command ?? serveCommand(progress);
  const backoff = opts.backoff ?? { initialMs: 500, maxMs: 5_000 };
  const stableAfterMs = opts.stableAfterMs ?? 10_000;
  const what = `backend ${opts.region}`;
  const exits: BackendExit[] = [];
  let wanted = false;
  let restarts = 0;
  let crashes = 0;
  let current: { child: ChildProcess; pid: number; startedAt: number; exited: Promise<void> } | undefined;
  let restartTimer: NodeJS.Timeout | undefined;
  mkdirSync(dirname(opts.logFile), { recursive: true });

  const launch = (): void => {
    const run = exits.length + 1;
    appendFileSync(opts.logFile, `--- lab: ${new Date().toISOString()} starting ${what} (run ${run}): ${command.bin} ${command.args.join(' ')}\n`);
    const cmd = dieWithParent(command.bin, command.args);
    const out = openSync(opts.logFile, 'a');
    let child: ChildProcess;
    try {
      child = spawn(cmd.bin, cmd.args, { cwd: command.cwd ?? REPO_ROOT, env: { ...opts.env }, detached: true, stdio: ['ignore', out, out] });
    } finally {
      closeSync(out);
    }
    const pid = child.pid;
    if (pid === undefined) {
      child.once('error', () => undefined);
      throw new Error(`cannot start ${what} (${command.bin}): see ${opts.logFile}`);
    }
    recordSpawn(what, pid);
    const startedAt = Date.now();
    const exited = new Promise<void>((resolve) => {
      child.once('error', () => undefined);
      child.once('exit', (code, signal) => {
        forgetSpawn(pid);
        const ranMs = Date.now() - startedAt;
        exits.push({ pid, code, signal, at: Date.now(), ranMs });
        appendFileSync(opts.logFile, `--- lab: ${new Date().toISOString()} ${what} (pid ${pid}) exited ${signal ?? `with code ${code}`} after ${(ranMs / 1000).toFixed(1)} s\n`);
        if (current?.pid === pid) current = undefined;
        resolve();
        if (!wanted) return;
        crashes = ranMs >= stableAfterMs ? 1 : crashes + 1;
        const delay = Math.min(backoff.initialMs * 2 ** (crashes - 1), backoff.maxMs);
        progress(`${what} (pid ${pid}) exited ${signal ?? `with code ${code}`} after ${(ranMs / 1000).toFixed(1)} s; restarting in ${(delay / 1000).toFixed(1)} s`);
        restartTimer = setTimeout(() => {
          restartTimer = undefined;
          if (!wanted || current) return;
          restarts++;
          try {
            launch();
          } catch (e) {
            progress(`${what}: restart failed: ${(e as Error).message}`);
          }
        }, delay);
      });
    });
    current = { child, pid, startedAt, exited };
  };

  const readyz = async (): Promise<string | undefined> => {
    try {
      const res = await fetch(`http://${host}:${opts.port}/readyz`, { signal: AbortSignal.timeout(2_000) });
      if (res.status === 200) return undefined;
      return `HTTP ${res.status} ${(await res.text()).slice(0, 300)}`;
    } catch (e) {
      return ((e as Error).cause as Error | undefined)?.message ?? (e as Error).message;
    }
  };

  const describeExits = (): string =>
    exits.length === 0 ? 'no exit so far' : `exits: ${exits.slice(-5).map((x) => `pid ${x.pid} ${x.signal ?? `code ${x.code}`} after ${(x.ranMs / 1000).toFixed(1)} s`).join('; ')}`;

  const handle: BackendProcess = {
    region: opts.region,
    url: `ws://${host}:${opts.port}/ws`,
    httpUrl: `http://${host}:${opts.port}`,
    port: opts.port,
    logFile: opts.logFile,
    get exits() {
      return exits;
    },
    get restarts() {
      return restarts;
    },
    pid() {
      if (!current) throw new Error(`${what} is not running (${wanted ? 'waiting to restart' : 'stopped'}; ${describeExits()})`);
      return current.pid;
    },
    running: () => current !== undefined,
    async kill(signal: NodeJS.Signals = 'SIGKILL') {
      const run = current;
      if (!run) throw new Error(`${what}: no process to kill (${wanted ? 'waiting to restart' : 'stopped'})`);
      run.child.kill(signal);
      await run.exited;
    },
    async start(timeoutMs?: number) {
      if (!wanted) {
        wanted = true;
        crashes = 0;
        if (!current && !restartTimer) launch();
      }
      await handle.ready(timeoutMs);
    },
    async stop() {
      wanted = false;
      if (restartTimer) clearTimeout(restartTimer);
      restartTimer = undefined;
      const run = current;
      if (!run) return;
      run.child.kill('SIGTERM');
      const forced = setTimeout(() => run.child.kill('SIGKILL'), opts.stopTimeoutMs ?? 15_000);
      await run.exited;
      clearTimeout(forced);
    },
    async ready(timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      let last = 'not asked yet';
      for (;;) {
        if (!wanted) throw new Error(`${what} is stopped (${describeExits()})`);
        const lastExit = exits.at(-1);
        if (!current && lastExit?.code === BAD_ENVIRONMENT) {
          throw new Error(`${what} refused its environment (exit ${BAD_ENVIRONMENT}); last lines of ${opts.logFile}:\n${tailFile(opts.logFile, 30)}`);
        }
        if (current) {
          const why = await readyz();
          if (why === undefined) return;
          last = why;
        } else {
          last = 'waiting to restart';
        }
        if (Date.now() >= deadline) {
          throw new Error(`${what} not ready on ${handle.httpUrl}/readyz within ${timeoutMs} ms (last: ${last}; ${describeExits()}); last lines of ${opts.logFile}:\n${tailFile(opts.logFile, 30)}`);
        }
        await sleep(100);
      }
    },
  };
  return handle;
}
