/**
 * Structured JSON logs on stdout, one object per line. Fields whose name looks like a
 * credential are replaced before anything is written, and `password=` inside any string
 * (a DSN, an error message from a driver) is masked.
 */
export type Level = 'debug' | 'info' | 'warn' | 'error';

const SECRET_KEY = /pass(word)?|secret|token|credential|authorization|cookie|otp|code_hash|sslkey/i;
const SECRET_IN_TEXT = /(password|pass|pwd|token)(\s*[=:]\s*)('[^']*'|"[^"]*"|[^\s&;,]+)/gi;

/** Masks credential-looking fields and `password=...` fragments (exported for tests). */
export function redact(value: unknown, depth = 0): unknown {
  if (depth > 6) return '[deep]';
  if (typeof value === 'string') return value.replace(SECRET_IN_TEXT, '$1$2***');
  if (value instanceof Error) return { name: value.name, message: redact(value.message, depth + 1) };
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = SECRET_KEY.test(k) ? '***' : redact(v, depth + 1);
    return out;
  }
  return value;
}

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export function createLogger(
  base: Record<string, unknown> = {},
  opts: { level?: Level; write?: (line: string) => void } = {},
): Logger {
  const min = ORDER[opts.level ?? ((process.env['LOG_LEVEL'] as Level | undefined) ?? 'info')] ?? ORDER.info;
  const write = opts.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  const emit = (level: Level, msg: string, fields?: Record<string, unknown>) => {
    if (ORDER[level] < min) return;
    const record = redact({ time: new Date().toISOString(), level, msg, ...base, ...fields }) as Record<string, unknown>;
    write(JSON.stringify(record));
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (fields) => createLogger({ ...base, ...fields }, opts),
  };
}
