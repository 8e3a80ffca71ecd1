/**
 * Resume without gaps or duplicates. A connection that (re)joins a room with the last message
 * id it saw gets, in this order:
 *   1. the room's live subscription is registered first, and live messages are BUFFERED;
 *   2. the messages after the cursor are read from Cassandra (ascending) and sent;
 *   3. the buffer is flushed, skipping every id already sent, and the connection goes live.
 * A live message can also arrive AFTER the flush although it was in the replay (it was stored
 * before the replay read but published after it), so ids sent by the replay are remembered for
 * a while and skipped when they show up live.
 */

export interface HasId {
  readonly messageId: string;
}

/**
 * The frames to send after a replay: the replayed messages (in their order, each id once), then
 * the buffered live ones whose ids were neither replayed nor already sent (arrival order).
 * Pure; `alreadySent` is not modified.
 */
export function mergeResume<T extends HasId>(replayed: readonly T[], buffered: readonly T[], alreadySent: ReadonlySet<string> = new Set()): T[] {
  const seen = new Set(alreadySent);
  const out: T[] = [];
  for (const m of [...replayed, ...buffered]) {
    if (seen.has(m.messageId)) continue;
    seen.add(m.messageId);
    out.push(m);
  }
  return out;
}

/** How long replayed ids are remembered after going live. */
export const REPLAY_MEMORY_MS = 30_000;

/**
 * The per-(connection, room) state machine: `buffering` until `goLive(replayed)`, then `live`.
 * `offer` decides what happens to a live message: buffered, sent, or dropped as a duplicate.
 */
export class ResumeGate<T extends HasId> {
  private buffer: T[] | undefined = [];
  private remembered = new Set<string>();
  private rememberUntil = 0;

  constructor(
    private readonly maxBuffer = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  get buffering(): boolean {
    return this.buffer !== undefined;
  }

  /** A live message arrived: 'send' it now, or it was 'buffered' or is a 'duplicate'. 'overflow': the buffer is full. */
  offer(m: T): 'send' | 'buffered' | 'duplicate' | 'overflow' {
    if (this.buffer) {
      if (this.buffer.length >= this.maxBuffer) return 'overflow';
      this.buffer.push(m);
      return 'buffered';
    }
    if (this.remembered.size > 0) {
      if (this.now() > this.rememberUntil) this.remembered.clear();
      else if (this.remembered.has(m.messageId)) return 'duplicate';
    }
    return 'send';
  }

  /** Ends buffering: returns everything to send, in order; later `offer`s are live. */
  goLive(replayed: readonly T[]): T[] {
    const buffered = this.buffer ?? [];
    this.buffer = undefined;
    const out = mergeResume(replayed, buffered);
    this.remembered = new Set(out.map((m) => m.messageId));
    this.rememberUntil = this.now() + REPLAY_MEMORY_MS;
    return out;
  }
}
