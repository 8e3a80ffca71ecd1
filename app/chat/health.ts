/**
 * Whether this region can serve chat, with hysteresis: the dependencies are probed every
 * `intervalMs`; the region becomes unavailable after `downAfter` consecutive rounds with any
 * dependency down (one slow probe does not take it out) and available again after `upAfter`
 * consecutive rounds with all up. /readyz follows `available`; on the transition to unavailable
 * the server tells its clients to go to another region (close code 4001).
 */
import type { Logger } from '../log.js';

/** Up/down of each dependency in one probe round. */
export interface DependencyStatus {
  readonly nats: boolean;
  readonly cassandra: boolean;
  readonly postgres: boolean;
}

export const DEPENDENCIES = ['nats', 'cassandra', 'postgres'] as const;

export interface HealthOptions {
  /** Probe period, ms (default 2000). */
  readonly intervalMs?: number;
  /** Consecutive failing rounds before the region counts as unavailable (default 2). */
  readonly downAfter?: number;
  /** Consecutive healthy rounds before it counts as available again (default 1). */
  readonly upAfter?: number;
  /** Raw status after every round. */
  readonly onStatus?: (s: DependencyStatus) => void;
  /** The region became unavailable (`down`: what was down in the last round). */
  readonly onLost?: (down: readonly string[]) => void;
  readonly onBack?: () => void;
}

export class HealthMonitor {
  private last: DependencyStatus = { nats: false, cassandra: false, postgres: false };
  private isAvailable = false;
  private failing = 0;
  private passing = 0;
  private running: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly waiters: Array<() => void> = [];
  private readonly intervalMs: number;
  private readonly downAfter: number;
  private readonly upAfter: number;

  constructor(
    private readonly probe: () => Promise<DependencyStatus>,
    private readonly log: Logger,
    private readonly opts: HealthOptions = {},
  ) {
    this.intervalMs = opts.intervalMs ?? 2_000;
    this.downAfter = Math.max(1, opts.downAfter ?? 2);
    this.upAfter = Math.max(1, opts.upAfter ?? 1);
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

  start(): void {
    this.runNow();
    this.timer = setInterval(() => this.runNow(), this.intervalMs);
    this.timer.unref();
  }

  /** Starts a round unless one is running. */
  runNow(): void {
    if (this.stopped || this.running) return;
    this.running = this.round()
      .catch((e: unknown) => this.log.error('health check failed', { error: e }))
      .finally(() => {
        this.running = undefined;
      });
  }

  private async round(): Promise<void> {
    const s = await this.probe();
    if (this.stopped) return;
    for (const d of DEPENDENCIES) {
      if (this.last[d] !== s[d]) (s[d] ? this.log.info : this.log.warn)(`${d} ${s[d] ? 'up' : 'down'}`, { dependency: d });
    }
    this.last = s;
    this.opts.onStatus?.(s);
    const allUp = DEPENDENCIES.every((d) => s[d]);
    this.passing = allUp ? this.passing + 1 : 0;
    this.failing = allUp ? 0 : this.failing + 1;
    if (this.isAvailable && this.failing >= this.downAfter) {
      this.isAvailable = false;
      this.log.warn('region unavailable: a dependency stayed down', { down: this.down, rounds: this.failing });
      this.opts.onLost?.(this.down);
    } else if (!this.isAvailable && this.passing >= this.upAfter) {
      this.isAvailable = true;
      this.waiters.splice(0).forEach((w) => w());
      this.opts.onBack?.();
    }
  }

  /** Resolves when the region is available (rejects after `timeoutMs`, naming what is down). */
  ready(timeoutMs: number, region: string): Promise<void> {
    if (this.isAvailable) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`chat backend ${region} not ready within ${timeoutMs} ms: down: ${this.down.join(', ') || 'none (waiting for a healthy round)'}`)), timeoutMs);
      this.waiters.push(() => {
        clearTimeout(t);
        resolve();
      });
      this.runNow();
    });
  }

  /** Stops probing; resolves when a running round has ended (bounded by `boundMs`). */
  async stop(boundMs: number): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    if (this.running) await Promise.race([this.running, new Promise((r) => setTimeout(r, boundMs))]);
  }
}
