import { describe, expect, it } from 'vitest';
import { Debouncer, FloodGuard, TokenBucket } from './ratelimit.js';

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
