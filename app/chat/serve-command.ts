/**
 * `regionmesh-app serve`: one region's chat backend (see ./server.ts), settings from the
 * environment (./settings.ts). Runs until SIGTERM or SIGINT, then shuts down gracefully within
 * CHAT_SHUTDOWN_GRACE_SECONDS: stops accepting, closes every socket with 1012 (service restart)
 * so clients reconnect elsewhere, drains NATS, shuts Cassandra and Postgres down.
 * Exit codes: 0 after a clean shutdown, 1 when the shutdown overran its grace period or the
 * server could not start, 2 bad environment (raised as EnvError to the dispatcher).
 */
import { createLogger } from '../log.js';
import { startChatServer } from './server.js';
import { settingsFromEnv } from './settings.js';

export const USAGE = `serve: the chat backend of one region (HTTP /healthz /readyz /metrics, WebSocket /ws).
Environment:
  CHAT_REGION CHAT_PORT(8080) NATS_URL NATS_USER NATS_PASSWORD
  CASSANDRA_CONTACT_POINTS CASSANDRA_LOCAL_DC CASSANDRA_KEYSPACE(chat) CASSANDRA_USERNAME CASSANDRA_PASSWORD
  PGHOST PGPORT PGDATABASE PGUSER PGSSLMODE PGSSLCERT PGSSLKEY PGSSLROOTCERT PGPASSFILE
  CHAT_CODE_SENDER(log|memory) CHAT_DEV_PRINT_CODES(false) CHAT_MAX_FRAME_BYTES(16384)
  CHAT_RATE_PER_SECOND(20) CHAT_RATE_BURST(40) CHAT_SHUTDOWN_GRACE_SECONDS(20)
  CHAT_PG_DIALECT(spock|pglogical) CHAT_MIGRATE(true)`;

export async function run(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const log = createLogger({ command: 'serve' });
  if (argv.length > 0) {
    log.error('serve takes no arguments (settings come from the environment; see --help)');
    return 2;
  }
  const settings = settingsFromEnv(env);
  const server = await startChatServer(settings, { log });
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    const on = (s: NodeJS.Signals) => {
      process.off('SIGTERM', on);
      process.off('SIGINT', on);
      resolve(s);
    };
    process.on('SIGTERM', on);
    process.on('SIGINT', on);
  });
  log.info('signal received, shutting down', { signal });
  const graceMs = settings.shutdownGraceSeconds * 1000;
  let overran = false;
  const hard = setTimeout(() => {
    overran = true;
    log.error('shutdown exceeded the grace period; exiting', { graceSeconds: settings.shutdownGraceSeconds });
    process.exit(1);
  }, graceMs);
  hard.unref();
  await server.close();
  clearTimeout(hard);
  return overran ? 1 : 0;
}
