/**
 * One chat phase of the load generator (./chat-load.ts): a fresh room, its members, a probe
 * round, then the load (paced: open loop; saturated: a window of unacknowledged sends per
 * sender), then the drain, with every send, reply and delivery recorded.
 *
 * Message body: `load <sender> <seq> <send time ms> xxx…` (padded to `bodyBytes`), the send time
 * being nowMs() just before the frame is written: latency = receive time - that, one clock.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { LoadClient, nowMs, type Frame } from './load-client.js';
import { paced, saturated } from './load-schedules.js';
import { Samples, type Summary } from './stats.js';

export interface Participant {
  readonly index: number;
  readonly role: 'listener' | 'sender';
  readonly region: string;
  readonly username: string;
  readonly client: LoadClient;
  /** For a second socket of the same user (legacy membership). */
  readonly url: string;
  readonly localAddress: string;
  readonly token: string;
}

export interface PhaseSpec {
  readonly name: string;
  readonly kind: 'paced' | 'saturated';
  /** Paced: messages per second in total, spread evenly over the senders. */
  readonly rate?: number;
  readonly senders: number;
  /** Length of the sending, s. */
  readonly seconds: number;
  /** Saturated: unacknowledged sends each sender keeps (default 8). */
  readonly window?: number;
  /** Saturated: most sends per second per sender (stays under the server's per-socket rate; default 45). */
  readonly maxPerSenderRate?: number;
}

export interface PhaseResult {
  readonly name: string;
  readonly kind: 'paced' | 'saturated';
  readonly rate?: number;
  readonly senders: number;
  /** Sockets joined to the room (they receive every message). */
  readonly receivers: number;
  readonly roomMembers: number;
  readonly window?: number;
  readonly sent: number;
  readonly accepted: number;
  /** Error replies by code (`closed`: the socket closed before the reply). */
  readonly refused: Record<string, number>;
  /** Sends with no reply at all by the end of the drain. */
  readonly unanswered: number;
  /** Error frames without a ref (the legacy backend's rate limit), by code. */
  readonly unmatchedErrors: Record<string, number>;
  readonly socketsClosed: number;
  /** First send -> last send, s. */
  readonly sendSeconds: number;
  /** Accepted sends / (first send -> last acknowledgement). */
  readonly acceptedPerSec: number;
  readonly deliveries: number;
  readonly deliveriesByRegion: Record<string, number>;
  readonly expectedDeliveries: number;
  /** Deliveries / (first send -> last delivery). */
  readonly deliveriesPerSec: number;
  /** Send -> receipt, ms; the sender's own echo is not counted. */
  readonly latencyMs: { readonly same: Summary; readonly cross: Summary };
  /** Send -> message.sent, ms. */
  readonly ackMs: Summary;
}

export interface PhaseContext {
  readonly run: string;
  readonly legacy: boolean;
  readonly sendersListen: boolean;
  readonly bodyBytes: number;
  readonly drainMs: number;
  readonly listeners: readonly Participant[];
  readonly senders: readonly Participant[];
  readonly say: (line: string) => void;
}

/** Called right before the first send and right after the drain (the parent reads CPU then). */
export type Mark = (edge: 'start' | 'end') => Promise<void>;

const RETRY_CODES = new Set(['not_found', 'not_member', 'rate_limited', 'unavailable']);
const SETUP_DEADLINE_MS = 60_000;

/** `request` until the reply is not a retryable error (replication lag, set-up rate limits). */
async function settle(p: Participant, frame: Record<string, unknown> & { type: string }, want: string): Promise<Frame> {
  const deadline = Date.now() + SETUP_DEADLINE_MS;
  for (;;) {
    const r = await p.client.request(frame);
    if (r.type === want) return r;
    if (!(r.type === 'error' && RETRY_CODES.has(String(r.code))) || Date.now() > deadline) {
      throw new Error(`${frame.type} by ${p.username} (${p.region}): expected ${want}, got ${JSON.stringify(r)}`);
    }
    await sleep(r.code === 'rate_limited' ? 1_000 : 200);
  }
}

function body(tag: string, sender: number, seq: number, at: number, bytes: number): string {
  const head = `${tag} ${sender} ${seq} ${at.toFixed(3)} `;
  return head.length >= bytes ? head.trimEnd() : head + 'x'.repeat(bytes - head.length);
}

class Recorder {
  readonly same = new Samples();
  readonly cross = new Samples();
  readonly ack = new Samples();
  readonly refused = new Map<string, number>();
  readonly byRegion = new Map<string, number>();
  sent = 0;
  accepted = 0;
  answered = 0;
  deliveries = 0;
  firstSend = Number.POSITIVE_INFINITY;
  lastSend = 0;
  lastAck = 0;
  lastDelivery = 0;

  reply(r: Frame, sentAt: number, at: number): void {
    this.answered++;
    if (r.type === 'message.sent') {
      this.accepted++;
      this.ack.push(at - sentAt);
      this.lastAck = at;
      return;
    }
    const code = r.type === 'error' ? String(r.code) : `unexpected ${r.type}`;
    this.refused.set(code, (this.refused.get(code) ?? 0) + 1);
  }
}

/** Runs one phase; the room is fresh, so nothing of an earlier phase is counted. */
export async function runPhase(ctx: PhaseContext, spec: PhaseSpec, mark: Mark): Promise<PhaseResult> {
  const senders = ctx.senders.slice(0, spec.senders);
  if (senders.length < spec.senders) throw new Error(`phase ${spec.name} needs ${spec.senders} senders, ${ctx.senders.length} are logged in`);
  const owner = ctx.listeners[0]!;
  const everyone = [...ctx.listeners, ...senders];
  const receiving = ctx.sendersListen ? everyone : [...ctx.listeners];

  // The room: the owner creates it; members are invited (legacy: there are no invitations, so a
  // sender that is not to receive joins on a second socket that then closes: its membership stays).
  const created = await settle(owner, ctx.legacy ? { type: 'room.create', name: `bench ${ctx.run} ${spec.name}` } : { type: 'room.create', name: `bench ${ctx.run} ${spec.name}`, visibility: 'private' }, 'room.created');
  const roomId = String(created['roomId']);
  if (!ctx.legacy) for (const p of everyone) if (p !== owner) await settle(owner, { type: 'room.invite', roomId, username: p.username }, 'room.invited');
  await Promise.all(receiving.map((p) => settle(p, { type: 'room.join', roomId }, 'room.joined')));
  if (ctx.legacy && !ctx.sendersListen) await Promise.all(senders.map((p) => joinOnSecondSocket(p, roomId)));

  let rec = new Recorder();
  let tag = 'probe';
  const probesSeen = new Map<Participant, number>();
  for (const p of receiving) {
    probesSeen.set(p, 0);
    p.client.onMessage = (f, at) => {
      if (f['roomId'] !== roomId || typeof f['body'] !== 'string') return;
      const [t, senderText, , sentText] = (f['body'] as string).split(' ', 4);
      if (t === 'probe') {
        probesSeen.set(p, probesSeen.get(p)! + 1);
        return;
      }
      if (t !== tag) return;
      rec.deliveries++;
      rec.lastDelivery = at;
      rec.byRegion.set(p.region, (rec.byRegion.get(p.region) ?? 0) + 1);
      const from = senders[Number(senderText)];
      if (!from || from === p) return; // the sender's own echo
      (from.region === p.region ? rec.same : rec.cross).push(at - Number(sentText));
    };
  }

  // Probe round: every sender's membership has reached its region, and every receiver hears every region.
  await Promise.all(
    senders.map((s, i) => settle(s, { type: 'message.send', roomId, clientMessageId: `${ctx.run}-${spec.name}-p${i}`, body: body('probe', i, 0, nowMs(), 16) }, 'message.sent')),
  );
  const probeDeadline = Date.now() + 30_000;
  while ([...probesSeen.values()].some((n) => n < senders.length)) {
    if (Date.now() > probeDeadline) {
      const short = receiving.filter((p) => probesSeen.get(p)! < senders.length).map((p) => `${p.username} (${p.region}) ${probesSeen.get(p)}/${senders.length}`);
      throw new Error(`phase ${spec.name}: probe messages not delivered within 30 s to ${short.join(', ')}`);
    }
    await sleep(20);
  }

  rec = new Recorder();
  tag = 'load';
  const closedBefore = everyone.filter((p) => p.client.closeInfo).length;
  const unmatchedBefore = unmatchedTotals(everyone);
  const send = (sender: number, seq: number) => {
    const s = senders[sender]!;
    const at = nowMs();
    rec.sent++;
    if (at < rec.firstSend) rec.firstSend = at;
    rec.lastSend = at;
    const r = rec;
    return new Promise<Frame>((resolve) =>
      s.client.send({ type: 'message.send', roomId, clientMessageId: `${ctx.run}-${spec.name}-${sender}-${seq}`, body: body('load', sender, seq, at, ctx.bodyBytes), firstAttempt: true }, (reply, replyAt) => {
        r.reply(reply, at, replyAt);
        resolve(reply);
      }),
    );
  };

  await mark('start');
  ctx.say(`${spec.name}: ${describe(spec)}, room of ${everyone.length} (${receiving.length} receiving)`);
  if (spec.kind === 'paced') await paced(spec, senders.length, send);
  else await saturated(spec, senders.length, send, ctx.drainMs);
  const receiversPerMessage = receiving.length;
  const drainUntil = Date.now() + ctx.drainMs;
  while (Date.now() < drainUntil && (rec.answered < rec.sent || rec.deliveries < rec.accepted * receiversPerMessage)) await sleep(10);
  await mark('end');

  for (const p of receiving) p.client.onMessage = () => undefined;
  if (!ctx.legacy) await Promise.all(receiving.map((p) => p.client.request({ type: 'room.leave', roomId }).catch(() => undefined)));
  const unmatchedAfter = unmatchedTotals(everyone);
  const unmatched: Record<string, number> = {};
  for (const [code, n] of unmatchedAfter) if (n - (unmatchedBefore.get(code) ?? 0) > 0) unmatched[code] = n - (unmatchedBefore.get(code) ?? 0);
  return {
    name: spec.name,
    kind: spec.kind,
    ...(spec.rate !== undefined ? { rate: spec.rate } : {}),
    ...(spec.kind === 'saturated' ? { window: spec.window ?? 8 } : {}),
    senders: senders.length,
    receivers: receiving.length,
    roomMembers: everyone.length,
    sent: rec.sent,
    accepted: rec.accepted,
    refused: Object.fromEntries(rec.refused),
    unanswered: rec.sent - rec.answered,
    unmatchedErrors: unmatched,
    socketsClosed: everyone.filter((p) => p.client.closeInfo).length - closedBefore,
    sendSeconds: (rec.lastSend - rec.firstSend) / 1000,
    acceptedPerSec: rec.accepted / ((rec.lastAck - rec.firstSend) / 1000 || Number.NaN),
    deliveries: rec.deliveries,
    deliveriesByRegion: Object.fromEntries(rec.byRegion),
    expectedDeliveries: rec.accepted * receiversPerMessage,
    deliveriesPerSec: rec.deliveries / ((rec.lastDelivery - rec.firstSend) / 1000 || Number.NaN),
    latencyMs: { same: rec.same.summary(), cross: rec.cross.summary() },
    ackMs: rec.ack.summary(),
  };
}

/** Legacy membership without a subscription: join on a second socket of the same user, then close it. */
async function joinOnSecondSocket(p: Participant, roomId: string): Promise<void> {
  const client = await LoadClient.connect(p.url, { localAddress: p.localAddress });
  try {
    const helper: Participant = { ...p, client };
    await settle(helper, { type: 'auth', token: p.token }, 'auth.ok');
    await settle(helper, { type: 'room.join', roomId }, 'room.joined');
  } finally {
    await client.close();
  }
}

function describe(spec: PhaseSpec): string {
  if (spec.kind === 'paced') return `paced ${spec.rate} msg/s from ${spec.senders} senders for ${spec.seconds} s`;
  return `saturated, ${spec.senders} senders x window ${spec.window ?? 8} (at most ${spec.maxPerSenderRate ?? 45}/s each) for ${spec.seconds} s`;
}

function unmatchedTotals(ps: readonly Participant[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const p of ps) for (const [code, n] of p.client.unmatchedErrors) m.set(code, (m.get(code) ?? 0) + n);
  return m;
}
