/**
 * Routing a room's live events to its local connections, and what it counts: every frame that
 * reached a socket in chat_messages_out_total, one latency observation per message routed.
 */
import { describe, expect, it } from 'vitest';
import type { Connection } from './connection.js';
import type { BusEvent, RoomBus } from './fanout.js';
import { messageFrame } from './fanout.js';
import { chatMetrics } from './metrics.js';
import type { ChatMessage } from './protocol.js';
import { ResumeGate } from './resume.js';
import { RoomRegistry } from './rooms.js';

const ROOM = '0190a000-0000-7000-8000-000000000001';
const bus = { retain: () => undefined, release: () => undefined, subscriptionCount: 1 } as unknown as RoomBus;

/** A connection that records the frames it sends; `open: false` refuses them (a closed socket). */
function conn(userId: string, open = true) {
  const sent: string[] = [];
  const c = { userId, rooms: new Map(), closed: !open, sendRaw: (f: string) => (open ? (sent.push(f), true) : false), close: () => undefined };
  return { c: c as unknown as Connection, sent };
}

const message = (i: number, originRegion: string): ChatMessage => ({
  roomId: ROOM,
  messageId: `0190a000-0000-7000-8000-00000000000${i}`,
  authorId: ROOM,
  body: `m${i}`,
  originRegion,
  createdAt: new Date(Date.now() - 5).toISOString(),
});
const event = (m: ChatMessage): BusEvent => ({ kind: 'message', message: m, origin: m.originRegion, frame: messageFrame(m) });

describe('RoomRegistry.route', () => {
  it('sends each live message to every member socket once, counts the frames that left, and times the message once', async () => {
    const metrics = chatMetrics();
    const rooms = new RoomRegistry(metrics, 'r1');
    const members = [conn('a'), conn('b'), conn('c'), conn('d', false)];
    for (const { c } of members) {
      const gate = new ResumeGate<ChatMessage>();
      gate.goLive([]);
      rooms.attach(c, ROOM, gate, bus);
    }
    const remote = message(1, 'r2');
    const local = message(2, 'r1');
    rooms.route(ROOM, event(remote));
    rooms.route(ROOM, event(local));
    expect(members.map((m) => m.sent.length)).toEqual([2, 2, 2, 0]);
    expect(members[0]!.sent).toEqual([messageFrame(remote), messageFrame(local)]);
    expect(await metrics.messagesOut.get({ kind: 'live' })).toBe(6); // the closed socket got nothing and counts nothing
    expect(await metrics.deliveryLatency.count({ path: 'cross_region' })).toBe(1);
    expect(await metrics.deliveryLatency.count({ path: 'same_region' })).toBe(1);
  });

  it('buffers for a member still replaying, and typing events skip their author and count nothing', async () => {
    const metrics = chatMetrics();
    const rooms = new RoomRegistry(metrics, 'r1');
    const live = conn('a');
    const replaying = conn('b');
    const liveGate = new ResumeGate<ChatMessage>();
    liveGate.goLive([]);
    rooms.attach(live.c, ROOM, liveGate, bus);
    rooms.attach(replaying.c, ROOM, new ResumeGate<ChatMessage>(), bus);
    rooms.route(ROOM, event(message(3, 'r2')));
    rooms.route(ROOM, { kind: 'typing', event: { roomId: ROOM, userId: 'a' }, origin: 'r2', frame: '{"type":"typing"}' });
    expect([live.sent.length, replaying.sent.length]).toEqual([1, 1]); // a: the message; b: a's typing
    expect(await metrics.messagesOut.get({ kind: 'live' })).toBe(1);
    expect(await metrics.deliveryLatency.count({ path: 'cross_region' })).toBe(1);
  });
});
