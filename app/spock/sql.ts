/**
 * SQL statements as data. Every call of a Spock/pglogical function is described structurally
 * (function, named arguments, their SQL types and values) and rendered from that description,
 * so tests can check each call against the recorded upstream signatures, and the rendered SQL
 * passes every value as a bind parameter with an explicit cast (no quoting of DSNs by hand).
 */

/** The SQL types the bootstrap passes to extension functions. */
export type PgType = 'name' | 'text' | 'boolean' | 'text[]' | 'interval' | 'regclass';

export type SqlValue = string | boolean | readonly string[];

export interface CallArg {
  readonly name: string;
  readonly type: PgType;
  readonly value: SqlValue;
}

/**
 * One call of an extension function. `named`: `fn(arg := $n::type, ...)` with bind parameters;
 * `positional`: `fn($n::type, ...)` with bind parameters, for functions whose arguments have no
 * names (`spock.spock_gen_slot_name(name, name, name)`); `literal`: positional SQL literals (used
 * only for `spock.repair_mode(true)`, as the reference writes it).
 */
export interface FnCall {
  readonly schema: string;
  readonly fn: string;
  readonly args: readonly CallArg[];
  readonly style: 'named' | 'positional' | 'literal';
}

/** What a statement is for; the flow (and test doubles) dispatch on it. */
export type StatementKind =
  | 'server.info'
  | 'lock.try'
  | 'extension.get'
  | 'extension.create'
  | 'role.get'
  | 'role.create'
  | 'repair_mode'
  | 'node.local'
  | 'node.create'
  | 'sub.list'
  | 'sub.create'
  | 'sub.enable'
  | 'sub.status'
  | 'repset.missing'
  | 'repset.add'
  | 'repset.members'
  | 'repset.remove'
  | 'dbsetting.get'
  | 'dbsetting.set'
  | 'node.list'
  | 'node.drop'
  | 'sub.drop'
  | 'slot.list'
  | 'slot.terminate'
  | 'slot.drop';

export interface Statement {
  readonly kind: StatementKind;
  readonly sql: string;
  readonly params: readonly unknown[];
  /** Extension function calls in `sql`, in order. */
  readonly calls: readonly FnCall[];
}

function literal(v: SqlValue): string {
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  const text = typeof v === 'string' ? v : `{${v.join(',')}}`;
  return `'${text.replace(/'/g, "''")}'`;
}

/** Renders `schema.fn(...)`, appending bind values to `params` (so $n continue across calls). */
export function renderCall(call: FnCall, params: unknown[]): string {
  const args = call.args.map((a) => {
    if (call.style === 'literal') return literal(a.value);
    params.push(typeof a.value === 'string' || typeof a.value === 'boolean' ? a.value : [...a.value]);
    return call.style === 'positional' ? `$${params.length}::${a.type}` : `${a.name} := $${params.length}::${a.type}`;
  });
  return `${call.schema}.${call.fn}(${args.join(', ')})`;
}

/**
 * Builds a statement from a template whose `{0}`, `{1}`, ... placeholders are replaced by the
 * rendered calls, and whose `{p1}`, `{p2}`, ... placeholders refer to the extra bind values given
 * in `extra` (1-based; numbered after the calls' own parameters).
 */
export function statement(kind: StatementKind, template: string, calls: readonly FnCall[] = [], extra: readonly unknown[] = []): Statement {
  const params: unknown[] = [];
  const rendered = calls.map((c) => renderCall(c, params));
  const offset = params.length;
  let sql = template.replace(/\{(\d+)\}/g, (_, i: string) => {
    const r = rendered[Number(i)];
    if (r === undefined) throw new Error(`statement template refers to call {${i}} that was not given`);
    return r;
  });
  sql = sql.replace(/\{p(\d+)\}/g, (_, i: string) => {
    const n = Number(i);
    if (n < 1 || n > extra.length) throw new Error(`statement template refers to {p${i}} but ${extra.length} extra value(s) were given`);
    return `$${offset + n}`;
  });
  return { kind, sql, params: [...params, ...extra], calls };
}

/** Double-quotes an SQL identifier. */
export function quoteIdent(id: string): string {
  return `"${id.replace(/"/g, '""')}"`;
}
