/**
 * The two kinds of failure a frame handler can end in, besides a bug: a `Refusal` the client is
 * told about as is (its code and message), and a dependency that is down or slow, answered
 * `unavailable` so the client retries (`isUnavailableError`).
 */
import cassandra from 'cassandra-driver';
import type { ErrorCode } from './protocol.js';

/** A refusal the client is told about (code + message, never a client value). */
export class Refusal extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** Cassandra error codes that mean "not now": unavailable, overloaded, bootstrapping, timeouts. */
const CASSANDRA_UNAVAILABLE = new Set([0x1000, 0x1001, 0x1002, 0x1100, 0x1200, 0x1300, 0x1400, 0x1500]);

/** Errors that mean a dependency is down or slow (answered `unavailable`), not a bug. */
export function isUnavailableError(e: unknown): boolean {
  if (!(e instanceof Error)) return false;
  if (e instanceof cassandra.errors.NoHostAvailableError || e instanceof cassandra.errors.OperationTimedOutError) return true;
  if (e instanceof cassandra.errors.ResponseError && CASSANDRA_UNAVAILABLE.has(e.code)) return true;
  const code = (e as { code?: unknown }).code;
  if (typeof code === 'string' && (/^08/.test(code) || /^57P0/.test(code) || /^53/.test(code))) return true;
  if (typeof code === 'string' && /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|CONNECTION_CLOSED|DISCONNECT|TIMEOUT)$/.test(code)) return true;
  return /timeout|terminated|connection (closed|ended)|not queryable|ECONNREFUSED/i.test(e.message);
}
