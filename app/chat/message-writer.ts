/**
 * The write path of chat messages: durable at LOCAL_QUORUM, de-duplicated, in id order, with no
 * lightweight transaction (no Paxos round, no cross-replica consensus) anywhere on it.
 *
 * Per room, at most ONE batch is in flight per process; sends that arrive meanwhile queue (group
 * commit) and form the next batch when it is done, up to maxBatchMessages (default 64)
 * and maxBatchBytes of bodies (default 32 KiB, UTF-8). Message ids (UUIDv7, monotonic within the
 * process) are assigned when a batch is formed and batches are written in formation order, so
 * within one process a room's ids, writes, publishes and acknowledgements all go in id order.
 * Option `readAhead` forms the next batch when the current one starts writing and overlaps its
 * de-duplication read with that write (at most one batch writing and one reading per room). Off
 * by default: on the 2-core lab, where Cassandra is CPU-bound, it made batches smaller and
 * throughput lower (bench/write-path.bench.ts); with Cassandra on its own nodes and a network
 * round trip per request it saves about one round trip per batch in a busy room.
 * Option `minBatchIntervalMs` (default 0: off) spaces a room's writes: a write starts at least
 * that long after the room's previous one started, so a busy room sends fewer, larger batches.
 * A send to a room that wrote nothing for that long goes at once; a send that would have waited
 * for an in-flight write anyway waits at most the rest of the interval. Cassandra's CPU follows
 * the number of requests far more than their size (README "Benchmarks"), so on a loaded node
 * this trades a few milliseconds for a fraction of its CPU.
 *
 * A batch:
 *  1. de-duplication read, one per (room, bucket) partition the 1-day window touches (usually
 *     one; with readAhead it overlaps the previous batch's write, which is safe because single
 *     flight keeps a key in one batch at a time): which (author, clientMessageId) have a row in
 *     `message_client_ids`? Those are retries: their stored message is read back (LOCAL_QUORUM,
 *     whose blocking read repair leaves it on a quorum) and returned with `duplicate: true`;
 *     nothing is written for them. (If the row exists but the message does not, which only a
 *     per-table repair of a partially applied write can produce, the message is written again
 *     under the stored id.)
 *  2. one unlogged batch per partition (a batch crossing a bucket boundary is split), prepared,
 *     LOCAL_QUORUM, idempotent: the messages and their `message_client_ids` rows.
 *  3. publish(messages) in id order, then the sends resolve in id order.
 * A failed write rejects every send of its partition (and of later partitions of the batch) with
 * the driver's error; the server answers `unavailable` and the client retries with the same
 * clientMessageId.
 *
 * Why the message and its de-duplication row land together (one Mutation, one commit-log entry,
 * checked in the Cassandra 5.0.6 source): ./write-batch.ts.
 *
 * De-duplication holds within a region, also across a crash or restart of the backend (the
 * Cassandra read in step 1), and within one process without a read (./recent-sends.ts: LRU of
 * outcomes; concurrent identical sends share one write). Limits, honestly:
 *  - two backends of one region that receive the SAME (author, clientMessageId) at the same
 *    instant (a client retrying on a second connection while the first attempt is still being
 *    written) can both miss the other's row: the window is one de-duplication read plus one
 *    batch write, a few milliseconds (p50/p99 in bench/write-path.bench.ts);
 *  - a write that timed out may still be applied later (hints); a retry to the SAME process
 *    rewrites the same id (no second copy, but that message is published after newer ones); a
 *    retry to ANOTHER process before the late write lands gets a new id;
 *  - a clientMessageId reused for another room is refused (ClientMessageIdReused) only when this
 *    process remembers it; another process stores it as a new message in the other room;
 *  - a duplicate found in Cassandra is not published again: if the first backend died between
 *    its write and its publish, live subscribers see the message on their next resume/history.
 * The legacy `client_messages` table (the LWT claim) is no longer written or read.
 */
import { CLIENT_MESSAGE_TTL_SECONDS, bucketOfTime } from '../cassandra/schema.js';
import { CLOCK_SKEW_MS, type StoredMessage } from './history.js';
import { MessageIds } from './message-ids.js';
import { RecentSends, clientKey } from './recent-sends.js';
import type { MessageLog, SendOutcome, SendRequest, WriterMetrics } from './message-log.js';
import { BatchRun, type Pending } from './write-batch.js';

export type { ClientKey, MessageLog, SendOutcome, SendRequest, WriterMetrics } from './message-log.js';

/** The same (author, clientMessageId) was already used for another room. */
export class ClientMessageIdReused extends Error {
  constructor(
    readonly clientMessageId: string,
    readonly roomId: string,
  ) {
    super(`clientMessageId ${JSON.stringify(clientMessageId)} was already used for another room than ${roomId}: use a new id per message`);
  }
}

export interface MessageWriterOptions {
  /** This backend's region: `originRegion` of the messages it writes. */
  readonly region: string;
  /** Called after each batch with the messages it newly wrote, in id order (not for duplicates), before its sends resolve. */
  publish(messages: readonly StoredMessage[]): void;
  readonly metrics?: WriterMetrics;
  /** Most messages per batch (default 64). */
  readonly maxBatchMessages?: number;
  /** Most UTF-8 bytes of bodies per batch (default 32 KiB); a single larger message still goes alone. */
  readonly maxBatchBytes?: number;
  /** Bounds of the in-process memory of recent sends (defaults in ./recent-sends.ts). */
  readonly recentSends?: { readonly maxEntries?: number; readonly maxBytes?: number };
  /** Called when publish() throws (the messages are durable and the sends still succeed). */
  readonly onPublishError?: (error: unknown) => void;
  /** Form the next batch and run its de-duplication read while the current one is written (default false, see the module comment). */
  readonly readAhead?: boolean;
  /** Least time between the starts of two writes of one room, ms (default 0: none; see the module comment). */
  readonly minBatchIntervalMs?: number;
  /** Clock, Unix ms (default Date.now). */
  readonly now?: () => number;
  /** New message ids (default UUIDv7, monotonic in the process: ./message-ids.ts). */
  readonly newMessageId?: () => string;
}

export const DEFAULT_MAX_BATCH_MESSAGES = 64;
export const DEFAULT_MAX_BATCH_BYTES = 32 * 1024;
/** The de-duplication window, ms: the TTL of a message_client_ids row. */
export const DEDUPE_WINDOW_MS = CLIENT_MESSAGE_TTL_SECONDS * 1000;

/** The buckets whose de-duplication rows may hold a send made in the last day (ascending, usually one). */
export function dedupeBuckets(nowMs: number): number[] {
  const from = bucketOfTime(Math.max(0, nowMs - DEDUPE_WINDOW_MS - CLOCK_SKEW_MS));
  const to = bucketOfTime(nowMs + CLOCK_SKEW_MS);
  const out: number[] = [];
  for (let b = from; b <= to; b++) out.push(b);
  return out;
}

interface FormedBatch {
  readonly run: BatchRun;
  readonly batch: Pending[];
  /** Its de-duplication read (never rejects; undefined when it failed and the sends were rejected). */
  readonly read: Promise<Map<Pending, StoredMessage> | undefined>;
}

interface RoomQueue {
  /** Sends not yet in a batch, in arrival order. */
  readonly pending: Pending[];
  /** A batch is being written (at most one per room). */
  writing: boolean;
  /** The batch after it: formed, ids assigned, de-duplication read started. */
  next: FormedBatch | undefined;
  /** When its last write started (performance.now() ms, like Pending.receivedAt; -Infinity: never). */
  lastWriteAt: number;
  /** Waiting for minBatchIntervalMs to pass since lastWriteAt. */
  timer: ReturnType<typeof setTimeout> | undefined;
}

/** How often, at most, idle rooms kept for their write interval are dropped, ms. */
const SWEEP_EVERY_MS = 1_000;

export class MessageWriter {
  private readonly rooms = new Map<string, RoomQueue>();
  private readonly inFlight = new Map<string, { readonly roomId: string; readonly done: Promise<SendOutcome> }>();
  private readonly recent: RecentSends;
  private readonly maxBatchMessages: number;
  private readonly maxBatchBytes: number;
  private readonly now: () => number;
  private readonly newMessageId: () => string;
  private readonly readAhead: boolean;
  private readonly minInterval: number;
  private nextSweep = 0;
  private queued = 0;
  /** Batches formed and not yet finished. */
  private running = 0;
  private idleWaiters: Array<() => void> = [];

  constructor(
    private readonly store: MessageLog,
    private readonly opts: MessageWriterOptions,
  ) {
    this.maxBatchMessages = opts.maxBatchMessages ?? DEFAULT_MAX_BATCH_MESSAGES;
    this.maxBatchBytes = opts.maxBatchBytes ?? DEFAULT_MAX_BATCH_BYTES;
    if (!Number.isInteger(this.maxBatchMessages) || this.maxBatchMessages < 1) throw new Error(`maxBatchMessages must be a whole number >= 1, got ${this.maxBatchMessages}`);
    if (!(this.maxBatchBytes >= 1)) throw new Error(`maxBatchBytes must be >= 1, got ${this.maxBatchBytes}`);
    this.readAhead = opts.readAhead ?? false;
    this.minInterval = opts.minBatchIntervalMs ?? 0;
    if (!(this.minInterval >= 0 && this.minInterval <= 1_000)) throw new Error(`minBatchIntervalMs must be 0..1000 ms, got ${this.minInterval}`);
    this.now = opts.now ?? Date.now;
    if (opts.newMessageId) this.newMessageId = opts.newMessageId;
    else {
      const ids = new MessageIds();
      this.newMessageId = () => ids.next();
    }
    this.recent = new RecentSends({ ...opts.recentSends, ttlMs: DEDUPE_WINDOW_MS, now: this.now });
  }

  /** Resolves once the message is durable at LOCAL_QUORUM and publish() was called for it (or it was a retry). */
  send(req: SendRequest): Promise<SendOutcome> {
    const key = clientKey(req.authorId, req.clientMessageId);
    const flying = this.inFlight.get(key);
    if (flying) {
      if (flying.roomId !== req.roomId) return Promise.reject(new ClientMessageIdReused(req.clientMessageId, req.roomId));
      return flying.done.then((o) => ({ messageId: o.messageId, duplicate: true }));
    }
    const known = this.recent.get(key);
    if (known && known.roomId !== req.roomId) return Promise.reject(new ClientMessageIdReused(req.clientMessageId, req.roomId));
    if (known?.state === 'stored') return Promise.resolve({ messageId: known.messageId, duplicate: true });
    const done = new Promise<SendOutcome>((resolve, reject) => {
      const p: Pending = { req, key, bytes: Buffer.byteLength(req.body, 'utf8'), receivedAt: performance.now(), reuseId: known?.messageId, resolve, reject };
      let q = this.rooms.get(req.roomId);
      if (!q) this.rooms.set(req.roomId, (q = { pending: [], writing: false, next: undefined, lastWriteAt: -Infinity, timer: undefined }));
      q.pending.push(p);
      this.queued++;
    });
    const forget = () => {
      if (this.inFlight.get(key)?.done === done) this.inFlight.delete(key);
    };
    done.then(forget, forget);
    this.inFlight.set(key, { roomId: req.roomId, done });
    this.kick(req.roomId);
    return done;
  }

  /** Waits until no send is queued or being written (sends arriving meanwhile are written too); rejects after `timeoutMs`. */
  drain(timeoutMs: number): Promise<void> {
    if (this.idle()) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const waiter = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.idleWaiters = this.idleWaiters.filter((w) => w !== waiter);
        reject(new Error(`message writer: ${this.queued} queued send(s) and ${this.running} batch(es) still in flight after ${timeoutMs} ms; they are lost unless the clients retry`));
      }, timeoutMs);
      this.idleWaiters.push(waiter);
    });
  }

  private idle(): boolean {
    return this.queued === 0 && this.running === 0;
  }

  /**
   * Moves a room's queue along: the next batch forms (and starts its de-duplication read) while
   * the current one is being written; it is written when the current one is done.
   */
  private kick(roomId: string): void {
    const q = this.rooms.get(roomId);
    if (!q) return;
    if (q.timer !== undefined) return;
    const now = performance.now();
    if (!q.writing && (q.next || q.pending.length > 0)) {
      const wait = q.lastWriteAt + this.minInterval - now;
      if (wait > 0) {
        q.timer = setTimeout(() => {
          q.timer = undefined;
          this.kick(roomId);
        }, Math.ceil(wait));
        return;
      }
    }
    if (!q.next && q.pending.length > 0 && (this.readAhead || !q.writing)) q.next = this.form(roomId, q);
    if (!q.writing && q.next) {
      const { run, batch, read } = q.next;
      q.next = undefined;
      q.writing = true;
      q.lastWriteAt = now;
      void read
        .then((duplicates) => run.write(batch, duplicates))
        .finally(() => {
          q.writing = false;
          this.running--;
          this.kick(roomId);
          if (this.idle()) for (const w of this.idleWaiters.splice(0)) w();
        });
      if (this.readAhead && q.pending.length > 0) q.next = this.form(roomId, q);
    }
    if (this.idleRoom(q, now)) this.rooms.delete(roomId);
    if (now >= this.nextSweep) this.sweep(now);
  }

  /** Nothing queued, formed or being written, and its write interval is over: the room can be forgotten. */
  private idleRoom(q: RoomQueue, now: number): boolean {
    return !q.writing && !q.next && q.pending.length === 0 && q.timer === undefined && now - q.lastWriteAt >= this.minInterval;
  }

  /** Drops the idle rooms kept only for their write interval (bounded work: at most once a second). */
  private sweep(now: number): void {
    this.nextSweep = now + SWEEP_EVERY_MS;
    for (const [id, q] of this.rooms) if (this.idleRoom(q, now)) this.rooms.delete(id);
  }

  /** Takes the next batch off the queue, assigns its ids (in order) and starts its de-duplication read. */
  private form(roomId: string, q: RoomQueue): FormedBatch {
    const batch = q.pending.splice(0, this.batchLength(q.pending));
    this.queued -= batch.length;
    this.running++;
    for (const p of batch) p.messageId = p.reuseId ?? this.newMessageId();
    batch.sort((a, b) => (a.messageId! < b.messageId! ? -1 : a.messageId! > b.messageId! ? 1 : 0));
    const run = new BatchRun(this.store, this.recent, {
      roomId,
      region: this.opts.region,
      publish: this.opts.publish,
      ...(this.opts.metrics ? { metrics: this.opts.metrics } : {}),
      ...(this.opts.onPublishError ? { onPublishError: this.opts.onPublishError } : {}),
      buckets: dedupeBuckets(this.now()),
    });
    return { run, batch, read: run.read(batch) };
  }

  /** How many queued sends the next batch takes: at least one, then within both bounds. */
  private batchLength(pending: readonly Pending[]): number {
    let n = 0;
    let bytes = 0;
    while (n < pending.length && n < this.maxBatchMessages) {
      const next = pending[n]!.bytes;
      if (n > 0 && bytes + next > this.maxBatchBytes) break;
      bytes += next;
      n++;
    }
    return n;
  }
}
