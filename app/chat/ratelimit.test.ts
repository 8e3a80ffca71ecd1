import { describe, expect, it } from 'vitest';
import { Debouncer, FloodGuard, TokenBucket, type FloodVerdict } from './ratelimit.js';
import { DEFAULTS } from './settings.js';

function clock(start = 0) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe('TokenBucket', () => {
  it('allows a burst, then refills at the rate, never above the burst', () => {
    const c = clock();
    const b = new TokenBucket(10, 5, c.now);
    for (let i = 0; i < 5; i++) expect(b.take()).toBe(true);
    expect(b.take()).toBe(false);
    c.advance(100); // one token
    expect(b.take()).toBe(true);
    expect(b.take()).toBe(false);
    c.advance(60_000);
    expect(b.available()).toBe(5);
  });

  it('refuses nonsense parameters', () => {
    expect(() => new TokenBucket(0, 5)).toThrow();
    expect(() => new TokenBucket(5, 0)).toThrow();
  });

  it('tolerates a clock going backwards', () => {
    const c = clock(1_000);
    const b = new TokenBucket(1, 1, c.now);
    expect(b.take()).toBe(true);
    c.advance(-500);
    expect(b.take()).toBe(false);
  });
});

describe('FloodGuard', () => {
  it('passes the burst, limits the excess, and closes a client that keeps flooding', () => {
    const c = clock();
    const g = new FloodGuard({ ratePerSecond: 20, burst: 40, now: c.now });
    const verdicts = Array.from({ length: 100 }, () => g.check());
    expect(verdicts.slice(0, 40).every((v) => v === 'ok')).toBe(true);
    expect(verdicts.slice(40, 80).every((v) => v === 'limited')).toBe(true);
    expect(verdicts[80]).toBe('close');
  });

  it('forgives a client that pauses after being limited', () => {
    const c = clock();
    const g = new FloodGuard({ ratePerSecond: 2, burst: 2, maxStrikes: 3, quietMs: 1_000, now: c.now });
    expect([g.check(), g.check(), g.check(), g.check()]).toEqual(['ok', 'ok', 'limited', 'limited']);
    c.advance(1_000);
    expect(g.check()).toBe('ok');
    expect(g.currentStrikes).toBe(0);
    expect([g.check(), g.check(), g.check(), g.check()]).toEqual(['ok', 'limited', 'limited', 'limited']);
    expect(g.check()).toBe('close');
  });

  it('never limits a client at the sustained rate', () => {
    const c = clock();
    const g = new FloodGuard({ ratePerSecond: 20, burst: 40, now: c.now });
    for (let i = 0; i < 1_000; i++) {
      expect(g.check()).toBe('ok');
      c.advance(50);
    }
  });
});

/** A seeded PRNG (mulberry32): the same "random" jitter on every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/**
 * When the frames of a paced sender ARRIVE at the server (ms, ascending): the client's interval
 * timer fires late by 0-120 ms (sometimes 300 ms) and then sends every frame due by then (bunches
 * of 2-3, up to 7), each frame is delayed 0-5 ms more on the way (order kept), and during each
 * server stall nothing is read and everything sent meanwhile arrives at the stall's end.
 */
function pacedArrivals(o: { perSecond: number; seconds: number; seed: number; stalls?: ReadonlyArray<{ at: number; ms: number }> }): number[] {
  const rnd = prng(o.seed);
  const interval = 1000 / o.perSecond;
  const total = Math.round(o.perSecond * o.seconds);
  const sends: number[] = [];
  let tick = 0;
  while (sends.length < total) {
    tick += interval;
    const late = rnd() < 0.02 ? 300 * rnd() : 120 * rnd();
    const firedAt = tick + late;
    while (sends.length < total && sends.length * interval <= firedAt) sends.push(firedAt);
  }
  const arrivals: number[] = [];
  let prev = 0;
  for (const sent of sends) {
    let at = Math.max(prev, sent + 5 * rnd());
    for (const s of o.stalls ?? []) if (at >= s.at && at < s.at + s.ms) at = s.at + s.ms;
    arrivals.push(at);
    prev = at;
  }
  return arrivals;
}

/** FloodGuard verdicts for frames arriving at `arrivals` (ms), with the given rate settings. */
function verdictsAt(arrivals: readonly number[], ratePerSecond: number, burst: number): FloodVerdict[] {
  let t = 0;
  const g = new FloodGuard({ ratePerSecond, burst, now: () => t });
  return arrivals.map((at) => {
    t = at;
    return g.check();
  });
}

describe('FloodGuard with the default settings (CHAT_RATE_PER_SECOND / CHAT_RATE_BURST)', () => {
  const rate = DEFAULTS.ratePerSecond;
  const burst = DEFAULTS.rateBurst;
  /** The longest server stall a 20 msg/s sender survives: the bucket (full before) covers `burst` frames. */
  const survivableStallMs = (burst / 20) * 1000;

  it('never refuses a 20 msg/s sender with timer jitter (60 s simulated, several seeds)', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const arrivals = pacedArrivals({ perSecond: 20, seconds: 60, seed });
      expect(arrivals.length).toBe(1_200);
      const bunched = arrivals.filter((a, i) => i > 0 && a - arrivals[i - 1]! < 1).length;
      expect(bunched).toBeGreaterThan(100); // the jitter model does bunch frames
      const refused = verdictsAt(arrivals, rate, burst).filter((v) => v !== 'ok').length;
      expect(refused, `seed ${seed}`).toBe(0);
    }
  });

  it('never refuses a 20 msg/s sender through server stalls shorter than burst / 20 s', () => {
    const stallMs = 0.9 * survivableStallMs;
    const stalls = [10_000, 25_000, 40_000].map((at) => ({ at, ms: stallMs }));
    const arrivals = pacedArrivals({ perSecond: 20, seconds: 60, seed: 7, stalls });
    expect(verdictsAt(arrivals, rate, burst).filter((v) => v !== 'ok')).toEqual([]);
  });

  it('refuses (without closing) a 20 msg/s sender only after a stall longer than burst / 20 s', () => {
    const stalls = [{ at: 10_000, ms: 1.5 * survivableStallMs }];
    const verdicts = verdictsAt(pacedArrivals({ perSecond: 20, seconds: 30, seed: 8, stalls }), rate, burst);
    const refused = verdicts.filter((v) => v === 'limited').length;
    // Frames sent during the stall beyond what the full bucket covers, give or take the jitter.
    expect(refused).toBeGreaterThan(0.5 * survivableStallMs * 0.02 - 5);
    expect(refused).toBeLessThan(0.5 * survivableStallMs * 0.02 + 10);
    expect(verdicts).not.toContain('close');
  });

  it('refuses a flood after the burst, then closes it', () => {
    const verdicts = verdictsAt(
      Array.from({ length: 500 }, (_, i) => i * 0.01),
      rate,
      burst,
    );
    const firstLimited = verdicts.indexOf('limited');
    const firstClose = verdicts.indexOf('close');
    expect(firstLimited).toBe(burst);
    expect(firstClose).toBe(2 * burst);
    expect(verdicts.slice(burst, 2 * burst).every((v) => v === 'limited')).toBe(true);
  });

  it('refuses a sender slightly above the rate for its excess, and closes it when it keeps going', () => {
    const overRate = rate * 1.2;
    const arrivals = Array.from({ length: overRate * 60 }, (_, i) => (i * 1000) / overRate);
    const verdicts = verdictsAt(arrivals, rate, burst);
    const firstLimited = verdicts.indexOf('limited');
    // The bucket drains at (overRate - rate) frames/s from `burst`.
    expect(arrivals[firstLimited]! / 1000).toBeCloseTo(burst / (overRate - rate), 0);
    expect(verdicts).toContain('close');
  });
});

describe('Debouncer', () => {
  it('lets one event per key through per interval', () => {
    const c = clock();
    const d = new Debouncer(2_000, c.now);
    expect(d.allow('u:r')).toBe(true);
    expect(d.allow('u:r')).toBe(false);
    expect(d.allow('u:other')).toBe(true);
    c.advance(1_999);
    expect(d.allow('u:r')).toBe(false);
    c.advance(1);
    expect(d.allow('u:r')).toBe(true);
  });

  it('stays bounded in memory', () => {
    const c = clock();
    const d = new Debouncer(1_000, c.now, 10);
    for (let i = 0; i < 100; i++) expect(d.allow(`k${i}`)).toBe(true);
    expect((d as unknown as { last: Map<string, number> }).last.size).toBeLessThanOrEqual(10);
  });
});
