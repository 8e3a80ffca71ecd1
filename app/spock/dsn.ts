/**
 * libpq connection strings (conninfo `key=value ...` and `postgresql://` URIs): enough parsing
 * to refuse credentials and to mask before logging. Node DSNs are stored in Spock/pglogical
 * catalogs on every node and read by the postgres server processes, so they must carry file
 * paths (client certificates, a passfile), never a secret.
 */

/** Keywords whose value is a secret. `sslpassword` decrypts an encrypted client key. */
export const SECRET_KEYWORDS: ReadonlySet<string> = new Set(['password', 'sslpassword']);

export class DsnSyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DsnSyntaxError';
  }
}

export function isUri(dsn: string): boolean {
  return /^\s*postgres(ql)?:\/\//i.test(dsn);
}

/**
 * Parses a keyword/value conninfo string the way libpq does: `key = value` pairs separated by
 * whitespace, values optionally in single quotes with `\'` and `\\` escapes.
 * Throws DsnSyntaxError on malformed text; its message gives positions, never input text (a
 * malformed DSN may still hold a secret).
 */
export function parseConninfo(dsn: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  let i = 0;
  const n = dsn.length;
  const ws = (c: string | undefined) => c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f' || c === '\v';
  while (i < n) {
    while (i < n && ws(dsn[i])) i++;
    if (i >= n) break;
    const kStart = i;
    while (i < n && dsn[i] !== '=' && !ws(dsn[i])) i++;
    const key = dsn.slice(kStart, i);
    while (i < n && ws(dsn[i])) i++;
    if (dsn[i] !== '=') throw new DsnSyntaxError(`missing "=" after the keyword at position ${kStart + 1}`);
    i++;
    while (i < n && ws(dsn[i])) i++;
    let value = '';
    if (dsn[i] === "'") {
      i++;
      let closed = false;
      while (i < n) {
        const c = dsn[i]!;
        if (c === '\\' && i + 1 < n) {
          value += dsn[i + 1];
          i += 2;
        } else if (c === "'") {
          i++;
          closed = true;
          break;
        } else {
          value += c;
          i++;
        }
      }
      if (!closed) throw new DsnSyntaxError(`unterminated quoted value after the keyword at position ${kStart + 1}`);
    } else {
      while (i < n && !ws(dsn[i])) {
        if (dsn[i] === '\\' && i + 1 < n) {
          value += dsn[i + 1];
          i += 2;
        } else {
          value += dsn[i];
          i++;
        }
      }
    }
    if (!/^[a-z_]+$/.test(key)) throw new DsnSyntaxError(`invalid keyword at position ${kStart + 1}`);
    out.push([key, value]);
  }
  return out;
}

/** Quotes a conninfo value when it needs it. */
export function quoteConninfoValue(v: string): string {
  return v !== '' && /^[^\s'\\]+$/.test(v) ? v : `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

function uriParts(dsn: string): { userinfoPassword: boolean; params: Array<[string, string]> } {
  const m = /^\s*postgres(?:ql)?:\/\/([^/?#]*)([^?#]*)(\?[^#]*)?/i.exec(dsn);
  const authority = m?.[1] ?? '';
  const at = authority.lastIndexOf('@');
  const userinfo = at >= 0 ? authority.slice(0, at) : '';
  const params: Array<[string, string]> = [];
  for (const part of (m?.[3] ?? '').replace(/^\?/, '').split('&')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    const k = eq >= 0 ? part.slice(0, eq) : part;
    const v = eq >= 0 ? part.slice(eq + 1) : '';
    let key = k;
    let value = v;
    try {
      key = decodeURIComponent(k);
      value = decodeURIComponent(v);
    } catch {
      /* keep raw */
    }
    params.push([key, value]);
  }
  return { userinfoPassword: userinfo.includes(':'), params };
}

/** The keywords of `dsn` that carry a secret (`password`, `sslpassword`, a URI's `user:pass@`). */
export function secretKeywords(dsn: string): string[] {
  if (isUri(dsn)) {
    const { userinfoPassword, params } = uriParts(dsn);
    const found = params.filter(([k]) => SECRET_KEYWORDS.has(k.toLowerCase())).map(([k]) => k.toLowerCase());
    return [...(userinfoPassword ? ['password (in the URI user info)'] : []), ...found];
  }
  return parseConninfo(dsn)
    .filter(([k]) => SECRET_KEYWORDS.has(k.toLowerCase()))
    .map(([k]) => k);
}

/** True when `dsn` carries a password in any form libpq accepts (or cannot be parsed safely). */
export function dsnHasPassword(dsn: string): boolean {
  try {
    return secretKeywords(dsn).length > 0;
  } catch {
    // Unparseable: be conservative if the word appears at all.
    return /pass/i.test(dsn);
  }
}

/** Keyword -> value of a conninfo DSN (last one wins, as in libpq); URIs give host/port/dbname/user and params. */
export function conninfoMap(dsn: string): Map<string, string> {
  if (!isUri(dsn)) return new Map(parseConninfo(dsn));
  const map = new Map<string, string>();
  try {
    const u = new URL(dsn.trim());
    if (u.hostname) map.set('host', decodeURIComponent(u.hostname));
    if (u.port) map.set('port', u.port);
    if (u.username) map.set('user', decodeURIComponent(u.username));
    const db = decodeURIComponent(u.pathname.replace(/^\//, ''));
    if (db) map.set('dbname', db);
  } catch {
    /* multi-host URIs are not URL-parseable; params below still apply */
  }
  for (const [k, v] of uriParts(dsn).params) map.set(k, v);
  return map;
}

/**
 * `dsn` with every secret replaced by `***`, safe to log. Unparseable input is replaced whole
 * (its shape is unknown, so nothing of it is echoed).
 */
export function maskDsn(dsn: string): string {
  try {
    if (isUri(dsn)) {
      return dsn
        .replace(/^(\s*postgres(?:ql)?:\/\/[^:/?#@]*):[^@/?#]*@/i, '$1:***@')
        .replace(/([?&](?:ssl)?password=)[^&#]*/gi, '$1***');
    }
    return parseConninfo(dsn)
      .map(([k, v]) => `${k}=${SECRET_KEYWORDS.has(k.toLowerCase()) ? '***' : quoteConninfoValue(v)}`)
      .join(' ');
  } catch {
    return '[unparseable dsn]';
  }
}

/**
 * `text` (an error message, a log line) with every secret a DSN can carry replaced by `***`:
 * `password=` / `sslpassword=` values in conninfo or URI-parameter form (quoted or not) and the
 * password of a URI's user info. Spock and pglogical quote the DSN they failed with in their
 * errors ("dsn was: ..."), so every error text passes through here before it is logged.
 */
export function maskSecretsIn(text: string): string {
  return text
    .replace(/\b((?:ssl)?password)(\s*=\s*)('(?:[^'\\]|\\.)*'?|[^\s&#"]+)/gi, '$1$2***')
    .replace(/(postgres(?:ql)?:\/\/[^:/?#@\s]*):[^@/?#\s]*@/gi, '$1:***@');
}
