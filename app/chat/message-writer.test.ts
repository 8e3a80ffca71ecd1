/**
 * The write path without engines: MessageWriter against an in-memory MessageLog (a fake of OUR
 * port, ./message-writer.ts). Expected batch shapes, orders and counts come from the test's own
 * model (greedy batching by count and bytes, sorted ids), never from the writer.
 */
import { v7 as uuidv7 } from 'uuid';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { BUCKET_MS, bucketOf } from '../cassandra/schema.js';
import type { StoredMessage } from './history.js';
import { ClientMessageIdReused, DEDUPE_WINDOW_MS, MessageWriter, dedupeBuckets, type ClientKey, type MessageLog, type MessageWriterOptions, type SendOutcome } from './message-writer.js';

const ROOM = '0190a000-0000-7000-8000-00000000000a';
const ROOM_B = '0190a000-0000-7000-8000-00000000000b';
const ALICE = '0190a000-0000-7000-8000-0000000000a1';
const BOB = '0190a000-0000-7000-8000-0000000000b0';

/** Refused before reaching a replica (like Cassandra Unavailable). */
class NotApplied extends Error {}
/** Outcome unknown (like a write timeout). */
class TimedOut extends Error {}

interface Deferred {
  promise: Promise<void>;
  release(): void;
}
function deferred(): Deferred {
  let release!: () => void;
  const promise = new Promise<void>((r) => (release = r));
  return { promise, release };
}

/** In-memory partitions with Cassandra's semantics for the four calls the writer makes. */
class FakeLog implements MessageLog {
  readonly messages = new Map<string, StoredMessage>();
  readonly clientIds = new Map<string, { bucket: number; roomId: string; messageId: string }>();
  readonly writes: StoredMessage[][] = [];
  reads = 0;
  /** While set, writes wait for it. */
  gate: Deferred | undefined;
  /** The next write fails this way; `lands`: the rows are written anyway (a timeout after the replicas applied it). */
  failNext: { error: Error; lands: boolean } | undefined;
  /** Writes that failed without landing, kept to land "late" (a hint). */
  readonly unlanded: StoredMessage[][] = [];

  async findClientIds(roomId: string, bucket: number, keys: readonly ClientKey[]): Promise<Map<string, string>> {
    this.reads++;
    const out = new Map<string, string>();
    for (const k of keys) {
      const key = `${k.authorId}:${k.clientMessageId}`;
      const row = this.clientIds.get(`${roomId}/${bucket}/${key}`);
      if (row) out.set(key, row.messageId);
    }
    return out;
  }

  async getMessages(roomId: string, bucket: number, ids: readonly string[]): Promise<StoredMessage[]> {
    return ids.map((id) => this.messages.get(id)).filter((m): m is StoredMessage => m !== undefined && m.roomId === roomId && bucketOf(m.messageId) === bucket);
  }

  async writePartition(batch: readonly StoredMessage[]): Promise<void> {
    const partitions = new Set(batch.map((m) => `${m.roomId}/${bucketOf(m.messageId)}`));
    if (partitions.size !== 1) throw new Error(`a write spans ${partitions.size} partitions`);
    if (this.gate) await this.gate.promise;
    const fail = this.failNext;
    this.failNext = undefined;
    if (fail && !fail.lands) {
      this.unlanded.push([...batch]);
      throw fail.error;
    }
    this.apply(batch);
    this.writes.push([...batch]);
    if (fail) throw fail.error;
  }

  writeNotApplied(error: unknown): boolean {
    return error instanceof NotApplied;
  }

  apply(batch: readonly StoredMessage[]): void {
    for (const m of batch) {
      this.messages.set(m.messageId, m);
      this.clientIds.set(`${m.roomId}/${bucketOf(m.messageId)}/${m.authorId}:${m.clientMessageId}`, { bucket: bucketOf(m.messageId), roomId: m.roomId, messageId: m.messageId });
    }
  }

  /** Stored messages of (author, clientMessageId). */
  copiesOf(authorId: string, clientMessageId: string): StoredMessage[] {
    return [...this.messages.values()].filter((m) => m.authorId === authorId && m.clientMessageId === clientMessageId);
  }
}

function writer(log: MessageLog, opts: Partial<MessageWriterOptions> = {}) {
  const published: StoredMessage[][] = [];
  const w = new MessageWriter(log, { region: 'eu', publish: (ms) => published.push([...ms]), ...opts });
  return { w, published };
}

const send = (w: MessageWriter, clientMessageId: string, body = `body of ${clientMessageId}`, roomId = ROOM, authorId = ALICE) =>
  w.send({ roomId, authorId, clientMessageId, body });

const sorted = (ids: readonly string[]) => [...ids].sort();
const flush = () => new Promise((r) => setImmediate(r));

/**
 * The model of group commit for a burst of `total` sends: the first goes alone; with read-ahead
 * the second forms the next batch alone too (while the first is written); the rest queue and
 * leave in greedy chunks of at most `max`.
 */
function modelBatches(total: number, max: number, readAhead: boolean): number[] {
  const out = readAhead ? [1, 1] : [1];
  for (let left = total - out.length; left > 0; left -= Math.min(max, left)) out.push(Math.min(max, left));
  return out;
}

describe('group commit', () => {
  it('writes N concurrent sends of a room in few batches: one in flight, the rest queue behind it', async () => {
    const log = new FakeLog();
    const { w, published } = writer(log, { maxBatchMessages: 64 });
    log.gate = deferred();
    const order: string[] = [];
    const sends = Array.from({ length: 150 }, (_, i) => send(w, `c-${i}`).then((o) => (order.push(o.messageId), o)));
    await flush();
    log.gate.release();
    log.gate = undefined;
    const outcomes = await Promise.all(sends);
    expect(log.writes.map((b) => b.length)).toEqual(modelBatches(150, 64, false)); // [1, 64, 64, 21]
    const ids = outcomes.map((o) => o.messageId);
    expect(new Set(ids).size).toBe(150);
    expect(outcomes.every((o) => !o.duplicate)).toBe(true);
    // One order everywhere: send order = id order = write order = publish order = resolve order.
    expect(ids).toEqual(sorted(ids));
    expect(log.writes.flat().map((m) => m.messageId)).toEqual(ids);
    expect(published.flat().map((m) => m.messageId)).toEqual(ids);
    expect(order).toEqual(ids);
    expect(published.map((p) => p.length)).toEqual(modelBatches(150, 64, false));
    // One de-duplication read per batch (one bucket away from a boundary).
    expect(log.reads).toBe(modelBatches(150, 64, false).length * dedupeBuckets(Date.now()).length);
    const m = published.flat().find((x) => x.messageId === outcomes[3]!.messageId)!;
    expect(m).toMatchObject({ roomId: ROOM, authorId: ALICE, clientMessageId: 'c-3', body: 'body of c-3', originRegion: 'eu' });
    expect(m.createdAt).toBe(new Date(parseInt(m.messageId.replace(/-/g, '').slice(0, 12), 16)).toISOString());
  });

  it('with read-ahead, the second send forms the next batch while the first is written', async () => {
    const log = new FakeLog();
    const { w } = writer(log, { maxBatchMessages: 64, readAhead: true });
    log.gate = deferred();
    const sends = Array.from({ length: 150 }, (_, i) => send(w, `c-${i}`));
    await flush();
    log.gate.release();
    log.gate = undefined;
    const ids = (await Promise.all(sends)).map((o) => o.messageId);
    expect(log.writes.map((b) => b.length)).toEqual(modelBatches(150, 64, true)); // [1, 1, 64, 64, 20]
    expect(log.writes.flat().map((m) => m.messageId)).toEqual(ids);
    expect(ids).toEqual(sorted(ids));
  });

  it('reads ahead: the next batch is de-duplicated while the current one is written, and written after it', async () => {
    const log = new FakeLog();
    const { w, published } = writer(log, { readAhead: true });
    const events: string[] = [];
    const find = log.findClientIds.bind(log);
    log.findClientIds = (roomId, bucket, keys) => (events.push(`read ${keys.map((k) => k.clientMessageId).join(',')}`), find(roomId, bucket, keys));
    const write = log.writePartition.bind(log);
    log.writePartition = async (batch) => {
      events.push(`write ${batch.map((m) => m.clientMessageId).join(',')} starts`);
      await write(batch);
      events.push(`write ${batch.map((m) => m.clientMessageId).join(',')} done`);
    };
    log.gate = deferred();
    const sends = ['a', 'b', 'c', 'd'].map((c) => send(w, c));
    await flush();
    expect(events).toEqual(['read a', 'read b', 'write a starts']);
    log.gate.release();
    log.gate = undefined;
    const ids = (await Promise.all(sends)).map((o) => o.messageId);
    // c and d formed a batch when b moved up to be written: their read overlaps b's write.
    expect(events).toEqual(['read a', 'read b', 'write a starts', 'write a done', 'read c,d', 'write b starts', 'write b done', 'write c,d starts', 'write c,d done']);
    expect(published.flat().map((m) => m.messageId)).toEqual(ids);
    expect(ids).toEqual(sorted(ids));
  });

  it('rooms do not wait for each other', async () => {
    const log = new FakeLog();
    const { w } = writer(log);
    log.gate = deferred();
    const a = [send(w, 'a-1'), send(w, 'a-2')];
    const b = [send(w, 'b-1', 'x', ROOM_B)];
    await flush();
    // Room A's first and room B's first are both being written; a-2 waits for a-1.
    log.gate.release();
    log.gate = undefined;
    await Promise.all([...a, ...b]);
    expect(log.writes.map((batch) => batch.map((m) => m.clientMessageId))).toEqual([['a-1'], ['b-1'], ['a-2']]);
  });

  it('splits by maxBatchBytes (UTF-8 bytes of bodies); a larger message goes alone', async () => {
    const log = new FakeLog();
    const { w } = writer(log, { maxBatchBytes: 100 });
    log.gate = deferred();
    const bodies = ['a'.repeat(10), 'b'.repeat(40), 'é'.repeat(20) /* 40 bytes */, 'c'.repeat(30), 'd'.repeat(150), 'e'.repeat(5), 'f'.repeat(60), 'g'.repeat(50)];
    const sends = bodies.map((b, i) => send(w, `s-${i}`, b));
    await flush();
    log.gate.release();
    log.gate = undefined;
    await Promise.all(sends);
    // Model: first alone (in flight), then greedy by bytes: 40+40 (+30 > 100) | 30 (+150) | 150 | 5+60 (+50) | 50.
    expect(log.writes.map((b) => b.map((m) => Buffer.byteLength(m.body)))).toEqual([[10], [40, 40], [30], [150], [5, 60], [50]]);
  });

  it('splits a batch that crosses a bucket boundary into one write per partition, published together in id order', async () => {
    const log = new FakeLog();
    const boundary = 2_000 * BUCKET_MS;
    const times = [boundary - 2, boundary - 1, boundary, boundary + 1, boundary + 2];
    let next = 0;
    const { w, published } = writer(log, { newMessageId: () => uuidv7({ msecs: times[next++]! }), now: () => boundary });
    log.gate = deferred();
    const sends = times.map((_, i) => send(w, `k-${i}`));
    await flush();
    log.gate.release();
    log.gate = undefined;
    const ids = (await Promise.all(sends)).map((o) => o.messageId);
    expect(ids.map(bucketOf)).toEqual([1_999, 1_999, 2_000, 2_000, 2_000]);
    expect(log.writes.map((b) => b.map((m) => m.messageId))).toEqual([[ids[0]], [ids[1]], ids.slice(2)]);
    expect(published.map((b) => b.map((m) => m.messageId))).toEqual([[ids[0]], ids.slice(1)]);
    // Near the boundary the 1-day window covers both buckets: both are searched.
    expect(log.reads).toBe(2 * 2);
  });

  it('when the second partition of a batch fails, the first still succeeds and is published', async () => {
    const log = new FakeLog();
    const boundary = 2_000 * BUCKET_MS;
    const times = [boundary - 1, boundary - 1, boundary + 1, boundary + 1];
    let next = 0;
    const { w, published } = writer(log, { newMessageId: () => uuidv7({ msecs: times[next++]! }), now: () => boundary });
    log.gate = deferred();
    const first = send(w, 'p-0');
    await flush();
    const rest = [send(w, 'p-1'), send(w, 'p-2'), send(w, 'p-3')];
    log.gate.release();
    log.gate = undefined;
    await first;
    const origWrite = log.writePartition.bind(log);
    log.writePartition = async (batch) => {
      if (bucketOf(batch[0]!.messageId) === 2_000) throw new NotApplied('unavailable');
      return origWrite(batch);
    };
    const results = await Promise.allSettled(rest);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'rejected']);
    expect(published.flat().map((m) => m.clientMessageId)).toEqual(['p-0', 'p-1']);
  });
});

describe('de-duplication', () => {
  it('concurrent identical sends share one write (single flight); a later retry is answered from memory, without a read', async () => {
    const log = new FakeLog();
    const { w, published } = writer(log);
    const [a, b] = await Promise.all([send(w, 'same'), send(w, 'same')]);
    expect(a.duplicate).toBe(false);
    expect(b).toEqual({ messageId: a.messageId, duplicate: true });
    expect(log.writes.flat()).toHaveLength(1);
    // One batch, one de-duplication read: the second send never reached the log.
    expect(log.reads).toBe(dedupeBuckets(Date.now()).length);
    const readsBefore = log.reads;
    const c = await send(w, 'same', 'a different body');
    expect(c).toEqual({ messageId: a.messageId, duplicate: true });
    expect(log.reads).toBe(readsBefore);
    expect(published.flat()).toHaveLength(1);
  });

  it('a batch of first attempts is written without a retry lookup; one send without the flag brings the lookup back', async () => {
    const log = new FakeLog();
    const { w } = writer(log);
    await Promise.all(['f-1', 'f-2', 'f-3'].map((id) => w.send({ roomId: ROOM, authorId: ALICE, clientMessageId: id, body: id, firstAttempt: true })));
    expect(log.reads).toBe(0);
    expect(log.writes.flat()).toHaveLength(3);
    await Promise.all([w.send({ roomId: ROOM, authorId: ALICE, clientMessageId: 'f-4', body: 'x', firstAttempt: true }), send(w, 'r-1')]);
    expect(log.reads).toBe(dedupeBuckets(Date.now()).length);
  });

  it('finds a retry in the log after a crash (a new writer, empty memory): same id, nothing written or published', async () => {
    const log = new FakeLog();
    const before = await send(writer(log).w, 'x-1', 'hello');
    const { w: restarted, published } = writer(log);
    const writes = log.writes.length;
    const again = await send(restarted, 'x-1', 'hello');
    expect(again).toEqual({ messageId: before.messageId, duplicate: true });
    expect(log.writes.length).toBe(writes);
    expect(published).toEqual([]);
    // In a batch with new sends, only the retry is skipped.
    const [r, n] = await Promise.all([send(restarted, 'x-1'), send(restarted, 'x-2')]);
    expect(r.messageId).toBe(before.messageId);
    expect(n.duplicate).toBe(false);
    expect(log.copiesOf(ALICE, 'x-1')).toHaveLength(1);
  });

  it('a de-duplication row without its message (a partially repaired write) gets the message written again under the stored id', async () => {
    const log = new FakeLog();
    const id = uuidv7();
    log.clientIds.set(`${ROOM}/${bucketOf(id)}/${ALICE}:lost`, { bucket: bucketOf(id), roomId: ROOM, messageId: id });
    const o = await send(writer(log).w, 'lost', 'body again');
    expect(o.messageId).toBe(id);
    expect(o.duplicate).toBe(true);
    expect(log.messages.get(id)?.body).toBe('body again');
  });

  it('the same author and client id in the same room from another author is not a duplicate', async () => {
    const log = new FakeLog();
    const { w } = writer(log);
    const [a, b] = await Promise.all([send(w, 'k'), send(w, 'k', 'x', ROOM, BOB)]);
    expect(a.duplicate || b.duplicate).toBe(false);
    expect(a.messageId).not.toBe(b.messageId);
  });

  it('refuses a clientMessageId already used for another room (remembered or in flight)', async () => {
    const log = new FakeLog();
    const { w } = writer(log);
    await send(w, 'r-1');
    await expect(send(w, 'r-1', 'x', ROOM_B)).rejects.toBeInstanceOf(ClientMessageIdReused);
    log.gate = deferred();
    const flying = send(w, 'r-2');
    await expect(send(w, 'r-2', 'x', ROOM_B)).rejects.toBeInstanceOf(ClientMessageIdReused);
    log.gate.release();
    log.gate = undefined;
    await flying;
    expect(log.messages.size).toBe(2);
  });
});

describe('failures', () => {
  async function failedBatch(error: Error, lands: boolean) {
    const log = new FakeLog();
    const { w, published } = writer(log);
    log.gate = deferred();
    const first = send(w, 'f-0');
    await flush();
    const batch = ['f-1', 'f-2', 'f-3'].map((c) => send(w, c));
    log.gate.release();
    log.gate = undefined;
    await first;
    log.failNext = { error, lands };
    const results = await Promise.allSettled(batch);
    return { log, w, published, results };
  }

  it('a write refused before any replica (Unavailable) rejects every send of the batch; a retry stores each exactly once', async () => {
    const error = new NotApplied('unavailable');
    const { log, w, published, results } = await failedBatch(error, false);
    expect(results).toEqual(Array(3).fill({ status: 'rejected', reason: error }));
    expect(published.flat().map((m) => m.clientMessageId)).toEqual(['f-0']);
    const retried = await Promise.all(['f-1', 'f-2', 'f-3'].map((c) => send(w, c)));
    expect(retried.map((o) => o.duplicate)).toEqual([false, false, false]);
    for (const c of ['f-1', 'f-2', 'f-3']) expect(log.copiesOf(ALICE, c)).toHaveLength(1);
  });

  it('a write that timed out but landed: the retry finds it (same id, duplicate), nothing stored twice', async () => {
    const { log, w, results } = await failedBatch(new TimedOut('write timeout'), true);
    expect(results.every((r) => r.status === 'rejected')).toBe(true);
    const landed = log.writes.at(-1)!.map((m) => m.messageId);
    const retried = await Promise.all(['f-1', 'f-2', 'f-3'].map((c) => send(w, c)));
    expect(retried.map((o) => o.messageId)).toEqual(landed);
    expect(retried.every((o) => o.duplicate)).toBe(true);
    for (const c of ['f-1', 'f-2', 'f-3']) expect(log.copiesOf(ALICE, c)).toHaveLength(1);
  });

  it('a write that timed out and lands only after the retry: the retry reuses the id, so the late write adds nothing', async () => {
    const { log, w } = await failedBatch(new TimedOut('write timeout'), false);
    const late = log.unlanded.at(-1)!;
    const retried = await Promise.all(['f-1', 'f-2', 'f-3'].map((c) => send(w, c)));
    expect(retried.map((o) => o.messageId)).toEqual(late.map((m) => m.messageId));
    log.apply(late); // the hint arrives
    for (const c of ['f-1', 'f-2', 'f-3']) expect(log.copiesOf(ALICE, c)).toHaveLength(1);
  });

  it('a single-flight follower shares the leader failure', async () => {
    const log = new FakeLog();
    const { w } = writer(log);
    log.failNext = { error: new NotApplied('unavailable'), lands: false };
    const results = await Promise.allSettled([send(w, 'z'), send(w, 'z')]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect((await send(w, 'z')).duplicate).toBe(false);
  });

  it('a failed de-duplication read rejects the batch and writes nothing', async () => {
    const log = new FakeLog();
    const { w } = writer(log);
    log.findClientIds = async () => {
      throw new TimedOut('read timeout');
    };
    await expect(send(w, 'q')).rejects.toBeInstanceOf(TimedOut);
    expect(log.writes).toEqual([]);
  });

  it('a publish that throws does not fail durable sends', async () => {
    const log = new FakeLog();
    const errors: unknown[] = [];
    const w = new MessageWriter(log, {
      region: 'eu',
      publish: () => {
        throw new Error('bus gone');
      },
      onPublishError: (e) => errors.push(e),
    });
    const o: SendOutcome = await send(w, 'pub');
    expect(o.duplicate).toBe(false);
    expect(errors).toHaveLength(1);
  });
});

describe('drain', () => {
  it('waits for in-flight and queued sends, and rejects after its timeout naming what is left', async () => {
    const log = new FakeLog();
    const { w } = writer(log);
    await w.drain(10); // idle: at once
    log.gate = deferred();
    const sends = [send(w, 'd-1'), send(w, 'd-2'), send(w, 'd-3')];
    // d-1 is being written, d-2 and d-3 queued behind it.
    await expect(w.drain(50)).rejects.toThrow(/2 queued send\(s\) and 1 batch\(es\) still in flight after 50 ms/);
    const drained = w.drain(5_000);
    log.gate.release();
    log.gate = undefined;
    await drained;
    expect((await Promise.all(sends)).every((o) => !o.duplicate)).toBe(true);
    expect(log.messages.size).toBe(3);
  });
});

describe('minBatchIntervalMs: a busy room sends fewer, larger batches', () => {
  afterEach(() => void vi.useRealTimers());
  const INTERVAL = 5;
  /** A writer on fake timers and a fake performance.now (t = 0 at the start). */
  function spaced(log: FakeLog) {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'], now: 0 });
    return writer(log, { minBatchIntervalMs: INTERVAL });
  }
  const settle = () => vi.advanceTimersByTimeAsync(0);

  it('the first send of a quiet room is written at once; sends within the interval wait for its end and go as one batch', async () => {
    const log = new FakeLog();
    const { w, published } = spaced(log);
    const first = send(w, 'i-1');
    await settle();
    expect(log.writes.map((b) => b.length)).toEqual([1]); // no wait for a quiet room
    await first;
    await vi.advanceTimersByTimeAsync(1); // t = 1 ms: the room wrote 1 ms ago
    const later = [send(w, 'i-2'), send(w, 'i-3')];
    await vi.advanceTimersByTimeAsync(2); // t = 3
    later.push(send(w, 'i-4'));
    await vi.advanceTimersByTimeAsync(INTERVAL - 3 - 1); // t = 4: still inside the interval
    expect(log.writes.map((b) => b.length)).toEqual([1]);
    await vi.advanceTimersByTimeAsync(1); // t = 5: the interval is over
    const outcomes = await Promise.all(later);
    expect(log.writes.map((b) => b.length)).toEqual([1, 3]);
    expect(published.map((b) => b.map((m) => m.clientMessageId))).toEqual([['i-1'], ['i-2', 'i-3', 'i-4']]);
    const ids = outcomes.map((o) => o.messageId);
    expect(ids).toEqual(sorted(ids));
  });

  it('a room that wrote nothing for the interval writes at once; other rooms never wait for it', async () => {
    const log = new FakeLog();
    const { w } = spaced(log);
    await Promise.all([send(w, 'q-1'), settle()]);
    const roomB = send(w, 'b-1', 'in room B', ROOM_B); // room A is inside its interval, room B is not
    await settle();
    expect(log.writes.map((b) => b.map((m) => m.clientMessageId))).toEqual([['q-1'], ['b-1']]);
    await roomB;
    await vi.advanceTimersByTimeAsync(INTERVAL);
    const again = send(w, 'q-2');
    await settle();
    expect(log.writes.map((b) => b.map((m) => m.clientMessageId))).toEqual([['q-1'], ['b-1'], ['q-2']]);
    await again;
  });

  it('a send that waits behind an in-flight write waits only for the rest of the interval after it', async () => {
    const log = new FakeLog();
    const { w } = spaced(log);
    log.gate = deferred();
    const first = send(w, 'f-1');
    await settle();
    const second = send(w, 'f-2'); // queued behind the in-flight write
    await vi.advanceTimersByTimeAsync(INTERVAL + 3); // the first write takes longer than the interval
    log.gate.release();
    log.gate = undefined;
    await first;
    await settle(); // no extra wait: the interval since the first write started is over
    expect(log.writes.map((b) => b.map((m) => m.clientMessageId))).toEqual([['f-1'], ['f-2']]);
    await second;
  });

  it('drain waits for a send held back by the interval', async () => {
    const log = new FakeLog();
    const { w } = spaced(log);
    await Promise.all([send(w, 'd-1'), settle()]);
    const held = send(w, 'd-2');
    let drained = false;
    const drain = w.drain(1_000).then(() => (drained = true));
    await vi.advanceTimersByTimeAsync(INTERVAL - 1);
    expect(drained).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await Promise.all([held, drain]);
    expect(log.messages.size).toBe(2);
  });

  it('forgets idle rooms (a sweep at most once a second): memory does not grow with the number of rooms ever written', async () => {
    const log = new FakeLog();
    const { w } = spaced(log);
    const rooms = () => (Reflect.get(w, 'rooms') as Map<string, unknown>).size;
    for (let i = 0; i < 50; i++) await Promise.all([send(w, `r-${i}`, 'x', `0190a000-0000-7000-8000-${String(i).padStart(12, '0')}`), settle()]);
    expect(rooms()).toBe(50); // each inside its interval
    await vi.advanceTimersByTimeAsync(1_000);
    await Promise.all([send(w, 'r-last'), settle()]);
    expect(rooms()).toBe(1); // only the room just written
  });

  it('refuses an interval outside 0..1000 ms, naming it', () => {
    expect(() => writer(new FakeLog(), { minBatchIntervalMs: -1 })).toThrow(/minBatchIntervalMs must be 0..1000 ms, got -1/);
    expect(() => writer(new FakeLog(), { minBatchIntervalMs: 5_000 })).toThrow(/got 5000/);
  });
});

describe('dedupeBuckets', () => {
  it('covers the 1-day window (plus 60 s of clock skew) back from now', () => {
    const b = 3_000;
    const start = b * BUCKET_MS;
    expect(DEDUPE_WINDOW_MS).toBe(86_400_000);
    expect(dedupeBuckets(start + 5 * 86_400_000)).toEqual([b]);
    expect(dedupeBuckets(start + 86_400_000 + 60_001)).toEqual([b]);
    expect(dedupeBuckets(start + 86_400_000 + 59_999)).toEqual([b - 1, b]);
    expect(dedupeBuckets(start + 3_600_000)).toEqual([b - 1, b]);
    expect(dedupeBuckets(start - 30_000)).toEqual([b - 1, b]);
  });
});
