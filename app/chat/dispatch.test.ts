/**
 * Frame dispatch without engines: a Connection over a recording socket and a context whose
 * dependencies are never reached (every frame here is refused before a handler needs one).
 * The claim under test: every reply to a frame that carried a readable `ref` echoes it, rate
 * limiting included, and a flood is cut off.
 */
import { describe, expect, it } from 'vitest';
import type { WebSocket } from 'ws';
import { createLogger } from '../log.js';
import { Connection } from './connection.js';
import type { Dependencies } from './dependencies.js';
import { onFrame, type DispatchState } from './dispatch.js';
import type { HandlerContext } from './handler-context.js';
import { chatMetrics } from './metrics.js';
import { MemoryCodeSender } from './code-sender.js';
import type { RoomBus } from './fanout.js';
import { ClientMessageIdReused, type MessageWriter, type SendOutcome, type SendRequest } from './message-writer.js';
import { Debouncer } from './ratelimit.js';
import { MembershipCache, RoomRegistry } from './rooms.js';
import type { ChatSettings } from './settings.js';

const ROOM = '0190a0b1-c2d3-7e4f-8a5b-6c7d8e9fa0b1';

function harness(rate = { perSecond: 50, burst: 100 }, deps: Partial<Dependencies> = {}) {
  const sent: Array<Record<string, unknown>> = [];
  const closes: Array<{ code: number; reason: string }> = [];
  const ws = {
    OPEN: 1,
    readyState: 1,
    bufferedAmount: 0,
    send: (data: string) => sent.push(JSON.parse(data) as Record<string, unknown>),
    close: (code: number, reason: string) => closes.push({ code, reason }),
    terminate: () => undefined,
  } as unknown as WebSocket;
  const metrics = chatMetrics();
  const settings = { region: 'r1', rateBurst: rate.burst, ratePerSecond: rate.perSecond } as ChatSettings;
  const ctx: HandlerContext = {
    settings,
    log: createLogger({}, { write: () => undefined }),
    metrics,
    deps: deps as Dependencies,
    rooms: new RoomRegistry(metrics, 'r1'),
    membership: new MembershipCache(),
    codeSender: new MemoryCodeSender(),
    typing: new Debouncer(2_000),
    hooks: undefined,
    authenticate: () => undefined,
    failedAuth: () => undefined,
  };
  const c = new Connection({ id: 1, ws, address: '127.0.0.1', region: 'r1', metrics, ratePerSecond: rate.perSecond, rateBurst: rate.burst });
  const state: DispatchState = { closing: () => false, inflight: 0 };
  const frame = (f: unknown) => onFrame(ctx, state, c, Buffer.from(typeof f === 'string' ? f : JSON.stringify(f)), false);
  const settle = async () => {
    await c.queue;
    await new Promise((r) => setTimeout(r, 0));
  };
  return { sent, closes, frame, settle, c, state, ctx };
}

describe('dispatch', () => {
  it('every error reply echoes the ref of its frame', async () => {
    const h = harness();
    const cases: Array<[unknown, string]> = [
      [{ type: 'nope', ref: 'a1' }, 'unknown_type'],
      [{ type: 'room.join', roomId: 'not-a-uuid', ref: 'a2' }, 'bad_frame'],
      [{ type: 'room.join', roomId: ROOM, extra: 1, ref: 7 }, 'bad_frame'],
      [{ type: 'message.send', roomId: ROOM, clientMessageId: 'c1', body: 'hi', ref: 'a4' }, 'unauthenticated'],
      [{ type: 'history', roomId: ROOM, ref: 'a5' }, 'unauthenticated'],
      [{ type: 'room.create', name: 'x', ref: 'a6' }, 'unauthenticated'],
    ];
    for (const [f] of cases) h.frame(f);
    await h.settle();
    expect(h.sent.map((f) => [f['code'], f['ref']])).toEqual(cases.map(([f, code]) => [code, (f as { ref: unknown }).ref]));
  });

  it('rate-limited frames are refused with their ref, then a flood is disconnected (1008)', async () => {
    const h = harness({ perSecond: 1, burst: 3 });
    for (let i = 0; i < 3; i++) h.frame({ type: 'ping', ref: `ok${i}` });
    for (let i = 0; i < 3; i++) h.frame({ type: 'ping', ref: `over${i}` });
    await h.settle();
    const limited = h.sent.filter((f) => f['code'] === 'rate_limited');
    expect(limited.map((f) => f['ref'])).toEqual(['over0', 'over1', 'over2']);
    expect(h.sent.filter((f) => f['type'] === 'pong').map((f) => f['ref'])).toEqual(['ok0', 'ok1', 'ok2']);
    expect(h.closes).toEqual([]);
    h.frame({ type: 'ping', ref: 'flood' });
    expect(h.closes).toEqual([{ code: 1008, reason: 'rate limit exceeded' }]);
  });

  it('a frame without a readable ref gets an error without one; bad JSON has none', async () => {
    const h = harness();
    h.frame('{not json');
    h.frame({ type: 'nope', ref: { nested: true } });
    await h.settle();
    expect(h.sent.map((f) => [f['code'], 'ref' in f])).toEqual([
      ['bad_json', false],
      ['unknown_type', false],
    ]);
  });

  it('requests in flight beyond the burst are refused with their ref', async () => {
    const h = harness({ perSecond: 1_000, burst: 2 });
    h.c.pending = 2;
    h.frame({ type: 'ping', ref: 'busy' });
    await h.settle();
    expect(h.sent).toEqual([{ type: 'error', code: 'rate_limited', message: 'too many requests in flight; wait for replies', ref: 'busy' }]);
  });

  it('hands a socket\'s sends to the writer in frame order without waiting for each write; replies come when each is durable', async () => {
    const calls: Array<{ req: SendRequest; resolve: (o: SendOutcome) => void; reject: (e: unknown) => void }> = [];
    const writer = {
      send: (req: SendRequest) => new Promise<SendOutcome>((resolve, reject) => calls.push({ req, resolve, reject })),
    } as unknown as MessageWriter;
    const h = harness({ perSecond: 1_000, burst: 100 }, { writer, bus: {} as RoomBus, natsUp: true });
    h.c.userId = 'u1';
    h.ctx.membership.remember(ROOM, 'u1');
    for (const id of ['c1', 'c2', 'c3']) h.frame({ type: 'message.send', ref: id, roomId: ROOM, clientMessageId: id, body: `body ${id}` });
    h.frame({ type: 'ping', ref: 'p' });
    await h.settle();
    // All three reached the writer, in order, while none is durable; the ping behind them was answered.
    expect(calls.map((x) => x.req.clientMessageId)).toEqual(['c1', 'c2', 'c3']);
    expect(h.sent).toEqual([{ type: 'pong', ref: 'p' }]);
    expect([h.c.pending, h.state.inflight]).toEqual([3, 3]);
    const stored = (i: number) => ({ messageId: `m${i}`, duplicate: false });
    calls[0]!.resolve(stored(1));
    calls[1]!.reject(new ClientMessageIdReused('c2', ROOM));
    calls[2]!.resolve(stored(3));
    await h.settle();
    // Replies are matched by ref (an error may overtake a later send's acknowledgement).
    expect(h.sent.slice(1).map((f) => [f['type'], f['ref'], f['messageId'] ?? f['code']]).sort()).toEqual([
      ['error', 'c2', 'bad_frame'],
      ['message.sent', 'c1', 'm1'],
      ['message.sent', 'c3', 'm3'],
    ]);
    expect([h.c.pending, h.state.inflight]).toEqual([0, 0]);
  });
});
