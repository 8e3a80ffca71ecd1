/**
 * The environment a lab backend runs with: the variables the generated Deployment sets
 * (app/chat/settings.ts documents each), pointing at the region's own lab engines, plus the
 * lab's choices (SMTP to Mailpit without TLS, the pglogical dialect). It holds credentials:
 * never print it.
 */
import type { CassandraLabNode } from './cassandra.js';
import { SYSTEM_DIRS } from './install.js';
import type { NatsLabRegion } from './nats.js';
import type { PostgresLab, PostgresLabNode } from './postgres.js';

/** The From address of the lab's login mails. */
export const LAB_MAIL_FROM = 'Regionmesh lab <no-reply@regionmesh.lab>';

export interface BackendEnvInput {
  readonly region: string;
  readonly port: number;
  readonly nats: Pick<NatsLabRegion, 'clientUrl' | 'credentials'>;
  readonly cassandra: Pick<CassandraLabNode, 'contactPoint' | 'dc'> & { readonly keyspace: string; readonly username: string; readonly password: string };
  readonly postgres: Pick<PostgresLabNode, 'port' | 'database'> & { readonly certs: PostgresLab['certs'] };
  readonly smtp: { readonly host: string; readonly port: number };
  /** Backend limits; unset ones keep the backend's defaults. */
  readonly limits?: { readonly maxFrameBytes?: number; readonly ratePerSecond?: number; readonly rateBurst?: number; readonly shutdownGraceSeconds?: number };
  /** More variables (e.g. CHAT_AUTH_TIMEOUT_SECONDS); they win over the lab's. */
  readonly extra?: Readonly<Record<string, string>>;
}

/** The whole environment of one region's backend (nothing else is inherited). */
export function backendEnv(i: BackendEnvInput): Record<string, string> {
  const app = i.postgres.certs.clients['app'];
  if (!app) throw new Error('the Postgres lab has no client certificate for the app role');
  const limits = i.limits ?? {};
  const optional: Record<string, number | undefined> = {
    CHAT_MAX_FRAME_BYTES: limits.maxFrameBytes,
    CHAT_RATE_PER_SECOND: limits.ratePerSecond,
    CHAT_RATE_BURST: limits.rateBurst,
    CHAT_SHUTDOWN_GRACE_SECONDS: limits.shutdownGraceSeconds,
  };
  return {
    PATH: SYSTEM_DIRS.join(':'),
    HOME: process.env['HOME'] ?? '/tmp',
    LANG: 'C.UTF-8',
    // As in the image (app/Dockerfile).
    NODE_ENV: 'production',
    LOG_LEVEL: 'info',
    CHAT_REGION: i.region,
    CHAT_HOST: '127.0.0.1',
    CHAT_PORT: String(i.port),
    NATS_URL: i.nats.clientUrl,
    NATS_USER: i.nats.credentials.user,
    NATS_PASSWORD: i.nats.credentials.password,
    CASSANDRA_CONTACT_POINTS: i.cassandra.contactPoint,
    CASSANDRA_LOCAL_DC: i.cassandra.dc,
    CASSANDRA_KEYSPACE: i.cassandra.keyspace,
    CASSANDRA_USERNAME: i.cassandra.username,
    CASSANDRA_PASSWORD: i.cassandra.password,
    PGHOST: '127.0.0.1',
    PGPORT: String(i.postgres.port),
    PGDATABASE: i.postgres.database,
    PGUSER: 'app',
    PGSSLMODE: 'verify-full',
    PGSSLROOTCERT: i.postgres.certs.caCert,
    PGSSLCERT: app.cert,
    PGSSLKEY: app.key,
    // No password file: the lab authenticates with client certificates only.
    PGPASSFILE: '/nonexistent/pgpass',
    CHAT_PG_DIALECT: 'pglogical',
    CHAT_MIGRATE: 'true',
    CHAT_CODE_SENDER: 'smtp',
    CHAT_SMTP_HOST: i.smtp.host,
    CHAT_SMTP_PORT: String(i.smtp.port),
    CHAT_SMTP_TLS: 'none',
    CHAT_SMTP_FROM: LAB_MAIL_FROM,
    ...Object.fromEntries(Object.entries(optional).filter((e): e is [string, number] => e[1] !== undefined).map(([k, v]) => [k, String(v)])),
    ...i.extra,
  };
}
