/**
 * The sync policy every generated Application uses: automated with prune and self-heal,
 * and a bounded exponential retry, because cross-cluster dependencies (a peer region's
 * database, an operator's webhook) are only ever satisfied by retrying.
 */
export interface RetryPolicy {
  /** Attempts before the sync is marked failed. @default 10 */
  readonly limit: number;
  /** First backoff, e.g. `10s`. */
  readonly duration: string;
  /** Multiplier per attempt (ArgoCD requires an integer). */
  readonly factor: number;
  /** Backoff cap, e.g. `5m`. */
  readonly maxDuration: string;
}

export const DEFAULT_RETRY: RetryPolicy = { limit: 10, duration: '10s', factor: 2, maxDuration: '5m' };

export function automatedSyncPolicy(
  syncOptions: readonly string[],
  opts: { prune?: boolean; retry?: RetryPolicy } = {},
) {
  const retry = opts.retry ?? DEFAULT_RETRY;
  if (!Number.isInteger(retry.factor) || retry.factor < 1) {
    throw new Error(`retry.factor must be a positive integer for ArgoCD, got ${retry.factor}`);
  }
  return {
    automated: { enabled: true, prune: opts.prune ?? true, selfHeal: true, allowEmpty: false },
    retry: {
      limit: retry.limit,
      backoff: { duration: retry.duration, factor: retry.factor, maxDuration: retry.maxDuration },
    },
    syncOptions: [...syncOptions],
  };
}
