/**
 * HealthMonitor's hysteresis, driven by a fake clock through our own ports (HealthClock, and a
 * probe answering DependencyStatus after a chosen delay). The expected moments come from the
 * settings (rounds x interval), written here, not from the monitor.
 */
import { describe, expect, it } from 'vitest';
import { createLogger } from '../log.js';
import { HealthMonitor, type DependencyStatus, type HealthClock, type HealthSettings } from './health.js';

const UP: DependencyStatus = { nats: true, cassandra: true, postgres: true };
const NATS_DOWN: DependencyStatus = { nats: false, cassandra: true, postgres: true };
const CASSANDRA_DOWN: DependencyStatus = { nats: true, cassandra: false, postgres: true };
const quiet = createLogger({}, { write: () => undefined });

/** Timers in fake time: `advance(ms)` fires what falls due, in order, letting promises settle in between. */
class FakeClock implements HealthClock {
  private t = 0;
  private seq = 0;
  private timers = new Map<number, { at: number; f: () => void }>();
  now(): number {
    return this.t;
  }
  setTimeout(f: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.timers.set(id, { at: this.t + ms, f });
    return id;
  }
  clearTimeout(h: unknown): void {
    this.timers.delete(h as number);
  }
  async settle(): Promise<void> {
    for (let i = 0; i < 10; i++) await Promise.resolve();
  }
  /** Moves time to `t` (absolute). */
  at(t: number): Promise<void> {
    return this.advance(t - this.t);
  }
  /** Moves time to now + ms. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    await this.settle();
    for (;;) {
      const due = [...this.timers].filter(([, x]) => x.at <= end).sort((a, b) => a[1].at - b[1].at || a[0] - b[0])[0];
      if (!due) break;
      this.timers.delete(due[0]);
      this.t = due[1].at;
      due[1].f();
      await this.settle();
    }
    this.t = end;
    await this.settle();
  }
}

/**
 * A monitor on a fake clock whose probe answers with `world.status` after `world.delayMs`
 * (fake time; a delay beyond the probe's bound is a slow check). Events are recorded with their time.
 */
function monitor(settings: HealthSettings) {
  const clock = new FakeClock();
  const world = { status: UP, delayMs: 5, probes: 0, bounds: [] as number[] };
  const events: Array<[number, string]> = [];
  const probe = (timeoutMs: number) => {
    world.probes++;
    world.bounds.push(timeoutMs);
    const answer = world.status;
    // The real probe (dependencies.ts) bounds each check by timeoutMs: a slower check is down.
    const slow = world.delayMs > timeoutMs;
    return new Promise<DependencyStatus>((resolve) => clock.setTimeout(() => resolve(slow ? { nats: false, cassandra: false, postgres: false } : answer), Math.min(world.delayMs, timeoutMs)));
  };
  const m = new HealthMonitor(probe, quiet, {
    ...settings,
    clock,
    onLost: (down) => events.push([clock.now(), `lost:${down.join(',')}`]),
    onBack: () => events.push([clock.now(), 'back']),
  });
  return { m, clock, world, events };
}

const S: HealthSettings = { intervalMs: 1_000, timeoutMs: 400, failuresBeforeUnready: 3, successesBeforeReady: 2 };

describe('HealthMonitor (fake clock)', () => {
  it('is unavailable until successesBeforeReady healthy rounds, one round per interval', async () => {
    const { m, clock, world, events } = monitor(S);
    m.start();
    await clock.advance(10); // round 1 answered (5 ms)
    expect(m.available).toBe(false);
    expect(world.bounds).toEqual([S.timeoutMs]);
    await clock.advance(S.intervalMs - 10); // t = 1000: round 2 starts
    await clock.advance(10);
    expect(m.available).toBe(true);
    expect(events).toEqual([[S.intervalMs * (S.successesBeforeReady - 1) + 5, 'back']]);
    await clock.advance(10 * S.intervalMs);
    expect(world.probes).toBe(12); // rounds at 0, 1000, ..., 11000
  });

  it('a single failed or slow round does not flip; failuresBeforeUnready in a row do, once', async () => {
    // Rounds start at k x 1000 and answer 5 ms later (a slow one at its 400 ms bound); statuses change between rounds.
    const { m, clock, world, events } = monitor(S);
    m.start();
    await clock.at(1_500);
    expect(m.available).toBe(true);
    world.status = NATS_DOWN; // one failing round (2000)
    await clock.at(2_500);
    expect(m.down).toEqual(['nats']);
    expect(m.streak.failing).toBe(1);
    expect(m.available).toBe(true);
    world.status = UP; // 3000 healthy
    await clock.at(3_500);
    expect(m.streak).toEqual({ failing: 0, passing: 1 });
    world.delayMs = 3 * S.timeoutMs; // one slow round (4000): its checks overrun the bound
    await clock.at(4_500);
    expect(m.streak.failing).toBe(1);
    expect(m.available).toBe(true);
    world.delayMs = 5; // 5000 healthy
    await clock.at(5_500);
    expect(m.streak.failing).toBe(0);
    world.status = CASSANDRA_DOWN; // 6000, 7000, 8000 fail
    const firstFailing = 6_000;
    await clock.at(firstFailing + (S.failuresBeforeUnready - 1) * S.intervalMs); // the third round has not answered yet
    expect(m.streak.failing).toBe(S.failuresBeforeUnready - 1);
    expect(m.available).toBe(true);
    await clock.at(firstFailing + (S.failuresBeforeUnready - 1) * S.intervalMs + 10);
    expect(m.available).toBe(false);
    expect(events.filter(([, e]) => e.startsWith('lost'))).toEqual([[firstFailing + (S.failuresBeforeUnready - 1) * S.intervalMs + 5, 'lost:cassandra']]);
    await clock.at(15_000);
    expect(events.filter(([, e]) => e.startsWith('lost'))).toHaveLength(1);
  });

  it('recovery needs successesBeforeReady healthy rounds in a row; a failure in between restarts the count', async () => {
    const settings: HealthSettings = { intervalMs: 500, timeoutMs: 200, failuresBeforeUnready: 2, successesBeforeReady: 3 };
    const { m, clock, world, events } = monitor(settings);
    m.start(); // rounds at k x 500, answered 5 ms later
    await clock.at(1_250);
    expect(m.available).toBe(true);
    world.status = NATS_DOWN; // 1500, 2000 fail
    await clock.at(2_250);
    expect(m.available).toBe(false);
    world.status = UP; // 2500, 3000 healthy: 2 of 3
    await clock.at(3_250);
    expect(m.available).toBe(false);
    world.status = NATS_DOWN; // 3500 fails: the count starts again
    await clock.at(3_750);
    world.status = UP; // 4000, 4500, 5000
    const firstHealthy = 4_000;
    await clock.at(firstHealthy + (settings.successesBeforeReady - 1) * settings.intervalMs);
    expect(m.available).toBe(false);
    await clock.at(firstHealthy + (settings.successesBeforeReady - 1) * settings.intervalMs + 10);
    expect(m.available).toBe(true);
    expect(events).toEqual([
      [(settings.successesBeforeReady - 1) * settings.intervalMs + 5, 'back'],
      [1_500 + (settings.failuresBeforeUnready - 1) * settings.intervalMs + 5, 'lost:nats'],
      [firstHealthy + (settings.successesBeforeReady - 1) * settings.intervalMs + 5, 'back'],
    ]);
  });

  it('a probe that ignores its bound counts as a failed round, and the next round still comes', async () => {
    const clock = new FakeClock();
    let hang = true;
    const m = new HealthMonitor(() => (hang ? new Promise<DependencyStatus>(() => undefined) : Promise.resolve(UP)), quiet, { ...S, successesBeforeReady: 1, clock });
    m.start();
    await clock.advance(S.intervalMs * 2);
    expect(m.available).toBe(false);
    expect(m.streak.failing).toBe(2);
    hang = false;
    await clock.advance(S.intervalMs);
    expect(m.available).toBe(true);
  });

  it('ready() resolves with the transition and rejects naming what is down', async () => {
    const { m, clock } = monitor({ ...S, successesBeforeReady: 1 });
    const waiting = m.ready(60_000, 'r1');
    await clock.advance(10);
    await expect(waiting).resolves.toBeUndefined();
    const other = monitor(S);
    other.world.status = { nats: true, cassandra: false, postgres: false };
    other.m.start();
    const failing = other.m.ready(2_500, 'r1');
    await other.clock.advance(3_000);
    await expect(failing).rejects.toThrow(/r1 not ready within 2500 ms: down: cassandra, postgres/);
  });
});
