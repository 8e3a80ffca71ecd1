/**
 * Settings of `bootstrap-spock`, from environment variables (the generator emits exactly these
 * names) or given directly to the library function.
 *
 *   SPOCK_DIALECT              spock | pglogical (default spock)
 *   SPOCK_NODE                 this region's node name (e.g. n1)
 *   SPOCK_NODES                JSON [{"name":"n1","dsn":"host=... sslcert=... sslkey=..."}, ...] for EVERY
 *                              region including this one; DSNs are stored in catalogs, so they must be
 *                              byte-identical in every region, and must not contain a password
 *   SPOCK_SYNC_FROM            optional node name: the one subscription that syncs structure + data
 *   SPOCK_REMOVED_NODES        optional comma list of node names of regions LEAVING the mesh (no longer
 *                              in SPOCK_NODES): this node drops `sub_<removed>_<me>`, the slot on this
 *                              node that served the removed node, and the removed node's row once no
 *                              subscription references it
 *   SPOCK_LEAVE                optional true | false (default false): THIS region is leaving; then
 *                              SPOCK_NODES lists only this node. Drops every subscription here, the
 *                              remote node rows, the mesh's replication slots here, then this node
 *                              (never a table or a row of user data)
 *   SPOCK_REPLICATION_SCHEMAS  comma list (default public): every table of these schemas must be in a
 *                              replication set (`default`, or `default_insert_only` without a primary
 *                              key / replica identity index); the bootstrap adds those in none
 *   SPOCK_LOCAL_SCHEMAS        comma list (default chat_local): region-local schemas; their tables must
 *                              be in NO replication set, the bootstrap removes them from every set
 *   SPOCK_DEADLINE_SECONDS     whole run bound (default 600)
 *
 * The admin connection to the LOCAL database uses the standard libpq variables: PGHOST, PGPORT,
 * PGDATABASE, PGUSER, PGSSLMODE, PGSSLCERT, PGSSLKEY, PGSSLROOTCERT, PGPASSFILE (PGPASSWORD,
 * PGCONNECT_TIMEOUT, PGAPPNAME too). They are resolved here, not by node-postgres, so that a
 * settings object fully describes the connection.
 */
import { readFileSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';
import type { ClientConfig } from 'pg';
import { z } from 'zod';
import { EnvError, commaList, intString, jsonString, readEnv } from '../env.js';
import { DIALECTS, type DialectName } from './dialect.js';
import { DsnSyntaxError, isUri, parseConninfo, secretKeywords } from './dsn.js';

/** Node names: they become parts of subscription and slot names (`sub_n1_n2`). */
export const NODE_NAME = /^[a-z][a-z0-9]{0,23}$/;
export const NODE_NAME_RULE = 'must be 1-24 lowercase letters or digits starting with a letter (e.g. n1)';
export const DEFAULT_DEADLINE_SECONDS = 600;
export const DEFAULT_REPLICATION_SCHEMAS: readonly string[] = ['public'];
/** The chat backend's region-local schema (app/chat/postgres.ts LOCAL_SCHEMA; a test keeps them equal). */
export const DEFAULT_LOCAL_SCHEMAS: readonly string[] = ['chat_local'];

export interface NodeSpec {
  readonly name: string;
  readonly dsn: string;
}

export interface BootstrapSettings {
  readonly dialect: DialectName;
  /** This region's node. */
  readonly node: string;
  /** Every region's node, this one included. */
  readonly nodes: readonly NodeSpec[];
  readonly syncFrom?: string | undefined;
  /** Nodes of regions leaving the mesh (not in `nodes`): their subscriptions here are dropped. Default none. */
  readonly removedNodes?: readonly string[] | undefined;
  /** This region leaves the mesh (`nodes` lists only this node). Default false. */
  readonly leave?: boolean | undefined;
  /** Schemas whose tables must all be in a replication set. */
  readonly replicationSchemas: readonly string[];
  /** Region-local schemas: their tables must be in no replication set. Default DEFAULT_LOCAL_SCHEMAS. */
  readonly localSchemas?: readonly string[] | undefined;
  readonly deadlineSeconds: number;
  /** Connection to the local database as a superuser (node-postgres config). */
  readonly admin: ClientConfig;
}

/** Settings that break a rule (exit code 2). Problems name the setting, never a value. */
export class SettingsError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid settings:\n${problems.map((p) => `  ${p}`).join('\n')}`);
    this.name = 'SettingsError';
  }
}

/** Why `dsn` is not acceptable as a node DSN, or undefined. Never echoes the DSN. */
export function dsnProblem(dsn: string): string | undefined {
  if (dsn.trim() === '') return 'is empty';
  let secrets: string[];
  try {
    secrets = secretKeywords(dsn);
    if (!isUri(dsn)) parseConninfo(dsn);
  } catch (e) {
    return `is not a valid libpq connection string (${e instanceof DsnSyntaxError ? e.message : 'parse error'})`;
  }
  if (secrets.length > 0) {
    return `contains a password (${secrets.join(', ')}): node DSNs are stored in replication catalogs on every node; use client certificates (sslcert/sslkey) or a passfile instead`;
  }
  return undefined;
}

/** Cross-field rules shared by the env path and the library path. `label` maps a field to what the user set. */
export function settingsProblems(
  s: Pick<BootstrapSettings, 'node' | 'nodes' | 'syncFrom' | 'deadlineSeconds' | 'replicationSchemas' | 'localSchemas' | 'removedNodes' | 'leave'>,
  label: { node: string; nodes: string; syncFrom: string; deadline: string; schemas: string; localSchemas?: string; removed: string; leave: string } = {
    node: 'node',
    nodes: 'nodes',
    syncFrom: 'syncFrom',
    deadline: 'deadlineSeconds',
    schemas: 'replicationSchemas',
    localSchemas: 'localSchemas',
    removed: 'removedNodes',
    leave: 'leave',
  },
): string[] {
  const problems: string[] = [];
  if (!NODE_NAME.test(s.node)) problems.push(`${label.node}: ${NODE_NAME_RULE}`);
  if (s.nodes.length === 0) problems.push(`${label.nodes}: must list every region's node (at least this one)`);
  const seen = new Set<string>();
  s.nodes.forEach((n, i) => {
    if (!NODE_NAME.test(n.name)) problems.push(`${label.nodes}[${i}].name: ${NODE_NAME_RULE}`);
    if (seen.has(n.name)) problems.push(`${label.nodes}[${i}].name: node "${n.name}" is listed twice`);
    seen.add(n.name);
    const p = dsnProblem(n.dsn);
    if (p) problems.push(`${label.nodes}[${i}].dsn (node ${NODE_NAME.test(n.name) ? n.name : `#${i}`}) ${p}`);
  });
  if (NODE_NAME.test(s.node) && s.nodes.length > 0 && !seen.has(s.node)) {
    problems.push(`${label.node}: node "${s.node}" is not in ${label.nodes} (which must include this region)`);
  }
  const removed = s.removedNodes ?? [];
  const removedSeen = new Set<string>();
  removed.forEach((r, i) => {
    if (!NODE_NAME.test(r)) {
      problems.push(`${label.removed}[${i}]: ${NODE_NAME_RULE}`);
      return;
    }
    if (removedSeen.has(r)) problems.push(`${label.removed}[${i}]: node "${r}" is listed twice`);
    removedSeen.add(r);
    if (r === s.node) problems.push(`${label.removed}[${i}]: this node cannot remove itself (a leaving region sets ${label.leave}=true)`);
    else if (seen.has(r)) problems.push(`${label.removed}[${i}]: node "${r}" is also in ${label.nodes}; a removed node must no longer be listed as a region`);
  });
  if (s.syncFrom !== undefined) {
    if (s.syncFrom === s.node) problems.push(`${label.syncFrom}: a node cannot sync from itself`);
    else if (removedSeen.has(s.syncFrom)) problems.push(`${label.syncFrom}: node "${s.syncFrom}" is in ${label.removed} (leaving the mesh); sync from a remaining node`);
    else if (!seen.has(s.syncFrom)) problems.push(`${label.syncFrom}: node "${s.syncFrom}" is not in ${label.nodes}`);
  }
  if (s.leave === true) {
    if (s.nodes.length > 1) problems.push(`${label.nodes}: with ${label.leave}=true it must list only this node (the leaving region), not its former peers`);
    if (s.syncFrom !== undefined) problems.push(`${label.syncFrom}: must not be set with ${label.leave}=true (a leaving node does not sync)`);
    if (removed.length > 0) problems.push(`${label.removed}: must not be set with ${label.leave}=true (a leaving node drops all its subscriptions)`);
  }
  if (!Number.isInteger(s.deadlineSeconds) || s.deadlineSeconds < 1) problems.push(`${label.deadline}: must be a whole number of seconds >= 1`);
  if (s.replicationSchemas.length === 0) problems.push(`${label.schemas}: must list at least one schema`);
  const both = (s.localSchemas ?? DEFAULT_LOCAL_SCHEMAS).filter((x) => s.replicationSchemas.includes(x));
  if (both.length > 0) {
    problems.push(`${label.localSchemas ?? 'localSchemas'}: schema(s) ${both.join(', ')} also in ${label.schemas}; a schema is either replicated or region-local`);
  }
  return problems;
}

export const ENV = {
  dialect: 'SPOCK_DIALECT',
  node: 'SPOCK_NODE',
  nodes: 'SPOCK_NODES',
  syncFrom: 'SPOCK_SYNC_FROM',
  removed: 'SPOCK_REMOVED_NODES',
  leave: 'SPOCK_LEAVE',
  schemas: 'SPOCK_REPLICATION_SCHEMAS',
  localSchemas: 'SPOCK_LOCAL_SCHEMAS',
  deadline: 'SPOCK_DEADLINE_SECONDS',
} as const;

const nodeEntry = z.strictObject({ name: z.string(), dsn: z.string() });

const envSchema = z.object({
  [ENV.dialect]: z.enum(DIALECTS as [DialectName, ...DialectName[]], { message: `must be one of ${DIALECTS.join(', ')}` }).optional(),
  [ENV.node]: z.string().regex(NODE_NAME, { message: NODE_NAME_RULE }),
  [ENV.nodes]: jsonString(z.array(nodeEntry, { message: 'must be a JSON array of {"name","dsn"} objects' }).min(1, { message: 'must list every region (at least this one)' })),
  [ENV.syncFrom]: z.string().regex(NODE_NAME, { message: NODE_NAME_RULE }).optional(),
  [ENV.removed]: commaList.optional(),
  [ENV.leave]: z.enum(['true', 'false'], { message: 'must be true or false' }).optional(),
  [ENV.schemas]: commaList.optional(),
  [ENV.localSchemas]: commaList.optional(),
  [ENV.deadline]: intString(1, 86_400).optional(),
});

/** Empty variables count as unset (Kubernetes often renders optional values as ""). */
function withoutEmpty(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
}

/** SPOCK_* variables -> settings (without `admin`). Throws EnvError naming variables, never values. */
export function settingsFromEnv(env: NodeJS.ProcessEnv = process.env): Omit<BootstrapSettings, 'admin'> {
  const e = readEnv(envSchema, withoutEmpty(env));
  const settings = {
    dialect: e[ENV.dialect] ?? 'spock',
    node: e[ENV.node],
    nodes: e[ENV.nodes].map((n) => ({ name: n.name, dsn: n.dsn })),
    syncFrom: e[ENV.syncFrom],
    removedNodes: e[ENV.removed] ?? [],
    leave: e[ENV.leave] === 'true',
    replicationSchemas: e[ENV.schemas] ?? DEFAULT_REPLICATION_SCHEMAS,
    localSchemas: e[ENV.localSchemas] ?? DEFAULT_LOCAL_SCHEMAS,
    deadlineSeconds: e[ENV.deadline] ?? DEFAULT_DEADLINE_SECONDS,
  };
  const problems = settingsProblems(settings, {
    node: ENV.node,
    nodes: ENV.nodes,
    syncFrom: ENV.syncFrom,
    deadline: ENV.deadline,
    schemas: ENV.schemas,
    localSchemas: ENV.localSchemas,
    removed: ENV.removed,
    leave: ENV.leave,
  });
  if (problems.length > 0) throw new EnvError(problems);
  return settings;
}

// ---------------------------------------------------------------------------------------------
// Admin connection from libpq environment variables

export const SSL_MODES = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'] as const;

function readFileOrProblem(file: string, variable: string, problems: string[]): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    problems.push(`${variable}: cannot read the file it names (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
    return undefined;
  }
}

/** `\:` and `\\` escapes; `*` matches anything. */
function passfileFields(line: string): string[] {
  const fields: string[] = [];
  let cur = '';
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === '\\' && i + 1 < line.length) {
      cur += line[++i];
    } else if (c === ':' && fields.length < 4) {
      fields.push(cur);
      cur = '';
    } else cur += c;
  }
  fields.push(cur);
  return fields;
}

/** The password for (host, port, db, user) from a libpq passfile, or undefined. */
export function passfileLookup(text: string, want: { host: string; port: string; database: string; user: string }): string | undefined {
  const hostKeys = want.host.startsWith('/') ? [want.host, 'localhost'] : [want.host];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '');
    if (line.trim() === '' || line.trimStart().startsWith('#')) continue;
    const f = passfileFields(line);
    if (f.length !== 5) continue;
    const [h, p, d, u, pw] = f as [string, string, string, string, string];
    const m = (pattern: string, value: string) => pattern === '*' || pattern === value;
    if ((h === '*' || hostKeys.includes(h)) && m(p, want.port) && m(d, want.database) && m(u, want.user)) return pw;
  }
  return undefined;
}

/**
 * node-postgres config for the local admin connection from libpq variables. SSL modes:
 * disable: no TLS; allow/prefer (libpq's default): TLS without verification when a client
 * certificate or root certificate is configured, else plain (node-postgres cannot fall back);
 * require: TLS, server not verified unless PGSSLROOTCERT is set (then like verify-ca, as libpq
 * does); verify-ca: chain checked; verify-full: chain and host name checked. A unix-socket
 * PGHOST never uses TLS. Throws EnvError naming the variables (never their values).
 */
export function adminConnectionFromEnv(env: NodeJS.ProcessEnv = process.env): ClientConfig {
  const problems: string[] = [];
  const v = (k: string) => (env[k] !== undefined && env[k] !== '' ? env[k] : undefined);
  const host = v('PGHOST') ?? 'localhost';
  if (host.includes(',')) problems.push('PGHOST: several hosts are not supported here; name the local primary');
  const portText = v('PGPORT') ?? '5432';
  const port = Number(portText);
  if (!/^[0-9]+$/.test(portText) || port < 1 || port > 65535) problems.push('PGPORT: must be a TCP port number');
  let osUser = 'postgres';
  try {
    osUser = userInfo().username;
  } catch {
    /* no passwd entry (containers with arbitrary uids) */
  }
  const user = v('PGUSER') ?? osUser;
  const database = v('PGDATABASE') ?? user;
  const sslmode = (v('PGSSLMODE') ?? 'prefer') as (typeof SSL_MODES)[number];
  if (!SSL_MODES.includes(sslmode)) problems.push(`PGSSLMODE: must be one of ${SSL_MODES.join(', ')}`);
  const certFile = v('PGSSLCERT');
  const keyFile = v('PGSSLKEY');
  const rootFile = v('PGSSLROOTCERT');
  if ((certFile === undefined) !== (keyFile === undefined)) problems.push('PGSSLCERT/PGSSLKEY: set both (client certificate and its key) or neither');
  const cert = certFile ? readFileOrProblem(certFile, 'PGSSLCERT', problems) : undefined;
  const key = keyFile ? readFileOrProblem(keyFile, 'PGSSLKEY', problems) : undefined;
  const systemRoots = rootFile === 'system';
  const ca = rootFile && !systemRoots ? readFileOrProblem(rootFile, 'PGSSLROOTCERT', problems) : undefined;
  if ((sslmode === 'verify-ca' || sslmode === 'verify-full') && !rootFile) {
    problems.push(`PGSSLROOTCERT: PGSSLMODE=${sslmode} needs the CA certificate file (or "system")`);
  }
  const passfile = v('PGPASSFILE') ?? join(homedir(), '.pgpass');
  const passwordEnv = v('PGPASSWORD');
  if (problems.length > 0) throw new EnvError(problems);

  let ssl: ClientConfig['ssl'] = false;
  const socket = host.startsWith('/');
  if (!socket && sslmode !== 'disable') {
    const clientCert = cert !== undefined && key !== undefined ? { cert, key } : {};
    const verify = sslmode === 'verify-ca' || sslmode === 'verify-full' || (sslmode === 'require' && rootFile !== undefined);
    const tryTls = sslmode === 'require' || verify || cert !== undefined || rootFile !== undefined;
    if (tryTls) {
      ssl = verify
        ? {
            ...clientCert,
            ...(ca !== undefined ? { ca } : {}),
            rejectUnauthorized: true,
            ...(sslmode === 'verify-full' ? {} : { checkServerIdentity: () => undefined }),
          }
        : { ...clientCert, rejectUnauthorized: false };
    }
  }
  const connectTimeout = Number(v('PGCONNECT_TIMEOUT') ?? '10');
  return {
    host,
    port,
    user,
    database,
    ssl,
    application_name: v('PGAPPNAME') ?? 'regionmesh-bootstrap-spock',
    connectionTimeoutMillis: Number.isFinite(connectTimeout) && connectTimeout > 0 ? connectTimeout * 1000 : 10_000,
    // Only asked when the server requests a password: PGPASSWORD, else the passfile.
    password: async () => {
      if (passwordEnv !== undefined) return passwordEnv;
      let text: string;
      try {
        text = readFileSync(passfile, 'utf8');
      } catch {
        throw new Error('the server asked for a password, but PGPASSWORD is not set and no passfile (PGPASSFILE or ~/.pgpass) is readable');
      }
      const pw = passfileLookup(text, { host, port: String(port), database, user });
      if (pw === undefined) throw new Error('the server asked for a password, and the passfile has no matching entry');
      return pw;
    },
  };
}
