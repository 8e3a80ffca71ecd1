/**
 * Chat history in the LOCAL Cassandra DC (keyspace `chat`, tables from ../cassandra/schema.ts):
 *
 *   messages           ((room_id, bucket), message_id DESC)   bucket = 10-day window of the UUIDv7
 *   message_client_ids ((room_id, bucket), author_id, client_message_id) -> message_id   (TTL one day)
 *
 * MessageStore is the MessageLog of ./message-writer.ts (the write path: group commit, one
 * unlogged single-partition batch of messages + their de-duplication rows at LOCAL_QUORUM,
 * prepared and idempotent; no lightweight transaction) and the reader of history and resume.
 * The legacy `client_messages` table (the LWT claim of the previous write path) is not used.
 *
 * Reads walk buckets: `after` (resume) ascends from the cursor's bucket to now, `before`
 * (history) descends from the cursor's bucket to the room's creation bucket (room ids are
 * UUIDv7 too), so neither ever scans more buckets than the room has lived.
 */
import cassandra from 'cassandra-driver';
import { randomUUID } from 'node:crypto';
import { BUCKET_MS, CLIENT_MESSAGE_TTL_SECONDS, bucketOf, bucketOfTime, quoteIdentifier, uuidV7Millis, validateKeyspaceName } from '../cassandra/schema.js';
import type { ClientKey, MessageLog } from './message-log.js';
import { isUuidV7, type ChatMessage } from './protocol.js';
import { clientKey } from './recent-sends.js';

const { consistencies } = cassandra.types;
const uuid = (s: string) => cassandra.types.Uuid.fromString(s);

/** Ids from clocks slightly ahead are still found. */
export const CLOCK_SKEW_MS = 60_000;
/** Upper bound of buckets one read may visit (about 11 years of 10-day buckets). */
export const MAX_BUCKETS = 400;

export interface StoredMessage extends ChatMessage {
  readonly clientMessageId: string;
}

/** The buckets a read visits, in visiting order (pure; exported for tests). */
export function bucketWalk(opts: { from: number; to: number }): number[] {
  const out: number[] = [];
  const step = opts.from <= opts.to ? 1 : -1;
  for (let b = opts.from; ; b += step) {
    out.push(b);
    if (b === opts.to || out.length >= MAX_BUCKETS) break;
  }
  return out;
}

/** The oldest bucket a room can have messages in. */
export function roomFloorBucket(roomId: string, nowMs: number): number {
  const upper = bucketOfTime(nowMs + CLOCK_SKEW_MS);
  const floor = isUuidV7(roomId) ? bucketOf(roomId) : 0;
  return Math.max(floor, upper - MAX_BUCKETS + 1);
}

export function createdAtOf(messageId: string): string {
  return new Date(uuidV7Millis(messageId)).toISOString();
}

const COLUMNS = 'room_id, message_id, author_id, client_message_id, origin_region, body, created_at';

/**
 * Cassandra error codes that prove a write was not applied: the coordinator refused it before
 * sending it to any replica (unavailable 0x1000, overloaded 0x1001, bootstrapping 0x1002) or the
 * request itself was refused (syntax 0x2000, unauthorized 0x2100, invalid 0x2200, config 0x2300).
 * Timeouts and lost connections prove nothing.
 */
const NOT_APPLIED_CODES = new Set([0x1000, 0x1001, 0x1002, 0x2000, 0x2100, 0x2200, 0x2300]);

type Query = 'insertMessage' | 'insertClientId' | 'findClientIds' | 'getMany' | 'get' | 'after' | 'before' | 'latest';

export class MessageStore implements MessageLog {
  /** Every CQL text this store sends (the write path's are insertMessage, insertClientId, findClientIds, getMany). */
  readonly cql: Readonly<Record<Query, string>>;
  private readonly read = { prepare: true, consistency: consistencies.localQuorum, isIdempotent: true } as const;
  /** The partition ping() reads. */
  private readonly healthRoom = randomUUID();

  constructor(
    private readonly client: cassandra.Client,
    keyspace: string,
    private readonly now: () => number = Date.now,
  ) {
    const ks = quoteIdentifier(validateKeyspaceName(keyspace));
    this.cql = {
      insertMessage: `INSERT INTO ${ks}.messages (room_id, bucket, message_id, author_id, client_message_id, origin_region, body, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      insertClientId: `INSERT INTO ${ks}.message_client_ids (room_id, bucket, author_id, client_message_id, message_id) VALUES (?, ?, ?, ?, ?) USING TTL ${CLIENT_MESSAGE_TTL_SECONDS}`,
      findClientIds: `SELECT author_id, client_message_id, message_id FROM ${ks}.message_client_ids WHERE room_id = ? AND bucket = ? AND (author_id, client_message_id) IN ?`,
      getMany: `SELECT ${COLUMNS} FROM ${ks}.messages WHERE room_id = ? AND bucket = ? AND message_id IN ?`,
      get: `SELECT ${COLUMNS} FROM ${ks}.messages WHERE room_id = ? AND bucket = ? AND message_id = ?`,
      after: `SELECT ${COLUMNS} FROM ${ks}.messages WHERE room_id = ? AND bucket = ? AND message_id > ? ORDER BY message_id ASC LIMIT ?`,
      before: `SELECT ${COLUMNS} FROM ${ks}.messages WHERE room_id = ? AND bucket = ? AND message_id < ? ORDER BY message_id DESC LIMIT ?`,
      latest: `SELECT ${COLUMNS} FROM ${ks}.messages WHERE room_id = ? AND bucket = ? ORDER BY message_id DESC LIMIT ?`,
    };
  }

  /**
   * The stored message ids of `keys` in partition (roomId, bucket), keyed by clientKey(). One
   * LOCAL_QUORUM read of exactly those clustering keys: `(author_id, client_message_id) IN ?`
   * (a list of tuples; `author_id IN ? AND client_message_id IN ?` would read the cartesian
   * product, 625 rows for a batch of 25 authors).
   */
  async findClientIds(roomId: string, bucket: number, keys: readonly ClientKey[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    if (keys.length === 0) return out;
    const pairs = new Map(keys.map((k) => [clientKey(k.authorId, k.clientMessageId), new cassandra.types.Tuple(k.authorId, k.clientMessageId)]));
    const r = await this.client.execute(this.cql.findClientIds, [roomId, bucket, [...pairs.values()]], this.read);
    for (const row of r.rows) {
      const key = clientKey(String(row.get('author_id')), String(row.get('client_message_id')));
      if (pairs.has(key)) out.set(key, String(row.get('message_id')));
    }
    return out;
  }

  /** The messages among `messageIds` that exist in (roomId, bucket): one LOCAL_QUORUM read. */
  async getMessages(roomId: string, bucket: number, messageIds: readonly string[]): Promise<StoredMessage[]> {
    if (messageIds.length === 0) return [];
    const r = await this.client.execute(this.cql.getMany, [roomId, bucket, [...messageIds]], this.read);
    return r.rows.map(toMessage);
  }

  /**
   * `messages` (one room, one bucket) and their de-duplication rows: one unlogged batch on one
   * partition key, hence one Cassandra mutation, prepared, at LOCAL_QUORUM, idempotent (a retry
   * by the driver writes the same rows again).
   */
  async writePartition(messages: readonly StoredMessage[]): Promise<void> {
    const first = messages[0];
    if (!first) return;
    const bucket = bucketOf(first.messageId);
    for (const m of messages) {
      if (m.roomId !== first.roomId || bucketOf(m.messageId) !== bucket) {
        throw new Error(`writePartition: message ${m.messageId} of room ${m.roomId} is not in partition (${first.roomId}, ${bucket}); split batches by partition`);
      }
    }
    // Each uuid is parsed once (the driver would parse a string parameter in every statement).
    const roomId = uuid(first.roomId);
    const ids = messages.map((m) => ({ messageId: uuid(m.messageId), authorId: uuid(m.authorId) }));
    const queries = [
      ...messages.map((m, i) => ({
        query: this.cql.insertMessage,
        params: [roomId, bucket, ids[i]!.messageId, ids[i]!.authorId, m.clientMessageId, m.originRegion, m.body, new Date(m.createdAt)],
      })),
      ...messages.map((m, i) => ({ query: this.cql.insertClientId, params: [roomId, bucket, ids[i]!.authorId, m.clientMessageId, ids[i]!.messageId] })),
    ];
    await this.client.batch(queries, { prepare: true, logged: false, consistency: consistencies.localQuorum, isIdempotent: true });
  }

  writeNotApplied(error: unknown): boolean {
    return error instanceof cassandra.errors.ResponseError && NOT_APPLIED_CODES.has(error.code);
  }

  async get(roomId: string, messageId: string): Promise<StoredMessage | undefined> {
    const r = await this.client.execute(this.cql.get, [roomId, bucketOf(messageId), messageId], this.read);
    const row = r.first();
    return row ? toMessage(row) : undefined;
  }

  /** Messages with id > `afterId`, ascending, at most `limit`. */
  async after(roomId: string, afterId: string, limit: number): Promise<StoredMessage[]> {
    const now = this.now();
    const from = Math.max(bucketOf(afterId), roomFloorBucket(roomId, now));
    const to = bucketOfTime(now + CLOCK_SKEW_MS);
    const out: StoredMessage[] = [];
    if (from > to) return out;
    for (const bucket of bucketWalk({ from, to })) {
      const r = await this.client.execute(this.cql.after, [roomId, bucket, afterId, limit - out.length], this.read);
      for (const row of r.rows) out.push(toMessage(row));
      if (out.length >= limit) break;
    }
    return out;
  }

  /** Messages with id < `beforeId` (or the newest), descending, at most `limit`. */
  async before(roomId: string, beforeId: string | undefined, limit: number): Promise<StoredMessage[]> {
    const now = this.now();
    const upper = bucketOfTime(now + CLOCK_SKEW_MS);
    const from = beforeId ? Math.min(bucketOf(beforeId), upper) : upper;
    const to = roomFloorBucket(roomId, now);
    const out: StoredMessage[] = [];
    if (from < to) return out;
    for (const bucket of bucketWalk({ from, to })) {
      const r = beforeId
        ? await this.client.execute(this.cql.before, [roomId, bucket, beforeId, limit - out.length], this.read)
        : await this.client.execute(this.cql.latest, [roomId, bucket, limit - out.length], this.read);
      for (const row of r.rows) out.push(toMessage(row));
      if (out.length >= limit) break;
    }
    return out;
  }

  /**
   * Can the local DC serve history? A LOCAL_QUORUM read of one `messages` partition that is never
   * written (a random room per store), within `timeoutMs` and without retries: what every history
   * read needs, not just one node answering.
   */
  async ping(timeoutMs: number): Promise<void> {
    await this.client.execute(this.cql.latest, [this.healthRoom, 0, 1], { ...this.read, readTimeout: timeoutMs, retry: new cassandra.policies.retry.FallthroughRetryPolicy() });
  }
}

function toMessage(row: cassandra.types.Row): StoredMessage {
  const messageId = String(row.get('message_id'));
  const created = row.get('created_at') as Date | null;
  return {
    roomId: String(row.get('room_id')),
    messageId,
    authorId: String(row.get('author_id')),
    body: String(row.get('body') ?? ''),
    originRegion: String(row.get('origin_region') ?? ''),
    createdAt: created ? created.toISOString() : createdAtOf(messageId),
    clientMessageId: String(row.get('client_message_id') ?? ''),
  };
}

export { BUCKET_MS };
