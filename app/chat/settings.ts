/**
 * Settings of `serve` (one region's chat backend), from environment variables validated with
 * zod at start-up. The generator emits exactly these names:
 *
 *   CHAT_REGION                  this region's name (a DNS label, e.g. r1)
 *   CHAT_HOST                    listen address (default 0.0.0.0; the lab uses 127.0.0.1)
 *   CHAT_PORT                    HTTP + WebSocket port (default 8080)
 *   NATS_URL                     the local NATS cluster (comma list of URLs allowed)
 *   NATS_USER, NATS_PASSWORD     NATS client credentials (both or neither)
 *   CASSANDRA_CONTACT_POINTS     comma list of host or host:port of the LOCAL DC
 *   CASSANDRA_LOCAL_DC           the local DC name (the driver only ever talks to it)
 *   CASSANDRA_KEYSPACE           default chat
 *   CASSANDRA_USERNAME, CASSANDRA_PASSWORD   app role (both or neither)
 *   PGHOST PGPORT PGDATABASE PGUSER PGSSLMODE PGSSLCERT PGSSLKEY PGSSLROOTCERT PGPASSFILE
 *                                the local Postgres primary (libpq variables)
 *   CHAT_CODE_SENDER             smtp | webhook (production) | log (lab) | memory (tests); required.
 *                                Its own variables (CHAT_SMTP_*, CHAT_WEBHOOK_*, CHAT_DEV_PRINT_CODES):
 *                                see ./senders/settings.ts
 *   CHAT_MAX_FRAME_BYTES         WebSocket maxPayload (default 16384)
 *   CHAT_RATE_PER_SECOND         per-connection token bucket rate, frames/s (default 50)
 *   CHAT_RATE_BURST              per-connection token bucket size, frames (default 100)
 *   CHAT_AUTH_TIMEOUT_SECONDS    an upgraded socket must authenticate within this (default 10)
 *   CHAT_HANDSHAKE_TIMEOUT_SECONDS  HTTP headers + WebSocket upgrade within this (default 10)
 *   CHAT_MAX_CONNECTIONS_PER_ADDRESS  open sockets per source address (default 64)
 *   CHAT_MAX_CONNECTIONS_PER_USER     authenticated sockets per user (default 8)
 *   CHAT_TRUSTED_PROXIES         comma list of IPs/CIDRs whose X-Forwarded-For is believed (default none)
 *   CHAT_SHUTDOWN_GRACE_SECONDS  bound of a graceful shutdown (default 20)
 *   CHAT_WRITE_MIN_INTERVAL_MS   least time between two Cassandra writes of one room (default 5; 0: none)
 *   CHAT_HEALTH_INTERVAL_SECONDS          time between two dependency-check rounds (default 2)
 *   CHAT_HEALTH_TIMEOUT_SECONDS           bound of each check; slower counts as down (default 2, at most the interval)
 *   CHAT_HEALTH_FAILURES_BEFORE_UNREADY   failing rounds in a row before /readyz says 503 and clients get 4001 (default 3)
 *   CHAT_HEALTH_SUCCESSES_BEFORE_READY    healthy rounds in a row before /readyz says 200 again (default 2)
 *                                (./health.ts; the generator derives the readinessProbe from the same numbers)
 *
 * Optional extras with safe defaults (the generator need not emit them):
 *   CHAT_PG_DIALECT              spock (default) | pglogical: how `migrate` keeps chat_local unreplicated
 *   CHAT_MIGRATE                 true (default) | false: run `migrate` when Postgres first answers
 */
import type { PoolConfig } from 'pg';
import { z } from 'zod';
import { EnvError, commaList, intString, readEnv } from '../env.js';
import { adminConnectionFromEnv } from '../spock/settings.js';
import { ipListProblems } from './ip-list.js';
import { HEALTH_DEFAULTS, type HealthSettings } from './health.js';
import type { PgDialect } from './postgres.js';
import { codeSenderFromEnv, codeSenderSummary, senderEnvShape, type CodeSenderSettings } from './senders/settings.js';

export type { CodeSenderSettings, SmtpSenderSettings, SmtpTlsMode, WebhookSenderSettings } from './senders/settings.js';
export type CodeSenderKind = CodeSenderSettings['kind'];

export interface ChatSettings {
  readonly region: string;
  /** Listen address (default 0.0.0.0; tests use 127.0.0.1). */
  readonly host: string;
  /** 0 picks a free port (tests). */
  readonly port: number;
  readonly nats: {
    readonly servers: readonly string[];
    readonly user?: string | undefined;
    readonly password?: string | undefined;
  };
  readonly cassandra: {
    readonly contactPoints: readonly string[];
    readonly localDataCenter: string;
    readonly keyspace: string;
    readonly username?: string | undefined;
    readonly password?: string | undefined;
  };
  /** node-postgres pool config of the LOCAL primary. */
  readonly postgres: PoolConfig;
  readonly pgDialect: PgDialect;
  readonly migrate: boolean;
  /** How login codes reach people (./senders/settings.ts). */
  readonly codeSender: CodeSenderSettings;
  readonly maxFrameBytes: number;
  /** Per-connection token bucket: frames per second refilled, and its size. */
  readonly ratePerSecond: number;
  readonly rateBurst: number;
  /** An upgraded socket that has not authenticated by then is closed (1008), ms. */
  readonly authTimeoutMs: number;
  /** HTTP request headers + WebSocket upgrade must complete within this, ms. */
  readonly handshakeTimeoutMs: number;
  /** Open sockets per source address (after trustedProxies resolution). */
  readonly maxConnectionsPerAddress: number;
  /** Authenticated sockets per user. */
  readonly maxConnectionsPerUser: number;
  /** IPs/CIDRs whose X-Forwarded-For is believed (validated; ./ip-list.ts ipMatcher). */
  readonly trustedProxies: readonly string[];
  readonly shutdownGraceSeconds: number;
  /** Least time between the starts of two Cassandra writes of one room, ms (./message-writer.ts minBatchIntervalMs). */
  readonly writeMinIntervalMs: number;
  /** Dependency checks and their hysteresis (./health.ts). */
  readonly health: HealthSettings;
}

export const DEFAULTS = {
  port: 8080,
  keyspace: 'chat',
  maxFrameBytes: 16_384,
  ratePerSecond: 50,
  rateBurst: 100,
  authTimeoutSeconds: 10,
  handshakeTimeoutSeconds: 10,
  maxConnectionsPerAddress: 64,
  maxConnectionsPerUser: 8,
  shutdownGraceSeconds: 20,
  writeMinIntervalMs: 5,
  healthIntervalSeconds: HEALTH_DEFAULTS.intervalMs / 1000,
  healthTimeoutSeconds: HEALTH_DEFAULTS.timeoutMs / 1000,
  healthFailuresBeforeUnready: HEALTH_DEFAULTS.failuresBeforeUnready,
  healthSuccessesBeforeReady: HEALTH_DEFAULTS.successesBeforeReady,
} as const;

const DNS_LABEL = /^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/;
const boolString = z.enum(['true', 'false'], { message: 'must be true or false' }).transform((v) => v === 'true');

const envSchema = z.object({
  CHAT_REGION: z.string().regex(DNS_LABEL, { message: 'must be a DNS label (lower-case letters, digits, -)' }),
  CHAT_HOST: z.union([z.ipv4(), z.ipv6()], { message: 'must be an IP address to listen on' }).optional(),
  CHAT_PORT: intString(1, 65_535).optional(),
  NATS_URL: commaList.pipe(
    z.array(z.string().regex(/^(nats|tls):\/\/[^\s/@]+$/, { message: 'must be nats://host:port or tls://host:port (credentials go in NATS_USER/NATS_PASSWORD)' })),
  ),
  NATS_USER: z.string().optional(),
  NATS_PASSWORD: z.string().optional(),
  CASSANDRA_CONTACT_POINTS: commaList.pipe(z.array(z.string().regex(/^[A-Za-z0-9.\-_[\]:]+$/, { message: 'entries must be host or host:port' }))),
  CASSANDRA_LOCAL_DC: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/, { message: 'must be a datacenter name' }),
  CASSANDRA_KEYSPACE: z.string().regex(/^[a-z][a-z0-9_]{0,47}$/, { message: 'must be a lower-case keyspace name' }).optional(),
  CASSANDRA_USERNAME: z.string().optional(),
  CASSANDRA_PASSWORD: z.string().optional(),
  ...senderEnvShape,
  CHAT_MAX_FRAME_BYTES: intString(256, 1_048_576).optional(),
  CHAT_RATE_PER_SECOND: intString(1, 10_000).optional(),
  CHAT_RATE_BURST: intString(1, 100_000).optional(),
  CHAT_AUTH_TIMEOUT_SECONDS: intString(1, 600).optional(),
  CHAT_HANDSHAKE_TIMEOUT_SECONDS: intString(1, 600).optional(),
  CHAT_MAX_CONNECTIONS_PER_ADDRESS: intString(1, 1_000_000).optional(),
  CHAT_MAX_CONNECTIONS_PER_USER: intString(1, 10_000).optional(),
  CHAT_TRUSTED_PROXIES: commaList.optional(),
  CHAT_SHUTDOWN_GRACE_SECONDS: intString(1, 3_600).optional(),
  CHAT_WRITE_MIN_INTERVAL_MS: intString(0, 1_000).optional(),
  CHAT_HEALTH_INTERVAL_SECONDS: intString(1, 300).optional(),
  CHAT_HEALTH_TIMEOUT_SECONDS: intString(1, 300).optional(),
  CHAT_HEALTH_FAILURES_BEFORE_UNREADY: intString(1, 100).optional(),
  CHAT_HEALTH_SUCCESSES_BEFORE_READY: intString(1, 100).optional(),
  CHAT_PG_DIALECT: z.enum(['spock', 'pglogical'], { message: 'must be spock or pglogical' }).optional(),
  CHAT_MIGRATE: boolString.optional(),
});

/** Empty variables count as unset (Kubernetes often renders optional values as ""). */
function withoutEmpty(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
}

/** Environment -> settings. Throws EnvError naming variables (never their values). */
export function settingsFromEnv(env: NodeJS.ProcessEnv = process.env): ChatSettings {
  const e = readEnv(envSchema, withoutEmpty(env));
  const problems: string[] = [];
  if ((e.NATS_USER === undefined) !== (e.NATS_PASSWORD === undefined)) problems.push('NATS_USER/NATS_PASSWORD: set both or neither');
  if ((e.CASSANDRA_USERNAME === undefined) !== (e.CASSANDRA_PASSWORD === undefined)) {
    problems.push('CASSANDRA_USERNAME/CASSANDRA_PASSWORD: set both or neither');
  }
  const burst = e.CHAT_RATE_BURST ?? DEFAULTS.rateBurst;
  const rate = e.CHAT_RATE_PER_SECOND ?? DEFAULTS.ratePerSecond;
  if (burst < rate) problems.push('CHAT_RATE_BURST: must be at least CHAT_RATE_PER_SECOND');
  const trustedProxies = e.CHAT_TRUSTED_PROXIES ?? [];
  for (const p of ipListProblems(trustedProxies)) problems.push(`CHAT_TRUSTED_PROXIES: ${p}`);
  const health: HealthSettings = {
    intervalMs: (e.CHAT_HEALTH_INTERVAL_SECONDS ?? DEFAULTS.healthIntervalSeconds) * 1000,
    timeoutMs: (e.CHAT_HEALTH_TIMEOUT_SECONDS ?? DEFAULTS.healthTimeoutSeconds) * 1000,
    failuresBeforeUnready: e.CHAT_HEALTH_FAILURES_BEFORE_UNREADY ?? DEFAULTS.healthFailuresBeforeUnready,
    successesBeforeReady: e.CHAT_HEALTH_SUCCESSES_BEFORE_READY ?? DEFAULTS.healthSuccessesBeforeReady,
  };
  if (health.timeoutMs > health.intervalMs) problems.push('CHAT_HEALTH_TIMEOUT_SECONDS: must be at most CHAT_HEALTH_INTERVAL_SECONDS (a round must end before the next one is due)');
  const codeSender = codeSenderFromEnv(e, problems);
  let postgres: PoolConfig | undefined;
  try {
    postgres = { ...adminConnectionFromEnv(env), application_name: `regionmesh-chat-${e.CHAT_REGION}` };
  } catch (err) {
    if (err instanceof EnvError) problems.push(...err.problems);
    else throw err;
  }
  if (problems.length > 0 || !postgres || !codeSender) throw new EnvError(problems);
  return {
    region: e.CHAT_REGION,
    host: e.CHAT_HOST ?? '0.0.0.0',
    port: e.CHAT_PORT ?? DEFAULTS.port,
    nats: { servers: e.NATS_URL, user: e.NATS_USER, password: e.NATS_PASSWORD },
    cassandra: {
      contactPoints: e.CASSANDRA_CONTACT_POINTS,
      localDataCenter: e.CASSANDRA_LOCAL_DC,
      keyspace: e.CASSANDRA_KEYSPACE ?? DEFAULTS.keyspace,
      username: e.CASSANDRA_USERNAME,
      password: e.CASSANDRA_PASSWORD,
    },
    postgres,
    pgDialect: e.CHAT_PG_DIALECT ?? 'spock',
    migrate: e.CHAT_MIGRATE ?? true,
    codeSender,
    maxFrameBytes: e.CHAT_MAX_FRAME_BYTES ?? DEFAULTS.maxFrameBytes,
    ratePerSecond: rate,
    rateBurst: burst,
    authTimeoutMs: (e.CHAT_AUTH_TIMEOUT_SECONDS ?? DEFAULTS.authTimeoutSeconds) * 1000,
    handshakeTimeoutMs: (e.CHAT_HANDSHAKE_TIMEOUT_SECONDS ?? DEFAULTS.handshakeTimeoutSeconds) * 1000,
    maxConnectionsPerAddress: e.CHAT_MAX_CONNECTIONS_PER_ADDRESS ?? DEFAULTS.maxConnectionsPerAddress,
    maxConnectionsPerUser: e.CHAT_MAX_CONNECTIONS_PER_USER ?? DEFAULTS.maxConnectionsPerUser,
    trustedProxies,
    shutdownGraceSeconds: e.CHAT_SHUTDOWN_GRACE_SECONDS ?? DEFAULTS.shutdownGraceSeconds,
    writeMinIntervalMs: e.CHAT_WRITE_MIN_INTERVAL_MS ?? DEFAULTS.writeMinIntervalMs,
    health,
  };
}

/** What is safe to log about the settings (no credentials, no key material). */
export function settingsSummary(s: ChatSettings): Record<string, unknown> {
  return {
    region: s.region,
    listen: `${s.host}:${s.port}`,
    nats: s.nats.servers,
    natsAuth: s.nats.user !== undefined,
    cassandra: { contactPoints: s.cassandra.contactPoints, localDataCenter: s.cassandra.localDataCenter, keyspace: s.cassandra.keyspace, auth: s.cassandra.username !== undefined },
    postgres: { host: s.postgres.host, port: s.postgres.port, database: s.postgres.database, user: s.postgres.user, tls: Boolean(s.postgres.ssl) },
    pgDialect: s.pgDialect,
    migrate: s.migrate,
    codeSender: codeSenderSummary(s.codeSender),
    maxFrameBytes: s.maxFrameBytes,
    ratePerSecond: s.ratePerSecond,
    rateBurst: s.rateBurst,
    authTimeoutMs: s.authTimeoutMs,
    handshakeTimeoutMs: s.handshakeTimeoutMs,
    maxConnectionsPerAddress: s.maxConnectionsPerAddress,
    maxConnectionsPerUser: s.maxConnectionsPerUser,
    trustedProxies: s.trustedProxies,
    shutdownGraceSeconds: s.shutdownGraceSeconds,
    writeMinIntervalMs: s.writeMinIntervalMs,
    health: s.health,
  };
}
