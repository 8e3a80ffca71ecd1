/** Errors of `bootstrap-spock` shared by the flow modules (bootstrap.ts re-exports them). */

/** The run failed (deadline, unreachable or stuck peers, a conflicting catalog). Exit code 1. */
export class BootstrapError extends Error {
  constructor(
    message: string,
    /** Peers the failure is about (unreachable, not replicating). */
    readonly peers: readonly string[] = [],
  ) {
    super(message);
    this.name = 'BootstrapError';
  }
}

const str = (v: unknown): string => (v === null || v === undefined ? '' : String(v));

/** An error's message with the server's DETAIL, for logs and BootstrapError messages. */
export function errText(e: unknown): string {
  if (e instanceof Error) {
    const detail = (e as { detail?: unknown }).detail;
    return detail ? `${e.message} (${str(detail)})` : e.message;
  }
  return String(e);
}
