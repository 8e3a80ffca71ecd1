/**
 * `npm run lab`: the whole two-region chat platform on this machine (see ./chat-lab.ts): the data
 * layer on loopback (NATS super-cluster, Cassandra with one DC per region, Postgres pair with
 * pglogical both ways, both bootstrap commands run), Mailpit (the SMTP server login codes are
 * mailed to) and one backend process per region on a fixed port (first region 18081, second
 * 18082). Prints how to connect and the start-up timings, then runs until Ctrl-C (SIGINT),
 * SIGTERM or SIGHUP (or until the process that started it is gone), stops everything and exits 0.
 *
 *   npm run lab                          interactive; login codes: Mailpit's web UI
 *   npm run lab -- --check               start, check /readyz of both backends, send one message
 *                                        across regions, print "chat lab check OK ...", stop; exit 0
 *                                        (1 on failure)
 *   options: --config <platform.yaml>  --dir <lab dir>  --port-base <n> (plan in labPortPlan)
 *            --ports <port1>,<port2> (backends, ordinal order)  --timeout <seconds> (--check only)
 *
 * Every start begins with empty Postgres nodes (users, sessions, rooms: the pglogical mesh is
 * built from scratch); Cassandra's data stays in the lab directory between runs, its jars in the
 * lab cache (lab/install.ts). A lab killed with kill -9 takes its engines and backends with it
 * (setpriv --pdeathsig); the next start stops anything its record still lists and says so.
 *
 * Signals: Ctrl-C reaches npm, the shell, the tsx CLI and this process at once. The package.json
 * script is `exec tsx lab/main.ts` because dash (Debian's /bin/sh, which npm runs scripts with)
 * kills itself with SIGINT after its child exits whenever it got a SIGINT while waiting, so npm
 * would report 130 even after a clean stop; with `exec` there is no shell in between. The tsx CLI
 * re-sends the signal unless the child confirms it within 30 ms and SIGKILLs a child that does not
 * confirm the second one: see `signalHandler` in ./chat-lab.ts for how this process stays alive
 * long enough to stop the engines.
 */
import { createWriteStream, mkdirSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLogger, type Logger } from '../app/log.js';
import { loadConfigFile } from '../constructs/platform-config.js';
import { CHAT_LAB_DIR, DEFAULT_CONFIG_PATH, engineVersions, LAB_PORT_BASE, labPortPlan, labProcesses, signalHandler, SIGNALS, startChatLab, takeOverSignals, type ChatLab } from './chat-lab.js';
import { backendLogTails, check, connectHelp, engineVersionsLine, timingsLine } from './lab-session.js';
import { REPO_ROOT } from './postgres.js';

const USAGE = `usage: npm run lab [-- --check] [--config <platform.yaml>] [--dir <lab dir>] [--port-base <n>] [--ports <p1>,<p2>] [--timeout <s>]
  (no flag)   start the two-region lab and one chat backend per region; Ctrl-C stops it
  --check     start, verify /readyz of both backends, send one message across regions, print OK, stop
  --config    platform config (default regions/platform.yaml; it must have exactly two regions)
  --dir       lab directory (default ${relative(process.cwd(), CHAT_LAB_DIR) || CHAT_LAB_DIR})
  --port-base first port of the lab's port plan (default ${LAB_PORT_BASE}: backends ${LAB_PORT_BASE + 1} and ${LAB_PORT_BASE + 2})
  --ports     backend ports, one per region in ordinal order (default base+1,base+2)
  --timeout   bound of --check in seconds (default 600)`;

export interface MainArgs {
  readonly check: boolean;
  readonly help: boolean;
  readonly configPath: string;
  readonly dir: string;
  readonly portBase: number;
  readonly backendPorts: readonly number[] | undefined;
  readonly timeoutSeconds: number;
}

function intArg(flag: string, v: string | undefined): number {
  const n = Number(v);
  if (v === undefined || !/^\d+$/.test(v) || !Number.isSafeInteger(n)) throw new Error(`${flag} needs a whole number (got ${v ?? 'nothing'})`);
  return n;
}

export function parseArgs(argv: readonly string[]): MainArgs {
  let check = false;
  let help = false;
  let configPath = DEFAULT_CONFIG_PATH;
  let dir = CHAT_LAB_DIR;
  let portBase = LAB_PORT_BASE;
  let backendPorts: number[] | undefined;
  let timeoutSeconds = 600;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const [flag, inline] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = () => inline ?? argv[++i];
    switch (flag) {
      case '--check':
        check = true;
        break;
      case '--help':
      case '-h':
        help = true;
        break;
      case '--config': {
        const v = value();
        if (!v) throw new Error('--config needs a file');
        configPath = resolve(v);
        break;
      }
      case '--dir': {
        const v = value();
        if (!v) throw new Error('--dir needs a directory');
        dir = resolve(v);
        break;
      }
      case '--port-base':
        portBase = intArg('--port-base', value());
        break;
      case '--ports':
        backendPorts = (value() ?? '').split(',').map((p) => intArg('--ports', p.trim()));
        if (backendPorts.length !== 2 || backendPorts.some((p) => p < 1 || p > 65_535)) throw new Error('--ports needs two ports, e.g. --ports 18081,18082');
        break;
      case '--timeout':
        timeoutSeconds = intArg('--timeout', value());
        break;
      default:
        throw new Error(`unknown argument ${a}\n${USAGE}`);
    }
  }
  return { check, help, configPath, dir, portBase, backendPorts, timeoutSeconds };
}

/**
 * Calls `onOrphaned` once when the process that started this one is gone (its parent pid
 * changes: e.g. the tsx wrapper was killed with SIGKILL), checking every `intervalMs` (default 1 s).
 */
export function watchParent(onOrphaned: () => void, intervalMs = 1_000): () => void {
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    onOrphaned();
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

async function main(argv: readonly string[]): Promise<number> {
  let args: MainArgs;
  try {
    args = parseArgs(argv);
  } catch (e) {
    console.error((e as Error).message);
    return 2;
  }
  if (args.help) {
    console.log(USAGE);
    return 0;
  }
  const config = loadConfigFile(args.configPath);
  const plan = labPortPlan(args.portBase);
  const ports = { ...plan, backends: args.backendPorts ?? plan.backends };
  mkdirSync(args.dir, { recursive: true });
  const progress = (line: string) => process.stderr.write(`lab: ${line}\n`);

  // The bootstraps' log: interactive, a file (stdout stays readable); --check, kept in memory and
  // shown on failure. Each backend logs to <dir>/logs/backend-<region>.log.
  const logPath = join(args.dir, 'lab.log');
  const memoryLog: string[] = [];
  let logStream: ReturnType<typeof createWriteStream> | undefined;
  let log: Logger;
  if (args.check) {
    log = createLogger({}, { level: 'info', write: (l) => memoryLog.push(l) });
  } else {
    logStream = createWriteStream(logPath, { flags: 'a' });
    const stream = logStream;
    log = createLogger({}, { level: 'info', write: (l) => stream.write(`${l}\n`) });
  }

  // Ctrl-C / SIGTERM at any time: abort a start-up in progress, or stop a running lab; exit 0.
  const abort = new AbortController();
  let lab: ChatLab | undefined;
  let stopRequested: NodeJS.Signals | undefined;
  let release: () => void = () => undefined;
  const stopped = new Promise<NodeJS.Signals>((resolve) => {
    const onSignal = signalHandler({
      first: (signal) => {
        stopRequested = signal;
        progress(`${signal}: stopping`);
        abort.abort();
        resolve(signal);
      },
      again: (signal) => {
        progress(`${signal} again: exiting now (the engines' exit hooks kill what is left)`);
        process.exit(args.check ? 1 : 0);
      },
    });
    for (const s of SIGNALS) process.on(s, onSignal);
    // The process that started this one is gone (e.g. the tsx wrapper got SIGKILL): stop as on SIGHUP.
    const unwatch = watchParent(() => {
      progress('the process that started the lab is gone');
      onSignal('SIGHUP');
    });
    release = () => {
      for (const s of SIGNALS) process.off(s, onSignal);
      unwatch();
    };
  });

  const t0 = Date.now();
  let checkTimer: NodeJS.Timeout | undefined;
  if (args.check) {
    checkTimer = setTimeout(() => {
      progress(`--check did not finish within ${args.timeoutSeconds} s`);
      abort.abort();
      void (lab?.stop() ?? Promise.resolve()).finally(() => process.exit(1));
    }, args.timeoutSeconds * 1000);
    checkTimer.unref();
  }
  try {
    progress(`starting (config ${relative(REPO_ROOT, args.configPath) || args.configPath}, dir ${args.dir}, ports ${ports.backends.join(', ')} ...)`);
    lab = await startChatLab({
      config,
      dir: args.dir,
      ports,
      log,
      progress,
      signal: abort.signal,
    });
  } catch (e) {
    if (stopRequested) {
      progress('start-up interrupted; what was started is stopped');
      return args.check ? 1 : 0;
    }
    console.error(`chat lab failed to start: ${(e as Error).stack ?? String(e)}`);
    if (args.check && memoryLog.length > 0) console.error(`lab log (last 40 lines):\n${memoryLog.slice(-40).join('\n')}`);
    return 1;
  }
  progress(`up in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  // From now on a signal means a graceful stop (backends, then engines), not the engines' kill-at-once fallback.
  const restoreEngineSignals = takeOverSignals(lab);

  if (args.check) {
    let code = 0;
    try {
      const what = await Promise.race([check(lab), stopped.then((s) => Promise.reject(new Error(`interrupted by ${s}`)))]);
      console.log(`chat lab check OK: ${what}`);
      console.log(engineVersionsLine(await engineVersions(lab)));
      console.log(timingsLine(lab.timings));
    } catch (e) {
      code = 1;
      console.error(`chat lab check FAILED: ${(e as Error).stack ?? String(e)}`);
      console.error(`lab log (last 20 lines):\n${memoryLog.slice(-20).join('\n')}\n${backendLogTails(lab)}`);
    }
    await lab.stop();
    clearTimeout(checkTimer);
    const left = labProcesses(args.dir);
    if (left.length > 0) {
      console.error(`processes of the lab still running after stop: ${left.map((p) => `${p.pid} (${p.what ?? p.cmdline})`).join(', ')}`);
      code = 1;
    }
    release();
    restoreEngineSignals();
    return code;
  }

  console.log(connectHelp(lab, { logPath, configPath: args.configPath }));
  console.log('');
  console.log(timingsLine(lab.timings));
  console.log('Stop with Ctrl-C.');
  await stopped;
  await lab.stop();
  await new Promise<void>((resolve) => (logStream ? logStream.end(resolve) : resolve()));
  release();
  restoreEngineSignals();
  progress('stopped');
  return 0;
}

const invokedDirectly = process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      console.error((e as Error).stack ?? String(e));
      process.exit(1);
    },
  );
}
