/**
 * Structured JSON logs, one object per line, on pino:
 *   {"level":"info","time":"2026-05-01T12:00:00.000Z",<bindings>,<fields>,"msg":"..."}
 * `level` is the label (debug|info|warn|error), `time` ISO 8601 UTC. No pid/hostname (the
 * platform adds pod and node). Credentials never reach a line: pino's `redact` paths censor the
 * known credential fields (app/log-scrub.ts REDACT_PATHS) with "[REDACTED]", and every call's
 * fields and a child's bindings first go through sanitize() (credential-LOOKING names at any
 * depth, `password=`/DSN passwords inside texts, Errors as {name, message, code, stack, cause}).
 *
 * Writes are synchronous (process.stdout.write, synchronous for files, TTYs and pipes on Linux):
 * a line is in the pipe when the call returns, so `process.exit()` right after logging, a crash, or SIGKILL after a log call loses
 * nothing, and lines interleave in order with process.stdout.write. Our volume is tens of
 * lines per second at most (connections, logins, dependency changes; never per message), so
 * the cost of a write(2) per line (a few µs) does not matter; pino's async mode would buffer
 * 4 KiB and need exit hooks to flush.
 */
import pino, { type DestinationStream, type LoggerOptions } from 'pino';
import { CENSOR, REDACT_PATHS, sanitizeFields, scrubText } from './log-scrub.js';

export type Level = 'debug' | 'info' | 'warn' | 'error';
const LEVELS: readonly Level[] = ['debug', 'info', 'warn', 'error'];

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  /** A logger whose lines also carry `fields` (a later child's field replaces an earlier one). */
  child(fields: Record<string, unknown>): Logger;
}

export interface LoggerOpts {
  /** Lowest level written (default: $LOG_LEVEL, else 'info'). */
  level?: Level;
  /** Where each line goes, without its newline (default: stdout, synchronously). Tests capture with it. */
  write?: (line: string) => void;
}

/**
 * Every line through `process.stdout.write`, which Node performs synchronously for files, TTYs and
 * pipes on Linux (see the header for why sync), and which stays the one place output goes (tests
 * and wrappers that replace process.stdout.write see the lines).
 */
const stdout: DestinationStream = { write: (line: string) => void process.stdout.write(line) };
function stdoutDestination(): DestinationStream {
  return stdout;
}

function destination(write: ((line: string) => void) | undefined): DestinationStream {
  if (!write) return stdoutDestination();
  return { write: (chunk: string) => write(chunk.endsWith('\n') ? chunk.slice(0, -1) : chunk) };
}

/** The level to use and, when $LOG_LEVEL is not a level, the problem to log once. */
function chooseLevel(given: Level | undefined): { level: Level; problem?: string } {
  if (given !== undefined) {
    if (!LEVELS.includes(given)) throw new Error(`createLogger: level '${String(given)}' is not one of ${LEVELS.join(', ')}`);
    return { level: given };
  }
  const env = process.env['LOG_LEVEL'];
  if (env === undefined || env === '') return { level: 'info' };
  const level = env.toLowerCase() as Level;
  if (LEVELS.includes(level)) return { level };
  return { level: 'info', problem: `LOG_LEVEL='${env}' is not one of ${LEVELS.join(', ')}; logging at info (set LOG_LEVEL to fix)` };
}

/** pino settings, all explicit (no reliance on pino's defaults for the line shape). */
function pinoOptions(level: Level): LoggerOptions {
  return {
    level,
    messageKey: 'msg',
    base: null,
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: {
      level: (label) => ({ level: label }),
      // pino applies a bindings formatter to the root's `base` only (null here), not to children.
      bindings: (bindings) => bindings,
      log: (fields) => sanitizeFields(fields),
    },
    serializers: {},
    redact: { paths: [...REDACT_PATHS], censor: CENSOR },
  };
}

/** Wraps one pino logger in our call shape (message first, fields second). */
function wrap(root: pino.Logger, bindings: Record<string, unknown>): Logger {
  const p = Object.keys(bindings).length ? root.child(sanitizeFields(bindings)) : root;
  const emit = (level: Level, msg: string, fields?: Record<string, unknown>) => {
    if (!p.isLevelEnabled(level)) return;
    if (fields === undefined) p[level](scrubText(msg));
    else p[level](fields, scrubText(msg));
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (fields) => wrap(root, { ...bindings, ...fields }),
  };
}

/** A logger whose every line carries `base`; see LoggerOpts for the options and their defaults. */
export function createLogger(base: Record<string, unknown> = {}, opts: LoggerOpts = {}): Logger {
  const { level, problem } = chooseLevel(opts.level);
  const root = pino(pinoOptions(level), destination(opts.write));
  const log = wrap(root, base);
  if (problem) log.warn(problem);
  return log;
}
