/**
 * Real PostgreSQL 15 servers on loopback, one per region node, replicating through Debian's
 * pglogical (Spock needs a patched server; pglogical is its unpatched upstream ancestor, see
 * ../shared/reference/pgedge-spock.md section 6). Used by the Spock bootstrap tests and by
 * people who want the Postgres half of the data layer on one machine.
 *
 * Layout (default root `<repo>/.lab/postgres`, gitignored):
 *   certs/                 throwaway CA, server cert (SAN 127.0.0.1, localhost), client certs
 *                          `pgedge.{crt,key}` (superuser + replication) and `app.{crt,key}`
 *   <node>/data            the cluster (initdb once, reused)
 *   <node>/run             its unix socket
 *   <node>/postgres.log    server log
 *
 * Authentication mirrors production (pgEdge chart: client certificates, `sslmode=require`, no
 * passwords anywhere): `hostssl all all 127.0.0.1/32 cert`, so the user is the certificate's CN,
 * plus `local all <os user> peer` on the node's private socket for administration. The DSNs the
 * lab hands out (and that the bootstrap stores in pglogical's catalogs) therefore carry only
 * file paths: `host=127.0.0.1 port=P dbname=app user=pgedge sslmode=require sslcert=... sslkey=...`.
 * Those files are read by the *server* processes too (a subscriber's apply worker connects to
 * its provider with the stored DSN), so they are owned by the server's OS user, mode 0600.
 *
 * Postgres refuses to run as root: when this runs as root the servers run as the `postgres` OS
 * user (created by the Debian package); otherwise as the current user.
 *
 * Servers of a lab for tests run the postmaster directly, through `setpriv --pdeathsig SIGKILL`
 * (lab/leftovers.ts; `pg_ctl start` daemonizes, which would defeat it): they die with the process
 * that started them, even on kill -9 (a postmaster's children exit when it dies). The CLI
 * (`persistent`) starts them with `pg_ctl` so that they keep running. A handle's `stop()` stops
 * exactly the servers that handle started (a healthy server found running is reused and left
 * alone); a process exit handler stops them too if a test run dies.
 *
 * CLI: `npx tsx lab/postgres.ts start|stop|status [--nodes n1,n2] [--base-port 25432]`.
 */
import { spawn, spawnSync, type ChildProcess, type SpawnSyncOptions } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, chownSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg, { type ClientConfig } from 'pg';

import { aptGet, REPO_ROOT, SYSTEM_DIRS } from './install.js';
import { describePortHolders, dieWithParent, forgetSpawn, recordSpawn } from './leftovers.js';
import { exitHook, pollUntil, tailFile, tailText, tcpOpen } from './process.js';

export { REPO_ROOT };

/**
 * `<repo>/.lab/postgres` when the `postgres` OS user can reach it (every parent directory
 * world-searchable); otherwise (a checkout under /root, say) a per-checkout folder under
 * /var/tmp, so the lab works wherever CI clones the repository.
 */
function defaultLabDir(): string {
  const inRepo = join(REPO_ROOT, '.lab', 'postgres');
  let dir = resolve(REPO_ROOT);
  while (true) {
    try {
      if ((statSync(dir).mode & 0o001) === 0) {
        const tag = createHash('sha256').update(resolve(REPO_ROOT)).digest('hex').slice(0, 8);
        return join('/var/tmp', `regionmesh-lab-${tag}`, 'postgres');
      }
    } catch {
      return inRepo;
    }
    const parent = dirname(dir);
    if (parent === dir) return inRepo;
    dir = parent;
  }
}
export const DEFAULT_LAB_DIR = defaultLabDir();
/** Below the kernel's ephemeral range (32768-60999): an outgoing connection can never hold a lab port. */
export const DEFAULT_BASE_PORT = 25432;
export const PG_MAJOR = 15;
export const PG_BIN = process.env['PG_BIN_DIR'] ?? `/usr/lib/postgresql/${PG_MAJOR}/bin`;
export const APT_PACKAGES = [`postgresql-${PG_MAJOR}`, `postgresql-${PG_MAJOR}-pglogical`] as const;
/** The database every node serves (as the pgEdge chart's `initdb.database`). */
export const LAB_DATABASE = 'app';
/** Superuser + replication role the DSNs use (as the chart's `pgedge` user). */
export const LAB_REPLICATION_USER = 'pgedge';
export const LAB_APP_USER = 'app';

const PGLOGICAL_CONTROL = `/usr/share/postgresql/${PG_MAJOR}/extension/pglogical.control`;
const NODE_NAME = /^[a-z][a-z0-9]{0,30}$/;
const SYSTEM_PATH = SYSTEM_DIRS.join(':');

// ---------------------------------------------------------------------------------------------
// Installation

function dpkgInstalled(pkg: string): boolean {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Status}', pkg], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.includes('install ok installed');
}

function installed(): { missing: string[] } {
  const missing = APT_PACKAGES.filter((p) => !dpkgInstalled(p));
  if (missing.length === 0 && (!existsSync(join(PG_BIN, 'postgres')) || !existsSync(PGLOGICAL_CONTROL))) {
    // Packages say installed but files are gone: reinstalling is the fix.
    return { missing: [...APT_PACKAGES] };
  }
  return { missing };
}

/** One line per cluster `pg_lsclusters -h` knows: version, name, port, status. */
function debianClusters(): Array<{ version: string; name: string; port: number; online: boolean }> {
  const r = spawnSync('pg_lsclusters', ['-h'], { encoding: 'utf8', env: { ...process.env, PATH: `${process.env['PATH'] ?? ''}:${SYSTEM_PATH}` } });
  if (r.status !== 0) return [];
  return r.stdout
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f.length >= 4)
    .map(([version = '', name = '', port = '0', status = '']) => ({ version, name, port: Number(port), online: status.startsWith('online') }));
}

/**
 * The Debian package creates and starts a default cluster (`15/main` on 5432). The lab never
 * uses it: stop it and mark it `manual` so that it does not come back on reboot.
 */
function quietDefaultCluster(): string[] {
  const done: string[] = [];
  for (const c of debianClusters()) {
    if (c.version !== String(PG_MAJOR) || c.name !== 'main') continue;
    if (c.online) {
      spawnSync('pg_ctlcluster', [c.version, c.name, 'stop', '--', '-m', 'fast'], { encoding: 'utf8', env: { ...process.env, PATH: `${process.env['PATH'] ?? ''}:${SYSTEM_PATH}` } });
      done.push(`stopped Debian default cluster ${c.version}/${c.name} (port ${c.port})`);
    }
    const startConf = `/etc/postgresql/${c.version}/${c.name}/start.conf`;
    if (existsSync(startConf) && !/^\s*manual\s*$/m.test(readFileSync(startConf, 'utf8'))) {
      writeFileSync(startConf, '# set by regionmesh lab/postgres.ts: the lab runs its own servers\nmanual\n');
      done.push(`set ${startConf} to manual`);
    }
  }
  spawnSync('systemctl', ['disable', '--now', 'postgresql'], { stdio: 'ignore' });
  return done;
}

export interface InstallReport {
  /** Packages that were installed by this call (empty: everything was there). */
  readonly installed: readonly string[];
  readonly notes: readonly string[];
  readonly durationMs: number;
}

/**
 * Makes sure PostgreSQL 15 and pglogical are installed (Debian/Ubuntu apt, needs root).
 * Idempotent: does nothing when both packages are present. After an install, the distro's
 * default cluster is stopped and set to manual start. Throws a message that says what to do.
 */
export function ensurePostgresInstalled(): InstallReport {
  const t0 = Date.now();
  const { missing } = installed();
  if (missing.length === 0) return { installed: [], notes: [], durationMs: Date.now() - t0 };
  const how = `apt-get install ${APT_PACKAGES.join(' ')}`;
  if (process.getuid?.() !== 0) {
    throw new Error(`PostgreSQL ${PG_MAJOR} with pglogical is not installed (missing: ${missing.join(', ')}) and installing needs root: run \`${how}\` (Debian/Ubuntu)`);
  }
  if (spawnSync('apt-get', ['--version'], { stdio: 'ignore' }).status !== 0) {
    throw new Error(`PostgreSQL ${PG_MAJOR} with pglogical is not installed (missing: ${missing.join(', ')}) and apt-get is not available: install them with your package manager`);
  }
  const args = ['install', '-y', '-q', '--no-install-recommends', ...missing];
  let r = aptGet(args);
  if (!r.ok) {
    // Stale or empty package lists are the usual cause on a fresh machine.
    const u = aptGet(['update', '-q']);
    if (!u.ok) throw new Error(`apt-get update failed while installing ${missing.join(', ')}:\n${tailText(u.output)}`);
    r = aptGet(args);
  }
  if (!r.ok) throw new Error(`\`${how}\` failed:\n${tailText(r.output)}`);
  // Only a freshly installed server package brings (and starts) the default cluster.
  const notes = missing.includes(`postgresql-${PG_MAJOR}`) ? quietDefaultCluster() : [];
  const still = installed().missing;
  if (still.length > 0) throw new Error(`after apt-get install, still missing: ${still.join(', ')}`);
  return { installed: missing, notes, durationMs: Date.now() - t0 };
}

// ---------------------------------------------------------------------------------------------
// OS user the servers run as

interface ServerUser {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
  readonly home: string;
}

function serverUser(): ServerUser {
  const uid = process.getuid?.() ?? 0;
  if (uid !== 0) {
    const name = spawnSync('id', ['-un'], { encoding: 'utf8' }).stdout.trim() || String(uid);
    return { name, uid, gid: process.getgid?.() ?? uid, home: process.env['HOME'] ?? '/tmp' };
  }
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('postgres:'));
  if (!line) throw new Error('running as root but there is no `postgres` OS user (the postgresql package creates it): Postgres refuses to run as root');
  const f = line.split(':');
  return { name: 'postgres', uid: Number(f[2]), gid: Number(f[3]), home: f[5] || '/var/lib/postgresql' };
}

function asServerUser(user: ServerUser, extra: SpawnSyncOptions = {}): SpawnSyncOptions {
  const self = process.getuid?.() === user.uid;
  return {
    encoding: 'utf8',
    timeout: 120_000,
    ...(self ? {} : { uid: user.uid, gid: user.gid }),
    cwd: '/',
    env: { PATH: `${PG_BIN}:${SYSTEM_PATH}`, HOME: user.home, USER: user.name, LOGNAME: user.name, LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8' },
    ...extra,
  };
}

function chownTo(user: ServerUser, path: string): void {
  if (process.getuid?.() === 0) chownSync(path, user.uid, user.gid);
}

function run(cmd: string, args: readonly string[], opts: SpawnSyncOptions, what: string): string {
  const r = spawnSync(cmd, args, opts);
  if (r.error || r.status !== 0) {
    const out = `${String(r.stdout ?? '')}${String(r.stderr ?? '')}`;
    throw new Error(`${what} failed (${r.error?.message ?? `exit ${r.status}`}):\n${tailText(out)}`);
  }
  return String(r.stdout ?? '');
}

// ---------------------------------------------------------------------------------------------
// Certificates

export interface LabCerts {
  readonly dir: string;
  readonly caCert: string;
  readonly serverCert: string;
  readonly serverKey: string;
  /** Client certificate + key per role (CN = role name). */
  readonly clients: Readonly<Record<string, { cert: string; key: string }>>;
}

function opensslOk(): void {
  if (spawnSync('openssl', ['version'], { stdio: 'ignore' }).status !== 0) throw new Error('openssl is needed to create the lab certificates: apt-get install openssl');
}

/** Throwaway CA + server cert + client certs; created once, reused while the files exist. */
function ensureCerts(dir: string, user: ServerUser, roles: readonly string[]): LabCerts {
  mkdirSync(dir, { recursive: true });
  const p = (f: string) => join(dir, f);
  const certs: LabCerts = {
    dir,
    caCert: p('ca.crt'),
    serverCert: p('server.crt'),
    serverKey: p('server.key'),
    clients: Object.fromEntries(roles.map((r) => [r, { cert: p(`${r}.crt`), key: p(`${r}.key`) }])),
  };
  const needed = [certs.caCert, p('ca.key'), certs.serverCert, certs.serverKey, ...Object.values(certs.clients).flatMap((c) => [c.cert, c.key])];
  if (!needed.every((f) => existsSync(f))) {
    opensslOk();
    const o: SpawnSyncOptions = { encoding: 'utf8', cwd: dir, timeout: 60_000 };
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
    if (!existsSync(p('ca.key')) || !existsSync(certs.caCert)) {
      run('openssl', ['req', '-x509', '-new', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '3650', '-subj', '/CN=regionmesh-lab-postgres-ca'], o, 'openssl (CA)');
    }
    const issue = (base: string, cn: string, ext: string) => {
      writeFileSync(p(`${base}.ext`), ext);
      run('openssl', ['req', '-new', ...ec, '-keyout', `${base}.key`, '-out', `${base}.csr`, '-subj', `/CN=${cn}`], o, `openssl (${base} key)`);
      run(
        'openssl',
        ['x509', '-req', '-in', `${base}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-set_serial', `0x${Date.now().toString(16)}${Math.floor(Math.random() * 1e6).toString(16)}`, '-days', '3650', '-out', `${base}.crt`, '-extfile', `${base}.ext`],
        o,
        `openssl (${base} cert)`,
      );
      rmSync(p(`${base}.csr`), { force: true });
      rmSync(p(`${base}.ext`), { force: true });
    };
    if (!existsSync(certs.serverCert) || !existsSync(certs.serverKey)) {
      issue('server', 'localhost', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
    }
    for (const role of roles) {
      const c = certs.clients[role]!;
      if (!existsSync(c.cert) || !existsSync(c.key)) issue(role, role, 'extendedKeyUsage=clientAuth\n');
    }
  }
  // Server processes read the server key and (as replication clients) the client keys.
  chmodSync(dir, 0o755);
  for (const f of readdirSync(dir)) {
    const full = p(f);
    chownTo(user, full);
    chmodSync(full, f.endsWith('.key') ? 0o600 : 0o644);
  }
  return certs;
}

// ---------------------------------------------------------------------------------------------
// Libpq conninfo

/** Quotes a conninfo value when it needs it (libpq rules: single quotes, backslash escapes). */
export function conninfoValue(v: string): string {
  return /^[^\s'\\]+$/.test(v) ? v : `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

function conninfo(pairs: Array<[string, string | number]>): string {
  return pairs.map(([k, v]) => `${k}=${conninfoValue(String(v))}`).join(' ');
}

// ---------------------------------------------------------------------------------------------
// Nodes

export interface PostgresLabNode {
  readonly name: string;
  readonly host: '127.0.0.1';
  readonly port: number;
  readonly database: string;
  readonly dataDir: string;
  readonly socketDir: string;
  readonly logPath: string;
  /**
   * The node's advertised DSN (replication superuser `pgedge`, client certificate, no
   * password), byte-identical wherever it is used.
   */
  readonly dsn: string;
  /** DSN for the `app` role (client certificate). */
  readonly appDsn: string;
  /** node-postgres config for the `pgedge` superuser over TLS (server cert verified). */
  readonly adminConnectionConfig: ClientConfig;
  /** node-postgres config for the `app` role over TLS. */
  readonly appConnectionConfig: ClientConfig;
  /** libpq environment variables for the same admin connection (PGHOST, PGSSLCERT, ...). */
  readonly adminEnv: Readonly<Record<string, string>>;
}

/** One query on a lab node as its superuser, on a connection of its own; the rows. */
export async function labQuery<T extends Record<string, unknown> = Record<string, unknown>>(
  lab: PostgresLab,
  node: string,
  text: string,
  params: unknown[] = [],
): Promise<T[]> {
  const client = new pg.Client(lab.node(node).adminConnectionConfig);
  await client.connect();
  try {
    return (await client.query<T>(text, params)).rows;
  } finally {
    await client.end();
  }
}

export interface PostgresLab {
  readonly dir: string;
  readonly certs: LabCerts;
  readonly basePort: number;
  /** In the order they were added. */
  readonly nodes: readonly PostgresLabNode[];
  node(name: string): PostgresLabNode;
  /** Whether the node's server is up (pg_ctl status). */
  isRunning(name: string): boolean;
  /** Fast shutdown of one node; waits. */
  stopNode(name: string): Promise<void>;
  /** Starts a stopped node again (same port, data and config); waits until it accepts connections. */
  startNode(name: string): Promise<void>;
  /**
   * Initialises (or reuses) and starts one more node on the next port (basePort + its index);
   * `fresh` wipes its data dir first (e.g. for a joining region that must start empty).
   */
  addNode(name: string, opts?: { fresh?: boolean }): Promise<PostgresLabNode>;
  /**
   * Throws away the data of the given nodes (default: all) and initialises them again, empty,
   * on the same ports with the same certificates; they are running afterwards. For tests that
   * need a clean replication state.
   */
  resetNodes(names?: readonly string[]): Promise<void>;
  /** Runs SQL through psql as the local superuser (peer auth on the node's socket); returns stdout. */
  psql(name: string, sql: string, database?: string): string;
  /** Stops every server this handle started (reused ones are left running); waits. */
  stop(): Promise<void>;
}

export interface StartPostgresLabOptions {
  readonly nodes: readonly string[];
  /** Node i (0-based, in order) listens on basePort + i. Default 25432. */
  readonly basePort?: number;
  /** Default `<repo>/.lab/postgres`. */
  readonly dir?: string;
  /** Wipe the listed nodes' data dirs first (stopping them if running). */
  readonly fresh?: boolean;
  /** Settings are sized for at least this many nodes so that addNode needs no restart. Default 4. */
  readonly sizeFor?: number;
  /** Per-server start-up bound. Default 60 s. */
  readonly startTimeoutMs?: number;
  /** Skip ensurePostgresInstalled (default: run it). */
  readonly skipInstall?: boolean;
  /** Started for a human (CLI `start`): servers outlive this process (`pg_ctl start`). Default false: they die with it. */
  readonly persistent?: boolean;
}

/** postgresql.conf settings the lab writes to `<data>/lab.conf` (exported for tests and docs). */
export function labServerSettings(opts: { port: number; socketDir: string; certs: LabCerts; nodeCount: number }): Record<string, string | number> {
  const n = Math.max(opts.nodeCount, 2);
  return {
    listen_addresses: '127.0.0.1',
    port: opts.port,
    unix_socket_directories: opts.socketDir,
    max_connections: 60,
    shared_buffers: '16MB',
    wal_level: 'logical',
    track_commit_timestamp: 'on',
    shared_preload_libraries: 'pglogical',
    // Provider: one walsender + slot per peer; subscriber: one apply worker per peer, plus
    // pglogical's supervisor, one manager per database, sync workers, and headroom.
    max_worker_processes: 8 + 2 * n,
    max_replication_slots: 4 + 2 * n,
    max_wal_senders: 4 + 2 * n,
    wal_sender_timeout: '5s',
    wal_receiver_timeout: '5s',
    'pglogical.conflict_resolution': 'last_update_wins',
    ssl: 'on',
    ssl_cert_file: opts.certs.serverCert,
    ssl_key_file: opts.certs.serverKey,
    ssl_ca_file: opts.certs.caCert,
    log_min_messages: 'warning',
    log_line_prefix: '%m [%p] %q%u@%d ',
  };
}

function confText(settings: Record<string, string | number>): string {
  const lines = Object.entries(settings).map(([k, v]) => `${k} = ${typeof v === 'number' ? v : `'${v.replace(/'/g, "''")}'`}`);
  return `# written by regionmesh lab/postgres.ts on every start; edits are overwritten\n${lines.join('\n')}\n`;
}

function hbaText(osUser: string): string {
  return [
    '# written by regionmesh lab/postgres.ts: no passwords, client certificates only',
    `local all ${osUser} peer`,
    'hostssl all all 127.0.0.1/32 cert',
    '',
  ].join('\n');
}

interface NodeLayout {
  readonly name: string;
  readonly port: number;
  readonly root: string;
  readonly dataDir: string;
  readonly socketDir: string;
  readonly logPath: string;
}

function layout(dir: string, name: string, port: number): NodeLayout {
  const root = join(dir, name);
  return { name, port, root, dataDir: join(root, 'data'), socketDir: join(root, 'run'), logPath: join(root, 'postgres.log') };
}

function pgCtlStatus(user: ServerUser, l: NodeLayout): boolean {
  if (!existsSync(join(l.dataDir, 'PG_VERSION'))) return false;
  const r = spawnSync(join(PG_BIN, 'pg_ctl'), ['status', '-D', l.dataDir], asServerUser(user, { timeout: 10_000 }));
  return r.status === 0;
}

function psqlAs(user: ServerUser, l: NodeLayout, sql: string, database = 'postgres', timeout = 60_000): string {
  return run(
    join(PG_BIN, 'psql'),
    ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-h', l.socketDir, '-p', String(l.port), '-U', user.name, '-d', database, '-f', '-'],
    asServerUser(user, { input: sql, timeout }),
    `psql on lab node ${l.name}`,
  );
}

function adminConfig(l: NodeLayout, certs: LabCerts, role: string): ClientConfig {
  const c = certs.clients[role]!;
  return {
    host: '127.0.0.1',
    port: l.port,
    database: LAB_DATABASE,
    user: role,
    ssl: {
      ca: readFileSync(certs.caCert, 'utf8'),
      cert: readFileSync(c.cert, 'utf8'),
      key: readFileSync(c.key, 'utf8'),
      rejectUnauthorized: true,
    },
    connectionTimeoutMillis: 5_000,
  };
}

function nodeHandle(l: NodeLayout, certs: LabCerts): PostgresLabNode {
  const pg = certs.clients[LAB_REPLICATION_USER]!;
  const app = certs.clients[LAB_APP_USER]!;
  const base: Array<[string, string | number]> = [
    ['host', '127.0.0.1'],
    ['port', l.port],
    ['dbname', LAB_DATABASE],
  ];
  return {
    name: l.name,
    host: '127.0.0.1',
    port: l.port,
    database: LAB_DATABASE,
    dataDir: l.dataDir,
    socketDir: l.socketDir,
    logPath: l.logPath,
    dsn: conninfo([...base, ['user', LAB_REPLICATION_USER], ['sslmode', 'require'], ['sslcert', pg.cert], ['sslkey', pg.key]]),
    appDsn: conninfo([...base, ['user', LAB_APP_USER], ['sslmode', 'require'], ['sslcert', app.cert], ['sslkey', app.key]]),
    adminConnectionConfig: adminConfig(l, certs, LAB_REPLICATION_USER),
    appConnectionConfig: adminConfig(l, certs, LAB_APP_USER),
    adminEnv: {
      PGHOST: '127.0.0.1',
      PGPORT: String(l.port),
      PGDATABASE: LAB_DATABASE,
      PGUSER: LAB_REPLICATION_USER,
      PGSSLMODE: 'verify-full',
      PGSSLROOTCERT: certs.caCert,
      PGSSLCERT: pg.cert,
      PGSSLKEY: pg.key,
    },
  };
}

// Servers started by any handle in this process: stopped on exit if a test run dies (on `exit`
// only; unlike the NATS and Cassandra labs, no signal handlers).
const startedHere = new Map<string, { user: ServerUser; dataDir: string }>();
const installExitHook = exitHook(
  () => {
    for (const { user, dataDir } of startedHere.values()) {
      spawnSync(join(PG_BIN, 'pg_ctl'), ['stop', '-D', dataDir, '-m', 'immediate', '-w', '-t', '10'], asServerUser(user, { timeout: 15_000 }));
    }
  },
  { signals: false },
);

/** Postmasters this process runs as its own children (labs that are not persistent), by data dir. */
const postmasters = new Map<string, ChildProcess>();

async function waitAccepting(user: ServerUser, l: NodeLayout, timeoutMs: number): Promise<void> {
  const last = await pollUntil(
    async () => {
      const child = postmasters.get(l.dataDir);
      if (child && (child.exitCode !== null || child.signalCode !== null)) {
        throw new Error(`lab node ${l.name}: the postmaster exited during start-up (${child.signalCode ?? `exit ${child.exitCode}`}); log ${l.logPath}:\n${tailFile(l.logPath, 25)}`);
      }
      const r = spawnSync(join(PG_BIN, 'pg_isready'), ['-h', l.socketDir, '-p', String(l.port), '-U', user.name, '-d', 'postgres', '-t', '2'], asServerUser(user, { timeout: 5_000 }));
      if (r.status === 0 && (await tcpOpen('127.0.0.1', l.port))) return undefined;
      return `${String(r.stdout ?? '')}${String(r.stderr ?? '')}`.trim();
    },
    { timeoutMs, intervalMs: 100 },
  );
  if (last !== undefined) {
    throw new Error(`lab node ${l.name} not accepting connections on 127.0.0.1:${l.port} within ${timeoutMs} ms (${last}); log ${l.logPath}:\n${tailFile(l.logPath, 25)}`);
  }
}

function initdbIfMissing(user: ServerUser, l: NodeLayout): boolean {
  mkdirSync(l.root, { recursive: true });
  chownTo(user, l.root);
  chmodSync(l.root, 0o755);
  mkdirSync(l.socketDir, { recursive: true });
  chownTo(user, l.socketDir);
  chmodSync(l.socketDir, 0o700);
  if (existsSync(join(l.dataDir, 'PG_VERSION'))) return false;
  rmSync(l.dataDir, { recursive: true, force: true });
  mkdirSync(l.dataDir, { recursive: true });
  chownTo(user, l.dataDir);
  chmodSync(l.dataDir, 0o700);
  run(join(PG_BIN, 'initdb'), ['-D', l.dataDir, '-U', user.name, '-E', 'UTF8', '--locale=C.UTF-8', '-A', 'reject', '--no-instructions'], asServerUser(user), `initdb for lab node ${l.name}`);
  const conf = join(l.dataDir, 'postgresql.conf');
  writeFileSync(conf, `${readFileSync(conf, 'utf8')}\ninclude = 'lab.conf'\n`);
  return true;
}

function writeConfig(user: ServerUser, l: NodeLayout, certs: LabCerts, nodeCount: number): boolean {
  const files: Array<[string, string]> = [
    [join(l.dataDir, 'lab.conf'), confText(labServerSettings({ port: l.port, socketDir: l.socketDir, certs, nodeCount }))],
    [join(l.dataDir, 'pg_hba.conf'), hbaText(user.name)],
  ];
  let changed = false;
  for (const [file, text] of files) {
    if (existsSync(file) && readFileSync(file, 'utf8') === text) continue;
    writeFileSync(file, text);
    chownTo(user, file);
    chmodSync(file, 0o600);
    changed = true;
  }
  return changed;
}

async function startServer(user: ServerUser, l: NodeLayout, timeoutMs: number, persistent: boolean): Promise<void> {
  if (await tcpOpen('127.0.0.1', l.port)) {
    throw new Error(`port ${l.port} on 127.0.0.1 is already in use by ${describePortHolders('127.0.0.1', l.port)}, not lab node ${l.name}: stop it or choose another basePort`);
  }
  if (persistent) {
    // A stale postmaster.pid (after a crash) is handled by pg_ctl itself.
    const r = spawnSync(
      join(PG_BIN, 'pg_ctl'),
      ['start', '-D', l.dataDir, '-l', l.logPath, '-w', '-t', String(Math.ceil(timeoutMs / 1000)), '-s'],
      asServerUser(user, { timeout: timeoutMs + 10_000, stdio: ['ignore', 'pipe', 'pipe'] }),
    );
    if (r.status !== 0) {
      throw new Error(`pg_ctl start for lab node ${l.name} failed (${r.error?.message ?? `exit ${r.status}`}): ${String(r.stderr ?? '').trim()}\nlog ${l.logPath}:\n${tailFile(l.logPath, 25)}`);
    }
  } else {
    spawnPostmaster(user, l);
  }
  installExitHook();
  startedHere.set(l.dataDir, { user, dataDir: l.dataDir });
  await waitAccepting(user, l, timeoutMs);
}

/** `setpriv --pdeathsig SIGKILL postgres -D <data>` as the server user, output appended to the node's log. */
function spawnPostmaster(user: ServerUser, l: NodeLayout): void {
  const cmd = dieWithParent(join(PG_BIN, 'postgres'), ['-D', l.dataDir]);
  const o = asServerUser(user);
  const out = openSync(l.logPath, 'a');
  chownTo(user, l.logPath); // `pg_ctl -l` (the CLI) appends to it as the server user
  let child: ChildProcess;
  try {
    // Node applies uid/gid before setpriv runs: the death signal survives (a later uid change would clear it).
    child = spawn(cmd.bin, cmd.args, { ...(o.uid !== undefined ? { uid: o.uid, gid: o.gid } : {}), cwd: '/', env: o.env, detached: true, stdio: ['ignore', out, out] });
  } finally {
    closeSync(out);
  }
  const pid = child.pid;
  if (pid === undefined) throw new Error(`cannot start ${join(PG_BIN, 'postgres')} for lab node ${l.name}`);
  child.once('error', () => undefined);
  child.unref();
  postmasters.set(l.dataDir, child);
  recordSpawn(`postgres ${l.name}`, pid);
  child.once('exit', () => {
    forgetSpawn(pid);
    if (postmasters.get(l.dataDir) === child) postmasters.delete(l.dataDir);
  });
}

async function stopServer(user: ServerUser, l: NodeLayout): Promise<void> {
  if (pgCtlStatus(user, l)) {
    run(join(PG_BIN, 'pg_ctl'), ['stop', '-D', l.dataDir, '-m', 'fast', '-w', '-t', '60', '-s'], asServerUser(user, { timeout: 70_000 }), `pg_ctl stop for lab node ${l.name}`);
  }
  startedHere.delete(l.dataDir);
}

/** Roles `pgedge` (superuser, replication) and `app`, database `app` owned by app; idempotent. */
function ensureRolesAndDatabase(user: ServerUser, l: NodeLayout): void {
  psqlAs(
    user,
    l,
    `DO $$BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${LAB_REPLICATION_USER}') THEN CREATE ROLE ${LAB_REPLICATION_USER} LOGIN SUPERUSER REPLICATION; END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${LAB_APP_USER}') THEN CREATE ROLE ${LAB_APP_USER} LOGIN; END IF;
END$$;
SELECT 'CREATE DATABASE ${LAB_DATABASE} OWNER ${LAB_APP_USER}' WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = '${LAB_DATABASE}')\\gexec
`,
  );
}

/**
 * Brings one node up: initdb if missing, (re)writes config, reuses a healthy running server
 * (restarting it only if its config changed), otherwise starts it. Returns whether this call
 * started the server.
 */
async function ensureNodeUp(user: ServerUser, l: NodeLayout, certs: LabCerts, nodeCount: number, timeoutMs: number, persistent: boolean): Promise<boolean> {
  initdbIfMissing(user, l);
  const changed = writeConfig(user, l, certs, nodeCount);
  let startedNow = false;
  if (pgCtlStatus(user, l)) {
    if (changed) {
      await stopServer(user, l);
      await startServer(user, l, timeoutMs, persistent);
      startedNow = true;
    } else {
      await waitAccepting(user, l, timeoutMs);
    }
  } else {
    await startServer(user, l, timeoutMs, persistent);
    startedNow = true;
  }
  ensureRolesAndDatabase(user, l);
  return startedNow;
}

/** The server user must be able to enter `dir` (e.g. a repo under /root, mode 0700, is not). */
function checkReachable(user: ServerUser, dir: string): void {
  if (process.getuid?.() === user.uid) return;
  const r = spawnSync('test', ['-x', dir, '-a', '-r', dir], asServerUser(user, { timeout: 10_000 }));
  if (r.status !== 0) {
    throw new Error(
      `the ${user.name} OS user (the lab's servers run as it, since Postgres refuses root) cannot enter ${dir}: a parent directory is not world-executable (e.g. /root). Move the checkout, make its parents o+x, or pass another \`dir\``,
    );
  }
}

function checkNodeName(name: string): void {
  if (!NODE_NAME.test(name)) throw new Error(`lab node name "${name}" must match ${NODE_NAME} (lowercase letters and digits, e.g. n1)`);
}

/** Starts (or reuses) one PostgreSQL 15 + pglogical server per node; see the module comment. */
export async function startPostgresLab(opts: StartPostgresLabOptions): Promise<PostgresLab> {
  if (opts.nodes.length === 0) throw new Error('startPostgresLab needs at least one node');
  for (const n of opts.nodes) checkNodeName(n);
  if (new Set(opts.nodes).size !== opts.nodes.length) throw new Error(`duplicate lab node names: ${opts.nodes.join(', ')}`);
  if (!opts.skipInstall) ensurePostgresInstalled();
  else if (!existsSync(join(PG_BIN, 'postgres')) || !existsSync(PGLOGICAL_CONTROL)) throw new Error(`PostgreSQL ${PG_MAJOR} + pglogical not found under ${PG_BIN}`);
  const dir = resolve(opts.dir ?? DEFAULT_LAB_DIR);
  const basePort = opts.basePort ?? DEFAULT_BASE_PORT;
  const timeoutMs = opts.startTimeoutMs ?? 60_000;
  const persistent = opts.persistent ?? false;
  const user = serverUser();
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o755);
  checkReachable(user, dir);
  const certs = ensureCerts(join(dir, 'certs'), user, [LAB_REPLICATION_USER, LAB_APP_USER]);
  const sizeFor = () => Math.max(opts.sizeFor ?? 4, layouts.length);

  const layouts: NodeLayout[] = opts.nodes.map((name, i) => layout(dir, name, basePort + i));
  const ours = new Set<string>();
  const handles: PostgresLabNode[] = [];

  const get = (name: string): NodeLayout => {
    const l = layouts.find((x) => x.name === name);
    if (!l) throw new Error(`no lab node "${name}" (known: ${layouts.map((x) => x.name).join(', ')})`);
    return l;
  };

  const bringUp = async (l: NodeLayout) => {
    if (await ensureNodeUp(user, l, certs, sizeFor(), timeoutMs, persistent)) ours.add(l.name);
  };

  try {
    for (const l of layouts) {
      if (opts.fresh) {
        await stopServer(user, l);
        rmSync(l.dataDir, { recursive: true, force: true });
      }
      await bringUp(l);
      handles.push(nodeHandle(l, certs));
    }
  } catch (e) {
    await Promise.all(layouts.filter((l) => ours.has(l.name)).map((l) => stopServer(user, l)));
    throw e;
  }

  const lab: PostgresLab = {
    dir,
    certs,
    basePort,
    nodes: handles,
    node(name) {
      const h = handles.find((x) => x.name === name);
      if (!h) throw new Error(`no lab node "${name}" (known: ${handles.map((x) => x.name).join(', ')})`);
      return h;
    },
    isRunning: (name) => pgCtlStatus(user, get(name)),
    async stopNode(name) {
      await stopServer(user, get(name));
    },
    async startNode(name) {
      const l = get(name);
      if (pgCtlStatus(user, l)) return;
      await startServer(user, l, timeoutMs, persistent);
      ours.add(name);
    },
    async addNode(name, addOpts = {}) {
      checkNodeName(name);
      if (layouts.some((l) => l.name === name)) throw new Error(`lab node "${name}" already exists`);
      const l = layout(dir, name, basePort + layouts.length);
      layouts.push(l);
      if (addOpts.fresh) {
        await stopServer(user, l);
        rmSync(l.dataDir, { recursive: true, force: true });
      }
      await bringUp(l);
      const h = nodeHandle(l, certs);
      handles.push(h);
      return h;
    },
    async resetNodes(names) {
      // Re-initdb rather than DROP DATABASE: pglogical 2.4's supervisor never answers PG15's
      // ProcSignalBarrier, so DROP DATABASE on a pglogical server waits forever.
      for (const l of names ? names.map(get) : layouts) {
        await stopServer(user, l);
        rmSync(l.dataDir, { recursive: true, force: true });
        await bringUp(l);
      }
    },
    psql: (name, sql, database = LAB_DATABASE) => psqlAs(user, get(name), sql, database),
    async stop() {
      await Promise.all(layouts.filter((l) => ours.has(l.name)).map((l) => stopServer(user, l)));
      ours.clear();
    },
  };
  return lab;
}

/** Lab node directories that exist under `dir` (for the CLI's stop/status). */
export function labNodeDirs(dir = DEFAULT_LAB_DIR): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((n) => NODE_NAME.test(n) && existsSync(join(dir, n, 'data', 'PG_VERSION')))
    .sort();
}

function portOf(dataDir: string): number | undefined {
  try {
    const m = /^port = (\d+)$/m.exec(readFileSync(join(dataDir, 'lab.conf'), 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Stops every lab server found under `dir` (whoever started it); waits. */
export async function stopAllLabServers(dir = DEFAULT_LAB_DIR): Promise<string[]> {
  const user = serverUser();
  const stopped: string[] = [];
  for (const name of labNodeDirs(dir)) {
    const l = layout(dir, name, portOf(join(dir, name, 'data')) ?? 0);
    if (pgCtlStatus(user, l)) {
      await stopServer(user, l);
      stopped.push(name);
    }
  }
  return stopped;
}

// ---------------------------------------------------------------------------------------------
// CLI

function cliArg(args: readonly string[], flag: string): string | undefined {
  const i = args.indexOf(flag);
  return i >= 0 ? args[i + 1] : undefined;
}

async function cli(argv: readonly string[]): Promise<number> {
  const [cmd, ...args] = argv;
  const dir = resolve(cliArg(args, '--dir') ?? DEFAULT_LAB_DIR);
  if (cmd === 'start') {
    const t0 = Date.now();
    const install = ensurePostgresInstalled();
    if (install.installed.length > 0) console.log(`installed ${install.installed.join(', ')} in ${install.durationMs} ms${install.notes.length ? ` (${install.notes.join('; ')})` : ''}`);
    const nodes = (cliArg(args, '--nodes') ?? 'n1,n2').split(',').map((s) => s.trim()).filter(Boolean);
    const basePort = Number(cliArg(args, '--base-port') ?? DEFAULT_BASE_PORT);
    const lab = await startPostgresLab({ nodes, basePort, dir, skipInstall: true, persistent: true });
    for (const n of lab.nodes) {
      console.log(`${n.name}: 127.0.0.1:${n.port} (data ${n.dataDir})\n  dsn: ${n.dsn}\n  admin: ${Object.entries(n.adminEnv).map(([k, v]) => `${k}=${v}`).join(' ')} psql`);
    }
    console.log(`ready in ${Date.now() - t0} ms; stop with: npx tsx lab/postgres.ts stop`);
    return 0;
  }
  if (cmd === 'stop') {
    const stopped = await stopAllLabServers(dir);
    console.log(stopped.length ? `stopped ${stopped.join(', ')}` : 'no lab server was running');
    return 0;
  }
  if (cmd === 'status') {
    const user = serverUser();
    const names = labNodeDirs(dir);
    if (names.length === 0) console.log(`no lab nodes under ${dir}`);
    for (const name of names) {
      const port = portOf(join(dir, name, 'data'));
      const up = pgCtlStatus(user, layout(dir, name, port ?? 0));
      console.log(`${name}: ${up ? 'running' : 'stopped'} on 127.0.0.1:${port ?? '?'}`);
    }
    return 0;
  }
  console.error('usage: npx tsx lab/postgres.ts start|stop|status [--nodes n1,n2] [--base-port 25432] [--dir .lab/postgres]');
  return 2;
}

const invokedDirectly = process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly) {
  cli(process.argv.slice(2)).then(
    (code) => {
      // Servers started by the CLI keep running: forget them so the exit hook leaves them up.
      startedHere.clear();
      process.exitCode = code;
    },
    (e: unknown) => {
      startedHere.clear();
      console.error(e instanceof Error ? e.message : String(e));
      process.exitCode = 1;
    },
  );
}
