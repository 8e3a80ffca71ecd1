/**
 * Per-connection flood control: a token bucket (settings.ratePerSecond tokens per second, at most
 * settings.rateBurst; defaults 50/s and 100), and an escalation rule on top. Every frame costs one
 * token; a frame without a token is refused (`rate_limited`). A client that keeps sending while
 * refused (more than `maxStrikes`, default `burst`, refused frames without a pause of `quietMs`,
 * default 1 s) is disconnected (close code 1008).
 *
 * Sizing: a legitimate client paces far below the rate (20 msg/s against 50/s), so the bucket
 * only ever empties when frames ARRIVE bunched: timer jitter (2-3 frames), or a stall of either
 * process (GC, a busy event loop) that delivers everything sent meanwhile at once. The bucket
 * refills during the stall too, so a 20 msg/s sender is refused only after a stall longer than
 * burst / 20 = 5 s. A flood is refused after `burst` frames and closed after `burst + maxStrikes`,
 * so its cost to the server is bounded (ratelimit.test.ts simulates both).
 *
 * How to call it (the caller owns the reply; every refusal must echo the frame's `ref`):
 *
 *   const verdict = conn.guard.check();          // exactly once per frame, binary ones included
 *   if (verdict === 'close') -> close 1008 "rate limit exceeded" (no reply: the socket goes)
 *   if (verdict === 'limited') -> error {code: 'rate_limited', ref} where ref is read from the frame
 *   else handle the frame
 *
 * `check()` only counts; it never looks at the frame, so the caller may read `ref` before or
 * after it. Reading it before (parse, then check, as dispatch.ts does) costs one JSON parse per
 * refused frame, which the escalation bounds to maxStrikes per quiet period.
 */

export type Clock = () => number;
const monotonicMs: Clock = () => performance.now();

export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    readonly ratePerSecond: number,
    readonly burst: number,
    private readonly now: Clock = monotonicMs,
  ) {
    if (!(ratePerSecond > 0) || !(burst >= 1)) throw new Error('token bucket needs rate > 0 and burst >= 1');
    this.tokens = burst;
    this.last = now();
  }

  private refill(): void {
    const t = this.now();
    const elapsed = Math.max(0, t - this.last);
    this.last = t;
    this.tokens = Math.min(this.burst, this.tokens + (elapsed * this.ratePerSecond) / 1000);
  }

  /** Takes `n` tokens if available. */
  take(n = 1): boolean {
    this.refill();
    if (this.tokens >= n) {
      this.tokens -= n;
      return true;
    }
    return false;
  }

  /** Tokens available now (fractional). */
  available(): number {
    this.refill();
    return this.tokens;
  }
}

export type FloodVerdict = 'ok' | 'limited' | 'close';

export interface FloodGuardOptions {
  readonly ratePerSecond: number;
  readonly burst: number;
  /** Refused frames tolerated before closing (default `burst`). */
  readonly maxStrikes?: number;
  /** A pause this long (no refused frame) forgives earlier strikes (default 1000 ms). */
  readonly quietMs?: number;
  readonly now?: Clock;
}

export class FloodGuard {
  private readonly bucket: TokenBucket;
  private readonly maxStrikes: number;
  private readonly quietMs: number;
  private readonly now: Clock;
  private strikes = 0;
  private lastStrike = -Infinity;

  constructor(opts: FloodGuardOptions) {
    this.now = opts.now ?? monotonicMs;
    this.bucket = new TokenBucket(opts.ratePerSecond, opts.burst, this.now);
    this.maxStrikes = opts.maxStrikes ?? opts.burst;
    this.quietMs = opts.quietMs ?? 1_000;
  }

  /**
   * Call exactly once per incoming frame: 'ok' (handle it), 'limited' (refuse it with
   * `rate_limited` and its ref), 'close' (close the socket with 1008).
   */
  check(): FloodVerdict {
    const t = this.now();
    if (t - this.lastStrike >= this.quietMs) this.strikes = 0;
    if (this.bucket.take()) return 'ok';
    this.strikes++;
    this.lastStrike = t;
    return this.strikes > this.maxStrikes ? 'close' : 'limited';
  }

  /** Refused frames since the last quiet period. */
  get currentStrikes(): number {
    return this.strikes;
  }
}

/** At most one event per key per `intervalMs` (typing indicators). */
export class Debouncer {
  private readonly last = new Map<string, number>();

  constructor(
    private readonly intervalMs: number,
    private readonly now: Clock = monotonicMs,
    private readonly maxKeys = 10_000,
  ) {}

  /** True when the event for `key` should go out now. */
  allow(key: string): boolean {
    const t = this.now();
    const prev = this.last.get(key);
    if (prev !== undefined && t - prev < this.intervalMs) return false;
    if (this.last.size >= this.maxKeys) {
      for (const [k, v] of this.last) if (t - v >= this.intervalMs) this.last.delete(k);
      if (this.last.size >= this.maxKeys) this.last.clear();
    }
    this.last.set(key, t);
    return true;
  }
}
