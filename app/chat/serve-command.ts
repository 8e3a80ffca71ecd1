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
Environment (default in parentheses):
  CHAT_REGION CHAT_HOST(0.0.0.0) CHAT_PORT(8080) NATS_URL NATS_USER NATS_PASSWORD
  CASSANDRA_CONTACT_POINTS CASSANDRA_LOCAL_DC CASSANDRA_KEYSPACE(chat) CASSANDRA_USERNAME CASSANDRA_PASSWORD
  PGHOST PGPORT PGDATABASE PGUSER PGSSLMODE PGSSLCERT PGSSLKEY PGSSLROOTCERT PGPASSFILE
  CHAT_CODE_SENDER (required): smtp | webhook | log (lab: logs that a code was issued) | memory (tests)
    smtp:    CHAT_SMTP_HOST CHAT_SMTP_PORT(by TLS: 465 | 587 | 25) CHAT_SMTP_TLS(starttls | implicit | none)
             CHAT_SMTP_FROM CHAT_SMTP_USER CHAT_SMTP_PASSWORD (both or neither)
    webhook: CHAT_WEBHOOK_URL CHAT_WEBHOOK_KEY(>= 32 characters) CHAT_WEBHOOK_TIMEOUT_MS(5000)
    log:     CHAT_DEV_PRINT_CODES(false): also print codes to stderr
  CHAT_MAX_FRAME_BYTES(16384) CHAT_RATE_PER_SECOND(50) CHAT_RATE_BURST(100)
  CHAT_AUTH_TIMEOUT_SECONDS(10) CHAT_HANDSHAKE_TIMEOUT_SECONDS(10)
  CHAT_MAX_CONNECTIONS_PER_ADDRESS(64) CHAT_MAX_CONNECTIONS_PER_USER(8) CHAT_TRUSTED_PROXIES(none: IPs/CIDRs, comma-separated)
  CHAT_SHUTDOWN_GRACE_SECONDS(20) CHAT_PG_DIALECT(spock|pglogical) CHAT_MIGRATE(true)
  CHAT_HEALTH_INTERVAL_SECONDS(2) CHAT_HEALTH_TIMEOUT_SECONDS(2, <= interval)
  CHAT_HEALTH_FAILURES_BEFORE_UNREADY(3) CHAT_HEALTH_SUCCESSES_BEFORE_READY(2)`;

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
