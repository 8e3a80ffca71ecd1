/**
 * The lab-independent half of `npm run bench:chat`: the plan (phases, room shape), the CPU
 * readings around each phase, and the report. bench/chat.bench.ts starts the lab and hands it
 * over as a `BenchLab`; the load itself runs in a child process (./chat-load.ts).
 *
 * Defaults (one run, about 1.5 min after the lab is up):
 *   idle         5 s with every client connected and nothing sent: the backends' fixed CPU
 *   warm-up      4 rounds of paced 200 msg/s from 10 senders for 2 s, each in a fresh room (the
 *                last reported apart): the lab's JVMs are a minute old, and until each has been
 *                through a few room setups it still loads classes and (re)compiles the hot path
 *                at the start of every phase (Cassandra's C1 threads busy 150-300 ms after the
 *                first sends, a 40-80 ms stall at paced 200)
 *   paced        50 msg/s from 3 senders, 200 from 10, 1,000 from 50 (20 msg/s each), 10 s each
 *   saturated    64 senders, each keeping 8 sends unanswered, at most 90% of the per-socket rate
 *                limit each (so the limit is not what refuses them), 10 s
 *   WS floor     a bare WebSocket server (./ws-floor-server.ts) under one backend's share of the
 *                saturated load (half its senders, same window, rate and body): its CPU per
 *                message is what any Node WebSocket server pays to receive a frame and answer it
 *   NATS         publish in region 1, subscribe in region 2: 1,000 msg/s for 10 s, then as fast
 *                as possible for 5 s
 *   room         a fresh room per phase; 2 listeners per region joined (they receive every
 *                message); senders are members that do not receive (`--senders-listen`: they do)
 */
import { loadavg } from 'node:os';
import { runLoadGenerator, type LoadPlan } from './chat-load.js';
import type { PhaseSpec } from './chat-phases.js';
import { machineInfo, type ChatBenchReport, type MachineInfo, type PhaseCpu, type ReportedPhase } from './chat-report.js';
import { machineCpuSeconds, processCpuSeconds } from './proc-cpu.js';

/** What the benchmark needs from a running lab. */
export interface BenchLab {
  /** Regions in ordinal order, with their backend WebSocket URL and NATS client endpoint. */
  readonly regions: readonly { readonly name: string; readonly url: string; readonly nats: { readonly url: string; readonly user?: string; readonly password?: string } }[];
  /** The processes whose CPU is the backends' (label, current pid, regions served). */
  backendProcesses(): readonly { readonly label: string; readonly pid: number; readonly regions: readonly string[] }[];
  /** The login code the lab's code sender just delivered for this user. */
  getCode(region: string, username: string, email: string): Promise<string>;
  /** The c534f6a protocol (no e-mail, no invitations). */
  readonly legacy: boolean;
  /** The backends' per-socket frame rate limit, frames/s. */
  readonly perSocketRate: number;
  /** How the lab runs the backends, for the report. */
  readonly description: string;
  readonly commit: string;
  /** The bare WebSocket server of the floor measurement (./ws-floor-server.ts), when one runs. */
  readonly wsFloor?: { readonly url: string; pid(): number };
}

export interface BenchOptions {
  readonly seconds: number;
  readonly listenersPerRegion: number;
  readonly sendersListen: boolean;
  readonly saturatedSenders: number;
  readonly window: number;
  readonly nats: boolean;
  readonly wsFloor: boolean;
  readonly warmup: boolean;
  readonly rates: readonly number[];
}

export const DEFAULT_OPTIONS: BenchOptions = {
  seconds: 10,
  listenersPerRegion: 2,
  sendersListen: false,
  saturatedSenders: 64,
  window: 8,
  nats: true,
  wsFloor: true,
  warmup: true,
  rates: [50, 200, 1000],
};

/** Senders of a paced phase: 3 for 50 msg/s, 10 for 200, 50 for 1,000 (20 msg/s each), rate/20 otherwise. */
export function pacedSenders(rate: number): number {
  return rate === 50 ? 3 : Math.max(1, Math.ceil(rate / 20));
}

const USAGE = `usage: npm run bench:chat [-- options]
  --seconds <n>            length of each phase (default 10)
  --rates <a,b,...>        paced rates in msg/s (default 50,200,1000; senders: 3 for 50, rate/20 otherwise)
  --listeners <n>          listeners per region (default 2)
  --senders-listen         senders also join the room (receive every message)
  --saturated-senders <n>  (default 64)     --window <n>  unanswered sends per saturated sender (default 8)
  --no-nats                skip the raw NATS baseline      --no-warmup  skip the warm-up phase
  --no-ws-floor            skip the bare WebSocket server's floor
  --backend-env NAME=value an environment variable for both backends (repeatable), e.g. a CHAT_ setting
  --backend-node-options s NODE_OPTIONS of the backends, e.g. '--cpu-prof --cpu-prof-dir=/tmp/prof'
  --out <file>             where the JSON report goes (default bench/results/chat-<date>.json)`;

export function parseBenchArgs(argv: readonly string[]): BenchOptions {
  const o: { -readonly [K in keyof BenchOptions]: BenchOptions[K] } = { ...DEFAULT_OPTIONS };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const num = (lo: number, hi: number) => {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v < lo || v > hi) throw new Error(`${flag} needs a whole number in ${lo}..${hi}\n${USAGE}`);
      return v;
    };
    if (flag === '--seconds') o.seconds = num(1, 120);
    else if (flag === '--listeners') o.listenersPerRegion = num(1, 50);
    else if (flag === '--saturated-senders') o.saturatedSenders = num(0, 1000);
    else if (flag === '--window') o.window = num(1, 100);
    else if (flag === '--senders-listen') o.sendersListen = true;
    else if (flag === '--no-nats') o.nats = false;
    else if (flag === '--no-warmup') o.warmup = false;
    else if (flag === '--no-ws-floor') o.wsFloor = false;
    else if (flag === '--rates') {
      const v = (argv[++i] ?? '').split(',').map(Number);
      if (v.some((x) => !Number.isInteger(x) || x < 1 || x > 20_000)) throw new Error(`--rates needs whole numbers in 1..20000, comma-separated\n${USAGE}`);
      o.rates = v;
    } else throw new Error(`unknown argument ${flag}\n${USAGE}`);
  }
  return o;
}

export function planFor(lab: BenchLab, o: BenchOptions, run: string): LoadPlan {
  const phases: PhaseSpec[] = o.rates.map((rate) => ({ name: `paced${rate}`, kind: 'paced', rate, senders: pacedSenders(rate), seconds: o.seconds }));
  const maxPerSenderRate = Math.floor(lab.perSocketRate * 0.9);
  if (o.saturatedSenders > 0) phases.push({ name: 'saturated', kind: 'saturated', senders: o.saturatedSenders, seconds: o.seconds, window: o.window, maxPerSenderRate });
  const bodyBytes = 120;
  // One backend's share of the saturated load: senders alternate regions, the first gets the odd one.
  const wsFloor = o.wsFloor && lab.wsFloor && o.saturatedSenders > 0 ? { url: lab.wsFloor.url, senders: Math.ceil(o.saturatedSenders / 2), rate: maxPerSenderRate, window: o.window, seconds: o.seconds, bodyBytes } : undefined;
  const [a, b] = lab.regions;
  if (!a || !b) throw new Error('the benchmark needs a two-region lab');
  return {
    run,
    regions: lab.regions.map((r) => ({ name: r.name, url: r.url })),
    legacy: lab.legacy,
    listenersPerRegion: o.listenersPerRegion,
    sendersListen: o.sendersListen,
    bodyBytes,
    drainMs: 15_000,
    clientsPerAddress: 8,
    loginConcurrency: 8,
    idleSeconds: 5,
    ...(o.warmup ? { warmup: { name: 'warmup', kind: 'paced', rate: 200, senders: 10, seconds: 2 } satisfies PhaseSpec, warmupRounds: 4 } : {}),
    phases,
    ...(wsFloor ? { wsFloor } : {}),
    ...(o.nats ? { nats: { publish: { region: a.name, ...a.nats }, subscribe: { region: b.name, ...b.nats }, rate: 1000, seconds: o.seconds, saturatedSeconds: 5 } } : {}),
  };
}

/** Runs the plan against `lab`; CPU is read from /proc right before and after each phase. */
export async function runChatBench(
  lab: BenchLab,
  o: BenchOptions,
  progress: (line: string) => void,
  opts: { signal?: AbortSignal; machine?: MachineInfo } = {},
): Promise<ChatBenchReport> {
  const machine = opts.machine ?? machineInfo();
  const run = Date.now().toString(36).slice(-7);
  const plan = planFor(lab, o, run);
  const before = new Map<string, { procs: ReturnType<BenchLab['backendProcesses']>; cpu: number[]; machine: { busy: number; total: number } }>();
  const cpuOf = new Map<string, PhaseCpu>();
  const notes: string[] = [];
  const result = await runLoadGenerator(
    plan,
    {
      getCode: (region, username, email) => lab.getCode(region, username, email),
      progress: (line) => progress(line),
      mark(phase, edge) {
        // The floor's window reads the bare server's CPU, every other window the backends'.
        const procs = phase === 'wsFloor' && lab.wsFloor ? [{ label: 'ws-floor', pid: lab.wsFloor.pid(), regions: [] }] : lab.backendProcesses();
        const cpu = procs.map((p) => processCpuSeconds(p.pid));
        const mach = machineCpuSeconds();
        if (edge === 'start') {
          if (phase !== 'warmup' && machine.loadAtFirstPhase === undefined) machine.loadAtFirstPhase = loadavg();
          before.set(phase, { procs, cpu, machine: mach });
          return;
        }
        const b = before.get(phase)!;
        const byProcess: Record<string, number> = {};
        const regionsOf: Record<string, readonly string[]> = {};
        procs.forEach((p, i) => {
          const was = b.procs[i];
          if (!was || was.pid !== p.pid) notes.push(`${phase}: backend ${p.label} changed pid (${was?.pid} -> ${p.pid}) during the phase: its CPU is not comparable`);
          byProcess[p.label] = cpu[i]! - b.cpu[i]!;
          regionsOf[p.label] = p.regions;
        });
        cpuOf.set(phase, { byProcess, regionsOf, machineBusy: mach.busy - b.machine.busy, machineCapacity: mach.total - b.machine.total });
      },
    },
    opts.signal,
  );
  machine.loadAfter = loadavg();
  const withCpu = (p: (typeof result.phases)[number]): ReportedPhase => ({ ...p, cpu: cpuOf.get(p.name)! });
  const receivers = o.sendersListen ? 'every member receives' : 'senders are members that do not receive';
  return {
    date: new Date().toISOString(),
    commit: lab.commit,
    lab: lab.description,
    regions: lab.regions.map((r) => r.name),
    machine,
    shape: `a fresh room per phase; ${2 * o.listenersPerRegion} listeners (${o.listenersPerRegion} per region) joined; ${receivers}; senders alternate regions; body ${plan.bodyBytes} characters`,
    users: result.users,
    ...(result.idleSeconds !== undefined && cpuOf.has('idle') ? { idle: { seconds: result.idleSeconds, cpu: cpuOf.get('idle')! } } : {}),
    phases: result.phases.map(withCpu),
    ...(result.warmup ? { warmup: withCpu(result.warmup) } : {}),
    ...(result.wsFloor && cpuOf.has('wsFloor') ? { wsFloor: { ...result.wsFloor, cpu: cpuOf.get('wsFloor')! } } : {}),
    ...(result.nats ? { nats: result.nats } : {}),
    notes: [
      ...notes,
      'latency = receipt at a listener minus the send time the sender wrote in the body (nowMs() of the load generator, which holds both ends: one clock); the sender\'s own echo is not counted',
      `backend CPU = utime+stime of each backend process from /proc/<pid>/stat, read right before the first send and after the last delivery (or ${plan.drainMs / 1000} s drain); per delivery = that / message frames the listeners received from that process`,
    ],
  };
}
