/**
 * Percentiles and summaries for the benchmarks (bench/chat.bench.ts and its load generator).
 *
 * Percentiles are nearest-rank (no interpolation): the q-percentile of n values is the value at
 * rank ceil(q * n) of the ascending order, so it is always one of the measured values, and at
 * least q * n of the values are <= it. q = 0 gives the minimum.
 */

/** Nearest-rank percentile of `sorted` (ascending), `q` in [0, 1]; NaN for no values. */
export function percentile(sorted: ArrayLike<number>, q: number): number {
  if (!(q >= 0 && q <= 1)) throw new RangeError(`percentile: q must be in [0, 1], got ${q}`);
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  const rank = Math.max(1, Math.ceil(q * n));
  return sorted[Math.min(n, rank) - 1]!;
}

/** What the reports print about one set of samples (same unit as the samples). */
export interface Summary {
  readonly n: number;
  readonly min: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
  readonly mean: number;
}

/** Summary of `values` in any order (not modified); NaN fields when there are none. */
export function summarize(values: ArrayLike<number>): Summary {
  const sorted = Float64Array.from(values as ArrayLike<number>).sort();
  const n = sorted.length;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += sorted[i]!;
  return {
    n,
    min: n > 0 ? sorted[0]! : Number.NaN,
    p50: percentile(sorted, 0.5),
    p95: percentile(sorted, 0.95),
    p99: percentile(sorted, 0.99),
    max: n > 0 ? sorted[n - 1]! : Number.NaN,
    mean: n > 0 ? sum / n : Number.NaN,
  };
}

/** A growable list of numbers (a Float64Array underneath: no per-sample object). */
export class Samples {
  private data = new Float64Array(1024);
  private size = 0;

  get length(): number {
    return this.size;
  }

  push(v: number): void {
    if (this.size === this.data.length) {
      const bigger = new Float64Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.size++] = v;
  }

  /** The samples so far (a copy). */
  values(): Float64Array {
    return this.data.slice(0, this.size);
  }

  summary(): Summary {
    return summarize(this.values());
  }
}
