/**
 * `npm run bench:chat`: message rate and delivery latency of the chat backend across two regions,
 * next to raw NATS publish -> subscribe on the same lab super-cluster, in one run. Prints a
 * Markdown table and stops by itself (bounded in message counts and in time).
 *
 * Set-up: `startChatLab` (lab/chat-lab.ts) with the repository's platform config (two regions),
 * its own directory and port plan (18280..18329), backends in this process with the per-connection
 * rate limit raised out of the way. This process logs in `--clients` users per region and creates
 * one room, then forks a driver process (`--driver`) that holds every WebSocket (and the NATS
 * connections of the baseline), so client work never shares an event loop with the backends.
 *
 * Latency = receive time at the receiving client minus the send time the SENDER wrote into the
 * message body (`performance.now()` of the driver process, which holds both ends: one clock, no
 * skew, sub-millisecond). It covers the whole path: client -> backend WebSocket, validation,
 * membership check, Cassandra LWT claim + insert (LOCAL_QUORUM), NATS publish (+ gateway hop for
 * cross-region), NATS -> backend, backend -> each member's WebSocket. (The backends' own histogram
 * `chat_delivery_latency_seconds` measures from the UUIDv7 timestamp of the message id, taken
 * after the membership check, to the socket write: shown below the table as a cross-check.)
 * Same-region = sender and receiver on the same region's backend (the sender's own echo excluded);
 * cross-region = the other region's backend.
 *
 * Phases, in order (all clients in one room; messages alternate between the regions):
 *   paced      `--rate` messages/s in total for `--seconds` s (open loop): latency at light load;
 *   saturated  every client sends `--burst` messages back to back, each after the previous one's
 *              `message.sent` (closed loop): the rate the lab sustains, and latency at that load;
 *   NATS       the same two loads with the `nats` client: one publisher and one subscriber per
 *              region (as the backends: one subscription per room per region), subject per run,
 *              payload padded to the size of a chat `message` frame; saturated = `--nats-messages`
 *              published as fast as the client takes them.
 * msgs/s = distinct messages that completed delivery along that path per second (first send to
 * last delivery). Deliveries that did not arrive within 15 s after the last send are counted as lost.
 *
 *   npm run bench:chat [-- --clients 20 --rate 50 --seconds 10 --burst 25 --nats-messages 20000]
 */
import { fork, type ChildProcess } from 'node:child_process';
import { cpus, loadavg, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { connect as natsConnect, type NatsConnection } from 'nats';
import { ChatClient, type AnyFrame } from '../app/chat/client.js';
import { createLogger } from '../app/log.js';
import { labPortPlan, signalHandler, SIGNALS, startChatLab, takeOverSignals, type ChatLab } from '../lab/chat-lab.js';
import { DEFAULT_LAB_DIR } from '../lab/postgres.js';

const BENCH_DIR = join(DEFAULT_LAB_DIR, '..', 'chat-bench');
const PORT_BASE = 18_280;
/** Whole run, lab start included. */
const OVERALL_BOUND_MS = 20 * 60_000;
const DRAIN_MS = 15_000;

interface Params {
  readonly clients: number;
  readonly rate: number;
  readonly seconds: number;
  readonly burst: number;
  readonly natsMessages: number;
}

function parseParams(argv: readonly string[]): Params & { dir: string; portBase: number } {
  const out = { clients: 20, rate: 50, seconds: 10, burst: 25, natsMessages: 20_000, dir: BENCH_DIR, portBase: PORT_BASE };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i]!.split('=', 2) as [string, string | undefined];
    const v = inline ?? argv[++i];
    const n = Number(v);
    const need = (lo: number, hi: number) => {
      if (!Number.isInteger(n) || n < lo || n > hi) throw new Error(`${flag} must be a whole number in ${lo}..${hi}`);
      return n;
    };
    switch (flag) {
      case '--clients':
        out.clients = need(1, 200);
        break;
      case '--rate':
        out.rate = need(1, 5_000);
        break;
      case '--seconds':
        out.seconds = need(1, 120);
        break;
      case '--burst':
        out.burst = need(1, 1_000);
        break;
      case '--nats-messages':
        out.natsMessages = need(100, 1_000_000);
        break;
      case '--port-base':
        out.portBase = need(1_024, 65_486);
        break;
      case '--dir':
        out.dir = resolve(v ?? '.');
        break;
      default:
        throw new Error(`unknown argument ${argv[i]} (see the comment at the top of bench/chat.bench.ts)`);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Shared between parent and driver

interface RegionSpec {
  readonly name: string;
  readonly url: string;
  readonly tokens: readonly string[];
  readonly nats: { readonly url: string; readonly user: string; readonly password: string };
}

interface DriverInput {
  readonly params: Params;
  readonly roomId: string;
  readonly run: string;
  readonly regions: readonly RegionSpec[];
}

interface PathStats {
  readonly n: number;
  readonly expected: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  /** Distinct messages delivered on this path per second (first send -> last delivery). */
  readonly msgsPerSec: number;
}

interface PhaseResult {
  readonly sent: number;
  readonly seconds: number;
  /** Accepted (acked) messages per second. */
  readonly sendRate: number;
  readonly same: PathStats;
  readonly cross: PathStats;
  /** Frames delivered to sockets per second (chat only). */
  readonly deliveriesPerSec?: number;
}

interface DriverResult {
  readonly chatPaced: PhaseResult;
  readonly chatSaturated: PhaseResult;
  readonly natsPaced: PhaseResult;
  readonly natsSaturated: PhaseResult;
}

type DriverMessage = { type: 'progress'; line: string } | { type: 'result'; result: DriverResult } | { type: 'error'; message: string };

function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** Latencies and delivery times of one phase, per path. */
class Recorder {
  private readonly lat = { same: [] as number[], cross: [] as number[] };
  private readonly msgs = { same: new Set<string>(), cross: new Set<string>() };
  private lastAt = { same: 0, cross: 0 };
  firstSend = Number.POSITIVE_INFINITY;
  lastSend = 0;
  deliveries = 0;
  lastDelivery = 0;

  sent(at: number): void {
    if (at < this.firstSend) this.firstSend = at;
    if (at > this.lastSend) this.lastSend = at;
  }

  record(path: 'same' | 'cross', key: string, sentAt: number, now: number): void {
    this.lat[path].push(now - sentAt);
    this.msgs[path].add(key);
    this.lastAt[path] = now;
  }

  count(path: 'same' | 'cross'): number {
    return this.lat[path].length;
  }

  stats(path: 'same' | 'cross', expected: number): PathStats {
    const s = [...this.lat[path]].sort((a, b) => a - b);
    const span = (this.lastAt[path] - this.firstSend) / 1000;
    return {
      n: s.length,
      expected,
      p50: percentile(s, 0.5),
      p99: percentile(s, 0.99),
      max: s.at(-1) ?? Number.NaN,
      msgsPerSec: span > 0 ? this.msgs[path].size / span : 0,
    };
  }
}

// ---------------------------------------------------------------------------------------------
// Driver (child process): every WebSocket and NATS connection

async function driver(input: DriverInput): Promise<DriverResult> {
  const say = (line: string) => process.send?.({ type: 'progress', line } satisfies DriverMessage);
  const { params, roomId, regions } = input;
  interface Member {
    readonly region: string;
    readonly index: number;
    readonly client: ChatClient;
  }
  const members: Member[] = [];
  let recorder: Recorder | undefined;
  let phase = 'warmup';
  const closeAll = async () => Promise.all(members.map((m) => m.client.close().catch(() => undefined)));
  try {
    for (const r of regions) {
      await Promise.all(
        r.tokens.map(async (token, index) => {
          const client = await ChatClient.connect(r.url);
          await client.welcome(10_000);
          await client.auth(token);
          const deadline = Date.now() + 30_000;
          for (;;) {
            const j = await client.request({ type: 'room.join', roomId });
            if (j.type === 'room.joined') break;
            if (!(j.type === 'error' && (j as { code?: string }).code === 'not_found') || Date.now() > deadline) throw new Error(`join in ${r.name}: ${JSON.stringify(j)}`);
            await sleep(200);
          }
          const me: Member = { region: r.name, index, client };
          // Timing listener: runs for every frame, next to ChatClient's own.
          client.ws.on('message', (data, isBinary) => {
            const now = performance.now();
            if (isBinary || !recorder) return;
            const f = JSON.parse(data.toString()) as AnyFrame & { roomId?: string; body?: string };
            if (f.type !== 'message' || f.roomId !== roomId || typeof f.body !== 'string') return;
            const [tag, ph, region, idx, seq, t] = f.body.split(' ');
            if (tag !== 'bench' || ph !== phase) return;
            recorder.deliveries++;
            recorder.lastDelivery = now;
            if (region === me.region && Number(idx) === me.index) return; // the sender's own echo
            recorder.record(region === me.region ? 'same' : 'cross', `${region}/${idx}/${seq}`, Number(t), now);
          });
          members.push(me);
        }),
      );
    }
    members.sort((a, b) => a.index - b.index || a.region.localeCompare(b.region));
    const perRegion = regions.map((r) => members.filter((m) => m.region === r.name));
    // Interleaved: region 1 client 0, region 2 client 0, region 1 client 1, ...
    const order: Member[] = [];
    for (let i = 0; i < params.clients; i++) for (const list of perRegion) if (list[i]) order.push(list[i]!);
    say(`driver: ${members.length} clients joined the room (${regions.map((r) => r.name).join(' + ')})`);
    const total = members.length;
    const sameReceivers = params.clients - 1;
    const crossReceivers = params.clients;

    const waitDrained = async (rec: Recorder, messages: number) => {
      const want = messages * total;
      const deadline = Date.now() + DRAIN_MS;
      while (rec.deliveries < want && Date.now() < deadline) await sleep(50);
    };
    let seqNo = 0;
    const sendOne = (m: Member, rec: Recorder): Promise<unknown> => {
      const t = performance.now();
      rec.sent(t);
      const seq = seqNo++;
      return m.client.sendMessage(roomId, `bench ${phase} ${m.region} ${m.index} ${seq} ${t.toFixed(3)}`, `${input.run}-${phase}-${m.region}-${m.index}-${seq}`);
    };
    const finish = (rec: Recorder, sent: number, acked: number, lastAck: number): PhaseResult => {
      const seconds = (lastAck - rec.firstSend) / 1000;
      return {
        sent,
        seconds,
        sendRate: acked / seconds,
        same: rec.stats('same', sent * sameReceivers),
        cross: rec.stats('cross', sent * crossReceivers),
        deliveriesPerSec: rec.deliveries / ((rec.lastDelivery - rec.firstSend) / 1000),
      };
    };

    // Warm-up: every client once (prepared statements, NATS interest across the gateway, JIT).
    recorder = new Recorder();
    await Promise.all(order.map((m) => sendOne(m, recorder!)));
    await waitDrained(recorder, order.length);

    // Paced: open loop at params.rate msg/s.
    phase = 'paced';
    const paced = new Recorder();
    recorder = paced;
    say(`driver: paced, ${params.rate} msg/s for ${params.seconds} s`);
    const count = params.rate * params.seconds;
    const acks: Array<Promise<unknown>> = [];
    let lastAck = 0;
    const start = performance.now();
    for (let i = 0; i < count; i++) {
      const due = start + (i * 1000) / params.rate;
      const wait = due - performance.now();
      if (wait > 1) await sleep(wait);
      acks.push(sendOne(order[i % order.length]!, paced).then(() => (lastAck = performance.now())));
    }
    await Promise.all(acks);
    await waitDrained(paced, count);
    const chatPaced = finish(paced, count, count, lastAck);

    // Saturated: closed loop, every client params.burst messages back to back.
    phase = 'saturated';
    const sat = new Recorder();
    recorder = sat;
    say(`driver: saturated, ${total} clients x ${params.burst} messages, each after the previous ack`);
    let satAck = 0;
    await Promise.all(
      order.map(async (m) => {
        for (let i = 0; i < params.burst; i++) {
          await sendOne(m, sat);
          satAck = performance.now();
        }
      }),
    );
    await waitDrained(sat, total * params.burst);
    const chatSaturated = finish(sat, total * params.burst, total * params.burst, satAck);
    recorder = undefined;
    await closeAll();

    const natsResults = await natsBaseline(input, say);
    return { chatPaced, chatSaturated, ...natsResults };
  } finally {
    await closeAll();
  }
}

/** The raw NATS baseline: one publisher and one subscriber per region, same loads. */
async function natsBaseline(input: DriverInput, say: (line: string) => void): Promise<{ natsPaced: PhaseResult; natsSaturated: PhaseResult }> {
  const { params, regions } = input;
  const conns: NatsConnection[] = [];
  const open = async (r: RegionSpec) => {
    const nc = await natsConnect({ servers: r.nats.url, user: r.nats.user, pass: r.nats.password, name: `bench-${r.name}` });
    conns.push(nc);
    return nc;
  };
  try {
    const pubs = await Promise.all(regions.map(open));
    const subs = await Promise.all(regions.map(open));
    const subject = `bench.${input.run}`;
    // Payload: a chat `message` frame's size; region ordinal, phase, seq and send time up front.
    const SIZE = 330;
    let recorder: Recorder | undefined;
    let phaseId = 0;
    let delivered = 0;
    regions.forEach((_, ri) => {
      subs[ri]!.subscribe(subject, {
        callback: (_err, msg) => {
          const now = performance.now();
          const d = msg.data;
          const view = new DataView(d.buffer, d.byteOffset, d.byteLength);
          if (d.byteLength < 16 || view.getUint8(1) !== phaseId || !recorder) return;
          delivered++;
          recorder.deliveries++;
          recorder.lastDelivery = now;
          const from = view.getUint8(0);
          recorder.record(from === ri ? 'same' : 'cross', `${from}/${view.getUint32(4)}`, view.getFloat64(8), now);
        },
      });
    });
    await Promise.all(subs.map((s) => s.flush()));
    const payload = (from: number, seq: number): Uint8Array => {
      const buf = new Uint8Array(SIZE);
      const view = new DataView(buf.buffer);
      view.setUint8(0, from);
      view.setUint8(1, phaseId);
      view.setUint32(4, seq);
      view.setFloat64(8, performance.now());
      return buf;
    };
    // Interest crosses the gateways asynchronously: probe until each subscriber hears both regions.
    phaseId = 1;
    recorder = new Recorder();
    const deadline = Date.now() + 20_000;
    for (let seq = 0; recorder.count('cross') < 2 * regions.length || recorder.count('same') < regions.length; seq++) {
      if (Date.now() > deadline) throw new Error('NATS: no cross-region delivery within 20 s (gateway interest)');
      pubs.forEach((p, ri) => p.publish(subject, payload(ri, seq)));
      await sleep(50);
    }
    const collect = (rec: Recorder, sent: number, seconds: number): PhaseResult => ({
      sent,
      seconds,
      sendRate: sent / seconds,
      same: rec.stats('same', sent),
      cross: rec.stats('cross', sent),
    });
    const drained = async (want: number) => {
      const until = Date.now() + DRAIN_MS;
      while (delivered < want && Date.now() < until) await sleep(20);
    };

    // Paced: same rate and duration as the chat phase, alternating publishers.
    phaseId = 2;
    const paced = new Recorder();
    recorder = paced;
    delivered = 0;
    say(`driver: NATS paced, ${params.rate} msg/s for ${params.seconds} s`);
    const count = params.rate * params.seconds;
    const start = performance.now();
    for (let i = 0; i < count; i++) {
      const due = start + (i * 1000) / params.rate;
      const wait = due - performance.now();
      if (wait > 1) await sleep(wait);
      const from = i % regions.length;
      paced.sent(performance.now());
      pubs[from]!.publish(subject, payload(from, i));
    }
    await Promise.all(pubs.map((p) => p.flush()));
    const pacedSeconds = (performance.now() - start) / 1000;
    await drained(count * regions.length);
    const natsPaced = collect(paced, count, pacedSeconds);

    // Saturated: params.natsMessages as fast as the client takes them (flush every 1000).
    phaseId = 3;
    const sat = new Recorder();
    recorder = sat;
    delivered = 0;
    say(`driver: NATS saturated, ${params.natsMessages} messages`);
    const t0 = performance.now();
    for (let i = 0; i < params.natsMessages; i++) {
      const from = i % regions.length;
      sat.sent(performance.now());
      pubs[from]!.publish(subject, payload(from, i));
      if (i % 1000 === 999) await Promise.all(pubs.map((p) => p.flush()));
    }
    await Promise.all(pubs.map((p) => p.flush()));
    const satSeconds = (performance.now() - t0) / 1000;
    await drained(params.natsMessages * regions.length);
    const natsSaturated = collect(sat, params.natsMessages, satSeconds);
    return { natsPaced, natsSaturated };
  } finally {
    await Promise.all(conns.map((c) => c.close().catch(() => undefined)));
  }
}

// ---------------------------------------------------------------------------------------------
// Parent: the lab, the logins, the report

function fmt(v: number, digits = 1): string {
  return Number.isFinite(v) ? v.toFixed(digits) : '–';
}

function table(r: DriverResult, p: Params, regions: readonly string[]): string {
  const [a, b] = regions;
  const lost = (s: PathStats) => (s.n < s.expected ? ` (${s.expected - s.n} lost)` : '');
  const row = (load: string, path: string, chat: PathStats, nats: PathStats) =>
    `| ${load} | ${path} | ${fmt(chat.p50)} | ${fmt(chat.p99)} | ${fmt(chat.msgsPerSec, 0)} | ${chat.n}${lost(chat)} | ${fmt(nats.p50, 2)} | ${fmt(nats.p99, 2)} | ${fmt(nats.msgsPerSec, 0)} | ${nats.n}${lost(nats)} |`;
  return [
    `| load | path | chat p50 ms | chat p99 ms | chat msgs/s | chat deliveries | NATS p50 ms | NATS p99 ms | NATS msgs/s | NATS deliveries |`,
    `|---|---|---:|---:|---:|---:|---:|---:|---:|---:|`,
    row(`paced ${p.rate} msg/s`, `same-region`, r.chatPaced.same, r.natsPaced.same),
    row(`paced ${p.rate} msg/s`, `cross-region (${a} <-> ${b})`, r.chatPaced.cross, r.natsPaced.cross),
    row('saturated', 'same-region', r.chatSaturated.same, r.natsSaturated.same),
    row('saturated', `cross-region (${a} <-> ${b})`, r.chatSaturated.cross, r.natsSaturated.cross),
  ].join('\n');
}

/** Mean of the backends' own delivery-latency histogram (UUIDv7 timestamp -> socket write), by path. */
async function backendView(lab: ChatLab): Promise<string> {
  const sums: Record<string, { sum: number; count: number }> = {};
  for (const r of lab.regions) {
    const text = await (await fetch(`${r.server.httpUrl}/metrics`)).text();
    for (const m of text.matchAll(/^chat_delivery_latency_seconds_(sum|count)\{path="([a-z_]+)"\} ([0-9.e+-]+)$/gm)) {
      const e = (sums[m[2]!] ??= { sum: 0, count: 0 });
      if (m[1] === 'sum') e.sum += Number(m[3]);
      else e.count += Number(m[3]);
    }
  }
  return Object.entries(sums)
    .map(([path, { sum, count }]) => `${path} mean ${fmt((sum / count) * 1000)} ms over ${count} deliveries`)
    .join(', ');
}

async function parent(argv: readonly string[]): Promise<number> {
  const opts = parseParams(argv);
  const loadAtStart = loadavg();
  const params: Params = { clients: opts.clients, rate: opts.rate, seconds: opts.seconds, burst: opts.burst, natsMessages: opts.natsMessages };
  const progress = (line: string) => process.stderr.write(`bench: ${line}\n`);
  const logLines: string[] = [];
  const log = createLogger({}, { level: 'warn', write: (l) => logLines.push(l) });
  const abort = new AbortController();
  let lab: ChatLab | undefined;
  let child: ChildProcess | undefined;
  const giveUp = async (why: string, code: number) => {
    progress(why);
    child?.kill('SIGKILL');
    abort.abort();
    await lab?.stop();
    process.exit(code);
  };
  const onSignal = signalHandler({ first: (s) => void giveUp(`${s}: stopping`, 130), again: () => process.exit(130) });
  for (const s of SIGNALS) process.on(s, onSignal);
  const bound = setTimeout(() => void giveUp(`not done within ${OVERALL_BOUND_MS / 60_000} min: stopping`, 1), OVERALL_BOUND_MS);
  bound.unref();

  const t0 = Date.now();
  try {
    lab = await startChatLab({
      dir: opts.dir,
      ports: labPortPlan(opts.portBase),
      codeSender: 'memory',
      log,
      progress,
      rate: { perSecond: 10_000, burst: 20_000 },
      signal: abort.signal,
    });
    takeOverSignals(lab);
    const started = lab;
    progress(`lab up in ${fmt((Date.now() - t0) / 1000)} s; logging in ${params.clients} users per region`);
    const run = Date.now().toString(36);
    const regions: RegionSpec[] = await Promise.all(
      started.regions.map(async (r) => {
        const tokens = await Promise.all(
          Array.from({ length: params.clients }, async (_, i) => {
            const c = await ChatClient.connect(r.server.url);
            try {
              const { token } = await c.login(`b${run}${r.ordinal}x${i}`, async (norm) => {
                const code = started.memorySender(r.name).lastCode(norm);
                if (!code) throw new Error(`no login code for ${norm}`);
                return code;
              });
              return token;
            } finally {
              await c.close();
            }
          }),
        );
        return { name: r.name, url: r.server.url, tokens, nats: { url: r.nats.clientUrl, user: r.nats.credentials.user, password: r.nats.credentials.password } };
      }),
    );
    const creator = await ChatClient.connect(started.regions[0]!.server.url);
    await creator.auth(regions[0]!.tokens[0]!);
    const room = await creator.expect<AnyFrame & { roomId: string }>({ type: 'room.create', name: `bench-${run}` }, 'room.created');
    await creator.close();

    child = fork(fileURLToPath(import.meta.url), ['--driver'], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const driverChild = child;
    const result = await new Promise<DriverResult>((resolveResult, reject) => {
      driverChild.on('message', (m: DriverMessage) => {
        if (m.type === 'progress') progress(m.line);
        else if (m.type === 'result') resolveResult(m.result);
        else reject(new Error(`driver: ${m.message}`));
      });
      driverChild.once('exit', (code, sig) => reject(new Error(`driver exited (${code ?? sig}) without a result`)));
      driverChild.send({ params, roomId: room.roomId, run, regions } satisfies DriverInput);
    });
    const backend = await backendView(started);
    const names = started.regions.map((r) => r.name);
    const c = cpus();
    console.log(`## chat backend vs raw NATS, two regions on one machine (npm run bench:chat)\n`);
    console.log(
      `${c.length} x ${c[0]?.model.trim() ?? 'CPU'}, ${fmt(totalmem() / 2 ** 30)} GiB RAM, node ${process.version}, load average (1/5/15 min) ${loadAtStart
        .map((x) => fmt(x, 2))
        .join(' ')} at the start, ${loadavg()
        .map((x) => fmt(x, 2))
        .join(' ')} at the end; ` +
        `everything on this machine: 2 nats-server, 2 Cassandra 5.0 JVMs (one node per DC, 512 MiB heap), 2 Postgres 15 + pglogical, both backends in one Node process, ` +
        `${params.clients} WebSocket clients per region (${names.join(', ')}) in one room in a second Node process (which also runs the NATS clients).\n`,
    );
    console.log(table(result, params, names));
    console.log('');
    const cp = result.chatPaced;
    const cs = result.chatSaturated;
    console.log(
      `- chat paced: ${cp.sent} messages in ${fmt(cp.seconds)} s, ${fmt(cp.deliveriesPerSec ?? 0, 0)} socket deliveries/s (each message goes to all ${2 * params.clients} members, its sender included).`,
    );
    console.log(
      `- chat saturated: ${2 * params.clients} clients x ${params.burst} messages back to back: ${cs.sent} messages accepted at ${fmt(cs.sendRate, 0)} msg/s (each one a Cassandra LWT + insert), ${fmt(cs.deliveriesPerSec ?? 0, 0)} socket deliveries/s.`,
    );
    console.log(
      `- NATS saturated: ${result.natsSaturated.sent} messages of 330 bytes published in ${fmt(result.natsSaturated.seconds, 2)} s (${fmt(result.natsSaturated.sendRate, 0)} msg/s offered); latency there is mostly queueing in the client and server buffers.`,
    );
    console.log(`- the backends' own histogram (UUIDv7 timestamp -> socket write), all phases: ${backend}.`);
    console.log(
      `- latency = receive time minus the send time the sender put in the body (one clock: sender and receiver are the same driver process); msgs/s = distinct messages delivered on that path per second; lab start-up ${fmt(started.timings['total']! / 1000)} s.`,
    );
    clearTimeout(bound);
    await started.stop();
    return 0;
  } catch (e) {
    console.error(`bench failed: ${(e as Error).stack ?? String(e)}`);
    if (logLines.length > 0) console.error(`backend log (last 30 lines):\n${logLines.slice(-30).join('\n')}`);
    child?.kill('SIGKILL');
    await lab?.stop();
    return 1;
  }
}

const self = process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (self && process.argv.includes('--driver')) {
  process.once('message', (input: DriverInput) => {
    driver(input).then(
      (result) => process.send?.({ type: 'result', result } satisfies DriverMessage, () => process.exit(0)),
      (e: unknown) => process.send?.({ type: 'error', message: (e as Error).stack ?? String(e) } satisfies DriverMessage, () => process.exit(1)),
    );
  });
  // The parent going away ends the driver too.
  process.once('disconnect', () => process.exit(1));
} else if (self) {
  parent(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      console.error((e as Error).stack ?? String(e));
      process.exit(1);
    },
  );
}
