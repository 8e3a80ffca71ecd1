/**
 * The reconnect schedule: full jitter over an exponential ceiling. The expected bounds are the
 * README's formula, written out here: attempt k (0-based) waits a uniform time in
 * [0, min(cap, base * 2^k)).
 */
import { describe, expect, it } from 'vitest';
import { Backoff, BACKOFF_DEFAULTS, fullJitterDelay } from './backoff.js';

/** The README's formula, independently: the ceiling of attempt k. */
function ceiling(k: number, base: number, cap: number): number {
  let c = base;
  for (let i = 0; i < k && c < cap; i++) c *= 2;
  return Math.min(c, cap);
}

describe('reconnect back-off (full jitter)', () => {
  it('documents its defaults: base 1 s, cap 30 s, reset after 30 s up', () => {
    expect(BACKOFF_DEFAULTS).toEqual({ baseMs: 1_000, capMs: 30_000, stableMs: 30_000 });
  });

  it.each([
    { baseMs: 1_000, capMs: 30_000 },
    { baseMs: 200, capMs: 2_000 },
    { baseMs: 500, capMs: 500 },
  ])('attempt k waits in [0, min(cap, base * 2^k)): %o', (o) => {
    const b = new Backoff(o);
    for (let k = 0; k < 12; k++) {
      const step = b.next();
      expect(step.attempt).toBe(k);
      expect(step.ceilingMs).toBe(ceiling(k, o.baseMs, o.capMs));
      expect(step.delayMs).toBeGreaterThanOrEqual(0);
      expect(step.delayMs).toBeLessThan(ceiling(k, o.baseMs, o.capMs));
    }
  });

  it('the ends of the jitter: random 0 -> no wait, random just below 1 -> just below the ceiling', () => {
    const o = { baseMs: 250, capMs: 8_000 };
    for (let k = 0; k < 10; k++) {
      expect(fullJitterDelay(k, o, () => 0)).toBe(0);
      expect(fullJitterDelay(k, o, () => 0.999999)).toBe(Math.floor(0.999999 * ceiling(k, o.baseMs, o.capMs)));
    }
    // Far past the cap the ceiling stays the cap (no overflow to Infinity or NaN).
    expect(fullJitterDelay(5_000, o, () => 0.5)).toBe(4_000);
  });

  it('spreads a crowd over the whole window (not in waves): 10,000 first retries fill every tenth of [0, base)', () => {
    const base = 1_000;
    const tenths = new Array<number>(10).fill(0);
    for (let i = 0; i < 10_000; i++) tenths[Math.floor(new Backoff({ baseMs: base, capMs: 30_000 }).next().delayMs / (base / 10))]! += 1;
    // Uniform: about 1,000 per tenth (binomial sd ~30; 800..1200 is > 6 sd).
    for (const n of tenths) expect(n).toBeGreaterThan(800), expect(n).toBeLessThan(1_200);
  });

  it('reset() starts the schedule again (after a stable connection)', () => {
    const b = new Backoff({ baseMs: 100, capMs: 10_000 }, () => 0.5);
    expect([b.next().delayMs, b.next().delayMs, b.next().delayMs]).toEqual([50, 100, 200]);
    b.reset();
    expect(b.attempts).toBe(0);
    expect(b.next()).toEqual({ attempt: 0, delayMs: 50, ceilingMs: 100 });
  });

  it('refuses a cap below the base or a base of 0', () => {
    expect(() => new Backoff({ baseMs: 1_000, capMs: 500 })).toThrow(/0 < baseMs <= capMs/);
    expect(() => new Backoff({ baseMs: 0 })).toThrow(/0 < baseMs <= capMs/);
  });
});
