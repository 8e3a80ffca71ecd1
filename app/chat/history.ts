/**
 * Chat history in the LOCAL Cassandra DC (keyspace `chat`, tables from ../cassandra/schema.ts):
 *
 *   messages        ((room_id, bucket), message_id DESC)   bucket = 10-day window of the UUIDv7
 *   client_messages ((author_id, client_message_id)) -> room_id, message_id   (TTL one day)
 *
 * Each message is written once, by the region that received it, at LOCAL_QUORUM, with a prepared
 * INSERT keyed by its UUIDv7 and marked idempotent (the driver may retry it; the same row is
 * written again). Retried sends are de-duplicated by a lightweight transaction on
 * client_messages (`IF NOT EXISTS`, LOCAL_SERIAL): the first claim of (author, client id) wins
 * inside the region and every retry gets the same message id.
 *
 * Reads walk buckets: `after` (resume) ascends from the cursor's bucket to now, `before`
 * (history) descends from the cursor's bucket to the room's creation bucket (room ids are
 * UUIDv7 too), so neither ever scans more buckets than the room has lived.
 */
import cassandra from 'cassandra-driver';
import { BUCKET_MS, bucketOf, bucketOfTime, quoteIdentifier, uuidV7Millis, validateKeyspaceName } from '../cassandra/schema.js';
import { isUuidV7, type ChatMessage } from './protocol.js';

const { consistencies } = cassandra.types;

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

export interface ClaimResult {
  /** True when this call made the claim; false when an earlier send owns it. */
  readonly applied: boolean;
  readonly roomId: string;
  readonly messageId: string;
}

const COLUMNS = 'room_id, message_id, author_id, client_message_id, origin_region, body, created_at';

export class MessageStore {
  private readonly q: Record<'insert' | 'claim' | 'get' | 'after' | 'before' | 'latest', string>;
  private readonly read = { prepare: true, consistency: consistencies.localQuorum, isIdempotent: true } as const;

  constructor(
    private readonly client: cassandra.Client,
    keyspace: string,
    private readonly now: () => number = Date.now,
  ) {
    const ks = quoteIdentifier(validateKeyspaceName(keyspace));
    this.q = {
      insert: `INSERT INTO ${ks}.messages (room_id, bucket, message_id, author_id, client_message_id, origin_region, body, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      claim: `INSERT INTO ${ks}.client_messages (author_id, client_message_id, room_id, message_id) VALUES (?, ?, ?, ?) IF NOT EXISTS`,
      get: `SELECT ${COLUMNS} FROM ${ks}.messages WHERE room_id = ? AND bucket = ? AND message_id = ?`,
      after: `SELECT ${COLUMNS} FROM ${ks}.messages WHERE room_id = ? AND bucket = ? AND message_id > ? ORDER BY message_id ASC LIMIT ?`,
      before: `SELECT ${COLUMNS} FROM ${ks}.messages WHERE room_id = ? AND bucket = ? AND message_id < ? ORDER BY message_id DESC LIMIT ?`,
      latest: `SELECT ${COLUMNS} FROM ${ks}.messages WHERE room_id = ? AND bucket = ? ORDER BY message_id DESC LIMIT ?`,
    };
  }

  /** Claims (author, clientMessageId) for `messageId`; returns the owner when already claimed. */
  async claimClientMessage(authorId: string, clientMessageId: string, roomId: string, messageId: string): Promise<ClaimResult> {
    const r = await this.client.execute(this.q.claim, [authorId, clientMessageId, roomId, messageId], {
      prepare: true,
      consistency: consistencies.localQuorum,
      serialConsistency: consistencies.localSerial,
      // An LWT is not blindly retryable by the driver; a retry by the client is safe (it reads the claim).
      isIdempotent: false,
    });
    if (r.wasApplied()) return { applied: true, roomId, messageId };
    const row = r.first();
    const owner = String(row?.get('message_id') ?? '');
    const ownerRoom = String(row?.get('room_id') ?? '');
    // Our own claim coming back (a retry inside the coordinator) counts as applied.
    if (owner === messageId) return { applied: true, roomId, messageId };
    return { applied: false, roomId: ownerRoom, messageId: owner };
  }

  async insert(m: StoredMessage): Promise<void> {
    await this.client.execute(
      this.q.insert,
      [m.roomId, bucketOf(m.messageId), m.messageId, m.authorId, m.clientMessageId, m.originRegion, m.body, new Date(m.createdAt)],
      { prepare: true, consistency: consistencies.localQuorum, isIdempotent: true },
    );
  }

  async get(roomId: string, messageId: string): Promise<StoredMessage | undefined> {
    const r = await this.client.execute(this.q.get, [roomId, bucketOf(messageId), messageId], this.read);
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
      const r = await this.client.execute(this.q.after, [roomId, bucket, afterId, limit - out.length], this.read);
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
        ? await this.client.execute(this.q.before, [roomId, bucket, beforeId, limit - out.length], this.read)
        : await this.client.execute(this.q.latest, [roomId, bucket, limit - out.length], this.read);
      for (const row of r.rows) out.push(toMessage(row));
      if (out.length >= limit) break;
    }
    return out;
  }

  /** `SELECT release_version FROM system.local` on a local-DC node: is the DC reachable? */
  async ping(timeoutMs = 3_000): Promise<void> {
    await this.client.execute('SELECT release_version FROM system.local', [], { consistency: consistencies.localOne, readTimeout: timeoutMs, isIdempotent: true });
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
