/**
 * The whole two-region chat platform on one machine, shaped like production, in one call:
 * `startChatLab(opts)`. For the two regions of the platform config (by ordinal):
 *
 *   region 1: nats-server (gateway on 127.0.0.2), Cassandra DC of region 1 (127.0.0.1),
 *             Postgres node n<ordinal> (127.0.0.1:postgresBase), backend PROCESS
 *   region 2: nats-server (gateway on 127.0.0.3), Cassandra DC of region 2 (127.0.0.2),
 *             Postgres node n<ordinal> (127.0.0.1:postgresBase+1), backend PROCESS
 *   shared:   Mailpit, the SMTP server the backends send login codes to (lab/mailpit.ts)
 *
 * in this order, the engines in parallel:
 *   0. leftovers of a previous lab in the same directory (killed before it could stop them) are
 *      stopped and named on stderr; ports are checked, naming what holds a taken one;
 *   1. NATS super-cluster (lab/nats.ts: the generated gateway block), waits for both gateway links;
 *      Cassandra with one DC per region (lab/cassandra.ts); Postgres pair (lab/postgres.ts, fresh
 *      data by default), `migrate` on both nodes, then `bootstrap-spock` (pglogical dialect) on
 *      both; Mailpit;
 *   2. `bootstrap-cassandra` from the config's schema region (RF 1 per DC, the app role with a
 *      fresh random password, tables), then a superuser CQL client (`cql`) on that DC;
 *   3. one backend process per region (lab/backend-process.ts: `serve` of the image's tsc build
 *      of app/ on Node 24, with the environment a Deployment gives it, lab/backend-env.ts), each
 *      talking only to its own region's NATS, Cassandra DC and Postgres node and sending login
 *      codes through SMTP to Mailpit; resolves once both answer /readyz 200. A backend that
 *      exits is restarted (back-off 0.5 s doubling to 5 s); `region.backend.kill('SIGKILL')`
 *      kills one region's backend alone.
 *
 * Nothing outlives the lab: every engine and backend runs under `setpriv --pdeathsig SIGKILL`
 * (the kernel kills it when this process dies, kill -9 included), and each is recorded with its
 * start time in `<dir>/processes.json` for the next start to stop (lab/leftovers.ts).
 *
 * Stopping: `stop()` stops the backends (SIGTERM: sockets get 1012), the CQL client, then the
 * engines; idempotent. `stopOnSignals(lab)` / `takeOverSignals` + `signalHandler`
 * (./lab-signals.ts) give a long-running caller a graceful stop on a signal. If start-up fails
 * (or `opts.signal` aborts it), what was started is stopped before the error is thrown.
 *
 * Users: `lab/main.ts` (`npm run lab`, `--check`), `bench/chat.bench.ts`, the chat integration and
 * drill tests.
 */
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import cassandra from 'cassandra-driver';
import { bootstrapCassandra } from '../app/cassandra/bootstrap.js';
import { createPool, migrate } from '../app/chat/postgres.js';
import { settingsFromEnv, type ChatSettings } from '../app/chat/settings.js';
import { createLogger } from '../app/log.js';
import { bootstrapRegion } from '../app/spock/bootstrap.js';
import { loadConfigFile } from '../constructs/platform-config.js';
import { postgresRegionNames } from '../regions/names.js';
import type { PlatformConfig, Region } from '../regions/schema.js';
import { backendEnv } from './backend-env.js';
import { backendProcess, type BackendProcess } from './backend-process.js';
import { ensureCassandraInstalled, labClient, startCassandraLab, type CassandraLabHandle } from './cassandra.js';
import { checkPortsFree, LAB_PORT_BASE, labPortPlan } from './chat-lab-ports.js';
import type { ChatLab, ChatLabOptions, ChatLabRegion } from './chat-lab-types.js';
import { DEFAULT_CONFIG_PATH } from './install.js';
import { rememberEngineListeners, signalListeners } from './lab-signals.js';
import { openProcessRecord, recordSpawn, stopLeftovers, type ProcessRecord } from './leftovers.js';
import { startMailpit, type MailpitHandle } from './mailpit.js';
import { startNatsSuperCluster, type NatsSuperCluster } from './nats.js';
import { ensureNatsServer, natsServerVersionOf } from './nats-server.js';
import { DEFAULT_LAB_DIR as POSTGRES_LAB_DIR, startPostgresLab, type PostgresLab } from './postgres.js';
import { freePort } from './process.js';

export { DEFAULT_CONFIG_PATH };
export { checkPortsFree, LAB_PORT_BASE, labPortPlan, type ChatLabPorts } from './chat-lab-ports.js';
export { engineVersions, labProcesses, type EngineVersions } from './chat-lab-engines.js';
export { signalHandler, SIGNALS, stopOnSignals, takeOverSignals } from './lab-signals.js';
export type { ChatLab, ChatLabOptions, ChatLabRegion } from './chat-lab-types.js';

/**
 * Default lab root: `<repo>/.lab/chat-lab`, beside the other labs (under /var/tmp when the
 * checkout is in a directory the `postgres` OS user cannot enter, like the Postgres labs).
 */
export const CHAT_LAB_DIR = join(POSTGRES_LAB_DIR, '..', 'chat-lab');

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

const secs = (ms: number | undefined): string => `${((ms ?? 0) / 1000).toFixed(1)} s`;

/** What has been started so far, stopped in reverse dependency order. */
interface Started {
  nats?: NatsSuperCluster;
  cassandra?: CassandraLabHandle;
  postgres?: PostgresLab;
  mailpit?: MailpitHandle;
  cql?: cassandra.Client;
  backends: BackendProcess[];
  record?: ProcessRecord;
}

async function stopStarted(s: Started): Promise<void> {
  await Promise.allSettled(s.backends.map((b) => b.stop()));
  await s.cql?.shutdown().catch(() => undefined);
  await Promise.allSettled([s.nats?.stop(), s.cassandra?.stop(), s.postgres?.stop(), s.mailpit?.stop()]);
  s.record?.close();
}

/** Starts the two-region lab; see the module comment. */
export async function startChatLab<R extends string = string>(opts: ChatLabOptions = {}): Promise<ChatLab<R>> {
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
  // Absolute: the engines hand these paths to other programs (pg_ctl, the JVM) with other working dirs.
  const root = resolve(opts.dir ?? CHAT_LAB_DIR);
  const dirs = {
    root,
    nats: resolve(opts.dirs?.nats ?? join(root, 'nats')),
    cassandra: resolve(opts.dirs?.cassandra ?? join(root, 'cassandra')),
    postgres: resolve(opts.dirs?.postgres ?? join(root, 'postgres')),
    mailpit: join(root, 'mailpit'),
    logs: join(root, 'logs'),
  };
  const keyspace = config.cassandra.keyspace;
  const appRole = config.cassandra.appRole;
  const dataCenters = regions.map((r) => r.cassandra.datacenter) as [string, string];
  const pgNodes = regions.map((r) => postgresRegionNames(config, r).node);
  const schemaRegion = regions.find((r) => r.name === config.cassandra.schemaRegion) ?? regions[0]!;

  // A previous lab in this directory that was killed: stop what it left (named on stderr).
  const leftT0 = Date.now();
  if ((await stopLeftovers(root)).length > 0) timings['leftovers'] = Date.now() - leftT0;
  // The configured nats-server release (built and cached on first use): fail before any engine starts.
  await ensureNatsServer(natsServerVersionOf(config), progress);
  await checkPortsFree(
    regions.flatMap((r, i) => [
      { what: `backend of ${r.name}`, host: '127.0.0.1', port: ports.backends[i]! },
      ...(ports.natsBase ? [{ what: `NATS client port of ${r.name}`, host: '127.0.0.1', port: ports.natsBase + 2 * i }, { what: `NATS monitor port of ${r.name}`, host: '127.0.0.1', port: ports.natsBase + 2 * i + 1 }] : []),
    ]).concat(ports.mailpit ? [{ what: 'Mailpit SMTP', host: '127.0.0.1', port: ports.mailpit.smtp }, { what: 'Mailpit HTTP', host: '127.0.0.1', port: ports.mailpit.http }] : []),
  );

  const started: Started = { backends: [], record: openProcessRecord(root) };
  const abortPromise = new Promise<never>((_, reject) => {
    if (opts.signal?.aborted) reject(new Aborted());
    opts.signal?.addEventListener('abort', () => reject(new Aborted()), { once: true });
  });
  abortPromise.catch(() => undefined);
  /** Runs `f`, recording its duration as `what`; rejects early when aborted. */
  const phase = async <T>(what: string, f: () => Promise<T>): Promise<T> => {
    const s = Date.now();
    try {
      return await Promise.race([f(), abortPromise]);
    } finally {
      timings[what] = Date.now() - s;
    }
  };
  const timed = async <T>(what: string, f: () => Promise<T>): Promise<T> => {
    const s = Date.now();
    const v = await f();
    timings[what] = Date.now() - s;
    return v;
  };

  let enginesSettled: Promise<unknown> | undefined;
  try {
    const engines = await phase('engines', () =>
      (enginesSettled = Promise.allSettled([
        timed('nats', async () => {
          const n = await startNatsSuperCluster({ config, workDir: dirs.nats, basePort: ports.natsBase || undefined, log: progress });
          started.nats = n;
          await n.waitForGateways(20_000);
          progress(`nats: ${n.regions.map((r) => `${r.name} ${r.clientUrl}`).join(', ')}, gateways linked`);
        }),
        timed('cassandra', async () => {
          const inst = await ensureCassandraInstalled({ version: config.cassandra.serverVersion, log: progress });
          if (inst.installedNow) timings['cassandra-install'] = inst.ms;
          const c = await startCassandraLab({ labDir: dirs.cassandra, version: config.cassandra.serverVersion, ...ports.cassandra, dataCenters, log: progress });
          started.cassandra = c;
          await c.waitUntilUp(opts.cassandraTimeoutMs ?? 360_000);
        }),
        timed('postgres', async () => {
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
          await Promise.all(p.nodes.map((n) => bootstrapRegion({ dialect: 'pglogical', node: n.name, nodes, replicationSchemas: ['public'], deadlineSeconds: 180, admin: n.adminConnectionConfig }, { log })));
          progress(`postgres: ${p.nodes.map((n) => `${n.name} 127.0.0.1:${n.port}`).join(', ')}, pglogical both ways`);
        }),
        timed('mailpit', async () => {
          const mp = ports.mailpit ?? { smtp: await freePort(), http: await freePort() };
          const m = await startMailpit({ smtpPort: mp.smtp, httpPort: mp.http, dir: dirs.mailpit, log: progress });
          started.mailpit = m;
          recordSpawn('mailpit', m.pid);
        }),
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
    const mailpit = started.mailpit!;

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

    const labRegions: ChatLabRegion[] = [];
    for (const [i, r] of regions.entries()) {
      const port = ports.backends[i] || (await freePort());
      const env = backendEnv({
        region: r.name,
        port,
        nats: nats.region(r.name),
        cassandra: { ...cas.node(r.cassandra.datacenter), keyspace, username: appRole, password: appPassword },
        postgres: { ...postgres.node(pgNodes[i]!), certs: postgres.certs },
        smtp: mailpit.smtp,
        limits: { maxFrameBytes: opts.maxFrameBytes, ratePerSecond: opts.rate?.perSecond, rateBurst: opts.rate?.burst, shutdownGraceSeconds: opts.shutdownGraceSeconds ?? 5 },
        ...(opts.backendEnv ? { extra: opts.backendEnv } : {}),
      });
      const backend = backendProcess({ region: r.name, port, env, logFile: join(dirs.logs, `backend-${r.name}.log`), progress });
      started.backends.push(backend);
      const settings: ChatSettings = { ...settingsFromEnv(env), host: '127.0.0.1' };
      labRegions.push({ name: r.name, ordinal: r.ordinal, dataCenter: r.cassandra.datacenter, pgNode: pgNodes[i]!, nats: nats.region(r.name), cassandra: cas.node(r.cassandra.datacenter), postgres: postgres.node(pgNodes[i]!), backend, env, settings });
    }
    await phase('backends', () => Promise.all(labRegions.map((r) => r.backend.start(120_000))));
    progress(`backends: ${labRegions.map((r) => `${r.name} ${r.backend.url}`).join(', ')} ready (${secs(timings['backends'])})`);
    timings['total'] = Date.now() - t0;
    const ordered: Record<string, number> = {};
    for (const k of ['leftovers', 'nats', 'cassandra-install', 'cassandra', 'postgres', 'mailpit', 'bootstrap-cassandra', 'backends', 'total']) if (timings[k] !== undefined) ordered[k] = timings[k];

    let stopping: Promise<void> | undefined;
    const lab: ChatLab<R> = {
      config,
      dirs,
      ports,
      nats,
      cassandra: cas,
      postgres,
      mailpit,
      keyspace,
      appRole,
      appPassword,
      cql,
      regions: labRegions,
      region(name) {
        const r = labRegions.find((x) => x.name === name);
        if (!r) throw new Error(`no lab region "${name}" (have ${labRegions.map((x) => x.name).join(', ')})`);
        return r;
      },
      timings: ordered,
      stop() {
        stopping ??= (async () => {
          const s = Date.now();
          await stopStarted(started);
          progress(`chat lab stopped (${secs(Date.now() - s)})`);
        })();
        return stopping;
      },
    };
    rememberEngineListeners(lab, listenersBefore);
    return lab;
  } catch (e) {
    await stopStarted(started);
    // Aborted while engines were still starting: stop them too once they are done starting.
    if (e instanceof Aborted) void enginesSettled?.then(() => stopStarted(started));
    throw e;
  }
}
