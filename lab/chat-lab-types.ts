/**
 * The shapes of a chat lab: its options, a region, the running lab. Re-exported by ./chat-lab.ts.
 */
import type cassandra from 'cassandra-driver';
import type { ChatSettings } from '../app/chat/settings.js';
import type { Logger } from '../app/log.js';
import type { PlatformConfig } from '../regions/schema.js';
import type { BackendProcess } from './backend-process.js';
import type { CassandraLabHandle, CassandraLabNode } from './cassandra.js';
import type { ChatLabPorts } from './chat-lab-ports.js';
import type { MailpitHandle } from './mailpit.js';
import type { NatsLabRegion, NatsSuperCluster } from './nats.js';
import type { PostgresLab, PostgresLabNode } from './postgres.js';

export interface ChatLabOptions {
  /** The platform config (default: `regions/platform.yaml`). It must have exactly two regions. */
  readonly config?: PlatformConfig;
  /** Root of the lab's files and its process record (default CHAT_LAB_DIR); `dirs` overrides single parts. */
  readonly dir?: string;
  readonly dirs?: {
    /** NATS confs, hosts file, logs (default `<dir>/nats`). */
    readonly nats?: string;
    /** Cassandra configs, data, logs (default `<dir>/cassandra`). */
    readonly cassandra?: string;
    /** Postgres data, certs, logs (default `<dir>/postgres`; the `postgres` OS user must reach it). */
    readonly postgres?: string;
  };
  /** Default `labPortPlan(LAB_PORT_BASE)`. Given, it is used as is (no merging with the plan). */
  readonly ports?: ChatLabPorts;
  /** Logger of the bootstraps (default: JSON lines on stdout). Backends log to `<dir>/logs/backend-<region>.log`. */
  readonly log?: Logger;
  /** Human-readable progress lines, backend restarts included (default: none). */
  readonly progress?: (line: string) => void;
  /** Backend limits (default: the backend's own defaults). */
  readonly rate?: { readonly perSecond: number; readonly burst: number };
  readonly maxFrameBytes?: number;
  /** Backend graceful-shutdown bound (default 5 s). */
  readonly shutdownGraceSeconds?: number;
  /** More backend environment variables (e.g. CHAT_AUTH_TIMEOUT_SECONDS), for both regions. */
  readonly backendEnv?: Readonly<Record<string, string>>;
  /** Wipe the Postgres nodes' data first (default true: the pglogical mesh is built from scratch). */
  readonly freshPostgres?: boolean;
  /** Bound of the Cassandra start (default 6 min: the first start of two JVMs on a busy 2-core box is slow). */
  readonly cassandraTimeoutMs?: number;
  /** Aborts start-up: what was started is stopped and startChatLab rejects. */
  readonly signal?: AbortSignal;
}

/** One region of the running lab. */
export interface ChatLabRegion {
  readonly name: string;
  readonly ordinal: number;
  /** Cassandra DC name, from the config. */
  readonly dataCenter: string;
  /** Postgres node name (`n<ordinal>`). */
  readonly pgNode: string;
  readonly nats: NatsLabRegion;
  readonly cassandra: CassandraLabNode;
  readonly postgres: PostgresLabNode;
  /** The region's backend process (url, httpUrl, pid(), kill(), ready(), logFile). */
  readonly backend: BackendProcess;
  /** The environment the backend runs with (contains credentials: never print it). */
  readonly env: Readonly<Record<string, string>>;
  /** `settingsFromEnv(env)` listening on 127.0.0.1: for a test's own in-process server of this region (set port 0). */
  readonly settings: ChatSettings;
}

/** `R`: the region names (default string). */
export interface ChatLab<R extends string = string> {
  /** The config the lab runs (with the lab's gateway port, if `ports.natsGateway` was given). */
  readonly config: PlatformConfig;
  readonly dirs: { readonly root: string; readonly nats: string; readonly cassandra: string; readonly postgres: string; readonly mailpit: string; readonly logs: string };
  readonly ports: ChatLabPorts;
  readonly nats: NatsSuperCluster;
  readonly cassandra: CassandraLabHandle;
  readonly postgres: PostgresLab;
  /** The SMTP server the backends send login codes to; `codeFor(email)` reads one back. */
  readonly mailpit: MailpitHandle;
  readonly keyspace: string;
  readonly appRole: string;
  /** The Cassandra app role's password (random per start). */
  readonly appPassword: string;
  /** CQL client as the lab superuser, local to the schema region's DC (LOCAL_QUORUM). */
  readonly cql: cassandra.Client;
  /** Both regions, by ordinal. */
  readonly regions: readonly ChatLabRegion[];
  region(name: R): ChatLabRegion;
  /**
   * Start-up durations in ms, in start order: leftovers (only when some were stopped), nats
   * (start + gateway links), cassandra-install (only when the jars were copied now), cassandra,
   * postgres (start + migrate + pglogical bootstrap), mailpit, bootstrap-cassandra, backends
   * (until both ready), total. The engines start in parallel.
   */
  readonly timings: Readonly<Record<string, number>>;
  /** Stops the backends, the CQL client, then NATS, Cassandra, Postgres and Mailpit. Idempotent. */
  stop(): Promise<void>;
}
