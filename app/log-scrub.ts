/**
 * What keeps credentials out of log lines, besides pino's `redact` paths (app/log.ts):
 *   - REDACT_PATHS: the credential field names we know (top level; the main ones one level down), for pino;
 *   - sanitize(): the backstop pino cannot do: a field whose NAME looks like a credential at
 *     any depth (`natsPassword`, `CHAT_SMTP_PASSWORD`, `x-api-key`, ...), `password=...`,
 *     `token: ...`, `scheme://user:secret@host`, `Bearer ...` and `AUTH PLAIN ...` inside any STRING (a DSN, a
 *     driver's error message, a stack), and Error objects turned into plain fields
 *     { name, message, code, stack, cause } with their texts scrubbed.
 * Both censor with CENSOR; a credential inside a text becomes `***` (as maskDsn writes it).
 */

/** What a redacted field's value becomes. */
export const CENSOR = '[REDACTED]';

/** What a credential inside a text becomes (same as app/spock/dsn.ts maskDsn). */
export const TEXT_MASK = '***';

/**
 * Field names pino redacts by path. `code` is not here: a login code is a credential, but an
 * Error's `code` (ECONNREFUSED, 28P01) is what an operator needs, and a path cannot tell the two
 * apart; sanitize() redacts `code` everywhere except in a serialized Error.
 */
export const CREDENTIAL_KEYS = [
  'password', 'pass', 'passwd', 'pwd', 'sslpassword', 'PGPASSWORD',
  'secret', 'clientSecret', 'token', 'accessToken', 'refreshToken', 'sessionToken',
  'key', 'apiKey', 'api_key', 'privateKey', 'sslkey', 'webhookKey',
  'authorization', 'Authorization', 'cookie', 'Cookie', 'set-cookie', 'Set-Cookie',
  'otp', 'loginCode', 'codeHash', 'code_hash', 'credentials', 'creds', 'nkey',
  'NATS_PASSWORD', 'NATS_TOKEN', 'CASSANDRA_PASSWORD', 'POSTGRES_PASSWORD',
  'CHAT_SMTP_PASSWORD', 'CHAT_WEBHOOK_KEY',
] as const;

/** Names pino also redacts one level down (`headers.authorization`, `smtp.password`, `error.token`). */
export const NESTED_CREDENTIAL_KEYS = ['password', 'token', 'secret', 'key', 'authorization', 'cookie'] as const;

function pathSegment(name: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(name) ? name : `["${name}"]`;
}

/**
 * pino `redact.paths`: every CREDENTIAL_KEYS name as a top-level field, and the
 * NESTED_CREDENTIAL_KEYS one level down (`*` matches any key and array index). Not deeper:
 * each wildcard path costs pino (@pinojs/redact 0.4) about 1.5 µs on EVERY line, so all names
 * at depths 0..4 (185 paths) cost ~400 µs a line; sanitize() covers every depth by name pattern.
 */
export const REDACT_PATHS: readonly string[] = [
  ...CREDENTIAL_KEYS.map(pathSegment),
  ...NESTED_CREDENTIAL_KEYS.map((k) => `*.${pathSegment(k)}`),
];

/**
 * A field name that holds a credential, at any depth (today's logger's rule, kept and widened):
 * anything containing pass/pwd/secret/token/credential/authorization/cookie/otp/code_hash, a key
 * named `key` or ending in `_key`/`-key`, api/private/signing/webhook/ssl keys, nkeys, creds,
 * a login code; and exactly `code` (outside an Error).
 */
const SECRET_KEY =
  /pass(word|wd)?|pwd|secret|token|credential|authorization|cookie|otp|code_?hash|(^|[_-])key$|(api|private|signing|webhook|hmac|ssl)[_-]?key|nkey|creds|login_?code|^code$/i;

export function isSecretKey(name: string): boolean {
  return SECRET_KEY.test(name);
}

/** `password=x`, `PGPASSWORD: 'x'`, `"token":"x"`, `api_key=x`: keeps the name, masks the value. */
const SECRET_ASSIGNMENT = /((?:password|passwd|pass|pwd|token|secret|api[_-]?key|authorization))(["']?\s*[=:]\s*)('[^']*'|"[^"]*"|[^\s&;,]+)/gi;
/** `scheme://user:secret@host` (DSNs, NATS and SMTP URLs). */
const URI_USERINFO = /([a-z][a-z0-9+.-]*:\/\/[^\s:/?#@]*:)[^\s@/?#]*(@)/gi;
/** `Bearer <token>` in a header someone pasted into a message. */
const BEARER = /\b(bearer)\s+[A-Za-z0-9._~+/=-]+/gi;
/** `AUTH PLAIN <base64 of user and password>` echoed in an SMTP transcript or error. */
const SMTP_AUTH = /\b(AUTH\s+(?:PLAIN|LOGIN|XOAUTH2))\s+[A-Za-z0-9+/=]+/gi;

/** Masks credentials inside a text (DSN passwords, `password=`, `token:`, URL userinfo, bearer tokens, SMTP AUTH). */
export function scrubText(text: string): string {
  return text
    .replace(SMTP_AUTH, `$1 ${TEXT_MASK}`)
    .replace(BEARER, `$1 ${TEXT_MASK}`)
    .replace(URI_USERINFO, `$1${TEXT_MASK}$2`)
    .replace(SECRET_ASSIGNMENT, `$1$2${TEXT_MASK}`);
}

/** Deepest nesting sanitize() walks; below it a value becomes '[deep]' (default 8). */
const MAX_DEPTH = 8;

/** An Error as plain fields: name, message, code, stack, cause (and errors of an AggregateError), scrubbed. */
export function serializeError(e: Error, depth = 0, seen = new WeakSet<object>()): Record<string, unknown> {
  seen.add(e);
  const out: Record<string, unknown> = { name: e.name, message: scrubText(String(e.message)) };
  const code = (e as { code?: unknown }).code;
  if (typeof code === 'string' || typeof code === 'number') out['code'] = typeof code === 'string' ? scrubText(code) : code;
  if (typeof e.stack === 'string') out['stack'] = scrubText(e.stack);
  if (e.cause !== undefined) out['cause'] = sanitize(e.cause, depth + 1, seen);
  if (e instanceof AggregateError) out['errors'] = sanitize(e.errors, depth + 1, seen);
  return out;
}

/**
 * A copy of `value` that is safe to log: credential-named fields censored at any depth, texts
 * scrubbed, Errors serialized, cycles cut ('[circular]'), BigInts as strings. Never mutates `value`.
 */
export function sanitize(value: unknown, depth = 0, seen = new WeakSet<object>()): unknown {
  if (typeof value === 'string') return scrubText(value);
  if (typeof value === 'bigint') return value.toString();
  if (value === null || typeof value !== 'object') return value;
  if (depth > MAX_DEPTH) return '[deep]';
  if (seen.has(value)) return '[circular]';
  if (value instanceof Error) return serializeError(value, depth, seen);
  seen.add(value);
  try {
    if (Array.isArray(value)) return value.map((v) => sanitize(v, depth + 1, seen));
    const toJSON = (value as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === 'function') return sanitize(toJSON.call(value), depth + 1, seen);
    if (value instanceof Map) return sanitize(Object.fromEntries(value), depth, seen);
    if (value instanceof Set) return sanitize([...value], depth, seen);
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = isSecretKey(k) ? CENSOR : sanitize(v, depth + 1, seen);
    return out;
  } finally {
    seen.delete(value);
  }
}

/** sanitize() for a log call's fields or a child's bindings (always an object). */
export function sanitizeFields(fields: object): Record<string, unknown> {
  if (fields instanceof Error) return { error: serializeError(fields) };
  return sanitize(fields) as Record<string, unknown>;
}
