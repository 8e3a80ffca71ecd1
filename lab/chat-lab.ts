/**
 * The whole two-region chat platform on one machine, in one call: `startChatLab(opts)`.
 *
 * What it starts (on loopback, for the two regions of the platform config, sorted by ordinal):
 *
 *   region 1: nats-server (gateway on 127.0.0.2), Cassandra DC of region 1 (127.0.0.1),
 *             Postgres node n<ordinal> (127.0.0.1:postgresBase), chat backend
 *   region 2: nats-server (gateway on 127.0.0.3), Cassandra DC of region 2 (127.0.0.2),
 *             Postgres node n<ordinal> (127.0.0.1:postgresBase+1), chat backend
 *
 * in this order, the three engines in parallel:
 *   1. NATS super-cluster (lab/nats.ts: the generated gateway block), waits for both gateway links;
 *   2. Cassandra with one DC per region (lab/cassandra.ts; installs the jars from Maven Central
 *      the first time a lab directory is used), waits until both DCs are up;
 *   3. Postgres pair (lab/postgres.ts, fresh data by default), `migrate` on both nodes, then
 *      `bootstrap-spock` with the pglogical dialect on both (so the chat tables replicate both ways);
 *   4. `bootstrap-cassandra` from the config's schema region (keyspace replicated to both DCs with
 *      RF 1 — the lab has one node per DC —, the app role with a fresh random password, tables);
 *   5. a superuser CQL client (`cql`) on the schema region's DC;
 *   6. one chat backend per region (app/chat/server.ts) in THIS process, each talking only to its
 *      own region's NATS, Cassandra DC and Postgres node; resolves once both report ready.
 *
 * Names come from the config: region names, Cassandra DC names (`regions[].cassandra.datacenter`),
 * Postgres node names (`n<ordinal>`), keyspace and app role (`cassandra.keyspace|appRole`).
 * The lab only substitutes what must differ on one machine: listen addresses and ports (and the
 * NATS gateway port, when `ports.natsGateway` is given).
 *
 * Stopping: `stop()` closes the backends (sockets get 1012), the CQL client, then the engines;
 * idempotent. If the process exits without it, the engine modules' own exit hooks kill what is
 * left (nats-server, the Cassandra JVMs, `pg_ctl stop -m immediate`), and the NATS and Cassandra
 * modules SIGKILL their servers on SIGINT/SIGTERM/SIGHUP. A long-running caller that wants a
 * graceful stop on a signal uses `stopOnSignals(lab)`, or `takeOverSignals(lab)` + its own handler
 * built with `signalHandler` (lab/main.ts, the benchmark).
 * If start-up fails (or `opts.signal` aborts it), everything already started is stopped before
 * the error is thrown.
 *
 * Users: `lab/main.ts` (`npm run lab`, `npm run lab -- --check`), `bench/chat.bench.ts`,
 * `app/chat/chat.integration.test.ts`.
 */
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import cassandra from 'cassandra-driver';
import { bootstrapCassandra } from '../app/cassandra/bootstrap.js';
import { LogCodeSender, MemoryCodeSender, type CodeSender } from '../app/chat/code-sender.js';
import { createPool, migrate } from '../app/chat/postgres.js';
import { startChatServer, type ChatServer, type ResumeHooks } from '../app/chat/server.js';
import { DEFAULTS as CHAT_DEFAULTS, type ChatSettings } from '../app/chat/settings.js';
import { createLogger, type Logger } from '../app/log.js';
import { bootstrapRegion } from '../app/spock/bootstrap.js';
import { loadConfigFile } from '../constructs/platform-config.js';
import { postgresRegionNames } from '../regions/names.js';
import type { PlatformConfig, Region } from '../regions/schema.js';
import { ensureCassandraInstalled, labClient, startCassandraLab, type CassandraLabHandle, type CassandraLabNode } from './cassandra.js';
import { startNatsSuperCluster, type NatsLabRegion, type NatsSuperCluster } from './nats.js';
import { ensureNatsServer, natsServerVersionOf } from './nats-server.js';
import { DEFAULT_LAB_DIR as POSTGRES_LAB_DIR, startPostgresLab, type PostgresLab, type PostgresLabNode } from './postgres.js';
import { canListen, EXIT_SIGNALS, processes } from './process.js';

import { DEFAULT_CONFIG_PATH } from './install.js';

export { DEFAULT_CONFIG_PATH };

/**
 * Default lab root: `<repo>/.lab/chat-lab`, beside the other labs. (When the checkout is in a
 * directory the `postgres` OS user cannot enter, the Postgres labs live under /var/tmp and so does
 * this one: the Postgres servers run as that user and keep their data under the root.)
 */
export const CHAT_LAB_DIR = join(POSTGRES_LAB_DIR, '..', 'chat-lab');

/** First port of `npm run lab`'s plan (backends on 18081 and 18082). */
export const LAB_PORT_BASE = 18_080;

/** Every port the lab listens on. */
export interface ChatLabPorts {
  /** Backend HTTP + WebSocket port per region, in ordinal order; 0 picks a free port. */
  readonly backends: readonly number[];
  /** NATS client/monitor ports: region i (ordinal order) gets natsBase+2i and natsBase+2i+1; 0 picks free ports. */
  readonly natsBase: number;
  /** NATS gateway port (on each region's own loopback address); default: the config's `nats.gateway.port`. */
  readonly natsGateway?: number | undefined;
  /** Cassandra: CQL and storage port on 127.0.0.1 and 127.0.0.2, JMX ports on 127.0.0.1. */
  readonly cassandra: { readonly cqlPort: number; readonly storagePort: number; readonly jmxPorts: readonly [number, number] };
  /** Postgres node i (ordinal order) listens on 127.0.0.1:postgresBase+i. */
  readonly postgresBase: number;
}

/**
 * A complete, fixed port plan in [base, base+49], used by `npm run lab` (base 18080), its
 * `--check` test (18180) and the benchmark (18280). No test file uses ports in 18000-19999
 * except the chat integration test's Cassandra CQL port 19142 (and `freePort` picks from
 * 20000 up), so a plan based there never meets another test's leftovers.
 *
 *   base+1, base+2          backends (region 1, region 2)
 *   base+10 .. base+13      NATS client/monitor, region 1 then region 2
 *   base+20                 NATS gateway (127.0.0.2 and 127.0.0.3)
 *   base+30, +31, +32/+33   Cassandra CQL, storage, JMX (dc of region 1 / region 2)
 *   base+40, base+41        Postgres nodes
 */
export function labPortPlan(base: number = LAB_PORT_BASE): ChatLabPorts {
  if (!Number.isInteger(base) || base < 1_024 || base + 49 > 65_535) throw new Error(`port base ${base} must be an integer in 1024..65486`);
  return {
    backends: [base + 1, base + 2],
    natsBase: base + 10,
    natsGateway: base + 20,
    cassandra: { cqlPort: base + 30, storagePort: base + 31, jmxPorts: [base + 32, base + 33] },
    postgresBase: base + 40,
  };
}

export interface ChatLabOptions<R extends string = string> {
  /** The platform config (default: `regions/platform.yaml`). It must have exactly two regions. */
  readonly config?: PlatformConfig;
  /** Root of the lab's files (default CHAT_LAB_DIR); `dirs` overrides single parts. */
  readonly dir?: string;
  readonly dirs?: {
    /** NATS confs, hosts file, logs (default `<dir>/nats`). */
    readonly nats?: string;
    /** Cassandra jars, configs, data, logs (default `<dir>/cassandra`). */
    readonly cassandra?: string;
    /** Postgres data, certs, logs (default `<dir>/postgres`; the `postgres` OS user must reach it). */
    readonly postgres?: string;
  };
  /** Default `labPortPlan(LAB_PORT_BASE)`. Given, it is used as is (no merging with the plan). */
  readonly ports?: ChatLabPorts;
  /** Backend listen address (default 127.0.0.1). */
  readonly host?: string;
  /**
   * How login codes reach people: `memory` (default; read them with `memorySender(region)`), or
   * `log`: the development sender, which logs that a code was issued and, with `devPrintCodes`
   * (default true for `log`), prints `[development] login code for <name>: <code>` via `printCode`.
   */
  readonly codeSender?: 'memory' | 'log';
  readonly devPrintCodes?: boolean;
  /** Where the development sender prints codes (default: stderr). */
  readonly printCode?: (line: string) => void;
  /** Resume test seams per region name (read at call time: mutate them later). */
  readonly hooks?: Readonly<Record<R, ResumeHooks>>;
  /** Logger of the bootstraps and backends (default: JSON lines on stdout). */
  readonly log?: Logger;
  /** Human-readable progress lines (default: none). */
  readonly progress?: (line: string) => void;
  /** Per-connection rate limit of the backends (default the backend's own 20/s, burst 40). */
  readonly rate?: { readonly perSecond: number; readonly burst: number };
  readonly maxFrameBytes?: number;
  /** Backend graceful-shutdown bound (default 5 s). */
  readonly shutdownGraceSeconds?: number;
  /** Backend dependency health-check period (default 2000 ms). */
  readonly healthIntervalMs?: number;
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
  readonly server: ChatServer;
  readonly sender: CodeSender;
  /** What the backend was started with (contains credentials: never print it). */
  readonly settings: ChatSettings;
}

/** `R`: the region names (inferred from `hooks`, else string). */
export interface ChatLab<R extends string = string> {
  /** The config the lab runs (with the lab's gateway port, if `ports.natsGateway` was given). */
  readonly config: PlatformConfig;
  readonly dirs: { readonly root: string; readonly nats: string; readonly cassandra: string; readonly postgres: string };
  readonly ports: ChatLabPorts;
  readonly nats: NatsSuperCluster;
  readonly cassandra: CassandraLabHandle;
  readonly postgres: PostgresLab;
  readonly keyspace: string;
  readonly appRole: string;
  /** The Cassandra app role's password (random per start). */
  readonly appPassword: string;
  /** CQL client as the lab superuser, local to the schema region's DC (LOCAL_QUORUM). */
  readonly cql: cassandra.Client;
  /** Both regions, by ordinal. */
  readonly regions: readonly ChatLabRegion[];
  readonly servers: Readonly<Record<R, ChatServer>>;
  readonly senders: Readonly<Record<R, CodeSender>>;
  region(name: R): ChatLabRegion;
  /** The memory code sender of `region` (throws with `codeSender: 'log'`). */
  memorySender(region: R): MemoryCodeSender;
  /**
   * Start-up durations in ms, in start order: nats (start + gateway links), cassandra-install (only
   * when the jars were copied now), cassandra (install + start + both DCs up), postgres (start +
   * migrate + pglogical bootstrap), bootstrap-cassandra, backends (until both ready), total.
   * nats, cassandra and postgres run in parallel.
   */
  readonly timings: Readonly<Record<string, number>>;
  /** Stops backends, the CQL client, then NATS, Cassandra and Postgres. Idempotent. */
  stop(): Promise<void>;
}

/** What the running engines report about themselves: nats-server by region (`/varz` version), Cassandra by DC (`release_version`). */
export interface EngineVersions {
  readonly nats: Readonly<Record<string, string>>;
  readonly cassandra: Readonly<Record<string, string>>;
}

/** Asks every running engine of `lab` its version (not what the lab meant to install). */
export async function engineVersions(lab: Pick<ChatLab, 'regions' | 'cassandra'>): Promise<EngineVersions> {
  const nats: Record<string, string> = {};
  const cas: Record<string, string> = {};
  for (const r of lab.regions) {
    const res = await fetch(`${r.nats.monitorUrl}/varz`, { signal: AbortSignal.timeout(5_000) });
    if (!res.ok) throw new Error(`GET ${r.nats.monitorUrl}/varz: HTTP ${res.status}`);
    nats[r.name] = String(((await res.json()) as { version?: unknown }).version);
  }
  for (const node of lab.cassandra.nodes) {
    // system.local is the coordinator's own row: one client per node, whose only host it is.
    const c = labClient(node, lab.cassandra.superuser, { pooling: { warmup: false } });
    try {
      await c.connect();
      const host = c.hosts.values().find((h) => h.address === node.contactPoint);
      if (!host) throw new Error(`the driver has no host ${node.contactPoint}`);
      const row = (await c.execute('SELECT release_version FROM system.local', [], { host })).first();
      cas[node.dc] = String(row?.get('release_version'));
    } finally {
      await c.shutdown().catch(() => undefined);
    }
  }
  return { nats, cassandra: cas };
}

function withGatewayPort(config: PlatformConfig, port: number): PlatformConfig {
  if (config.nats.gateway.port === port) return config;
  return { ...config, nats: { ...config.nats, gateway: { ...config.nats.gateway, port } } };
}

class Aborted extends Error {
  constructor() {
    super('chat lab start-up aborted');
    this.name = 'AbortError';
  }
}

/** Starts the two-region lab; see the module comment. */
export async function startChatLab<R extends string = string>(opts: ChatLabOptions<R> = {}): Promise<ChatLab<R>> {
  const t0 = Date.now();
  const listenersBefore = signalListeners();
  const timings: Record<string, number> = {};
  const progress = opts.progress ?? (() => undefined);
  const log = opts.log ?? createLogger({ component: 'chat-lab' });
  const ports = opts.ports ?? labPortPlan(LAB_PORT_BASE);
  let config = opts.config ?? loadConfigFile(DEFAULT_CONFIG_PATH);
  if (ports.natsGateway !== undefined) config = withGatewayPort(config, ports.natsGateway);
  const regions: Region[] = [...config.regions].sort((a, b) => a.ordinal - b.ordinal);
  if (regions.length !== 2) throw new Error(`the chat lab runs exactly two regions (Cassandra lab: two DCs); the config has ${regions.length}: ${regions.map((r) => r.name).join(', ')}`);
  if (ports.backends.length !== 2) throw new Error(`ports.backends needs one port per region (2), got ${ports.backends.length}`);
  // Absolute: the engines hand these paths to other programs (mvn, pg_ctl) with other working dirs.
  const root = resolve(opts.dir ?? CHAT_LAB_DIR);
  const dirs = {
    root,
    nats: resolve(opts.dirs?.nats ?? join(root, 'nats')),
    cassandra: resolve(opts.dirs?.cassandra ?? join(root, 'cassandra')),
    postgres: resolve(opts.dirs?.postgres ?? join(root, 'postgres')),
  };
  const host = opts.host ?? '127.0.0.1';
  const codeSenderKind = opts.codeSender ?? 'memory';
  const keyspace = config.cassandra.keyspace;
  const appRole = config.cassandra.appRole;
  const dataCenters = regions.map((r) => r.cassandra.datacenter) as [string, string];
  const pgNodes = regions.map((r) => postgresRegionNames(config, r).node);
  const schemaRegion = regions.find((r) => r.name === config.cassandra.schemaRegion) ?? regions[0]!;
  const hooks = opts.hooks as Readonly<Record<string, ResumeHooks>> | undefined;
  const unknownHooks = Object.keys(hooks ?? {}).filter((k) => !regions.some((r) => r.name === k));
  if (unknownHooks.length > 0) throw new Error(`hooks for unknown region(s) ${unknownHooks.join(', ')} (the config has ${regions.map((r) => r.name).join(', ')})`);

  // The configured nats-server release (built and cached on first use): fail before any engine starts.
  await ensureNatsServer(natsServerVersionOf(config), progress);
  // Ports the engines would only find taken after a long wait (or not name): check them up front.
  const fixed: Array<[string, string, number]> = [];
  regions.forEach((r, i) => {
    if (ports.backends[i]) fixed.push([`backend of ${r.name}`, host, ports.backends[i]!]);
    if (ports.natsBase) fixed.push([`NATS client port of ${r.name}`, '127.0.0.1', ports.natsBase + 2 * i], [`NATS monitor port of ${r.name}`, '127.0.0.1', ports.natsBase + 2 * i + 1]);
  });
  const busy: string[] = [];
  for (const [what, h, p] of fixed) if (!(await canListen(h, p))) busy.push(`${h}:${p} (${what})`);
  if (busy.length > 0) throw new Error(`chat lab: port(s) in use: ${busy.join(', ')} — another lab running? (\`npm run lab\` uses ${LAB_PORT_BASE}..${LAB_PORT_BASE + 49}); pass other ports`);

  const started: { nats?: NatsSuperCluster; cassandra?: CassandraLabHandle; postgres?: PostgresLab; cql?: cassandra.Client; servers: ChatServer[] } = { servers: [] };
  const stopStarted = async (): Promise<void> => {
    await Promise.allSettled(started.servers.map((s) => s.close()));
    await started.cql?.shutdown().catch(() => undefined);
    await Promise.allSettled([started.nats?.stop(), started.cassandra?.stop(), started.postgres?.stop()]);
  };
  const abortPromise = new Promise<never>((_, reject) => {
    if (opts.signal?.aborted) reject(new Aborted());
    opts.signal?.addEventListener('abort', () => reject(new Aborted()), { once: true });
  });
  abortPromise.catch(() => undefined);
  /** Runs `f`, recording its duration; rejects early when aborted. */
  const phase = async <T>(what: string, f: () => Promise<T>): Promise<T> => {
    const s = Date.now();
    try {
      return await Promise.race([f(), abortPromise]);
    } finally {
      timings[what] = Date.now() - s;
    }
  };

  let enginesSettled: Promise<unknown> | undefined;
  try {
    const engines = await phase('engines', () =>
      (enginesSettled = Promise.allSettled([
        (async () => {
          const s = Date.now();
          const n = await startNatsSuperCluster({ config, workDir: dirs.nats, basePort: ports.natsBase || undefined, log: progress });
          started.nats = n;
          await n.waitForGateways(20_000);
          timings['nats'] = Date.now() - s;
          progress(`nats: ${n.regions.map((r) => `${r.name} ${r.clientUrl}`).join(', ')}, gateways linked (${secs(timings['nats'])})`);
          return n;
        })(),
        (async () => {
          const s = Date.now();
          const inst = await ensureCassandraInstalled({ version: config.cassandra.serverVersion, log: progress });
          if (inst.installedNow) timings['cassandra-install'] = inst.ms;
          const c = await startCassandraLab({ labDir: dirs.cassandra, version: config.cassandra.serverVersion, ...ports.cassandra, dataCenters, log: progress });
          started.cassandra = c;
          await c.waitUntilUp(opts.cassandraTimeoutMs ?? 360_000);
          timings['cassandra'] = Date.now() - s;
          return c;
        })(),
        (async () => {
          const s = Date.now();
          const p = await startPostgresLab({ nodes: pgNodes, dir: dirs.postgres, basePort: ports.postgresBase, fresh: opts.freshPostgres ?? true });
          started.postgres = p;
          // migrate on both nodes BEFORE the bootstrap: pglogical has no auto-DDL, the bootstrap registers the tables.
          for (const node of p.nodes) {
            const pool = createPool(node.appConnectionConfig, () => undefined);
            try {
              await migrate(pool, { dialect: 'pglogical' });
            } finally {
              await pool.end();
            }
          }
          const nodes = p.nodes.map((n) => ({ name: n.name, dsn: n.dsn }));
          await Promise.all(
            p.nodes.map((n) =>
              bootstrapRegion({ dialect: 'pglogical', node: n.name, nodes, replicationSchemas: ['public'], deadlineSeconds: 180, admin: n.adminConnectionConfig }, { log }),
            ),
          );
          timings['postgres'] = Date.now() - s;
          progress(`postgres: ${p.nodes.map((n) => `${n.name} 127.0.0.1:${n.port}`).join(', ')}, pglogical both ways (${secs(timings['postgres'])})`);
          return p;
        })(),
      ])),
    );
    delete timings['engines'];
    const failures = engines.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failures.length > 0) {
      const [first, ...rest] = failures.map((f) => f.reason as Error);
      if (rest.length > 0 && first) first.message += `\n(also failed: ${rest.map((e) => e.message.split('\n')[0]).join('; ')})`;
      throw first;
    }
    const nats = started.nats!;
    const cas = started.cassandra!;
    const postgres = started.postgres!;

    const appPassword = `pw${randomBytes(12).toString('hex')}`;
    await phase('bootstrap-cassandra', () =>
      bootstrapCassandra(
        {
          contactPoints: [cas.node(schemaRegion.cassandra.datacenter).contactPoint],
          localDc: schemaRegion.cassandra.datacenter,
          dataCenters,
          replicationFactor: 1,
          keyspace,
          superuser: cas.superuser,
          app: { username: appRole, password: appPassword },
          deadlineSeconds: 180,
        },
        { log },
      ),
    );
    progress(`cassandra: keyspace ${keyspace} in ${dataCenters.join(' + ')}, role ${appRole} (${secs(timings['bootstrap-cassandra'])})`);
    const cql = labClient(cas.node(schemaRegion.cassandra.datacenter));
    started.cql = cql;
    await phase('cql', () => cql.connect());
    delete timings['cql'];

    const senders: Record<string, CodeSender> = {};
    const servers: Record<string, ChatServer> = {};
    const labRegions: ChatLabRegion[] = [];
    await phase('backends', async () => {
      for (const [i, r] of regions.entries()) {
        const n = nats.region(r.name);
        const dc = r.cassandra.datacenter;
        const pgNode = postgres.node(pgNodes[i]!);
        const settings: ChatSettings = {
          region: r.name,
          host,
          port: ports.backends[i]!,
          nats: { servers: [n.clientUrl], user: n.credentials.user, password: n.credentials.password },
          cassandra: { contactPoints: [cas.node(dc).contactPoint], localDataCenter: dc, keyspace, username: appRole, password: appPassword },
          postgres: pgNode.appConnectionConfig,
          pgDialect: 'pglogical',
          migrate: true,
          codeSender: codeSenderKind,
          devPrintCodes: opts.devPrintCodes ?? codeSenderKind === 'log',
          maxFrameBytes: opts.maxFrameBytes ?? CHAT_DEFAULTS.maxFrameBytes,
          ratePerSecond: opts.rate?.perSecond ?? CHAT_DEFAULTS.ratePerSecond,
          rateBurst: opts.rate?.burst ?? CHAT_DEFAULTS.rateBurst,
          shutdownGraceSeconds: opts.shutdownGraceSeconds ?? 5,
        };
        const rlog = log.child({ lab: 'chat' });
        const sender: CodeSender =
          codeSenderKind === 'memory' ? new MemoryCodeSender() : new LogCodeSender(rlog.child({ region: r.name, component: 'code-sender' }), settings.devPrintCodes, opts.printCode);
        const server = await startChatServer(settings, {
          log: rlog,
          codeSender: sender,
          healthIntervalMs: opts.healthIntervalMs ?? 2_000,
          ...(hooks?.[r.name] ? { hooks: hooks[r.name] } : {}),
        });
        started.servers.push(server);
        senders[r.name] = sender;
        servers[r.name] = server;
        labRegions.push({ name: r.name, ordinal: r.ordinal, dataCenter: dc, pgNode: pgNode.name, nats: n, cassandra: cas.node(dc), postgres: pgNode, server, sender, settings });
      }
      await Promise.all(labRegions.map((r) => r.server.ready(60_000)));
    });
    progress(`backends: ${labRegions.map((r) => `${r.name} ${r.server.url}`).join(', ')} ready (${secs(timings['backends'])})`);
    timings['total'] = Date.now() - t0;
    // In start-up order (the engines finish in any order).
    const ordered: Record<string, number> = {};
    for (const k of ['nats', 'cassandra-install', 'cassandra', 'postgres', 'bootstrap-cassandra', 'backends', 'total']) if (timings[k] !== undefined) ordered[k] = timings[k];

    let stopping: Promise<void> | undefined;
    // Signal handlers the engine modules installed while starting (kill-at-once fallbacks).
    const engineListeners = signalListeners().filter(([sig, l]) => !listenersBefore.some(([s0, l0]) => s0 === sig && l0 === l));
    const byName = (name: string): ChatLabRegion => {
      const r = labRegions.find((x) => x.name === name);
      if (!r) throw new Error(`no lab region "${name}" (have ${labRegions.map((x) => x.name).join(', ')})`);
      return r;
    };
    const lab: ChatLab<R> = {
      config,
      dirs,
      ports,
      nats,
      cassandra: cas,
      postgres,
      keyspace,
      appRole,
      appPassword,
      cql,
      regions: labRegions,
      servers: servers as Record<R, ChatServer>,
      senders: senders as Record<R, CodeSender>,
      region: byName,
      memorySender(name) {
        const s = byName(name).sender;
        if (!(s instanceof MemoryCodeSender)) throw new Error(`region ${name} uses the log code sender; start the lab with codeSender: 'memory' to read codes`);
        return s;
      },
      timings: ordered,
      stop() {
        stopping ??= (async () => {
          const s = Date.now();
          await stopStarted();
          progress(`chat lab stopped (${secs(Date.now() - s)})`);
        })();
        return stopping;
      },
    };
    engineSignalListeners.set(lab, engineListeners);
    return lab;
  } catch (e) {
    await stopStarted();
    // Aborted while engines were still starting: stop them too once they are done starting.
    if (e instanceof Aborted) void enginesSettled?.then(stopStarted);
    throw e;
  }
}

function secs(ms: number | undefined): string {
  return `${((ms ?? 0) / 1000).toFixed(1)} s`;
}

/** The signals the NATS and Cassandra labs kill their servers on (lab/process.ts). */
export const SIGNALS = EXIT_SIGNALS;
type SignalListener = readonly [NodeJS.Signals, (...args: unknown[]) => void];
const engineSignalListeners = new WeakMap<object, readonly SignalListener[]>();

function signalListeners(): SignalListener[] {
  return SIGNALS.flatMap((sig) => process.listeners(sig).map((l) => [sig, l as (...args: unknown[]) => void] as const));
}

/**
 * The NATS and Cassandra lab modules install SIGINT/SIGTERM/SIGHUP handlers that SIGKILL their
 * servers at once (so that a killed test run leaks nothing). A caller that stops the lab
 * gracefully on a signal calls this once the lab is up: those handlers are removed (their `exit`
 * hooks stay as the backstop). Returns a function that puts them back.
 */
export function takeOverSignals(lab: object): () => void {
  const listeners = engineSignalListeners.get(lab) ?? [];
  for (const [sig, l] of listeners) process.off(sig, l);
  return () => {
    for (const [sig, l] of listeners) if (!process.listeners(sig).includes(l)) process.on(sig, l);
  };
}

/**
 * A signal handler for "stop gracefully on the first signal, give up on a real second one" that
 * survives wrappers. Ctrl-C reaches every process of the terminal's process group at once, and
 * the tsx CLI (`npm run lab` = `tsx lab/main.ts`) relays it to its child again unless the child
 * confirms it within 30 ms over tsx's IPC channel, and SIGKILLs the child if it does not confirm
 * the relayed one either (which would leak the engines). So `first` runs after `delayMs` (the event
 * loop stays free for tsx's confirmation meanwhile; the engines' stop blocks it, e.g. `pg_ctl
 * stop` runs synchronously), repeats within `dedupeMs` of the first count as the same request,
 * and only a later signal calls `again`.
 */
export function signalHandler(handlers: { first: (signal: NodeJS.Signals) => void; again: (signal: NodeJS.Signals) => void }, opts: { delayMs?: number; dedupeMs?: number } = {}) {
  let firstAt: number | undefined;
  return (signal: NodeJS.Signals): void => {
    const now = Date.now();
    if (firstAt === undefined) {
      firstAt = now;
      setTimeout(() => handlers.first(signal), opts.delayMs ?? 250);
      return;
    }
    if (now - firstAt < (opts.dedupeMs ?? 2_000)) return;
    handlers.again(signal);
  };
}

/**
 * On SIGINT, SIGTERM or SIGHUP: `lab.stop()`, then exit with `exitCode` (default 0: stopping on
 * request is success). A second signal while stopping exits at once (the engines' exit hooks still
 * kill what is left). Returns a function that removes the handlers.
 */
export function stopOnSignals(lab: Pick<ChatLab, 'stop'>, opts: { exitCode?: number; onSignal?: (signal: NodeJS.Signals) => void } = {}): () => void {
  const restore = takeOverSignals(lab);
  const handler = signalHandler({
    first: (signal) => {
      opts.onSignal?.(signal);
      void lab.stop().finally(() => process.exit(opts.exitCode ?? 0));
    },
    again: () => process.exit(opts.exitCode ?? 0),
  });
  for (const s of SIGNALS) process.on(s, handler);
  return () => {
    for (const s of SIGNALS) process.off(s, handler);
    restore();
  };
}

/**
 * Processes still running from the lab under `dir` (nats-server, Cassandra JVMs, postmasters):
 * their command line names a file in it. Linux only (reads /proc); [] elsewhere.
 */
const LAB_PROCESS = /(^|\/)nats-server |org\.apache\.cassandra\.service\.CassandraDaemon|(^|\/)postgres -D /;

export function labProcesses(dir: string): Array<{ pid: number; cmdline: string }> {
  return processes()
    .filter((p) => p.pid !== process.pid)
    .map((p) => ({ pid: p.pid, cmdline: p.argv.join(' ').trim() }))
    .filter((p) => p.cmdline.includes(dir) && LAB_PROCESS.test(p.cmdline));
}
