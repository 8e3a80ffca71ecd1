import { describe, expect, it } from 'vitest';
import { createLogger } from '../log.js';
import { HealthMonitor, type DependencyStatus } from './health.js';

const UP: DependencyStatus = { nats: true, cassandra: true, postgres: true };
const NATS_DOWN: DependencyStatus = { nats: false, cassandra: true, postgres: true };
const quiet = createLogger({}, { write: () => undefined });

/** A monitor driven round by round: each `round(s)` answers one probe with `s`. */
function driven(opts: { downAfter?: number; upAfter?: number } = {}) {
  const answers: DependencyStatus[] = [];
  const events: string[] = [];
  let last: DependencyStatus = UP;
  const m = new HealthMonitor(async () => (last = answers.shift() ?? last), quiet, {
    intervalMs: 3_600_000,
    ...opts,
    onLost: (down) => events.push(`lost:${down.join(',')}`),
    onBack: () => events.push('back'),
  });
  const round = async (s: DependencyStatus) => {
    answers.push(s);
    m.runNow();
    await new Promise((r) => setTimeout(r, 0));
    await new Promise((r) => setTimeout(r, 0));
  };
  return { m, events, round };
}

describe('HealthMonitor', () => {
  it('is unavailable until the first healthy round, then available', async () => {
    const { m, round } = driven();
    expect(m.available).toBe(false);
    await round(NATS_DOWN);
    expect(m.available).toBe(false);
    await round(UP);
    expect(m.available).toBe(true);
  });

  it('one failing round does not take the region out (hysteresis); two do, once', async () => {
    const { m, events, round } = driven({ downAfter: 2 });
    await round(UP);
    await round(NATS_DOWN);
    expect(m.available).toBe(true);
    expect(m.down).toEqual(['nats']);
    await round(UP);
    await round(NATS_DOWN);
    expect(m.available).toBe(true);
    await round(NATS_DOWN);
    expect(m.available).toBe(false);
    await round({ nats: false, cassandra: false, postgres: true });
    expect(events.filter((e) => e.startsWith('lost'))).toEqual(['lost:nats']);
  });

  it('comes back after upAfter healthy rounds', async () => {
    const { m, events, round } = driven({ downAfter: 1, upAfter: 2 });
    await round(UP);
    expect(m.available).toBe(false);
    await round(UP);
    await round(NATS_DOWN);
    expect(m.available).toBe(false);
    await round(UP);
    expect(m.available).toBe(false);
    await round(UP);
    expect(m.available).toBe(true);
    expect(events).toEqual(['back', 'lost:nats', 'back']);
  });

  it('ready() resolves on the first healthy round and rejects naming what is down', async () => {
    const { m, round } = driven();
    const waiting = m.ready(60_000, 'r1');
    await round(UP);
    await expect(waiting).resolves.toBeUndefined();
    const { m: m2, round: round2 } = driven();
    await round2({ nats: true, cassandra: false, postgres: false });
    await expect(m2.ready(20, 'r1')).rejects.toThrow(/r1 not ready within 20 ms: down: cassandra, postgres/);
  });
});
