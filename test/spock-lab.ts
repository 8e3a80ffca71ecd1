/**
 * What the Spock integration tests (app/spock/bootstrap, leave and repsets .test.ts) share: a
 * PostgreSQL 15 + pglogical lab of their own (lab/postgres.ts), installed first and started with
 * empty nodes; the bootstrap's settings and command environment for a lab node; the table they
 * write to; bounded replication waits; and a node's replication catalogs as one comparable value.
 */
import { v7 as uuidv7 } from 'uuid';
import type { Logger } from '../app/log.js';
import { bootstrapRegion, type BootstrapResult } from '../app/spock/bootstrap.js';
import type { BootstrapSettings, NodeSpec } from '../app/spock/settings.js';
import { ensurePostgresInstalled, labQuery, startPostgresLab, type PostgresLab } from '../lab/postgres.js';
import { pollUntil } from '../lab/process.js';

/** The bootstrap's polling, shortened so that a test waits seconds, not minutes. */
export const FAST = { pollIntervalMs: 200, stableMs: 1_000, maxBackoffMs: 2_000 } as const;
/** How long a row is given to reach another node (ms). */
export const REPLICATION_WAIT_MS = 15_000;
/** The table the tests write rows to and watch replicate. */
export const TABLE = 'chat_messages';
export const CREATE_TABLE = `CREATE TABLE IF NOT EXISTS ${TABLE} (id uuid PRIMARY KEY, room_id uuid NOT NULL, body text NOT NULL, created_at timestamptz NOT NULL DEFAULT now())`;

/**
 * Installs PostgreSQL 15 + pglogical when missing (failing, never skipping, with why and which
 * test file needs it), then starts `nodes` (node i on basePort + i, files under `dir`) with
 * their data thrown away: empty servers, certificates kept.
 */
export async function startEmptyLab(testFile: string, opts: { readonly nodes: readonly string[]; readonly basePort: number; readonly dir: string }): Promise<PostgresLab> {
  try {
    const t0 = Date.now();
    const report = ensurePostgresInstalled();
    if (report.installed.length > 0) console.info(`installed ${report.installed.join(', ')} in ${Date.now() - t0} ms`);
  } catch (e) {
    throw new Error(`PostgreSQL 15 + pglogical are required for ${testFile} and could not be installed: ${(e as Error).message}`);
  }
  const lab = await startPostgresLab({ nodes: opts.nodes, basePort: opts.basePort, dir: opts.dir, skipInstall: true });
  try {
    await lab.resetNodes();
  } catch (e) {
    await lab.stop();
    throw e;
  }
  return lab;
}

/** Replication catalogs, slots and origins of a node, each row as JSON text. */
export type ReplicationSnapshot = Record<'node' | 'nodeInterface' | 'localNode' | 'subscription' | 'replicationSet' | 'repsetTables' | 'slots' | 'origins', string[]>;

/**
 * Helpers on the lab `lab()` returns (read at each call: the lab starts in beforeAll). `log`
 * receives the library calls' log lines.
 */
export function spockLabKit(lab: () => PostgresLab, log: Logger) {
  /** One query on `node` as its superuser; the rows. */
  const sql = <T extends Record<string, unknown> = Record<string, unknown>>(node: string, text: string, params: unknown[] = []) => labQuery<T>(lab(), node, text, params);

  /** SPOCK_NODES entries of lab nodes `names`: their advertised DSNs. */
  const nodes = (names: readonly string[]): NodeSpec[] => names.map((n) => ({ name: n, dsn: lab().node(n).dsn }));

  /** Bootstrap settings of `node` in a mesh of `names`: pglogical, schema public, 60 s deadline; `over` wins. */
  const settings = (node: string, names: readonly string[], over: Partial<BootstrapSettings> = {}): BootstrapSettings => ({
    dialect: 'pglogical',
    node,
    nodes: nodes(names),
    replicationSchemas: ['public'],
    deadlineSeconds: 60,
    admin: lab().node(node).adminConnectionConfig,
    ...over,
  });

  /** The library call, with FAST polling. */
  const boot = (node: string, names: readonly string[], over: Partial<BootstrapSettings> = {}): Promise<BootstrapResult> =>
    bootstrapRegion(settings(node, names, over), { ...FAST, log });

  /**
   * The command's environment for `node` in a mesh of `names`: this process's environment without
   * its PG* and SPOCK_* variables, the lab's libpq admin variables, SPOCK_* as the generator emits
   * them (60 s deadline), then `extra`.
   */
  const commandEnv = (node: string, names: readonly string[], extra: Record<string, string> = {}): NodeJS.ProcessEnv => {
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('PG') && !k.startsWith('SPOCK_')) env[k] = v;
    return {
      ...env,
      ...lab().node(node).adminEnv,
      SPOCK_DIALECT: 'pglogical',
      SPOCK_NODE: node,
      SPOCK_NODES: JSON.stringify(nodes(names)),
      SPOCK_DEADLINE_SECONDS: '60',
      ...extra,
    };
  };

  /** A row of TABLE written on `node`; its id. */
  const insert = async (node: string, body: string): Promise<string> => {
    const id = uuidv7();
    await sql(node, `INSERT INTO ${TABLE} (id, room_id, body) VALUES ($1, $2, $3)`, [id, uuidv7(), body]);
    return id;
  };

  /** Polls `check` every 100 ms until it holds; throws naming `what` after `timeoutMs`. */
  const waitFor = async (what: string, check: () => Promise<boolean>, timeoutMs = REPLICATION_WAIT_MS): Promise<void> => {
    const notYet = await pollUntil(async () => ((await check()) ? undefined : 'not yet'), { timeoutMs, intervalMs: 100 });
    if (notYet !== undefined) throw new Error(`${what}: not within ${timeoutMs} ms`);
  };

  /** Waits until row `id` of TABLE is on `node`; the ms it took. */
  const waitForRow = async (node: string, id: string, timeoutMs = REPLICATION_WAIT_MS): Promise<number> => {
    const t0 = Date.now();
    await waitFor(`row ${id} reaching ${node}`, async () => (await sql(node, `SELECT 1 FROM ${TABLE} WHERE id = $1`, [id])).length === 1, timeoutMs);
    return Date.now() - t0;
  };

  /** Everything of pglogical's a bootstrap or a leave may change on `node`, as comparable text. */
  const snapshot = async (node: string): Promise<ReplicationSnapshot> => {
    const rows = async (q: string) => (await sql(node, q)).map((r) => JSON.stringify(r));
    return {
      node: await rows('SELECT * FROM pglogical.node ORDER BY node_id'),
      nodeInterface: await rows('SELECT * FROM pglogical.node_interface ORDER BY if_id'),
      localNode: await rows('SELECT * FROM pglogical.local_node'),
      subscription: await rows('SELECT * FROM pglogical.subscription ORDER BY sub_id'),
      replicationSet: await rows('SELECT set_name FROM pglogical.replication_set ORDER BY set_id'),
      repsetTables: await rows('SELECT set_id, set_reloid::text FROM pglogical.replication_set_table ORDER BY 1, 2'),
      slots: await rows('SELECT slot_name, plugin, database, slot_type FROM pg_replication_slots ORDER BY slot_name'),
      origins: await rows('SELECT roname FROM pg_replication_origin ORDER BY roname'),
    };
  };

  return { sql, nodes, settings, boot, commandEnv, insert, waitFor, waitForRow, snapshot };
}
