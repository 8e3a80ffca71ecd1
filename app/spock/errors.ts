/** Errors of `bootstrap-spock` shared by the flow modules (bootstrap.ts re-exports them). */
import { maskSecretsIn } from './dsn.js';

/** The run failed (deadline, unreachable or stuck peers, a conflicting catalog). Exit code 1. */
export class BootstrapError extends Error {
  constructor(
    message: string,
    /** Peers the failure is about (unreachable, not replicating). */
    readonly peers: readonly string[] = [],
  ) {
    // Messages quote server errors, which can quote a DSN: never a secret in one.
    super(maskSecretsIn(message));
    this.name = 'BootstrapError';
  }
}

const str = (v: unknown): string => (v === null || v === undefined ? '' : String(v));

/** An error's message with the server's DETAIL, for logs and BootstrapError messages; secrets of DSNs masked. */
export function errText(e: unknown): string {
  if (e instanceof Error) {
    const detail = (e as { detail?: unknown }).detail;
    return maskSecretsIn(detail ? `${e.message} (${str(detail)})` : e.message);
  }
  return maskSecretsIn(String(e));
}
