import type { NatsConnection } from 'nats';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../log.js';
import { HEADERS, MAX_BUS_BATCH, RoomBus, decodeBusMessage, messageFrame, roomSubject, type BusEvent } from './fanout.js';

/** A UUIDv7 with the given Unix milliseconds. */
function v7At(ms: number, tail = '7abc-8def-0123456789ab'): string {
  const hex = ms.toString(16).padStart(12, '0');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${tail}`;
}

describe('NATS event decoding', () => {
  const roomId = '0190a000-0000-7000-8000-000000000001';
  const m = {
    roomId,
    messageId: v7At(Date.UTC(2030, 0, 1)),
    authorId: '0190a000-0000-7000-8000-0000000000aa',
    body: 'hi "there"',
    originRegion: 'r2',
    createdAt: '2030-01-01T00:00:00.000Z',
  };
  const enc = (x: unknown) => new TextEncoder().encode(JSON.stringify(x));
  const hdrs = (h: Record<string, string>) => ({ get: (k: string) => h[k] ?? '' });

  it('turns a valid message (the one-message event of versions before batches) into one pre-serialized client frame', () => {
    const [ev, ...rest] = decodeBusMessage(roomId, enc(m), hdrs({ 'Chat-Kind': 'message', 'Chat-Origin-Region': 'r2', 'Chat-Message-Id': m.messageId })) as BusEvent[];
    expect(rest).toEqual([]);
    expect(ev).toMatchObject({ kind: 'message', origin: 'r2', message: m });
    expect(JSON.parse(ev!.frame)).toEqual({ type: 'message', ...m });
    expect(messageFrame(m)).toBe(ev!.frame);
  });

  it('turns a batch into one event per message, in the batch order', () => {
    const m2 = { ...m, messageId: v7At(Date.UTC(2030, 0, 1) + 1), body: 'second' };
    const events = decodeBusMessage(roomId, enc([m, m2]), hdrs({ 'Chat-Kind': 'messages', 'Chat-Origin-Region': 'r2' })) as BusEvent[];
    expect(events.map((e) => (e.kind === 'message' ? e.message.body : e.kind))).toEqual(['hi "there"', 'second']);
    expect(events.map((e) => JSON.parse(e.frame))).toEqual([{ type: 'message', ...m }, { type: 'message', ...m2 }]);
    expect(events.every((e) => e.origin === 'r2')).toBe(true);
  });

  it('drops a whole batch when one message of it is invalid or of another room', () => {
    const other = { ...m, roomId: '0190a000-0000-7000-8000-000000000002' };
    const h = hdrs({ 'Chat-Kind': 'messages' });
    expect(decodeBusMessage(roomId, enc([m, other]), h)).toEqual({ invalid: 'bad message batch' });
    expect(decodeBusMessage(roomId, enc([m, { ...m, extra: 1 }]), h)).toEqual({ invalid: 'bad message batch' });
    expect(decodeBusMessage(roomId, enc([]), h)).toEqual({ invalid: 'bad message batch' });
    expect(decodeBusMessage(roomId, enc(m), h)).toEqual({ invalid: 'bad message batch' });
    expect(decodeBusMessage(roomId, enc(Array.from({ length: MAX_BUS_BATCH + 1 }, () => m)), h)).toEqual({ invalid: 'bad message batch' });
  });

  it('drops events that do not belong to the subject or do not validate', () => {
    expect(decodeBusMessage('0190a000-0000-7000-8000-000000000002', enc(m), hdrs({}))).toHaveProperty('invalid');
    expect(decodeBusMessage(roomId, enc({ ...m, extra: 1 }), hdrs({}))).toHaveProperty('invalid');
    expect(decodeBusMessage(roomId, enc(m), hdrs({ 'Chat-Message-Id': v7At(5) }))).toHaveProperty('invalid');
    expect(decodeBusMessage(roomId, new TextEncoder().encode('{nope'), hdrs({}))).toHaveProperty('invalid');
    expect(decodeBusMessage(roomId, enc(m), hdrs({ 'Chat-Kind': 'exec' }))).toHaveProperty('invalid');
  });

  it('decodes typing events', () => {
    const [ev] = decodeBusMessage(roomId, enc({ roomId, userId: m.authorId }), hdrs({ 'Chat-Kind': 'typing', 'Chat-Origin-Region': 'r1' })) as BusEvent[];
    expect(ev).toMatchObject({ kind: 'typing', origin: 'r1', event: { roomId, userId: m.authorId } });
    expect(JSON.parse(ev!.frame)).toEqual({ type: 'typing', roomId, userId: m.authorId });
  });
});

describe('RoomBus', () => {
  function fakeNats(options: { noEcho?: boolean } = { noEcho: true }, info?: { max_payload: number }) {
    const subs: Array<{ subject: string; unsubscribed: boolean; callback: (err: unknown, msg: unknown) => void }> = [];
    const published: Array<{ subject: string; data: string; headers: Record<string, string> }> = [];
    const nc = {
      subscribe(subject: string, opts: { callback: (err: unknown, msg: unknown) => void }) {
        const s = { subject, unsubscribed: false, callback: opts.callback };
        subs.push(s);
        return { unsubscribe: () => (s.unsubscribed = true) };
      },
      publish(subject: string, data: Uint8Array, opts: { headers: { get(k: string): string } }) {
        const h: Record<string, string> = {};
        for (const k of Object.values(HEADERS)) h[k] = opts.headers.get(k);
        published.push({ subject, data: new TextDecoder().decode(data), headers: h });
      },
      flush: async () => undefined,
      options,
      info,
    };
    return { nc: nc as unknown as NatsConnection, subs, published };
  }
  const quiet = createLogger({}, { write: () => undefined });
  const roomId = '0190a000-0000-7000-8000-000000000001';

  it('subscribes to a room once while it has local holders, and unsubscribes after the last', () => {
    const f = fakeNats();
    const bus = new RoomBus(f.nc, 'r1', () => undefined, quiet);
    bus.retain(roomId);
    bus.retain(roomId);
    expect(f.subs.map((s) => s.subject)).toEqual([roomSubject(roomId)]);
    expect(roomSubject(roomId)).toBe(`chat.room.${roomId}`);
    bus.release(roomId);
    expect(f.subs[0]!.unsubscribed).toBe(false);
    expect(bus.subscriptionCount).toBe(1);
    bus.release(roomId);
    expect(f.subs[0]!.unsubscribed).toBe(true);
    expect(bus.subscriptionCount).toBe(0);
    bus.release(roomId); // extra releases are harmless
    bus.retain(roomId);
    expect(f.subs).toHaveLength(2);
  });

  const at = (i: number) => ({ roomId, messageId: v7At(Date.UTC(2030, 0, 1) + i), authorId: roomId, body: `m${i}`, originRegion: 'r1', createdAt: new Date(Date.UTC(2030, 0, 1) + i).toISOString() });
  const hdr = (h: Record<string, string>) => ({ get: (k: string) => h[k] ?? '' });

  it('publishes a write batch as ONE NATS message with the origin region, and delivers what it receives', () => {
    const f = fakeNats();
    const got: Array<[string, BusEvent]> = [];
    const invalid: string[] = [];
    const bus = new RoomBus(f.nc, 'r1', (r, ev) => got.push([r, ev]), quiet, (why) => invalid.push(why));
    const batch = [at(0), at(1), at(2)];
    bus.publishMessages(roomId, batch.map((m, i) => ({ ...m, clientMessageId: `c-${i}` })) as typeof batch);
    expect(got).toEqual([]); // nobody here holds the room
    // Storage-only fields (clientMessageId) do not travel.
    expect(f.published).toEqual([{ subject: `chat.room.${roomId}`, data: JSON.stringify(batch), headers: { 'Chat-Kind': 'messages', 'Chat-Origin-Region': 'r1', 'Chat-Message-Id': '' } }]);
    bus.retain(roomId);
    f.subs[0]!.callback(null, { data: new TextEncoder().encode(f.published[0]!.data), headers: hdr(f.published[0]!.headers) });
    f.subs[0]!.callback(null, { data: new TextEncoder().encode('garbage'), headers: hdr({}) });
    expect(got.map(([r, ev]) => [r, ev.kind, ev.origin, ev.kind === 'message' ? ev.message : undefined])).toEqual(batch.map((m) => [roomId, 'message', 'r1', m]));
    expect(invalid).toEqual(['payload is not JSON']);
  });

  it("splits a batch that would exceed the server's max_payload, keeping the order", () => {
    const f = fakeNats({ noEcho: true }, { max_payload: 1024 + 700 });
    const bus = new RoomBus(f.nc, 'r1', () => undefined, quiet);
    const batch = Array.from({ length: 8 }, (_, i) => at(i));
    bus.publishMessages(roomId, batch);
    expect(f.published.length).toBeGreaterThan(1);
    expect(f.published.every((p) => new TextEncoder().encode(p.data).length <= 700)).toBe(true);
    expect(f.published.flatMap((p) => JSON.parse(p.data) as unknown[])).toEqual(batch);
  });

  it('refuses to publish a message under another room (it would reach the wrong members)', () => {
    const f = fakeNats();
    const bus = new RoomBus(f.nc, 'r1', () => undefined, quiet);
    expect(() => bus.publishMessages(roomId, [{ ...at(0), roomId: '0190a000-0000-7000-8000-000000000002' }])).toThrow(/is of room 0190a000-0000-7000-8000-000000000002, not/);
    expect(f.published).toEqual([]);
  });

  it('hands its own publications to local holders at once, exactly as another backend receives them (the connection has noEcho)', () => {
    const f = fakeNats();
    const got: Array<[string, BusEvent]> = [];
    const bus = new RoomBus(f.nc, 'r1', (r, ev) => got.push([r, ev]), quiet);
    bus.retain(roomId);
    const batch = [at(5), at(6)];
    bus.publishMessages(roomId, batch.map((m) => ({ ...m, clientMessageId: 'c-2' })) as typeof batch);
    bus.publishTyping({ roomId, userId: roomId });
    expect(f.published).toHaveLength(2);
    // What a remote backend decodes from the same bytes is what local holders got, frame included.
    const remote = f.published.flatMap((p) => decodeBusMessage(roomId, new TextEncoder().encode(p.data), hdr(p.headers)) as BusEvent[]);
    expect(got).toEqual(remote.map((ev) => [roomId, ev]));
    expect(got.map(([, ev]) => ev.kind)).toEqual(['message', 'message', 'typing']);
  });

  it('refuses a connection that echoes (its members would get every own message twice)', () => {
    expect(() => new RoomBus(fakeNats({}).nc, 'r1', () => undefined, quiet)).toThrow(/noEcho: true/);
  });
});
