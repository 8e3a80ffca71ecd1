/**
 * The load generator of `npm run bench:chat`: every WebSocket and NATS client of the benchmark,
 * in a CHILD process of its own, so client work never shares a process (or its CPU account)
 * with a backend. The parent (bench/chat.bench.ts) calls `runLoadGenerator(plan, hooks)`; the
 * child logs users in (asking the parent for each login code: the parent holds the lab), runs
 * the phases of the plan (./chat-phases.ts), then the raw NATS baseline (./nats-baseline.ts),
 * and sends back one LoadResult. Around each chat phase it asks the parent to `mark` the start
 * and the end (the parent reads the backends' CPU counters then) and waits for the answer.
 *
 * Users: `listenersPerRegion` listeners per region (they join each phase's room and receive;
 * the first one creates the rooms) and as many senders as the largest phase needs, alternating
 * regions. Senders are members of the room (invited) but do not join it on their socket, unless
 * `sendersListen` (`legacy`, the c534f6a protocol, has no invitations: a sender joins on a
 * second socket that then closes, which leaves it a member whose sending socket receives nothing).
 * Each socket comes from a loopback source address shared by at most `clientsPerAddress` sockets.
 */
import { fork } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runPhase, type Participant, type PhaseResult, type PhaseSpec } from './chat-phases.js';
import { LoadClient } from './load-client.js';
import { natsBaseline, type NatsBaselineResult, type NatsBaselineSpec } from './nats-baseline.js';
import { wsFloor, type WsFloorResult, type WsFloorSpec } from './ws-floor.js';

export interface LoadPlan {
  /** Short lower-case id of this run: usernames, client message ids, subjects. */
  readonly run: string;
  /** Both regions' WebSocket URLs (ordinal order). */
  readonly regions: readonly { readonly name: string; readonly url: string }[];
  /** The c534f6a protocol: no `email` in login.request, no visibility or invitations. */
  readonly legacy: boolean;
  readonly listenersPerRegion: number;
  readonly sendersListen: boolean;
  /** Chat message body size, characters (default 120). */
  readonly bodyBytes: number;
  /** Most wait for the last replies and deliveries after the last send, ms. */
  readonly drainMs: number;
  readonly clientsPerAddress: number;
  readonly loginConcurrency: number;
  /** Seconds with every client connected and nothing sent, measured first: the backends' fixed CPU (health checks, heartbeats). */
  readonly idleSeconds?: number;
  /** Run first, reported apart (JIT, prepared statements, connection pools). */
  readonly warmup?: PhaseSpec;
  /**
   * The warm-up runs this many times, each round in a fresh room like every phase (create,
   * invite, join, probe, send); only the last round is measured and reported (default 1).
   */
  readonly warmupRounds?: number;
  readonly phases: readonly PhaseSpec[];
  /** The bare WebSocket server's floor (./ws-floor.ts), after the chat phases; marked as phase `wsFloor`. */
  readonly wsFloor?: WsFloorSpec;
  readonly nats?: NatsBaselineSpec;
}

/** What the load generator adds to a result measured between the parent's marks. */
export interface MarkedWindow {
  /** mark('start') -> mark('end'), s: the window the parent's CPU readings cover. */
  readonly windowSeconds: number;
  /** CPU the load generator itself used in that window, s. */
  readonly loadGenCpuSeconds: number;
}

export interface MeasuredPhase extends PhaseResult, MarkedWindow {}

export interface LoadResult {
  readonly users: number;
  readonly loginSeconds: number;
  /** The idle window (phase name `idle` in the marks), s. */
  readonly idleSeconds?: number;
  readonly warmup?: MeasuredPhase;
  readonly phases: readonly MeasuredPhase[];
  readonly wsFloor?: WsFloorResult & MarkedWindow;
  readonly nats?: NatsBaselineResult;
}

/** What the parent provides. */
export interface LoadHooks {
  /** The login code just sent to `email` (or, legacy, to `username`) in `region`. */
  getCode(region: string, username: string, email: string): Promise<string>;
  /** Called at the start and end of each chat phase; the child waits for it. */
  mark(phase: string, edge: 'start' | 'end'): Promise<void> | void;
  progress(line: string): void;
}

type ToParent =
  | { type: 'progress'; line: string }
  | { type: 'code'; id: number; region: string; username: string; email: string }
  | { type: 'mark'; id: number; phase: string; edge: 'start' | 'end' }
  | { type: 'result'; result: LoadResult }
  | { type: 'error'; message: string };
type ToChild = { type: 'plan'; plan: LoadPlan } | { type: 'code'; id: number; code?: string; error?: string } | { type: 'marked'; id: number };

const SELF = fileURLToPath(import.meta.url);

/** Forks the load generator, serves its requests, resolves with its result (rejects on its failure). */
export function runLoadGenerator(plan: LoadPlan, hooks: LoadHooks, signal?: AbortSignal): Promise<LoadResult> {
  const child = fork(SELF, ['--load-generator'], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  signal?.addEventListener('abort', () => child.kill('SIGKILL'), { once: true });
  const reply = (m: ToChild) => child.connected && child.send(m);
  return new Promise<LoadResult>((resolveResult, reject) => {
    child.on('message', (m: ToParent) => {
      switch (m.type) {
        case 'progress':
          hooks.progress(m.line);
          break;
        case 'code':
          hooks.getCode(m.region, m.username, m.email).then(
            (code) => reply({ type: 'code', id: m.id, code }),
            (e: unknown) => reply({ type: 'code', id: m.id, error: (e as Error).message }),
          );
          break;
        case 'mark':
          Promise.resolve(hooks.mark(m.phase, m.edge)).then(
            () => reply({ type: 'marked', id: m.id }),
            (e: unknown) => reject(e as Error),
          );
          break;
        case 'result':
          resolveResult(m.result);
          break;
        case 'error':
          reject(new Error(`load generator: ${m.message}`));
          break;
      }
    });
    child.once('exit', (code, sig) => reject(new Error(`load generator exited (${code ?? sig}) without a result`)));
    child.send({ type: 'plan', plan } satisfies ToChild);
  });
}

// ---------------------------------------------------------------------------------------------
// The child

let nextId = 1;
const waiting = new Map<number, (m: ToChild) => void>();
const toParent = (m: ToParent) => process.send?.(m);
const ask = (m: ToParent & { id: number }) => new Promise<ToChild>((r) => (waiting.set(m.id, r), toParent(m)));

/** Loopback source address of the k-th socket: 127.0.1.1, shared by `perAddress` sockets, then 127.0.1.2, ... */
export function sourceAddress(k: number, perAddress: number): string {
  const a = Math.floor(k / perAddress);
  if (a >= 254 * 254) throw new Error(`socket ${k}: out of loopback source addresses (${perAddress} per address)`);
  return `127.0.${1 + Math.floor(a / 254)}.${1 + (a % 254)}`;
}

async function login(plan: LoadPlan, region: { name: string; url: string }, username: string, localAddress: string): Promise<{ client: LoadClient; token: string }> {
  const client = await LoadClient.connect(region.url, { localAddress });
  const email = `${username}@bench.test`;
  for (let attempt = 1; ; attempt++) {
    const r = await client.request(plan.legacy ? { type: 'login.request', username } : { type: 'login.request', username, email });
    if (r.type === 'login.code_sent') break;
    if (attempt >= 5 || !(r.type === 'error' && (r.code === 'unavailable' || r.code === 'rate_limited'))) throw new Error(`login.request ${username} in ${region.name}: ${JSON.stringify(r)}`);
    await new Promise((w) => setTimeout(w, 1_000));
  }
  const got = (await ask({ type: 'code', id: nextId++, region: region.name, username, email })) as Extract<ToChild, { type: 'code' }>;
  if (got.code === undefined) throw new Error(`no login code for ${username} in ${region.name}: ${got.error ?? 'unknown'}`);
  const ok = await client.request({ type: 'login.verify', username, code: got.code });
  if (ok.type !== 'login.ok') throw new Error(`login.verify ${username} in ${region.name}: ${JSON.stringify(ok)}`);
  return { client, token: String(ok['token']) };
}

/** Runs `f` over `items`, at most `n` at a time. */
async function pool<T, R>(items: readonly T[], n: number, f: (t: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let i = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, items.length) }, async () => {
      while (i < items.length) {
        const k = i++;
        out[k] = await f(items[k]!);
      }
    }),
  );
  return out;
}

async function child(plan: LoadPlan): Promise<LoadResult> {
  const say = (line: string) => toParent({ type: 'progress', line });
  const specs = [...(plan.warmup ? [plan.warmup] : []), ...plan.phases];
  const senderCount = Math.max(0, ...specs.map((p) => p.senders));
  const [ra, rb] = plan.regions;
  if (!ra || !rb) throw new Error('the plan needs two regions');
  const wanted: Array<{ role: 'listener' | 'sender'; index: number; region: { name: string; url: string } }> = [];
  for (let i = 0; i < 2 * plan.listenersPerRegion; i++) wanted.push({ role: 'listener', index: i, region: i % 2 === 0 ? ra : rb });
  for (let i = 0; i < senderCount; i++) wanted.push({ role: 'sender', index: i, region: i % 2 === 0 ? ra : rb });
  say(`logging in ${wanted.length} users (${2 * plan.listenersPerRegion} listeners, ${senderCount} senders)`);
  const t0 = Date.now();
  const people: Participant[] = await pool(wanted.map((w, k) => ({ ...w, k })), plan.loginConcurrency, async (w) => {
    const username = `b${plan.run}${w.role === 'listener' ? 'l' : 's'}${w.index}`;
    const localAddress = sourceAddress(w.k, plan.clientsPerAddress);
    const { client, token } = await login(plan, w.region, username, localAddress);
    return { index: w.index, role: w.role, region: w.region.name, username, client, url: w.region.url, localAddress, token };
  });
  const loginSeconds = (Date.now() - t0) / 1000;
  const listeners = people.filter((p) => p.role === 'listener');
  const senders = people.filter((p) => p.role === 'sender');
  try {
    let idleSeconds: number | undefined;
    if (plan.idleSeconds) {
      say(`idle: ${plan.idleSeconds} s with ${people.length} clients connected, nothing sent`);
      await ask({ type: 'mark', id: nextId++, phase: 'idle', edge: 'start' });
      const t = performance.now();
      await new Promise((w) => setTimeout(w, plan.idleSeconds! * 1000));
      idleSeconds = (performance.now() - t) / 1000;
      await ask({ type: 'mark', id: nextId++, phase: 'idle', edge: 'end' });
    }
    const measured: MeasuredPhase[] = [];
    const ctx = { run: plan.run, legacy: plan.legacy, sendersListen: plan.sendersListen, bodyBytes: plan.bodyBytes, drainMs: plan.drainMs, listeners, senders, say };
    // The warm-up's earlier rounds, unmeasured; its last round is the first of `specs`.
    for (let round = 1; plan.warmup && round < (plan.warmupRounds ?? 1); round++) {
      await runPhase(ctx, { ...plan.warmup, name: `${plan.warmup.name}${round}` }, async () => undefined);
    }
    for (const spec of specs) measured.push(await betweenMarks(spec.name, (mark) => runPhase(ctx, spec, mark)));
    const warmup = plan.warmup ? measured.shift() : undefined;
    await Promise.all(people.map((p) => p.client.close()));
    const floor = plan.wsFloor ? await measureWsFloor(plan, plan.wsFloor, say) : undefined;
    const nats = plan.nats ? await natsBaseline(plan.nats, plan.run, say) : undefined;
    return { users: people.length, loginSeconds, ...(idleSeconds !== undefined ? { idleSeconds } : {}), ...(warmup ? { warmup } : {}), phases: measured, ...(floor ? { wsFloor: floor } : {}), ...(nats ? { nats } : {}) };
  } finally {
    await Promise.all(people.map((p) => p.client.close()));
  }
}

const self = process.argv[1] !== undefined && resolve(process.argv[1]) === SELF;
if (self && process.argv.includes('--load-generator')) {
  process.on('message', (m: ToChild) => {
    if (m.type === 'plan') {
      child(m.plan).then(
        (result) => process.send?.({ type: 'result', result } satisfies ToParent, () => process.exit(0)),
        (e: unknown) => process.send?.({ type: 'error', message: (e as Error).stack ?? String(e) } satisfies ToParent, () => process.exit(1)),
      );
      return;
    }
    const w = waiting.get(m.id);
    waiting.delete(m.id);
    w?.(m);
  });
  // The parent going away ends the load generator too.
  process.once('disconnect', () => process.exit(1));
}

/**
 * Runs `measure`, which calls `mark('start')` and `mark('end')` around what it measures; each mark
 * waits for the parent's CPU reading. Adds the window between the marks and the load
 * generator's own CPU in it.
 */
async function betweenMarks<T>(phase: string, measure: (mark: (edge: 'start' | 'end') => Promise<void>) => Promise<T>): Promise<T & MarkedWindow> {
  let started = 0;
  let cpu0 = process.cpuUsage();
  const r = await measure(async (edge) => {
    await ask({ type: 'mark', id: nextId++, phase, edge });
    if (edge === 'start') {
      started = performance.now();
      cpu0 = process.cpuUsage();
    }
  });
  const cpu = process.cpuUsage(cpu0);
  return { ...r, windowSeconds: (performance.now() - started) / 1000, loadGenCpuSeconds: (cpu.user + cpu.system) / 1e6 };
}

/** The bare WebSocket server's floor, between the marks of phase `wsFloor`. */
function measureWsFloor(plan: LoadPlan, spec: WsFloorSpec, say: (line: string) => void): Promise<WsFloorResult & MarkedWindow> {
  say(`wsFloor: bare WebSocket server, ${spec.senders} senders x window ${spec.window} (at most ${spec.rate}/s each) for ${spec.seconds} s`);
  return betweenMarks('wsFloor', (mark) => wsFloor(spec, (k) => sourceAddress(k, plan.clientsPerAddress), mark));
}
