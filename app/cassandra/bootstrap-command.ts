/**
 * `regionmesh-app bootstrap-cassandra`: the chat keyspace, app role and tables (idempotent).
 *
 * Environment (validated at start-up; see BootstrapEnv in ./bootstrap.ts):
 *   CASSANDRA_CONTACT_POINTS       comma list of host or host:port of the LOCAL DC
 *   CASSANDRA_LOCAL_DC             the Cassandra DC name of this region
 *   CASSANDRA_DATACENTERS          comma list of every DC that must exist (and carry the keyspace)
 *   CASSANDRA_REPLICATION_FACTOR   RF per DC (whole number >= 1)
 *   CASSANDRA_KEYSPACE             default `chat`
 *   CASSANDRA_SUPERUSER_USERNAME / CASSANDRA_SUPERUSER_PASSWORD
 *   CASSANDRA_APP_USERNAME / CASSANDRA_APP_PASSWORD
 *   BOOTSTRAP_DEADLINE_SECONDS     default 600: the whole run, including waiting for every DC
 * Exit codes: 0 done (or nothing to do), 1 failed (DCs not ready: nothing changed), 2 bad environment.
 */
import { createLogger } from '../log.js';
import { bootstrapCassandra, BootstrapError, settingsFromEnv } from './bootstrap.js';

export async function run(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const log = createLogger({ command: 'bootstrap-cassandra' });
  if (argv.length > 0) {
    log.error('bootstrap-cassandra takes no arguments; it reads its settings from the environment', { argv });
    return 2;
  }
  const settings = settingsFromEnv(env); // EnvError -> exit 2 in main
  try {
    const report = await bootstrapCassandra(settings, { log });
    log.info('bootstrap-cassandra finished', { changed: report.changes.length > 0, changes: report.changes, warnings: report.warnings });
    return 0;
  } catch (e) {
    if (e instanceof BootstrapError) {
      log.error(e.message, { error: e.name });
      return 1;
    }
    throw e;
  }
}
