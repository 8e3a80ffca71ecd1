import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { percentile, Samples, summarize } from './stats.js';

describe('percentile (nearest rank)', () => {
  it('picks the value at rank ceil(q*n) of 1..100 and 1..1000', () => {
    const hundred = Array.from({ length: 100 }, (_, i) => i + 1);
    expect([0.5, 0.95, 0.99, 1].map((q) => percentile(hundred, q))).toEqual([50, 95, 99, 100]);
    const thousand = Array.from({ length: 1000 }, (_, i) => i + 1);
    expect([0.5, 0.95, 0.99].map((q) => percentile(thousand, q))).toEqual([500, 950, 990]);
  });

  it('q = 0 is the minimum, one value is every percentile, no values is NaN', () => {
    expect(percentile([3, 7], 0)).toBe(3);
    expect([0, 0.5, 0.99, 1].map((q) => percentile([42], q))).toEqual([42, 42, 42, 42]);
    expect(percentile([], 0.5)).toBeNaN();
  });

  it('rounds the rank up: p50 of 4 values is the 2nd, p99 of 10 values is the 10th', () => {
    expect(percentile([10, 20, 30, 40], 0.5)).toBe(20);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.99)).toBe(10);
  });

  it('refuses q outside [0, 1]', () => {
    expect(() => percentile([1], 1.5)).toThrow(/q must be in \[0, 1\]/);
    expect(() => percentile([1], Number.NaN)).toThrow(RangeError);
  });

  it('is a measured value with at least q*n values at or below it and fewer than q*n below it', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ noNaN: true, min: -1e6, max: 1e6 }), { minLength: 1, maxLength: 200 }), fc.double({ min: 0.001, max: 1, noNaN: true }), (xs, q) => {
        const sorted = [...xs].sort((a, b) => a - b);
        const p = percentile(sorted, q);
        expect(xs).toContain(p);
        expect(xs.filter((x) => x <= p).length).toBeGreaterThanOrEqual(q * xs.length);
        expect(xs.filter((x) => x < p).length).toBeLessThan(q * xs.length);
      }),
    );
  });
});

describe('summarize', () => {
  it('sorts its input (numerically, not as strings) and does not modify it', () => {
    const input = [100, 9, 20, 3];
    const s = summarize(input);
    expect(input).toEqual([100, 9, 20, 3]);
    expect(s).toEqual({ n: 4, min: 3, p50: 9, p95: 100, p99: 100, max: 100, mean: 33 });
  });

  it('gives NaN fields and n 0 for no values', () => {
    const s = summarize([]);
    expect(s.n).toBe(0);
    for (const k of ['min', 'p50', 'p95', 'p99', 'max', 'mean'] as const) expect(s[k]).toBeNaN();
  });
});

describe('Samples', () => {
  it('keeps every pushed value past its initial capacity', () => {
    const s = new Samples();
    for (let i = 5000; i >= 1; i--) s.push(i / 10);
    expect(s.length).toBe(5000);
    const sum = s.summary();
    expect(sum.n).toBe(5000);
    expect(sum.min).toBe(0.1);
    expect(sum.max).toBe(500);
    expect(sum.p99).toBe(495); // rank 4950 of 0.1, 0.2, ..., 500
    expect(s.values()).toHaveLength(5000);
  });
});
