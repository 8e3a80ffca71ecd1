/**
 * What one backend process remembers about recent sends, keyed by (author, clientMessageId):
 * a retry to the same process is answered from here without a Cassandra read.
 *
 * - `stored`: the message is durable (LOCAL_QUORUM); a retry gets its id back with `duplicate: true`.
 * - `uncertain`: a write of this message id failed in a way that does not prove it was NOT
 *   applied (a write timeout: Cassandra may still apply it, e.g. from a hint). A retry writes the
 *   SAME id again, so a late landing of the first attempt rewrites the same rows instead of
 *   leaving a second copy.
 *
 * An entry holds the message id, not the message: a reply to a retry needs only the id. So an
 * entry costs the same whatever the body's size (about 300 bytes with its key), and the byte
 * bound keeps ~100,000 sends where whole messages with 4,000-character bodies kept ~4,000.
 *
 * Bounded three ways: entries (default 100,000), an estimate of their memory (default 32 MiB:
 * 200 bytes per entry plus 2 bytes per UTF-16 unit of its key), and age (the de-duplication
 * window, CLIENT_MESSAGE_TTL_SECONDS, the lifetime of the rows in Cassandra). The least recently
 * used entry goes first.
 */

export interface RecentSend {
  readonly state: 'stored' | 'uncertain';
  readonly roomId: string;
  readonly messageId: string;
}

export interface RecentSendsOptions {
  /** Most entries kept (default 100,000). */
  readonly maxEntries?: number;
  /** Most estimated bytes kept (default 32 MiB). */
  readonly maxBytes?: number;
  /** Age after which an entry is forgotten, ms (no default: the writer passes the dedupe window). */
  readonly ttlMs: number;
  readonly now: () => number;
}

export const DEFAULT_RECENT_SENDS = { maxEntries: 100_000, maxBytes: 32 * 1024 * 1024 } as const;

const ENTRY_OVERHEAD_BYTES = 200;

/** The cache key of a send: author ids are UUIDs (no ':'), so the pair is unambiguous. */
export function clientKey(authorId: string, clientMessageId: string): string {
  return `${authorId}:${clientMessageId}`;
}

interface Entry {
  readonly send: RecentSend;
  readonly expiresAt: number;
  readonly bytes: number;
}

export class RecentSends {
  private readonly entries = new Map<string, Entry>();
  private bytes = 0;
  private readonly maxEntries: number;
  private readonly maxBytes: number;

  constructor(private readonly opts: RecentSendsOptions) {
    this.maxEntries = opts.maxEntries ?? DEFAULT_RECENT_SENDS.maxEntries;
    this.maxBytes = opts.maxBytes ?? DEFAULT_RECENT_SENDS.maxBytes;
    if (!(this.maxEntries >= 0) || !(this.maxBytes >= 0) || !(opts.ttlMs > 0)) {
      throw new Error(`RecentSends: maxEntries (${this.maxEntries}) and maxBytes (${this.maxBytes}) must be >= 0 and ttlMs (${opts.ttlMs}) > 0`);
    }
  }

  get size(): number {
    return this.entries.size;
  }

  /** The entry of `key` (and marks it recently used), or undefined when unknown or expired. */
  get(key: string): RecentSend | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    this.entries.delete(key);
    if (e.expiresAt <= this.opts.now()) {
      this.bytes -= e.bytes;
      return undefined;
    }
    this.entries.set(key, e);
    return e.send;
  }

  set(key: string, send: RecentSend): void {
    this.delete(key);
    const e: Entry = { send, expiresAt: this.opts.now() + this.opts.ttlMs, bytes: ENTRY_OVERHEAD_BYTES + 2 * key.length };
    this.entries.set(key, e);
    this.bytes += e.bytes;
    if (this.entries.size <= this.maxEntries && this.bytes <= this.maxBytes) return;
    for (const [k, old] of this.entries) {
      this.entries.delete(k);
      this.bytes -= old.bytes;
      if (this.entries.size <= this.maxEntries && this.bytes <= this.maxBytes) break;
    }
  }

  delete(key: string): void {
    const e = this.entries.get(key);
    if (!e) return;
    this.entries.delete(key);
    this.bytes -= e.bytes;
  }
}
