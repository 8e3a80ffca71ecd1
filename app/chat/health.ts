/**
 * Whether this region can serve chat, with hysteresis. A round checks the region's three
 * dependencies (./dependencies.ts `probe`: NATS round trip, a LOCAL_QUORUM read in the local
 * Cassandra DC, a Postgres query), each bounded by `timeoutMs`; a round starts every
 * `intervalMs` (the next one waits for a slow one to end). The region becomes unavailable after
 * `failuresBeforeUnready` consecutive rounds with any dependency down or slow (one slow query
 * does not take it out of DNS) and available again after `successesBeforeReady` consecutive
 * rounds with all up (one lucky round does not bring a sick region back).
 *
 * Time from a dependency dying to unavailable: at most (failuresBeforeUnready - 1) x intervalMs
 * + one interval until the first failing round starts + timeoutMs (a check that hangs), and
 * never less than (failuresBeforeUnready - 1) x intervalMs. Back: (successesBeforeReady - 1) x
 * intervalMs after the first healthy round. /readyz follows `available`; on the transition to
 * unavailable the server tells its clients to go to another region (close code 4001).
 *
 * Time comes from a `HealthClock` (real timers by default; tests drive a fake one).
 */
import type { Logger } from '../log.js';

/** Up/down of each dependency in one probe round. */
export interface DependencyStatus {
  readonly nats: boolean;
  readonly cassandra: boolean;
  readonly postgres: boolean;
}

export const DEPENDENCIES = ['nats', 'cassandra', 'postgres'] as const;

/** The knobs, from CHAT_HEALTH_* (./settings.ts), from `app.health` of the platform config. */
export interface HealthSettings {
  /** Time between the starts of two rounds, ms (default 2000). */
  readonly intervalMs: number;
  /** Bound of each check in a round, ms: slower counts as down (default 2000). */
  readonly timeoutMs: number;
  /** Consecutive failing rounds before the region counts as unavailable (default 3). */
  readonly failuresBeforeUnready: number;
  /** Consecutive healthy rounds before it counts as available again (default 2). */
  readonly successesBeforeReady: number;
}

export const HEALTH_DEFAULTS: HealthSettings = { intervalMs: 2_000, timeoutMs: 2_000, failuresBeforeUnready: 3, successesBeforeReady: 2 };

/** One round: every check bounded by `timeoutMs`. */
export type HealthProbe = (timeoutMs: number) => Promise<DependencyStatus>;

/** The timers the monitor uses. */
export interface HealthClock {
  now(): number;
  setTimeout(f: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realClock: HealthClock = {
  now: () => Date.now(),
  setTimeout: (f, ms) => setTimeout(f, ms).unref(),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export interface HealthOptions extends Partial<HealthSettings> {
  /** Raw status after every round. */
  readonly onStatus?: (s: DependencyStatus) => void;
  /** The region became unavailable (`down`: what was down in the last round). */
  readonly onLost?: (down: readonly string[]) => void;
  readonly onBack?: () => void;
  /** Default: real timers. */
  readonly clock?: HealthClock;
}

const ALL_DOWN: DependencyStatus = { nats: false, cassandra: false, postgres: false };
/** A probe that ignores its own bound by more than this counts as a failed round. */
const PROBE_GRACE_MS = 500;

export class HealthMonitor {
  private last: DependencyStatus = ALL_DOWN;
  private isAvailable = false;
  private failing = 0;
  private passing = 0;
  private running: Promise<void> | undefined;
  private timer: unknown;
  private started = false;
  private stopped = false;
  private readonly waiters: Array<() => void> = [];
  private readonly clock: HealthClock;
  readonly settings: HealthSettings;

  constructor(
    private readonly probe: HealthProbe,
    private readonly log: Logger,
    private readonly opts: HealthOptions = {},
  ) {
    this.clock = opts.clock ?? realClock;
    this.settings = {
      intervalMs: Math.max(1, opts.intervalMs ?? HEALTH_DEFAULTS.intervalMs),
      timeoutMs: Math.max(1, opts.timeoutMs ?? HEALTH_DEFAULTS.timeoutMs),
      failuresBeforeUnready: Math.max(1, opts.failuresBeforeUnready ?? HEALTH_DEFAULTS.failuresBeforeUnready),
      successesBeforeReady: Math.max(1, opts.successesBeforeReady ?? HEALTH_DEFAULTS.successesBeforeReady),
    };
  }

  get status(): DependencyStatus {
    return this.last;
  }

  get available(): boolean {
    return this.isAvailable;
  }

  get down(): string[] {
    return DEPENDENCIES.filter((d) => !this.last[d]);
  }

  /** Consecutive failing (`failing`) or healthy (`passing`) rounds so far. */
  get streak(): { readonly failing: number; readonly passing: number } {
    return { failing: this.failing, passing: this.passing };
  }

  /** Runs a round now, then one every `intervalMs`. */
  start(): void {
    this.started = true;
    this.runNow();
  }

  /** Starts a round unless one is running (the next one is scheduled when it ends). */
  runNow(): void {
    if (this.stopped || this.running) return;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    const began = this.clock.now();
    this.running = this.round()
      .catch((e: unknown) => this.log.error('health check failed', { error: e }))
      .finally(() => {
        this.running = undefined;
        if (this.stopped || !this.started) return;
        const wait = Math.max(0, began + this.settings.intervalMs - this.clock.now());
        this.timer = this.clock.setTimeout(() => this.runNow(), wait);
      });
  }

  /** The probe, bounded: a probe that overruns its own bound is a round with everything down. */
  private bounded(): Promise<DependencyStatus> {
    const bound = this.settings.timeoutMs + PROBE_GRACE_MS;
    return new Promise<DependencyStatus>((resolve) => {
      const t = this.clock.setTimeout(() => {
        this.log.warn('health round overran its bound; counted as failed', { boundMs: bound });
        resolve(ALL_DOWN);
      }, bound);
      this.probe(this.settings.timeoutMs).then(
        (s) => {
          this.clock.clearTimeout(t);
          resolve(s);
        },
        (e: unknown) => {
          this.clock.clearTimeout(t);
          this.log.error('health probe threw; counted as failed', { error: e });
          resolve(ALL_DOWN);
        },
      );
    });
  }

  private async round(): Promise<void> {
    const s = await this.bounded();
    if (this.stopped) return;
    for (const d of DEPENDENCIES) {
      if (this.last[d] !== s[d]) (s[d] ? this.log.info : this.log.warn)(`${d} ${s[d] ? 'up' : 'down'}`, { dependency: d });
    }
    this.last = s;
    this.opts.onStatus?.(s);
    const allUp = DEPENDENCIES.every((d) => s[d]);
    this.passing = allUp ? this.passing + 1 : 0;
    this.failing = allUp ? 0 : this.failing + 1;
    const { failuresBeforeUnready, successesBeforeReady } = this.settings;
    if (this.isAvailable && this.failing >= failuresBeforeUnready) {
      this.isAvailable = false;
      this.log.warn('region unavailable: a dependency stayed down', { down: this.down, rounds: this.failing });
      this.opts.onLost?.(this.down);
    } else if (!this.isAvailable && this.passing >= successesBeforeReady) {
      this.isAvailable = true;
      this.log.info('region available', { rounds: this.passing });
      this.waiters.splice(0).forEach((w) => w());
      this.opts.onBack?.();
    }
  }

  /** Resolves when the region is available (rejects after `timeoutMs`, naming what is down). */
  ready(timeoutMs: number, region: string): Promise<void> {
    if (this.isAvailable) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const t = this.clock.setTimeout(
        () => reject(new Error(`chat backend ${region} not ready within ${timeoutMs} ms: down: ${this.down.join(', ') || 'none (waiting for healthy rounds)'}`)),
        timeoutMs,
      );
      this.waiters.push(() => {
        this.clock.clearTimeout(t);
        resolve();
      });
      if (!this.started) this.runNow();
    });
  }

  /** Stops probing; resolves when a running round has ended (bounded by `boundMs`). */
  async stop(boundMs: number): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    if (this.running) await Promise.race([this.running, new Promise((r) => setTimeout(r, boundMs))]);
  }
}
