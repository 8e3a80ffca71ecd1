/**
 * `regionmesh-app bootstrap-spock`: this region's Spock (or pglogical) node and its
 * subscriptions to every peer, minus whatever ties it to regions leaving the mesh, or (leaving
 * itself) none of it, from environment variables (see ./settings.ts).
 * Exit codes: 0 done (or nothing to do), 1 failed (deadline, unreachable or stuck peers,
 * conflicting catalog), 2 bad environment.
 */
import { EnvError } from '../env.js';
import { createLogger } from '../log.js';
import { BootstrapError, bootstrapRegion, type BootstrapOptions } from './bootstrap.js';
import { errText } from './errors.js';
import { SettingsError, adminConnectionFromEnv, settingsFromEnv } from './settings.js';

export const USAGE = `bootstrap-spock: converge this region's node and its subscriptions to every peer, or take it out of the mesh (idempotent).
Environment:
  SPOCK_DIALECT              spock | pglogical (default spock)
  SPOCK_NODE                 this region's node name, e.g. n1
  SPOCK_NODES                JSON [{"name":"n1","dsn":"host=... dbname=app user=pgedge sslmode=require sslcert=... sslkey=..."}, ...]
                             every region including this one; byte-identical in every region; no passwords
  SPOCK_SYNC_FROM            optional: the one provider to sync structure + data from (joining region)
  SPOCK_REMOVED_NODES        optional comma list: nodes of regions leaving the mesh (not in SPOCK_NODES);
                             drops sub_<removed>_<me>, the slot here that served them, their node rows
  SPOCK_LEAVE                true | false (default false): this region leaves the mesh; SPOCK_NODES lists
                             only this node; drops every subscription, the mesh's slots and this node
                             (never tables or data)
  SPOCK_REPLICATION_SCHEMAS  comma list, default public: every table goes into a replication set
  SPOCK_LOCAL_SCHEMAS        comma list, default chat_local: region-local, kept out of every set
  SPOCK_DEADLINE_SECONDS     default 600
  PGHOST PGPORT PGDATABASE PGUSER PGSSLMODE PGSSLCERT PGSSLKEY PGSSLROOTCERT PGPASSFILE
                             the admin connection to the local database (libpq variables)
Exit codes: 0 ok, 1 failed, 2 bad environment.`;

export interface RunIo {
  /** Environment to read (default process.env). */
  readonly env?: NodeJS.ProcessEnv;
  /** Where log lines go (default stdout). */
  readonly write?: (line: string) => void;
  /** Extra bootstrap options (tests: poll interval, connection double). */
  readonly options?: Omit<BootstrapOptions, 'log'>;
}

export async function run(argv: readonly string[], io: RunIo = {}): Promise<number> {
  const env = io.env ?? process.env;
  const log = createLogger({ command: 'bootstrap-spock' }, io.write ? { write: io.write } : {});
  if (argv.includes('--help') || argv.includes('-h')) {
    (io.write ?? ((l: string) => process.stdout.write(`${l}\n`)))(USAGE);
    return 0;
  }
  if (argv.length > 0) {
    log.error('bootstrap-spock takes no arguments (settings come from the environment; see --help)', { argv: [...argv] });
    return 2;
  }
  let settings;
  try {
    settings = { ...settingsFromEnv(env), admin: adminConnectionFromEnv(env) };
  } catch (e) {
    if (e instanceof EnvError) {
      log.error('invalid environment', { problems: e.problems });
      return 2;
    }
    throw e;
  }
  try {
    await bootstrapRegion(settings, { ...io.options, log });
    return 0;
  } catch (e) {
    if (e instanceof SettingsError) {
      log.error('invalid settings', { problems: e.problems });
      return 2;
    }
    if (e instanceof BootstrapError) {
      log.error('bootstrap failed', { error: e.message, peers: e.peers });
      return 1;
    }
    log.error('bootstrap failed', { error: errText(e) });
    return 1;
  }
}
