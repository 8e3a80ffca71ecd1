/**
 * `regionmesh-app wait-postgres-node`: the chat backend's init container. Waits (bounded) until
 * this region's Postgres database is mesh node SPOCK_NODE and ready for the backend's migration,
 * i.e. until bootstrap-spock has created the node (and, in a joining region, finished the
 * structure sync) and set the database setting `regionmesh.node_ready` to the node's name. Any
 * role can read it (`current_setting` of a new session), so the init container connects with the
 * backend's own client certificate; it never needs the replication catalogs.
 *
 * Why: Spock's auto-DDL only puts tables created after the node exists into a replication set,
 * and a joining region's structure sync fails on tables that already exist, so the backend must
 * not migrate before that (README, "Spock replication sets and rollout order").
 *
 * Environment: SPOCK_NODE (the node name), SPOCK_WAIT_SECONDS (default 900), and the libpq
 * variables of the connection (PGHOST ... PGSSLKEY, as for `serve`).
 * Exit codes: 0 ready, 1 not ready before the deadline (Kubernetes restarts the init container
 * with backoff), 2 bad environment.
 */
import pg from 'pg';
import { setTimeout as sleepTimer } from 'node:timers/promises';
import { z } from 'zod';
import { EnvError, intString, readEnv } from '../env.js';
import { createLogger } from '../log.js';
import { NODE_READY_SETTING } from './dialect.js';
import { errText } from './errors.js';
import { adminConnectionFromEnv, NODE_NAME, NODE_NAME_RULE } from './settings.js';

export const USAGE = `wait-postgres-node: wait until this region's database is mesh node SPOCK_NODE, ready for the chat backend's migration.
Environment:
  SPOCK_NODE          the node name bootstrap-spock creates here (e.g. n1)
  SPOCK_WAIT_SECONDS  bound of the wait (default 900)
  PGHOST PGPORT PGDATABASE PGUSER PGSSLMODE PGSSLCERT PGSSLKEY PGSSLROOTCERT PGPASSFILE
Exit codes: 0 ready, 1 not ready before the deadline, 2 bad environment.`;

export const DEFAULT_WAIT_SECONDS = 900;

const envSchema = z.object({
  SPOCK_NODE: z.string().regex(NODE_NAME, { message: NODE_NAME_RULE }),
  SPOCK_WAIT_SECONDS: intString(1, 86_400).optional(),
});

export interface WaitIo {
  readonly env?: NodeJS.ProcessEnv;
  readonly write?: (line: string) => void;
  /** Poll interval (default 2 s). */
  readonly pollMs?: number;
}

/** The node name the database is marked ready for, read from a new session ('' when none). */
async function readyNode(config: pg.ClientConfig, timeoutMs: number): Promise<string> {
  const client = new pg.Client({ ...config, connectionTimeoutMillis: timeoutMs, query_timeout: timeoutMs });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const r = await client.query<{ ready: string | null }>('SELECT current_setting($1, true) AS ready', [NODE_READY_SETTING]);
    return r.rows[0]?.ready ?? '';
  } finally {
    await client.end().catch(() => undefined);
  }
}

export async function run(argv: readonly string[], io: WaitIo = {}): Promise<number> {
  const env = io.env ?? process.env;
  const log = createLogger({ command: 'wait-postgres-node' }, io.write ? { write: io.write } : {});
  if (argv.includes('--help') || argv.includes('-h')) {
    (io.write ?? ((l: string) => process.stdout.write(`${l}\n`)))(USAGE);
    return 0;
  }
  let node: string;
  let waitSeconds: number;
  let config: pg.ClientConfig;
  try {
    const e = readEnv(envSchema, Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== '')));
    node = e.SPOCK_NODE;
    waitSeconds = e.SPOCK_WAIT_SECONDS ?? DEFAULT_WAIT_SECONDS;
    config = adminConnectionFromEnv(env);
  } catch (e) {
    if (e instanceof EnvError) {
      log.error('invalid environment', { problems: e.problems });
      return 2;
    }
    throw e;
  }
  if (argv.length > 0) {
    log.error('wait-postgres-node takes no arguments (settings come from the environment; see --help)');
    return 2;
  }
  const where = `${String(config.host)}:${String(config.port)}/${String(config.database)}`;
  const deadline = Date.now() + waitSeconds * 1000;
  const pollMs = io.pollMs ?? 2_000;
  let last = '';
  for (let attempt = 1; ; attempt++) {
    let state: string;
    try {
      const ready = await readyNode(config, Math.max(1_000, Math.min(10_000, deadline - Date.now())));
      if (ready === node) {
        log.info('postgres node ready', { node, database: where, attempts: attempt });
        return 0;
      }
      state = ready === '' ? `database ${where} is not marked ready (${NODE_READY_SETTING} unset)` : `database ${where} is marked ready for node "${ready}", not "${node}"`;
    } catch (e) {
      state = `cannot query ${where}: ${errText(e)}`;
    }
    if (state !== last) {
      log.info('waiting for the postgres node', { node, state, attempt });
      last = state;
    }
    const left = deadline - Date.now();
    if (left <= 0) {
      log.error(
        `postgres node ${node} not ready after ${waitSeconds} s: ${state}. The bootstrap-spock Job of this region sets ${NODE_READY_SETTING} once it has created the node (and finished a joining region's structure sync): check that Job and its log`,
        { node, attempts: attempt },
      );
      return 1;
    }
    await sleepTimer(Math.min(pollMs, left));
  }
}
