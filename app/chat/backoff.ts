/**
 * Reconnect back-off for chat clients: exponential with FULL jitter (the delay before attempt k,
 * counting from 0, is uniform in [0, min(capMs, baseMs x 2^k))), reset once a connection has
 * stayed up for `stableMs`. Full jitter spreads a crowd that lost its region at the same instant
 * over the whole window instead of sending it back in synchronized waves.
 */

export interface BackoffOptions {
  /** Ceiling of the first delay, ms (default 1000). */
  readonly baseMs: number;
  /** Largest ceiling, ms (default 30000). */
  readonly capMs: number;
  /** A connection open (and authenticated) this long resets the schedule, ms (default 30000). */
  readonly stableMs: number;
}

export const BACKOFF_DEFAULTS: BackoffOptions = { baseMs: 1_000, capMs: 30_000, stableMs: 30_000 };

/** The ceiling of the delay before attempt `attempt` (0-based): min(cap, base x 2^attempt). */
export function backoffCeiling(attempt: number, o: Pick<BackoffOptions, 'baseMs' | 'capMs'>): number {
  // 2^31 already exceeds any sane cap; keeps the power finite.
  return Math.min(o.capMs, o.baseMs * 2 ** Math.min(attempt, 31));
}

/** One delay: uniform in [0, ceiling) (`random` in [0, 1), default Math.random). */
export function fullJitterDelay(attempt: number, o: Pick<BackoffOptions, 'baseMs' | 'capMs'>, random: () => number = Math.random): number {
  return Math.floor(random() * backoffCeiling(attempt, o));
}

/** The schedule of one client: `next()` for each failed or lost connection, `reset()` after a stable one. */
export class Backoff {
  private attempt = 0;
  readonly options: BackoffOptions;

  constructor(
    options: Partial<BackoffOptions> = {},
    private readonly random: () => number = Math.random,
  ) {
    this.options = { ...BACKOFF_DEFAULTS, ...options };
    if (!(this.options.baseMs > 0) || !(this.options.capMs >= this.options.baseMs)) {
      throw new Error(`back-off: need 0 < baseMs <= capMs (got baseMs ${this.options.baseMs}, capMs ${this.options.capMs})`);
    }
  }

  /** Attempts since the last reset. */
  get attempts(): number {
    return this.attempt;
  }

  /** The delay before the next attempt, ms; counts the attempt. */
  next(): { readonly attempt: number; readonly delayMs: number; readonly ceilingMs: number } {
    const attempt = this.attempt++;
    return { attempt, delayMs: fullJitterDelay(attempt, this.options, this.random), ceilingMs: backoffCeiling(attempt, this.options) };
  }

  reset(): void {
    this.attempt = 0;
  }
}
