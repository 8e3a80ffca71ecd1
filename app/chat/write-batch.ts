/**
 * One batch of a room's sends, as ./message-writer.ts forms it (ids assigned, sorted by id):
 * de-duplication read, one write per (room, bucket) partition, publish, then settle every send
 * in id order and record its outcome in the process's memory of recent sends.
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
 * microseconds before the other, and repair streams tables separately; the de-duplication read covers both.) A
 * one-mutation batch also skips batch_size_warn/fail_threshold (BatchStatement.verifyBatchSize
 * returns for `mutations.size() <= 1`, CASSANDRA-10876; defaults 5 KiB / 50 KiB, the lab keeps
 * them): what bounds it is max_mutation_size (half of commitlog_segment_size: 16 MiB by default,
 * 4 MiB in the lab) and native_transport_max_frame_size (16 MiB). maxBatchBytes is about
 * latency and fairness, not a server limit.
 */
import { bucketOf } from '../cassandra/schema.js';
import { createdAtOf, type StoredMessage } from './history.js';
import type { ClientKey, MessageLog, SendOutcome, SendRequest, WriterMetrics } from './message-log.js';
import type { RecentSends } from './recent-sends.js';

/** A queued send. */
export interface Pending {
  readonly req: SendRequest;
  /** clientKey(author, clientMessageId). */
  readonly key: string;
  /** UTF-8 bytes of the body. */
  readonly bytes: number;
  /** performance.now() at send(), ms. */
  readonly receivedAt: number;
  /** The id of an earlier attempt of this send whose write may have landed: it is written again under it. */
  readonly reuseId: string | undefined;
  /** Assigned when the batch is formed. */
  messageId?: string;
  /** Set when a de-duplication row exists but its message does not: the message is written again under that id. */
  recovered?: boolean;
  resolve(o: SendOutcome): void;
  reject(e: unknown): void;
}

export interface BatchContext {
  readonly roomId: string;
  readonly region: string;
  publish(messages: readonly StoredMessage[]): void;
  readonly metrics?: WriterMetrics;
  readonly onPublishError?: (error: unknown) => void;
  /** Buckets to search for de-duplication rows (ascending). */
  readonly buckets: readonly number[];
}

const byId = (a: Pending, b: Pending) => (a.messageId! < b.messageId! ? -1 : a.messageId! > b.messageId! ? 1 : 0);

export class BatchRun {
  constructor(
    private readonly store: MessageLog,
    private readonly recent: RecentSends,
    private readonly ctx: BatchContext,
  ) {}

  /**
   * Phase 1, the de-duplication read (may overlap the previous batch's write: single flight keeps
   * a key in one batch at a time). Never rejects: on a failed read every send is rejected with
   * its error and the result is undefined (nothing was written; what the process knew about
   * these sends stays as it was).
   */
  async read(batch: Pending[]): Promise<Map<Pending, StoredMessage> | undefined> {
    try {
      return await this.findDuplicates(batch);
    } catch (e) {
      for (const p of batch) p.reject(e);
      return undefined;
    }
  }

  /** Phase 2, after the previous batch of the room is written: write, publish, settle. Never rejects. */
  async write(batch: Pending[], duplicates: Map<Pending, StoredMessage> | undefined): Promise<void> {
    if (!duplicates) return;
    const toWrite = batch.filter((p) => !duplicates.has(p)).sort(byId);
    const written = new Map<Pending, StoredMessage>();
    const failed = new Map<Pending, { error: unknown; attempted: boolean }>();
    let failure: unknown;
    let hasFailure = false;
    for (const part of partitions(toWrite)) {
      if (hasFailure) {
        for (const p of part) failed.set(p, { error: failure, attempted: false });
        continue;
      }
      const messages = part.map((p) => this.toMessage(p));
      try {
        await this.store.writePartition(messages);
      } catch (e) {
        hasFailure = true;
        failure = e;
        const notApplied = this.store.writeNotApplied(e);
        for (const p of part) failed.set(p, { error: e, attempted: !notApplied });
        continue;
      }
      const doneAt = performance.now();
      this.ctx.metrics?.writeBatchMessages.observe(messages.length);
      part.forEach((p, i) => {
        this.ctx.metrics?.writeLatency.observe((doneAt - p.receivedAt) / 1000);
        written.set(p, messages[i]!);
      });
    }
    if (written.size > 0) {
      try {
        this.ctx.publish([...written.values()]);
      } catch (e) {
        this.ctx.onPublishError?.(e);
      }
    }
    for (const p of [...batch].sort(byId)) this.settle(p, duplicates.get(p), written.get(p), failed.get(p));
  }

  private settle(p: Pending, duplicate: StoredMessage | undefined, written: StoredMessage | undefined, failed: { error: unknown; attempted: boolean } | undefined): void {
    const roomId = this.ctx.roomId;
    if (duplicate || written) {
      const { messageId } = (duplicate ?? written)!;
      this.recent.set(p.key, { state: 'stored', roomId, messageId });
      p.resolve({ messageId, duplicate: duplicate !== undefined || p.recovered === true });
      return;
    }
    // A failed write: keep the id when some attempt of this send may still land, so a retry rewrites it.
    const mayLand = failed?.attempted === true || p.reuseId !== undefined || p.recovered === true;
    if (mayLand) this.recent.set(p.key, { state: 'uncertain', roomId, messageId: p.messageId! });
    else this.recent.delete(p.key);
    p.reject(failed?.error);
  }

  /** Sends whose (author, clientMessageId) is already stored, with their stored message. */
  private async findDuplicates(batch: readonly Pending[]): Promise<Map<Pending, StoredMessage>> {
    const { roomId } = this.ctx;
    const keys = new Map<string, ClientKey>();
    for (const p of batch) if (p.req.firstAttempt !== true) keys.set(p.key, { authorId: p.req.authorId, clientMessageId: p.req.clientMessageId });
    if (keys.size === 0) return new Map();
    const found = await Promise.all(this.ctx.buckets.map((b) => this.store.findClientIds(roomId, b, [...keys.values()])));
    const storedId = new Map<string, string>();
    for (const hits of found) {
      for (const [key, id] of hits) {
        const prev = storedId.get(key);
        if (keys.has(key) && (prev === undefined || id < prev)) storedId.set(key, id);
      }
    }
    const out = new Map<Pending, StoredMessage>();
    if (storedId.size === 0) return out;
    const idsByBucket = new Map<number, string[]>();
    for (const id of new Set(storedId.values())) {
      const b = bucketOf(id);
      idsByBucket.set(b, [...(idsByBucket.get(b) ?? []), id]);
    }
    const messages = new Map<string, StoredMessage>();
    for (const list of await Promise.all([...idsByBucket].map(([b, ids]) => this.store.getMessages(roomId, b, ids)))) {
      for (const m of list) messages.set(m.messageId, m);
    }
    for (const p of batch) {
      const id = storedId.get(p.key);
      if (id === undefined) continue;
      const m = messages.get(id);
      if (m) out.set(p, m);
      else {
        p.messageId = id;
        p.recovered = true;
      }
    }
    return out;
  }

  private toMessage(p: Pending): StoredMessage {
    const messageId = p.messageId!;
    return {
      roomId: this.ctx.roomId,
      messageId,
      authorId: p.req.authorId,
      body: p.req.body,
      originRegion: this.ctx.region,
      createdAt: createdAtOf(messageId),
      clientMessageId: p.req.clientMessageId,
    };
  }
}

/** Sends (sorted by id) grouped by the bucket of their id, ascending. */
function partitions(sorted: readonly Pending[]): Pending[][] {
  const out: Pending[][] = [];
  let bucket: number | undefined;
  for (const p of sorted) {
    const b = bucketOf(p.messageId!);
    if (b !== bucket) {
      out.push([]);
      bucket = b;
    }
    out[out.length - 1]!.push(p);
  }
  return out;
}
