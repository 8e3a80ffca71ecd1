/**
 * The `spock` dialect cannot run here (Spock needs a patched PostgreSQL), so its SQL is checked
 * against Spock 5.0's function signatures recorded below from ../shared/reference/pgedge-spock.md
 * section 2 (cross-checked with pgEdge/spock sql/spock--5.0.0.sql and the 5.0.x upgrade scripts).
 *
 * The statements come from running the real bootstrap flow against a database double that
 * behaves like a Spock node (fresh node, rerun, disabled subscription, joining region, a region
 * removed from a remaining node and its rerun, a leaving region and its rerun), plus
 * every statement builder directly. Each emitted SQL text is parsed: every `spock.*(...)` call
 * must name a recorded function, use named arguments that exist, give every required argument,
 * and pass values whose cast and bound value fit the declared type. The parsed calls must match
 * the dialect's structured description, and every administrative transaction must start with
 * `SELECT spock.repair_mode(true)`.
 */
import { describe, expect, it } from 'vitest';
import { createLogger } from '../log.js';
import { bootstrapRegion } from './bootstrap.js';
import type { Db, Row } from './db.js';
import { pglogicalDialect, spockDialect, REPLICATION_SETS, type Dialect } from './dialect.js';
import type { BootstrapSettings } from './settings.js';
import type { Statement } from './sql.js';

// ---------------------------------------------------------------------------------------------
// Spock 5.0 signatures (data)

interface SigArg {
  readonly name: string;
  readonly type: string;
  /** Present when the argument has a default (so it may be left out). */
  readonly default?: string;
}
interface Signature {
  readonly args: readonly SigArg[];
  readonly returns: string;
  /** STRICT: a NULL argument makes the call return NULL without doing anything. */
  readonly strict: boolean;
}

const a = (name: string, type: string, dflt?: string): SigArg => (dflt === undefined ? { name, type } : { name, type, default: dflt });

/** Functions declared without argument names: a named call (`arg := ...`) would not resolve. */
const POSITIONAL_ONLY: ReadonlySet<string> = new Set(['spock.spock_gen_slot_name']);

export const SPOCK_5_0_SIGNATURES: Readonly<Record<string, Signature>> = {
  'spock.node_create': {
    args: [a('node_name', 'name'), a('dsn', 'text'), a('location', 'text', 'NULL'), a('country', 'text', 'NULL'), a('info', 'jsonb', 'NULL')],
    returns: 'oid',
    strict: false,
  },
  'spock.node_drop': { args: [a('node_name', 'name'), a('ifexists', 'boolean', 'false')], returns: 'boolean', strict: true },
  'spock.node_add_interface': { args: [a('node_name', 'name'), a('interface_name', 'name'), a('dsn', 'text')], returns: 'oid', strict: true },
  'spock.node_drop_interface': { args: [a('node_name', 'name'), a('interface_name', 'name')], returns: 'boolean', strict: true },
  'spock.sub_create': {
    args: [
      a('subscription_name', 'name'),
      a('provider_dsn', 'text'),
      a('replication_sets', 'text[]', "'{default,default_insert_only,ddl_sql}'"),
      a('synchronize_structure', 'boolean', 'false'),
      a('synchronize_data', 'boolean', 'false'),
      a('forward_origins', 'text[]', "'{}'"),
      a('apply_delay', 'interval', "'0'"),
      a('force_text_transfer', 'boolean', 'false'),
      a('enabled', 'boolean', 'true'),
      a('skip_schema', 'text[]', "'{}'"), // 5.0.2+
    ],
    returns: 'oid',
    strict: true,
  },
  'spock.sub_drop': { args: [a('subscription_name', 'name'), a('ifexists', 'boolean', 'false')], returns: 'oid', strict: true },
  'spock.sub_enable': { args: [a('subscription_name', 'name'), a('immediate', 'boolean', 'false')], returns: 'boolean', strict: true },
  'spock.sub_disable': { args: [a('subscription_name', 'name'), a('immediate', 'boolean', 'false')], returns: 'boolean', strict: true },
  'spock.sub_alter_interface': { args: [a('subscription_name', 'name'), a('interface_name', 'name')], returns: 'boolean', strict: true },
  'spock.sub_wait_for_sync': { args: [a('subscription_name', 'name')], returns: 'void', strict: true },
  'spock.sub_show_status': { args: [a('subscription_name', 'name', 'NULL')], returns: 'SETOF record', strict: false },
  'spock.sync_event': { args: [a('transactional', 'boolean', 'false')], returns: 'pg_lsn', strict: true }, // argument 5.0.7+
  'spock.repset_create': {
    args: [a('set_name', 'name'), a('replicate_insert', 'boolean', 'true'), a('replicate_update', 'boolean', 'true'), a('replicate_delete', 'boolean', 'true'), a('replicate_truncate', 'boolean', 'true')],
    returns: 'oid',
    strict: true,
  },
  'spock.repset_remove_table': { args: [a('set_name', 'name'), a('relation', 'regclass'), a('include_partitions', 'boolean', 'true')], returns: 'boolean', strict: true },
  'spock.repset_add_all_tables': { args: [a('set_name', 'name'), a('schema_names', 'text[]'), a('synchronize_data', 'boolean', 'false')], returns: 'boolean', strict: true },
  'spock.repset_add_table': {
    args: [a('set_name', 'name'), a('relation', 'regclass'), a('synchronize_data', 'boolean', 'false'), a('columns', 'text[]', 'NULL'), a('row_filter', 'text', 'NULL'), a('include_partitions', 'boolean', 'true')],
    returns: 'boolean',
    strict: false,
  },
  'spock.replicate_ddl': {
    args: [a('command', 'text'), a('replication_sets', 'text[]', "'{ddl_sql}'"), a('search_path', 'text', "''"), a('role', 'text', 'CURRENT_USER')],
    returns: 'boolean',
    strict: true,
  },
  'spock.repair_mode': { args: [a('enabled', 'boolean')], returns: 'pg_lsn', strict: false },
  // Not in the reference's table; from pgEdge/spock v5.0.11 sql/spock--5.0.0.sql: the arguments
  // have NO names (`spock_gen_slot_name(name, name, name)`), so they can only be passed by
  // position; the names here only label them (subscriber database, provider node, subscription).
  'spock.spock_gen_slot_name': { args: [a('dbname', 'name'), a('provider_node', 'name'), a('subscription_name', 'name')], returns: 'name', strict: true },
  'spock.node_info': { args: [], returns: 'record', strict: true },
  'spock.spock_version': { args: [], returns: 'text', strict: false },
};

// ---------------------------------------------------------------------------------------------
// A small parser for the calls in emitted SQL

interface ParsedArg {
  readonly name?: string;
  readonly expr: string;
}
interface ParsedCall {
  readonly schema: string;
  readonly fn: string;
  readonly args: readonly ParsedArg[];
}

/** Index just past the `)` that closes the `(` at `open`, honouring quotes and nesting. */
function closing(sql: string, open: number): number {
  let depth = 0;
  for (let i = open; i < sql.length; i++) {
    const c = sql[i];
    if (c === "'") {
      i++;
      while (i < sql.length && !(sql[i] === "'" && sql[i + 1] !== "'")) i += sql[i] === "'" ? 2 : 1;
    } else if (c === '(') depth++;
    else if (c === ')' && --depth === 0) return i + 1;
  }
  throw new Error(`unbalanced parentheses in: ${sql}`);
}

function splitTopLevel(s: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let cur = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === "'") {
      let j = i + 1;
      while (j < s.length && !(s[j] === "'" && s[j + 1] !== "'")) j += s[j] === "'" ? 2 : 1;
      cur += s.slice(i, j + 1);
      i = j;
      continue;
    }
    if (c === '(' || c === '[') depth++;
    if (c === ')' || c === ']') depth--;
    if (c === ',' && depth === 0) {
      parts.push(cur.trim());
      cur = '';
    } else cur += c;
  }
  if (cur.trim() !== '') parts.push(cur.trim());
  return parts;
}

/** Every `spock.f(...)` / `pglogical.f(...)` call in `sql` (catalog tables are not followed by `(`). */
export function parseCalls(sql: string): ParsedCall[] {
  const out: ParsedCall[] = [];
  const re = /\b(spock|pglogical)\.([a-z_][a-z0-9_]*)\s*\(/g;
  for (let m = re.exec(sql); m; m = re.exec(sql)) {
    const open = m.index + m[0].length - 1;
    const end = closing(sql, open);
    const inner = sql.slice(open + 1, end - 1);
    const args = splitTopLevel(inner).map((arg): ParsedArg => {
      const named = /^([a-z_][a-z0-9_]*)\s*:=\s*([\s\S]+)$/.exec(arg);
      return named ? { name: named[1]!, expr: named[2]!.trim() } : { expr: arg };
    });
    out.push({ schema: m[1]!, fn: m[2]!, args });
  }
  return out;
}

type Resolved = { type: string | undefined; value: unknown; isNull: boolean };

const normType = (t: string) => (t === 'bool' ? 'boolean' : t);

function resolve(expr: string, params: readonly unknown[]): Resolved {
  let m = /^\$(\d+)::([a-z_]+(?:\[\])?)$/.exec(expr);
  if (m) {
    const idx = Number(m[1]) - 1;
    if (idx < 0 || idx >= params.length) throw new Error(`${expr} refers to a missing bind parameter`);
    const value = params[idx];
    return { type: normType(m[2]!), value, isNull: value === null || value === undefined };
  }
  if (/^(true|false)$/i.test(expr)) return { type: 'boolean', value: expr.toLowerCase() === 'true', isNull: false };
  if (/^null$/i.test(expr)) return { type: undefined, value: null, isNull: true };
  m = /^'((?:[^']|'')*)'(?:::([a-z_]+(?:\[\])?))?$/.exec(expr);
  if (m) return { type: m[2] ? normType(m[2]) : undefined, value: m[1]!.replace(/''/g, "'"), isNull: false };
  throw new Error(`unsupported argument expression ${expr} (the dialect must pass casts of bind parameters or plain literals)`);
}

/** Why `value` is not a valid `type` value, or undefined. */
function valueProblem(type: string, value: unknown, fromLiteral: boolean): string | undefined {
  const isStrArr = Array.isArray(value) && value.every((v) => typeof v === 'string');
  switch (type) {
    case 'name':
      return typeof value === 'string' && value.length > 0 && Buffer.byteLength(value) <= 63 ? undefined : 'a name must be a non-empty string of at most 63 bytes';
    case 'text':
    case 'regclass':
      return typeof value === 'string' ? undefined : 'must be a string';
    case 'boolean':
      return typeof value === 'boolean' || (fromLiteral && /^(true|false|t|f)$/i.test(String(value))) ? undefined : 'must be a boolean';
    case 'text[]':
      return isStrArr || (fromLiteral && typeof value === 'string' && /^\{.*\}$/.test(value)) ? undefined : 'must be an array of strings';
    case 'interval':
      return typeof value === 'string' && /^[0-9]+(\s*[a-z]+)?$/.test(value) ? undefined : 'must be an interval like "0" or "5 seconds"';
    case 'jsonb':
      try {
        JSON.parse(String(value));
        return undefined;
      } catch {
        return 'must be JSON';
      }
    default:
      return `no value check for type ${type}`;
  }
}

/** Problems of one statement against the signatures; empty when it is fine. */
function checkStatement(stmt: Statement, sigs: Readonly<Record<string, Signature>>, allowedSchema: string): string[] {
  const problems: string[] = [];
  const where = `[${stmt.kind}] ${stmt.sql.replace(/\s+/g, ' ')}`;
  let parsed: ParsedCall[];
  try {
    parsed = parseCalls(stmt.sql);
  } catch (e) {
    return [`${where}: ${(e as Error).message}`];
  }
  // The structured description and the text agree.
  const described = stmt.calls.map((c) => `${c.schema}.${c.fn}(${c.style === 'named' ? c.args.map((x) => x.name).join(',') : c.args.length})`);
  const inText = parsed.map((c) => `${c.schema}.${c.fn}(${c.args.every((x) => x.name) ? c.args.map((x) => x.name).join(',') : c.args.length})`);
  if (JSON.stringify(described) !== JSON.stringify(inText)) problems.push(`${where}: described calls ${described.join(' ')} but the SQL has ${inText.join(' ')}`);

  for (const call of parsed) {
    const key = `${call.schema}.${call.fn}`;
    if (call.schema !== allowedSchema) {
      problems.push(`${where}: calls ${key}, outside schema ${allowedSchema}`);
      continue;
    }
    const sig = sigs[key];
    if (!sig) {
      problems.push(`${where}: ${key} is not a recorded function`);
      continue;
    }
    const given = new Map<string, Resolved>();
    let positional = true;
    call.args.forEach((arg, i) => {
      let name = arg.name;
      if (name === undefined) {
        if (!positional) problems.push(`${where}: positional argument after a named one in ${key}`);
        name = sig.args[i]?.name;
        if (name === undefined) {
          problems.push(`${where}: ${key} takes ${sig.args.length} argument(s), got more`);
          return;
        }
      } else {
        positional = false;
        if (POSITIONAL_ONLY.has(key)) problems.push(`${where}: ${key} declares no argument names; "${name}" must be passed by position`);
      }
      const declared = sig.args.find((x) => x.name === name);
      if (!declared) {
        problems.push(`${where}: ${key} has no argument "${name}" (has ${sig.args.map((x) => x.name).join(', ')})`);
        return;
      }
      if (given.has(name)) problems.push(`${where}: ${key} argument "${name}" given twice`);
      let r: Resolved;
      try {
        r = resolve(arg.expr, stmt.params);
      } catch (e) {
        problems.push(`${where}: ${(e as Error).message}`);
        return;
      }
      given.set(name, r);
      if (r.isNull) {
        if (sig.strict) problems.push(`${where}: ${key} is STRICT, NULL for "${name}" would make it a no-op`);
        return;
      }
      const fromLiteral = !/^\$\d+::/.test(arg.expr);
      if (r.type !== undefined && r.type !== declared.type) problems.push(`${where}: ${key}(${name}) is ${declared.type}, passed as ${r.type}`);
      if (!fromLiteral && r.type === undefined) problems.push(`${where}: ${key}(${name}) bind parameter without a cast`);
      const vp = valueProblem(declared.type, r.value, fromLiteral);
      if (vp) problems.push(`${where}: ${key}(${name}) ${vp} (got ${JSON.stringify(r.value)})`);
    });
    for (const req of sig.args.filter((x) => x.default === undefined)) {
      if (!given.has(req.name)) problems.push(`${where}: ${key} needs "${req.name}"`);
    }
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------
// A database double that behaves like a Spock node, recording every statement

interface Recorded {
  readonly tx: boolean;
  readonly stmts: readonly Statement[];
}

class FakeSpockNode {
  ext = false;
  role = false;
  local: { name: string; dsn: string } | undefined;
  subs = new Map<string, { id: number; enabled: boolean; provider: string; dsn: string; sync: boolean }>();
  /** Remote node rows (sub_create adds the provider's). */
  remotes = new Set<string>();
  /** Logical slots in this database (this node as provider); `active`: a walsender holds it. */
  slots = new Map<string, { active: boolean; plugin: string; reconnects?: number }>();
  /** Tables of this database: relation -> schema, PK, logged. */
  tables = new Map<string, { schema: string; pk: boolean; logged: boolean }>();
  /** Replication-set membership: relation -> set names. */
  sets = new Map<string, Set<string>>();
  /** pg_db_role_setting of this database: '' (database-wide) or a role name -> name -> value. */
  dbSettings = new Map<string, Map<string, string>>();
  /** DDL statements a structure sync's restore queued for the peers (auto-DDL left on). */
  replayedDdl: string[] = [];
  /** Tables the provider of a structure sync has (restored here by sub_create with sync). */
  providerTables: Array<[string, { schema: string; pk: boolean; logged: boolean }]> = [
    ['users', { schema: 'public', pk: true, logged: true }],
    ['chat_local.otps', { schema: 'chat_local', pk: true, logged: true }],
  ];
  readonly log: Recorded[] = [];
  private nextId = 100;

  /** A session setting of `role` as Spock sees it at connect: the role's setting in this database, else postgresql.conf (the chart: on). */
  private sessionSetting(role: string, name: string): string {
    return this.dbSettings.get(role)?.get(name) ?? 'on';
  }

  /**
   * Spock's structure sync: pg_restore connects with this node's DSN (role pgedge); with
   * spock.enable_ddl_replication on its DDL is queued for the peers, with
   * spock.include_ddl_repset on every restored table with a PK lands in `default`.
   */
  private restoreStructure(): void {
    for (const [relation, t] of this.providerTables) {
      this.tables.set(relation, t);
      if (this.sessionSetting('pgedge', 'spock.enable_ddl_replication') === 'on') this.replayedDdl.push(`CREATE TABLE ${relation}`);
      if (this.sessionSetting('pgedge', 'spock.include_ddl_repset') === 'on') this.sets.set(relation, new Set([t.pk ? 'default' : 'default_insert_only']));
    }
  }

  constructor(private readonly nodeByDsn: ReadonlyMap<string, string>) {}

  private referencing(node: string): string[] {
    return [...this.subs.entries()].filter(([, x]) => x.provider === node || this.local?.name === node).map(([n]) => n);
  }

  private exec(s: Statement, inTx: boolean, txFirst: Statement | undefined): Row[] {
    const mutating = ['extension.create', 'role.create', 'node.create', 'sub.create', 'sub.enable', 'sub.drop', 'node.drop', 'repset.add', 'repset.remove', 'dbsetting.set'].includes(s.kind);
    if (s.kind.startsWith('slot.') && inTx) throw new Error(`${s.kind} inside a transaction (slot drops are not transactional)`);
    if (mutating && !inTx) throw new Error(`${s.kind} outside a transaction`);
    if (mutating && s.kind !== 'extension.create' && txFirst?.kind !== 'repair_mode') throw new Error(`${s.kind} in a transaction that did not start with repair_mode`);
    const p = s.params;
    switch (s.kind) {
      case 'server.info':
        return [{ in_recovery: false, wal_level: 'logical', track_commit_timestamp: 'on', shared_preload_libraries: 'pg_stat_statements, snowflake, spock', server_version: '17.6' }];
      case 'lock.try':
        return [{ locked: true }];
      case 'extension.get':
        return this.ext ? [{ version: '5.0.11' }] : [];
      case 'extension.create':
        this.ext = true;
        return [];
      case 'repair_mode':
        if (!this.ext) throw new Error('function spock.repair_mode(boolean) does not exist');
        return [{ repair_mode: '0/1A2B3C' }];
      case 'role.get':
        return this.role ? [{ superuser: true, replication: true, login: true }] : [];
      case 'role.create':
        this.role = true;
        return [];
      case 'node.local':
        return this.local ? [{ node_name: this.local.name, dsn: this.local.dsn }] : [];
      case 'node.create':
        if (this.local) return [];
        this.local = { name: String(p[0]), dsn: String(p[1]) };
        return [{ node_create: 4242 }];
      case 'sub.list':
        return [...this.subs.entries()].map(([name, x]) => ({
          id: String(x.id),
          name,
          enabled: x.enabled,
          provider: x.provider,
          provider_dsn: x.dsn,
          forward_origins: [],
          replication_sets: [...REPLICATION_SETS],
        }));
      case 'sub.create': {
        if (!this.local) throw new Error('local node not found');
        const name = String(p[0]);
        if (this.subs.has(name)) return [];
        const provider = this.nodeByDsn.get(String(p[1]));
        if (!provider) throw new Error(`could not connect to the postgresql server: unknown dsn`);
        this.subs.set(name, { id: this.nextId++, enabled: true, provider, dsn: String(p[1]), sync: p[3] === true });
        this.remotes.add(provider);
        if (p[3] === true) this.restoreStructure();
        return [{ sub_create: this.nextId }];
      }
      case 'sub.drop': {
        // spock_drop_subscription: also forgets the provider's node row when no other subscription has it as origin.
        const name = String(p[0]);
        if (p[1] !== true) throw new Error('sub_drop without ifexists');
        const sub = this.subs.get(name);
        if (!sub) return [];
        this.subs.delete(name);
        if (![...this.subs.values()].some((x) => x.provider === sub.provider)) this.remotes.delete(sub.provider);
        return [{ sub_drop: sub.id }];
      }
      case 'node.list': {
        const all = [...(this.local ? [this.local.name] : []), ...this.remotes].sort();
        return all.map((name) => ({ name, local: name === this.local?.name, subscriptions: this.referencing(name).sort() }));
      }
      case 'node.drop': {
        const name = String(p[0]);
        if (p[1] !== true) throw new Error('node_drop without ifexists');
        if (this.referencing(name).length > 0) return []; // the statement's guard
        if (/JOIN spock\.local_node/.test(s.sql)) {
          if (this.local?.name !== name) return [];
          // spock_drop_node on the local node drops every spk_ slot, and fails on an active one.
          const active = [...this.slots.entries()].filter(([n, x]) => n.startsWith('spk_') && x.active);
          if (active.length > 0) throw new Error(`cannot drop node "${name}" because one or more replication slots for the node are still active`);
          for (const n of [...this.slots.keys()]) if (n.startsWith('spk_')) this.slots.delete(n);
          this.local = undefined;
          return [{ node_drop: true }];
        }
        if (this.local?.name === name || !this.remotes.has(name)) return [];
        this.remotes.delete(name);
        return [{ node_drop: true }];
      }
      case 'slot.list': {
        const [plugins, prefix] = (s.calls.length > 0 ? [p[3], p[4]] : [p[0], p[1]]) as [string[], string];
        if (JSON.stringify(plugins) !== JSON.stringify(['spock_output', 'spock']) || prefix !== 'spk_') throw new Error(`not spock's slots: ${JSON.stringify([plugins, prefix])}`);
        const suffix = s.calls.length > 0 ? `_${String(p[1])}_${String(p[2])}` : '';
        return [...this.slots.entries()]
          .filter(([n, x]) => n.startsWith('spk_') && plugins.includes(x.plugin) && n.endsWith(suffix))
          .sort(([x], [y]) => x.localeCompare(y))
          .map(([name, x]) => ({ name, active: x.active, active_pid: x.active ? 4711 : null }));
      }
      case 'slot.terminate': {
        const slot = this.slots.get(String(p[0]));
        if (!slot?.active) return [];
        // The walsender exits and releases it; a subscriber that reconnects at once takes it again.
        slot.active = (slot.reconnects ?? 0) > 0;
        slot.reconnects = Math.max(0, (slot.reconnects ?? 0) - 1);
        return [{ terminated: true }];
      }
      case 'slot.drop': {
        const slot = this.slots.get(String(p[0]));
        if (!slot || slot.active) return [];
        this.slots.delete(String(p[0]));
        return [{ pg_drop_replication_slot: '' }];
      }
      case 'sub.enable': {
        const sub = this.subs.get(String(p[0]));
        if (!sub || sub.enabled) return [];
        sub.enabled = true;
        return [{ sub_enable: true }];
      }
      case 'repset.missing': {
        const schemas = p[0] as string[];
        return [...this.tables.entries()]
          .filter(([rel, t]) => schemas.includes(t.schema) && (this.sets.get(rel)?.size ?? 0) === 0)
          .sort(([x], [y]) => x.localeCompare(y))
          .map(([relation, t]) => ({ relation, has_identity: t.pk, logged: t.logged }));
      }
      case 'repset.members': {
        const schemas = p[0] as string[];
        return [...this.sets.entries()]
          .filter(([rel]) => schemas.includes(this.tables.get(rel)?.schema ?? ''))
          .flatMap(([relation, sets]) => [...sets].sort().map((set_name) => ({ relation, set_name })));
      }
      case 'repset.add': {
        const [set, rel] = [String(p[0]), String(p[1])];
        const t = this.tables.get(rel);
        if (!t) throw new Error(`relation "${rel}" does not exist`);
        if (!t.logged) throw new Error('UNLOGGED and TEMP tables cannot be replicated');
        if (this.sets.get(rel)?.has(set)) throw new Error(`duplicate key value violates unique constraint "replication_set_table_pkey"`);
        this.sets.set(rel, new Set([...(this.sets.get(rel) ?? []), set]));
        return [{ repset_add_table: true }];
      }
      case 'repset.remove': {
        const [set, rel] = [String(p[0]), String(p[1])];
        if (!this.sets.get(rel)?.delete(set)) throw new Error(`table ${rel} is not in replication set ${set}`);
        return [{ repset_remove_table: true }];
      }
      case 'dbsetting.get': {
        const [names, role] = [p[0] as string[], p[1] as string | null];
        const found = [...(this.dbSettings.get(role ?? '') ?? new Map<string, string>()).entries()].filter(([n]) => names.includes(n)).map(([n, v]) => `${n}=${v}`).sort();
        return found.length > 0 ? found.map((setting) => ({ database: 'app', setting })) : [{ database: 'app', setting: null }];
      }
      case 'dbsetting.set': {
        const m = /^ALTER (?:DATABASE "app"|ROLE "([a-z]+)" IN DATABASE "app") (?:SET ([a-z_.]+) = '([^']*)'|RESET ([a-z_.]+))$/.exec(s.sql);
        if (!m) throw new Error(`unexpected setting statement: ${s.sql}`);
        const key = m[1] ?? '';
        const map = this.dbSettings.get(key) ?? new Map<string, string>();
        if (m[2]) map.set(m[2], m[3]!);
        else map.delete(m[4]!);
        this.dbSettings.set(key, map);
        return [];
      }
      case 'sub.status':
        return [...this.subs.entries()].map(([name, x]) => ({ name, status: x.enabled ? 'replicating' : 'disabled', provider: x.provider }));
      default:
        throw new Error(`the spock flow should not run ${s.kind}`);
    }
  }

  db(): Db {
    return {
      broken: false,
      query: async (s) => {
        this.log.push({ tx: false, stmts: [s] });
        return this.exec(s, false, undefined);
      },
      transaction: async (stmts) => {
        this.log.push({ tx: true, stmts });
        return stmts.map((s) => this.exec(s, true, stmts[0]));
      },
      close: async () => undefined,
    };
  }
}

const NODES = [
  { name: 'n1', dsn: 'host=pgedge-n1-rw.pg.svc.clusterset.local port=5432 dbname=app user=pgedge sslmode=require sslcert=/projected/pgedge/certificates/tls.crt sslkey=/projected/pgedge/certificates/tls.key' },
  { name: 'n2', dsn: 'host=pgedge-n2-rw.pg.svc.clusterset.local port=5432 dbname=app user=pgedge sslmode=require sslcert=/projected/pgedge/certificates/tls.crt sslkey=/projected/pgedge/certificates/tls.key' },
  { name: 'n3', dsn: 'host=pgedge-n3-rw.pg.svc.clusterset.local port=5432 dbname=app user=pgedge sslmode=require sslcert=/projected/pgedge/certificates/tls.crt sslkey=/projected/pgedge/certificates/tls.key' },
];

function settings(node: string, over: Partial<BootstrapSettings> = {}): BootstrapSettings {
  return { dialect: 'spock', node, nodes: NODES, replicationSchemas: ['public'], deadlineSeconds: 10, admin: {}, ...over };
}

const quiet = createLogger({}, { write: () => undefined });
const FAST = { pollIntervalMs: 1, stableMs: 0, log: quiet } as const;

/** Runs the flow on a fake node through the scenarios and returns the node and everything it saw. */
async function spockScenarios(): Promise<{ n1: FakeSpockNode; n3: FakeSpockNode; results: string[][]; warnings: string[] }> {
  const byDsn = new Map(NODES.map((n) => [n.dsn, n.name]));
  const n1 = new FakeSpockNode(byDsn);
  const results: string[][] = [];
  const warnings: string[] = [];
  // The chat backend migrated before the bootstrap (nothing orders them on a first rollout).
  n1.tables.set('users', { schema: 'public', pk: true, logged: true });
  n1.tables.set('audit_log', { schema: 'public', pk: false, logged: true });
  n1.tables.set('chat_local.otps', { schema: 'chat_local', pk: true, logged: true });
  const connect = async () => n1.db();
  const boot = async (fake: FakeSpockNode, s: BootstrapSettings) => {
    const r = await bootstrapRegion(s, { ...FAST, connect: async () => fake.db() });
    results.push([...r.changes]);
    warnings.push(...r.warnings);
  };
  await boot(n1, settings('n1')); // fresh
  results.push([...(await bootstrapRegion(settings('n1'), { ...FAST, connect })).changes]); // rerun
  n1.subs.get('sub_n2_n1')!.enabled = false;
  results.push([...(await bootstrapRegion(settings('n1'), { ...FAST, connect })).changes]); // disabled
  // A joining region that syncs from n1.
  const n3 = new FakeSpockNode(byDsn);
  await boot(n3, settings('n3', { syncFrom: 'n1' }));
  // n3 leaves. On n1: the slots serving n2 and n3 are held by their walsenders; a stale row of
  // node n4 (gone earlier, no subscription left) is forgotten too.
  n1.slots.set('spk_app_n1_sub_n1_n2', { active: true, plugin: 'spock_output' });
  n1.slots.set('spk_app_n1_sub_n1_n3', { active: true, plugin: 'spock_output' });
  n1.remotes.add('n4');
  const remaining = settings('n1', { nodes: NODES.slice(0, 2), removedNodes: ['n3', 'n4'] });
  await boot(n1, remaining);
  await boot(n1, remaining); // rerun
  // On n3 (leaving): slots for its subscribers n1 (still connected, and reconnecting twice after
  // its walsender is ended) and n2.
  n3.slots.set('spk_app_n3_sub_n3_n1', { active: true, plugin: 'spock_output', reconnects: 2 });
  n3.slots.set('spk_app_n3_sub_n3_n2', { active: false, plugin: 'spock_output' });
  const leaving = settings('n3', { nodes: [NODES[2]!], leave: true });
  await boot(n3, leaving);
  await boot(n3, leaving); // rerun
  return { n1, n3, results, warnings };
}

function builderStatements(d: Dialect): Statement[] {
  return [
    ...d.txPrelude,
    d.localNode(),
    d.nodeCreate('n1', NODES[0]!.dsn),
    d.subscriptions(),
    d.subCreate({ name: 'sub_n2_n1', providerDsn: NODES[1]!.dsn, synchronize: false }),
    d.subCreate({ name: 'sub_n1_n3', providerDsn: NODES[0]!.dsn, synchronize: true }),
    d.subEnable('sub_n2_n1'),
    d.subStatus(),
    d.subDrop('sub_n3_n1'),
    d.nodes(),
    d.nodeDrop('n3'),
    d.localNodeDrop('n3'),
    d.meshSlots(),
    d.meshSlots({ provider: 'n1', subscription: 'sub_n1_n3' }),
    d.repset.missingTables(['public']),
    d.repset.addTable('default', 'public.t'),
    d.repset.members(['chat_local']),
    d.repset.removeTable('default', 'chat_local.otps'),
  ];
}

/** Named argument value of the first `fn` call in `stmt` (resolved through its bind parameters). */
function argOf(stmt: Statement, fn: string, name: string): { expr: string; value: unknown } {
  const call = parseCalls(stmt.sql).find((c) => c.fn === fn);
  const arg = call?.args.find((x) => x.name === name);
  if (!arg) throw new Error(`${fn} has no explicit ${name} in ${stmt.sql}`);
  return { expr: arg.expr, value: resolve(arg.expr, stmt.params).value };
}

// ---------------------------------------------------------------------------------------------

describe('the recorded signatures and the checker', () => {
  it('flag what they should (the checker can fail)', () => {
    const bad = (sql: string, params: unknown[] = []) => checkStatement({ kind: 'sub.create', sql, params, calls: parseCalls(sql).map((c) => ({ schema: c.schema, fn: c.fn, args: c.args.map((x) => ({ name: x.name ?? '', type: 'text' as const, value: '' })), style: 'named' as const })) }, SPOCK_5_0_SIGNATURES, 'spock');
    expect(bad('SELECT spock.sub_create(subscription_name := $1::name, provider_dsn := $2::text)', ['s', 'host=h'])).toEqual([]);
    expect(bad('SELECT spock.sub_sync(subscription_name := $1::name)', ['s'])[0]).toMatch(/not a recorded function/);
    expect(bad('SELECT spock.sub_create(subscription_name := $1::name, dsn := $2::text)', ['s', 'h']).join()).toMatch(/no argument "dsn"[\s\S]*needs "provider_dsn"/);
    expect(bad('SELECT spock.sub_create(subscription_name := $1::name, provider_dsn := $2::text, synchronize_data := $3::text)', ['s', 'h', 'no']).join()).toMatch(/is boolean, passed as text/);
    expect(bad('SELECT spock.sub_create(subscription_name := $1::name, provider_dsn := $2::text, forward_origins := $3::text[])', ['s', 'h', 'all']).join()).toMatch(/array of strings/);
    expect(bad('SELECT spock.sub_create(subscription_name := $1::name, provider_dsn := NULL)', ['s']).join()).toMatch(/STRICT/);
    expect(bad('SELECT pglogical.create_node(node_name := $1::name, dsn := $2::text)', ['n', 'h']).join()).toMatch(/outside schema spock/);
  });
});

describe('spock dialect: every emitted statement fits Spock 5.0', () => {
  it('the flow emits only recorded Spock functions with valid named arguments, across all scenarios', async () => {
    const { n1, n3, results, warnings } = await spockScenarios();
    expect(results).toEqual([
      [
        'created extension spock',
        'created role pgedge',
        'created node n1',
        'added table audit_log to replication set default_insert_only',
        'added table users to replication set default',
        'marked node n1 ready (regionmesh.node_ready of database app)',
        'created subscription sub_n2_n1',
        'created subscription sub_n3_n1',
      ],
      [],
      ['enabled subscription sub_n2_n1'],
      [
        'created extension spock',
        'created role pgedge',
        'created node n3',
        'turned spock.enable_ddl_replication, spock.include_ddl_repset off for role pgedge in database app during the structure sync',
        'created subscription sub_n1_n3',
        'added table users to replication set default',
        'reset spock.enable_ddl_replication, spock.include_ddl_repset for role pgedge in database app (structure sync done)',
        'marked node n3 ready (regionmesh.node_ready of database app)',
        'created subscription sub_n2_n3',
      ],
      ['dropped subscription sub_n3_n1', 'dropped replication slot spk_app_n1_sub_n1_n3', 'forgot node n4'],
      [],
      ['dropped subscription sub_n1_n3', 'dropped subscription sub_n2_n3', 'dropped replication slot spk_app_n3_sub_n3_n2', 'dropped replication slot spk_app_n3_sub_n3_n1', 'dropped node n3', 'reset regionmesh.node_ready'],
      [],
    ]);
    expect(warnings).toEqual(['table audit_log has no primary key or replica identity index: only its INSERTs replicate']);
    // The remaining node kept its own node, its other peer's subscription and slot; the leaving one kept nothing.
    expect({ local: n1.local?.name, subs: [...n1.subs.keys()], remotes: [...n1.remotes], slots: [...n1.slots.keys()] }).toEqual({
      local: 'n1',
      subs: ['sub_n2_n1'],
      remotes: ['n2'],
      slots: ['spk_app_n1_sub_n1_n2'],
    });
    expect({ local: n3.local, subs: [...n3.subs.keys()], remotes: [...n3.remotes], slots: [...n3.slots.keys()] }).toEqual({ local: undefined, subs: [], remotes: [], slots: [] });
    const stmts = [...n1.log, ...n3.log].flatMap((r) => r.stmts);
    const kinds = new Set(stmts.map((s) => s.kind));
    for (const k of ['repair_mode', 'extension.create', 'role.create', 'node.create', 'node.local', 'sub.list', 'sub.create', 'sub.enable', 'sub.status', 'sub.drop', 'node.list', 'node.drop', 'slot.list', 'slot.terminate', 'slot.drop', 'repset.missing', 'repset.add', 'repset.members', 'dbsetting.get', 'dbsetting.set'] as const) {
      expect(kinds.has(k), k).toBe(true);
    }
    const problems = [...stmts, ...builderStatements(spockDialect)].flatMap((s) => checkStatement(s, SPOCK_5_0_SIGNATURES, 'spock'));
    expect(problems).toEqual([]);
    // No pglogical anywhere in the spock dialect's SQL.
    expect(stmts.filter((s) => /pglogical/.test(s.sql))).toEqual([]);
  });

  it('every administrative transaction starts with SELECT spock.repair_mode(true); a rerun writes nothing', async () => {
    const { n1 } = await spockScenarios();
    const txs = n1.log.filter((r) => r.tx);
    expect(txs.length).toBeGreaterThan(0);
    for (const t of txs) {
      if (t.stmts.length === 1 && t.stmts[0]!.kind === 'extension.create') continue; // repair_mode does not exist before the extension
      expect(t.stmts[0]!.sql).toBe('SELECT spock.repair_mode(true)');
      expect(t.stmts.length).toBeGreaterThan(1);
    }
    // Reads never run mutating statements outside a transaction (slots excepted: not transactional, not DDL).
    const { n3 } = await spockScenarios();
    const outside = [...n1.log, ...n3.log].filter((r) => !r.tx).flatMap((r) => r.stmts.map((s) => s.kind));
    expect(outside.filter((k) => /create|enable|drop/.test(k) && !k.startsWith('slot.'))).toEqual([]);
    // Every subscription and node drop ran in a transaction that began with repair_mode.
    // Set membership and database/role settings change only in transactions that began with repair_mode.
    const settingsAndSets = [...n1.log, ...n3.log].filter((r) => r.stmts.some((s) => ['repset.add', 'repset.remove', 'dbsetting.set'].includes(s.kind)));
    expect(settingsAndSets.length).toBeGreaterThan(3);
    for (const t of settingsAndSets) expect([t.tx, t.stmts[0]!.sql]).toEqual([true, 'SELECT spock.repair_mode(true)']);
    const drops = [...n1.log, ...n3.log].filter((r) => r.stmts.some((s) => s.kind === 'sub.drop' || s.kind === 'node.drop'));
    expect(drops.length).toBe(5); // sub_n3_n1, node n4, sub_n1_n3, sub_n2_n3, node n3
    for (const t of drops) expect([t.tx, t.stmts[0]!.sql]).toEqual([true, 'SELECT spock.repair_mode(true)']);
    // The second scenario (rerun) opened no transaction at all.
    const fresh = new FakeSpockNode(new Map(NODES.map((n) => [n.dsn, n.name])));
    await bootstrapRegion(settings('n1'), { ...FAST, connect: async () => fresh.db() });
    const before = fresh.log.length;
    await bootstrapRegion(settings('n1'), { ...FAST, connect: async () => fresh.db() });
    expect(fresh.log.slice(before).filter((r) => r.tx)).toEqual([]);
  });

  it('sub_create has the reference shape: sets, forward_origins {}, apply_delay 0, enabled, sync only from SPOCK_SYNC_FROM', async () => {
    const { n1, n3 } = await spockScenarios();
    const creates = [...n1.log, ...n3.log].flatMap((r) => r.stmts).filter((s) => s.kind === 'sub.create');
    expect(creates.map((s) => s.params[0])).toEqual(['sub_n2_n1', 'sub_n3_n1', 'sub_n1_n3', 'sub_n2_n3']);
    for (const s of creates) {
      expect(s.sql).toMatch(/^SELECT spock\.sub_create\(subscription_name := \$1::name, provider_dsn := \$2::text, replication_sets := \$3::text\[\], synchronize_structure := \$4::boolean, synchronize_data := \$5::boolean, forward_origins := \$6::text\[\], apply_delay := \$7::interval, enabled := \$8::boolean\) WHERE NOT EXISTS \(SELECT 1 FROM spock\.subscription WHERE sub_name = \$9::name\)$/);
      const sync = s.params[0] === 'sub_n1_n3';
      expect(s.params).toEqual([s.params[0], s.params[1], ['default', 'default_insert_only', 'ddl_sql'], sync, sync, [], '0', true, s.params[0]]);
      // The provider DSN is passed byte-identical to SPOCK_NODES.
      expect(NODES.map((n) => n.dsn)).toContain(s.params[1]);
    }
    const node = [...n1.log].flatMap((r) => r.stmts).find((s) => s.kind === 'node.create')!;
    expect(node.sql).toBe('SELECT spock.node_create(node_name := $1::name, dsn := $2::text) WHERE NOT EXISTS (SELECT 1 FROM spock.local_node)');
    expect(node.params).toEqual(['n1', NODES[0]!.dsn]);
  });
});

describe('spock dialect: removal statements', () => {
  it('sub_drop and node_drop have the reference shape with ifexists := true, guarded so a rerun matches nothing', async () => {
    const { n1, n3 } = await spockScenarios();
    const all = [...n1.log, ...n3.log].flatMap((r) => r.stmts);
    const subDrops = all.filter((s) => s.kind === 'sub.drop');
    expect(subDrops.map((s) => s.params[0])).toEqual(['sub_n3_n1', 'sub_n1_n3', 'sub_n2_n3']);
    for (const s of subDrops) {
      expect(s.sql).toBe('SELECT spock.sub_drop(subscription_name := $1::name, ifexists := $2::boolean) FROM spock.subscription WHERE sub_name = $3::name');
      expect(s.params).toEqual([s.params[0], true, s.params[0]]);
    }
    const nodeDrops = all.filter((s) => s.kind === 'node.drop');
    expect(nodeDrops.map((s) => s.params[0])).toEqual(['n4', 'n3']);
    for (const s of nodeDrops) {
      expect(s.sql).toMatch(/^SELECT spock\.node_drop\(node_name := \$1::name, ifexists := \$2::boolean\) FROM spock\.node n/);
      // Never while a subscription references the node.
      expect(s.sql).toContain('NOT EXISTS (SELECT 1 FROM spock.subscription x WHERE n.node_id IN (x.sub_origin, x.sub_target))');
      expect(s.params).toEqual([s.params[0], true, s.params[0]]);
    }
    // A remote node's drop can never hit the local node.
    expect(spockDialect.nodeDrop('n3').sql).toContain('NOT EXISTS (SELECT 1 FROM spock.local_node l WHERE l.node_id = n.node_id)');
    // The slot serving one subscription is found by spock's own name generator, whatever the database is called.
    const one = spockDialect.meshSlots({ provider: 'n1', subscription: 'sub_n1_n3' });
    expect(one.sql).toContain('substr(spock.spock_gen_slot_name($1::name, $2::name, $3::name)::text, 6)');
    expect(one.params).toEqual(['x', 'n1', 'sub_n1_n3', ['spock_output', 'spock'], 'spk_']);
    expect(spockDialect.meshSlots().params).toEqual([['spock_output', 'spock'], 'spk_']);
  });

  it('the checker refuses a named argument for spock_gen_slot_name', () => {
    const sql = 'SELECT spock.spock_gen_slot_name(dbname := $1::name, provider_node := $2::name, subscription_name := $3::name)';
    const problems = checkStatement({ kind: 'slot.list', sql, params: ['x', 'n1', 's'], calls: [] }, SPOCK_5_0_SIGNATURES, 'spock');
    expect(problems.join()).toMatch(/declares no argument names/);
  });
});

describe('spock dialect: replication sets, the structure sync and the ready marker', () => {
  const byDsn = new Map(NODES.map((n) => [n.dsn, n.name]));
  const boot = (fake: FakeSpockNode, s: BootstrapSettings, log = quiet) => bootstrapRegion(s, { ...FAST, log, connect: async () => fake.db() });

  it('tables created before the node go into the right set; region-local ones stay out (finding 2)', async () => {
    const n1 = new FakeSpockNode(byDsn);
    n1.tables.set('users', { schema: 'public', pk: true, logged: true });
    n1.tables.set('audit_log', { schema: 'public', pk: false, logged: true });
    n1.tables.set('chat_local.otps', { schema: 'chat_local', pk: true, logged: true });
    await boot(n1, settings('n1'));
    expect(Object.fromEntries([...n1.sets].map(([r, x]) => [r, [...x]]))).toEqual({ users: ['default'], audit_log: ['default_insert_only'] });
    const add = n1.log.flatMap((r) => r.stmts).find((s) => s.kind === 'repset.add')!;
    expect(add.sql).toBe('SELECT spock.repset_add_table(set_name := $1::name, relation := $2::regclass, synchronize_data := $3::boolean)');
    // The rerun finds nothing to do.
    expect((await boot(n1, settings('n1'))).changes).toEqual([]);
  });

  it('a region-local table in a set (a join under include_ddl_repset) is taken out of every set, and a rerun is quiet', async () => {
    const n1 = new FakeSpockNode(byDsn);
    await boot(n1, settings('n1'));
    n1.tables.set('chat_local.otps', { schema: 'chat_local', pk: true, logged: true });
    n1.sets.set('chat_local.otps', new Set(['default', 'default_insert_only']));
    const r = await boot(n1, settings('n1'));
    expect(r.changes).toEqual([
      'removed region-local table chat_local.otps from replication set default',
      'removed region-local table chat_local.otps from replication set default_insert_only',
    ]);
    expect(n1.sets.get('chat_local.otps')?.size).toBe(0);
    const remove = n1.log.flatMap((x) => x.stmts).find((s) => s.kind === 'repset.remove')!;
    expect(remove.sql).toBe('SELECT spock.repset_remove_table(set_name := $1::name, relation := $2::regclass)');
    expect((await boot(n1, settings('n1'))).changes).toEqual([]);
    // SPOCK_LOCAL_SCHEMAS names them.
    n1.tables.set('scratch.t', { schema: 'scratch', pk: true, logged: true });
    n1.sets.set('scratch.t', new Set(['default']));
    expect((await boot(n1, settings('n1', { localSchemas: ['chat_local', 'scratch'] }))).changes).toEqual(['removed region-local table scratch.t from replication set default']);
  });

  it('a joining region restores the schema with auto-DDL off for the DSN role: nothing replayed to peers, chat_local in no set (finding 3)', async () => {
    const n3 = new FakeSpockNode(byDsn);
    await boot(n3, settings('n3', { syncFrom: 'n1' }));
    expect(n3.replayedDdl).toEqual([]);
    expect(Object.fromEntries([...n3.sets].map(([r, x]) => [r, [...x]]))).toEqual({ users: ['default'] });
    // The role settings were there for the restore only; the ready marker is set after the sync.
    expect(n3.dbSettings.get('pgedge')?.size ?? 0).toBe(0);
    expect(n3.dbSettings.get('')?.get('regionmesh.node_ready')).toBe('n3');
    const all = n3.log.flatMap((r) => r.stmts).map((s) => (s.kind === 'dbsetting.set' ? s.sql : s.kind === 'sub.create' ? `sub.create ${String(s.params[0])}` : undefined)).filter(Boolean);
    expect(all).toEqual([
      `ALTER ROLE "pgedge" IN DATABASE "app" SET spock.enable_ddl_replication = 'off'`,
      `ALTER ROLE "pgedge" IN DATABASE "app" SET spock.include_ddl_repset = 'off'`,
      'sub.create sub_n1_n3',
      'ALTER ROLE "pgedge" IN DATABASE "app" RESET spock.enable_ddl_replication',
      'ALTER ROLE "pgedge" IN DATABASE "app" RESET spock.include_ddl_repset',
      `ALTER DATABASE "app" SET regionmesh.node_ready = 'n3'`,
      'sub.create sub_n2_n3',
    ]);
    // Without the bracket (what Spock did before): the restore replays DDL and puts chat_local.otps into default.
    const old = new FakeSpockNode(byDsn);
    old.local = { name: 'n3', dsn: NODES[2]!.dsn };
    old.ext = true;
    old.subs.set('x', { id: 1, enabled: true, provider: 'n1', dsn: NODES[0]!.dsn, sync: true });
    (old as unknown as { restoreStructure(): void }).restoreStructure();
    expect(old.replayedDdl.length).toBe(2);
    expect([...(old.sets.get('chat_local.otps') ?? [])]).toEqual(['default']);
  });

  it('auto-DDL settings left off by an earlier run are reset once the sync is replicating', async () => {
    const n3 = new FakeSpockNode(byDsn);
    n3.dbSettings.set('pgedge', new Map([['spock.enable_ddl_replication', 'off'], ['spock.include_ddl_repset', 'off']]));
    const r = await boot(n3, settings('n3', { syncFrom: 'n1' }));
    // The settings were already off: not set again, reset after the sync.
    expect(r.changes).toContain('reset spock.enable_ddl_replication, spock.include_ddl_repset for role pgedge in database app (structure sync done)');
    expect(n3.dbSettings.get('pgedge')?.size).toBe(0);
  });

  it('the final check fails, naming the table, when a replicated table cannot be put into a set', async () => {
    const n1 = new FakeSpockNode(byDsn);
    n1.tables.set('users', { schema: 'public', pk: true, logged: true });
    n1.tables.set('scratch', { schema: 'public', pk: true, logged: false });
    const err = await boot(n1, settings('n1')).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err?.message).toBe(
      'replication sets of node n1 are wrong after the run: table(s) of replicated schema(s) public in no replication set, so they never replicate: scratch (UNLOGGED: no set can take it; ALTER TABLE ... SET LOGGED, or move it to a region-local schema)',
    );
    expect([...(n1.sets.get('users') ?? [])]).toEqual(['default']);
  });

  it('masks secrets in every error and log line, even when the server quotes a DSN with a password (finding 6)', async () => {
    const n1 = new FakeSpockNode(byDsn);
    await boot(n1, settings('n1'));
    n1.subs.clear();
    const real = n1.db.bind(n1);
    n1.db = () => {
      const db = real();
      return {
        ...db,
        transaction: async (stmts) => {
          if (stmts.some((s) => s.kind === 'sub.create')) {
            throw Object.assign(new Error(`could not connect to the postgresql server: FATAL: certificate missing\ndsn was: host=pgedge-n2 user=pgedge password=hunter2 sslpassword='s3 cret' dbname=app`), {
              detail: 'postgresql://pgedge:hunter2@pgedge-n2/app?sslpassword=s3cret',
            });
          }
          return db.transaction(stmts, 1_000);
        },
      };
    };
    const lines: string[] = [];
    const err = await boot(n1, settings('n1', { deadlineSeconds: 1 }), createLogger({}, { write: (l) => lines.push(l) })).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err?.message).toMatch(/could not subscribe to peer\(s\) n2, n3 \(sub_n2_n1: could not connect/);
    const text = `${err?.message}\n${lines.join('\n')}`;
    expect(lines.some((l) => l.includes('peer not reachable yet'))).toBe(true);
    expect(text).toContain('password=***');
    expect(text).toContain('postgresql://pgedge:***@pgedge-n2');
    expect(text).not.toMatch(/hunter2|s3cret|s3 cret/);
  });
});

describe('pglogical dialect: mesh-safe arguments are explicit', () => {
  it('create_subscription passes forward_origins := {} and synchronize_data := false (pglogical defaults are {all} and true)', () => {
    const s = pglogicalDialect.subCreate({ name: 'sub_n2_n1', providerDsn: NODES[1]!.dsn, synchronize: false });
    expect(argOf(s, 'create_subscription', 'forward_origins')).toEqual({ expr: expect.stringMatching(/::text\[\]$/), value: [] });
    expect(argOf(s, 'create_subscription', 'synchronize_data')).toEqual({ expr: expect.stringMatching(/::boolean$/), value: false });
    expect(argOf(s, 'create_subscription', 'synchronize_structure').value).toBe(false);
    const joining = pglogicalDialect.subCreate({ name: 'sub_n1_n3', providerDsn: NODES[0]!.dsn, synchronize: true });
    expect(argOf(joining, 'create_subscription', 'forward_origins').value).toEqual([]);
    expect(argOf(joining, 'create_subscription', 'synchronize_data').value).toBe(true);
    expect(argOf(joining, 'create_subscription', 'synchronize_structure').value).toBe(true);
  });

  it('has no repair_mode prelude and calls only pglogical functions', () => {
    expect(pglogicalDialect.txPrelude).toEqual([]);
    for (const s of builderStatements(pglogicalDialect)) {
      for (const c of parseCalls(s.sql)) expect(c.schema, s.sql).toBe('pglogical');
    }
  });
});
