/**
 * The write path of chat messages: durable at LOCAL_QUORUM, de-duplicated, in id order, with no
 * lightweight transaction (no Paxos round, no cross-replica consensus) anywhere on it.
 *
 * Per room, at most ONE batch is in flight per process; sends that arrive meanwhile queue (group
 * commit, no timer) and form the next batch when it is done, up to maxBatchMessages (default 64)
 * and maxBatchBytes of bodies (default 32 KiB, UTF-8). Message ids (UUIDv7, monotonic within the
 * process) are assigned when a batch is formed and batches are written in formation order, so
 * within one process a room's ids, writes, publishes and acknowledgements all go in id order.
 * Option `readAhead` forms the next batch when the current one starts writing and overlaps its
 * de-duplication read with that write (at most one batch writing and one reading per room). Off
 * by default: on the 2-core lab, where Cassandra is CPU-bound, it made batches smaller and
 * throughput lower (bench/write-path.bench.ts); with Cassandra on its own nodes and a network
 * round trip per request it saves about one round trip per batch in a busy room.
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
 * Why the message and its de-duplication row land together (checked in the Cassandra 5.0.6
 * source, cassandra-all-5.0.6-sources.jar): BatchUpdatesCollector keys its mutation builders by
 * keyspace name, then partition key bytes (`mutationBuilders: Map<String, Map<ByteBuffer,
 * IMutationBuilder>>`), and a builder holds one PartitionUpdate per table, so statements on two
 * tables of one keyspace with the same partition key become ONE Mutation. A replica applies a
 * Mutation with one commit-log entry (CassandraKeyspaceWriteHandler.beginWrite ->
 * addToCommitLog(mutation)) before writing each table's memtable (Keyspace.applyInternal), the
 * coordinator sends it whole to each replica, and hints replay it whole: a replica that has one
 * row has the other. (Not isolation: a concurrent read on that replica can see one table a few
 * microseconds before the other, and repair streams tables separately; step 1 covers both.) A
 * one-mutation batch also skips batch_size_warn/fail_threshold (BatchStatement.verifyBatchSize
 * returns for `mutations.size() <= 1`, CASSANDRA-10876; defaults 5 KiB / 50 KiB, the lab keeps
 * them): what bounds it is max_mutation_size (half of commitlog_segment_size: 16 MiB by default,
 * 4 MiB in the lab) and native_transport_max_frame_size (16 MiB). maxBatchBytes is about
 * latency and fairness, not a server limit.
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
import { v7 as uuidv7 } from 'uuid';
import { CLIENT_MESSAGE_TTL_SECONDS, bucketOfTime } from '../cassandra/schema.js';
import { CLOCK_SKEW_MS, type StoredMessage } from './history.js';
import { RecentSends, clientKey } from './recent-sends.js';
import { BatchRun, type Pending } from './write-batch.js';

export interface SendRequest {
  readonly roomId: string;
  readonly authorId: string;
  readonly clientMessageId: string;
  readonly body: string;
  /**
   * The client says this is the first time it sends this clientMessageId: the batch needs no
   * retry lookup for it (one Cassandra request instead of two when the whole batch says so).
   * A client that says so on a resend can only duplicate its own message.
   */
  readonly firstAttempt?: boolean;
}

export interface SendOutcome {
  readonly message: StoredMessage;
  /** True when this (author, clientMessageId) was already stored: nothing new was written. */
  readonly duplicate: boolean;
}

/** The same (author, clientMessageId) was already used for another room. */
export class ClientMessageIdReused extends Error {
  constructor(
    readonly clientMessageId: string,
    readonly roomId: string,
  ) {
    super(`clientMessageId ${JSON.stringify(clientMessageId)} was already used for another room than ${roomId}: use a new id per message`);
  }
}

export interface ClientKey {
  readonly authorId: string;
  readonly clientMessageId: string;
}

/** The storage the writer needs (MessageStore in ./history.ts; an in-memory fake in unit tests). */
export interface MessageLog {
  /** clientKey(author, clientMessageId) -> stored message id, for the `keys` that have a de-duplication row in (roomId, bucket). */
  findClientIds(roomId: string, bucket: number, keys: readonly ClientKey[]): Promise<Map<string, string>>;
  /** The messages among `messageIds` that exist in partition (roomId, bucket). */
  getMessages(roomId: string, bucket: number, messageIds: readonly string[]): Promise<StoredMessage[]>;
  /** Writes `messages` (one room, one bucket) and their de-duplication rows as one mutation, at LOCAL_QUORUM. */
  writePartition(messages: readonly StoredMessage[]): Promise<void>;
  /** True when `error` (from writePartition) proves nothing was written, e.g. Cassandra Unavailable. */
  writeNotApplied(error: unknown): boolean;
}

export interface WriterMetrics {
  /** Messages per Cassandra batch. */
  readonly writeBatchMessages: { observe(value: number): void };
  /** Seconds from send() to the write reaching LOCAL_QUORUM. */
  readonly writeLatency: { observe(value: number): void };
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
  /** Clock, Unix ms (default Date.now). */
  readonly now?: () => number;
  /** New message ids (default uuid v7, monotonic in the process). */
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
}

export class MessageWriter {
  private readonly rooms = new Map<string, RoomQueue>();
  private readonly inFlight = new Map<string, { readonly roomId: string; readonly done: Promise<SendOutcome> }>();
  private readonly recent: RecentSends;
  private readonly maxBatchMessages: number;
  private readonly maxBatchBytes: number;
  private readonly now: () => number;
  private readonly newMessageId: () => string;
  private readonly readAhead: boolean;
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
    this.now = opts.now ?? Date.now;
    this.newMessageId = opts.newMessageId ?? (() => uuidv7());
    this.recent = new RecentSends({ ...opts.recentSends, ttlMs: DEDUPE_WINDOW_MS, now: this.now });
  }

  /** Resolves once the message is durable at LOCAL_QUORUM and publish() was called for it (or it was a retry). */
  send(req: SendRequest): Promise<SendOutcome> {
    const key = clientKey(req.authorId, req.clientMessageId);
    const flying = this.inFlight.get(key);
    if (flying) {
      if (flying.roomId !== req.roomId) return Promise.reject(new ClientMessageIdReused(req.clientMessageId, req.roomId));
      return flying.done.then((o) => ({ message: o.message, duplicate: true }));
    }
    const known = this.recent.get(key);
    if (known && known.roomId !== req.roomId) return Promise.reject(new ClientMessageIdReused(req.clientMessageId, req.roomId));
    if (known?.state === 'stored') return Promise.resolve({ message: known.message, duplicate: true });
    const done = new Promise<SendOutcome>((resolve, reject) => {
      const p: Pending = { req, key, bytes: Buffer.byteLength(req.body, 'utf8'), receivedAt: performance.now(), reuseId: known?.messageId, resolve, reject };
      let q = this.rooms.get(req.roomId);
      if (!q) this.rooms.set(req.roomId, (q = { pending: [], writing: false, next: undefined }));
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
    if (!q.next && q.pending.length > 0 && (this.readAhead || !q.writing)) q.next = this.form(roomId, q);
    if (!q.writing && q.next) {
      const { run, batch, read } = q.next;
      q.next = undefined;
      q.writing = true;
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
    if (!q.writing && !q.next && q.pending.length === 0) this.rooms.delete(roomId);
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
