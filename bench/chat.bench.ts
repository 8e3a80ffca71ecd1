/**
 * `npm run bench:chat`: the chat backend under load, two regions on this machine, one run.
 *
 * Starts the two-region lab (lab/chat-lab.ts: one backend PROCESS per region, Mailpit for login
 * codes) on its own port plan (18280..18329) and directory, with the backends' default limits;
 * forks the load generator (bench/chat-load.ts: every WebSocket and NATS client, in a process of
 * its own); runs the phases of bench/chat-bench-run.ts (paced 50, 200 and 1,000 msg/s, saturated,
 * the bare WebSocket floor, raw NATS), the floor against its own server (bench/ws-floor-server.ts,
 * a process on port 18283 with the backends' Node); reads each backend process's CPU (the floor
 * server's, for the floor) from /proc before and after each phase; prints a Markdown report and
 * writes it as JSON to bench/results/chat-<date>.json. Stops the lab at the end, on failure, on
 * Ctrl-C, and after 20 minutes at the latest.
 *
 *   npm run bench:chat [-- --seconds 10 --rates 50,200,1000 --listeners 2 --senders-listen
 *                          --saturated-senders 64 --window 8 --no-nats --no-warmup --no-ws-floor
 *                          --backend-env NAME=value --out <file.json>]
 *
 * The lab uses fixed loopback ports: hold the lab lock (`flock /tmp/rm/lab.lock npm run bench:chat`)
 * when other lab users share the machine.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLogger } from '../app/log.js';
import { labPortPlan, signalHandler, SIGNALS, startChatLab, takeOverSignals, type ChatLab } from '../lab/chat-lab.js';
import { BACKEND_NODE } from '../lab/backend-process.js';
import { REPO_ROOT } from '../lab/install.js';
import { dieWithParent } from '../lab/leftovers.js';
import { DEFAULT_LAB_DIR } from '../lab/postgres.js';
import { parseBenchArgs, runChatBench, type BenchLab } from './chat-bench-run.js';
import { machineInfo, renderMarkdown } from './chat-report.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const BENCH_DIR = join(DEFAULT_LAB_DIR, '..', 'chat-bench');
const PORT_BASE = 18_280;
/** The floor's bare WebSocket server: next to the backends' ports (PORT_BASE + 1, + 2). */
const WS_FLOOR_PORT = PORT_BASE + 3;
/** Whole run, lab start included. */
const OVERALL_BOUND_MS = 20 * 60_000;

function commitOf(): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: HERE, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'app', 'lab'], { cwd: HERE, encoding: 'utf8' }).trim() !== '';
    return dirty ? `${head} + uncommitted changes in app/ or lab/` : head;
  } catch {
    return 'unknown commit';
  }
}

/**
 * The floor's bare WebSocket server (./ws-floor-server.ts) as a process of its own, on the
 * backends' Node (node_modules/.bin/node), dying with this process (setpriv --pdeathsig).
 */
async function startWsFloorServer(port: number): Promise<{ readonly url: string; readonly child: ChildProcess }> {
  const { bin, args } = dieWithParent(BACKEND_NODE, ['--import', 'tsx', join(HERE, 'ws-floor-server.ts'), '127.0.0.1', String(port)]);
  const child = spawn(bin, args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  const listening = await new Promise<number>((resolveListening, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString('utf8');
      const m = /^listening (\d+)$/m.exec(out);
      if (m) resolveListening(Number(m[1]));
    });
    child.once('error', (e) => reject(new Error(`the floor's WebSocket server could not start (${bin}): ${e.message}`)));
    child.once('exit', (code, sig) => reject(new Error(`the floor's WebSocket server (bench/ws-floor-server.ts) exited (${code ?? sig}) before listening on 127.0.0.1:${port}; is the port free?`)));
  });
  return { url: `ws://127.0.0.1:${listening}/`, child };
}

/** The running lab as the benchmark sees it. */
function benchLab(lab: ChatLab, floor?: { readonly url: string; readonly child: ChildProcess }): BenchLab {
  return {
    regions: lab.regions.map((r) => ({ name: r.name, url: r.backend.url, nats: { url: r.nats.clientUrl, user: r.nats.credentials.user, password: r.nats.credentials.password } })),
    backendProcesses: () => lab.regions.map((r) => ({ label: r.name, pid: r.backend.pid(), regions: [r.name] })),
    getCode: (_region, _username, email) => lab.mailpit.codeFor(email, { timeoutMs: 15_000 }),
    legacy: false,
    perSocketRate: lab.regions[0]!.settings.ratePerSecond,
    description: 'one backend process per region (Node 24), 2 nats-server, 2 Cassandra JVMs (one node per DC), 2 Postgres + pglogical, Mailpit; default limits',
    commit: commitOf(),
    ...(floor ? { wsFloor: { url: floor.url, pid: () => floor.child.pid ?? 0 } } : {}),
  };
}

async function main(argv: readonly string[]): Promise<number> {
  let out: string | undefined;
  const backendEnv: Record<string, string> = {};
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--out') out = resolve(argv[++i] ?? '');
    // e.g. --backend-node-options '--cpu-prof --cpu-prof-dir=/tmp/prof' to profile the backends.
    else if (argv[i] === '--backend-node-options') backendEnv['NODE_OPTIONS'] = argv[++i] ?? '';
    // e.g. --backend-env CHAT_WRITE_MIN_INTERVAL_MS=10 to measure a setting (repeatable).
    else if (argv[i] === '--backend-env') {
      const kv = argv[++i] ?? '';
      const eq = kv.indexOf('=');
      if (!/^[A-Z][A-Z0-9_]*=/.test(kv)) throw new Error(`--backend-env wants NAME=value (an environment variable of the backend), got ${JSON.stringify(kv)}`);
      backendEnv[kv.slice(0, eq)] = kv.slice(eq + 1);
    } else rest.push(argv[i]!);
  }
  const opts = parseBenchArgs(rest);
  const machine = machineInfo();
  const progress = (line: string) => process.stderr.write(`bench: ${line}\n`);
  const logLines: string[] = [];
  const log = createLogger({}, { level: 'warn', write: (l: string) => logLines.push(l) });
  const abort = new AbortController();
  let lab: ChatLab | undefined;
  let floor: Awaited<ReturnType<typeof startWsFloorServer>> | undefined;
  const giveUp = async (why: string, code: number) => {
    progress(why);
    abort.abort();
    floor?.child.kill('SIGKILL');
    await lab?.stop();
    process.exit(code);
  };
  const onSignal = signalHandler({ first: (s) => void giveUp(`${s}: stopping`, 130), again: () => process.exit(130) });
  for (const s of SIGNALS) process.on(s, onSignal);
  const bound = setTimeout(() => void giveUp(`not done within ${OVERALL_BOUND_MS / 60_000} min: stopping`, 1), OVERALL_BOUND_MS);
  bound.unref();
  try {
    lab = await startChatLab({
      dir: BENCH_DIR,
      ports: labPortPlan(PORT_BASE),
      log,
      progress,
      signal: abort.signal,
      ...(Object.keys(backendEnv).length > 0 ? { backendEnv } : {}),
    });
    takeOverSignals(lab);
    progress(`lab up in ${((lab.timings['total'] ?? 0) / 1000).toFixed(1)} s`);
    if (opts.wsFloor) floor = await startWsFloorServer(WS_FLOOR_PORT);
    const report = await runChatBench(benchLab(lab, floor), opts, progress, { signal: abort.signal, machine });
    const file = out ?? join(HERE, 'results', `chat-${report.date.slice(0, 16).replace(/[T:]/g, '-')}.json`);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
    console.log(renderMarkdown(report));
    progress(`report written to ${file}`);
    return 0;
  } catch (e) {
    console.error(`bench failed: ${(e as Error).stack ?? String(e)}`);
    if (logLines.length > 0) console.error(`lab log (last 30 lines):\n${logLines.slice(-30).join('\n')}`);
    return 1;
  } finally {
    clearTimeout(bound);
    floor?.child.kill('SIGTERM');
    await lab?.stop();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error((e as Error).stack ?? String(e));
    process.exit(1);
  },
);
