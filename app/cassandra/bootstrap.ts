/**
 * `bootstrap-cassandra`: the chat keyspace replicated to every region's DC, the app role with
 * SELECT/MODIFY on it, and the tables. Idempotent: a second run changes nothing.
 *
 * Flow (everything bounded by one deadline):
 *  1. connect to the local DC as the superuser, retrying with backoff;
 *  2. wait until EVERY listed DC has a live node. Which DCs exist comes from the driver's
 *     metadata and the coordinator's system.local + system.peers_v2; whether a DC is alive
 *     comes from the coordinator's gossip view (system_views.gossip_info): a node is alive when
 *     its gossip heartbeat advances and its status is NORMAL. The driver's own up/down flag is
 *     not enough: in 4.x it never connects to remote-DC hosts, so a host that was already down
 *     when the client connected stays "up" in its metadata (it is used only as a fallback on
 *     Cassandra < 4.1, which has no gossip_info). On the deadline it fails naming the missing
 *     and down DCs and has changed NOTHING: no keyspace, no role;
 *  3. keyspace: CREATE KEYSPACE IF NOT EXISTS with NetworkTopologyStrategy {dc: rf, ...}. If it
 *     exists with other replication, ALTER it to the listed DCs at the RF, but keep (and warn
 *     about) any DC that is in its replication, not in the list, and still in the cluster:
 *     dropping it would make that DC's replicas stop owning the data at once, so a region still
 *     running would read nothing at LOCAL_QUORUM. Removing a live DC is a decommission, an
 *     operator's step, not something a config edit should trigger. DCs that no longer exist
 *     are dropped (Cassandra refuses replication options for unknown DCs anyway);
 *  4. tables: CREATE TABLE IF NOT EXISTS with a table id derived from keyspace + table name, so
 *     two regions' Jobs racing on the same CREATE end with the same table, not two ids;
 *     existing tables are checked (keys and types must match; missing regular columns and
 *     the TTL are converged);
 *  5. role: CREATE ROLE IF NOT EXISTS ... LOGIN = true AND PASSWORD = '<escaped>' (role DDL
 *     takes no bind markers); if it exists but cannot log in with the given password, ALTER it
 *     (password rotation). The password never reaches a log line or an error message;
 *  6. GRANT SELECT and MODIFY on the keyspace (only the missing ones).
 * After every schema statement it waits for schema agreement among the live nodes.
 */
import cassandra from 'cassandra-driver';
import { v5 as uuidV5 } from 'uuid';
import { z } from 'zod';
import { commaList, intString, readEnv } from '../env.js';
import { createLogger, type Logger } from '../log.js';
import {
  alterKeyspaceCql,
  alterLoginRoleCql,
  alterTableAddColumnCql,
  alterTableTtlCql,
  APP_PERMISSIONS,
  createKeyspaceCql,
  createLoginRoleCql,
  createTableCql,
  DC_NAME,
  DEFAULT_KEYSPACE,
  grantOnKeyspaceCql,
  KEYSPACE_NAME,
  keyspaceResource,
  replicationFor,
  ROLE_NAME,
  TABLES,
  validateKeyspaceName,
  type Replication,
  type TableSpec,
} from './schema.js';

const { consistencies } = cassandra.types;

// ---------------------------------------------------------------------------------------------
// Settings

export interface BootstrapSettings {
  /** `host` or `host:port` of the local DC's nodes (or its Service). */
  readonly contactPoints: readonly string[];
  readonly localDc: string;
  /** Every DC that must exist and carry the keyspace. */
  readonly dataCenters: readonly string[];
  /** DCs of leaving regions: the keyspace stops replicating to them (they may still be up). */
  readonly decommissionDataCenters?: readonly string[];
  readonly replicationFactor: number;
  readonly keyspace: string;
  readonly superuser: { readonly username: string; readonly password: string };
  readonly app: { readonly username: string; readonly password: string };
  readonly deadlineSeconds: number;
}

const CONTACT_POINT = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252}))(?::(\d{1,5}))?$/;

/** The environment contract of `bootstrap-cassandra` (names are what the generator emits). */
export const BootstrapEnv = z
  .object({
    CASSANDRA_CONTACT_POINTS: commaList.pipe(
      z.array(z.string().regex(CONTACT_POINT, { message: 'each entry must be host or host:port (IPv6 as [addr]:port)' })),
    ),
    CASSANDRA_LOCAL_DC: z.string().regex(DC_NAME, { message: 'must be a datacenter name (letters, digits, _ . -)' }),
    CASSANDRA_DATACENTERS: commaList.pipe(
      z
        .array(z.string().regex(DC_NAME, { message: 'each entry must be a datacenter name (letters, digits, _ . -)' }))
        .refine((dcs) => new Set(dcs).size === dcs.length, { message: 'lists a datacenter twice' }),
    ),
    CASSANDRA_DECOMMISSION_DATACENTERS: commaList
      .pipe(z.array(z.string().regex(DC_NAME, { message: 'each entry must be a datacenter name (letters, digits, _ . -)' })))
      .optional(),
    CASSANDRA_REPLICATION_FACTOR: intString(1, 99),
    CASSANDRA_KEYSPACE: z
      .string()
      .regex(KEYSPACE_NAME, { message: 'must be a lower-case CQL name (a letter, then letters, digits or _; at most 48 chars)' })
      .refine((k) => !k.startsWith('system'), { message: 'must not start with "system"' })
      .default(DEFAULT_KEYSPACE),
    CASSANDRA_SUPERUSER_USERNAME: z.string().min(1, { message: 'must not be empty' }),
    CASSANDRA_SUPERUSER_PASSWORD: z.string().min(1, { message: 'must not be empty' }),
    CASSANDRA_APP_USERNAME: z.string().regex(ROLE_NAME, { message: 'must be a role name (a letter, then letters, digits, _ . -; at most 64 chars)' }),
    CASSANDRA_APP_PASSWORD: z.string().min(1, { message: 'must not be empty' }),
    BOOTSTRAP_DEADLINE_SECONDS: intString(1, 86_400).default(600),
  })
  .superRefine((env, ctx) => {
    if (!env.CASSANDRA_DATACENTERS.includes(env.CASSANDRA_LOCAL_DC)) {
      ctx.addIssue({ code: 'custom', path: ['CASSANDRA_LOCAL_DC'], message: 'must be one of the datacenters in CASSANDRA_DATACENTERS' });
    }
    for (const dc of env.CASSANDRA_DECOMMISSION_DATACENTERS ?? []) {
      if (env.CASSANDRA_DATACENTERS.includes(dc)) {
        ctx.addIssue({ code: 'custom', path: ['CASSANDRA_DECOMMISSION_DATACENTERS'], message: 'must not name a datacenter that is also in CASSANDRA_DATACENTERS' });
      }
    }
    if (env.CASSANDRA_APP_USERNAME === env.CASSANDRA_SUPERUSER_USERNAME) {
      ctx.addIssue({ code: 'custom', path: ['CASSANDRA_APP_USERNAME'], message: 'must differ from CASSANDRA_SUPERUSER_USERNAME' });
    }
  });

/** Reads and validates the settings (throws EnvError naming each bad variable, never a value). */
export function settingsFromEnv(env: NodeJS.ProcessEnv = process.env): BootstrapSettings {
  const e = readEnv(BootstrapEnv, env);
  return {
    contactPoints: e.CASSANDRA_CONTACT_POINTS,
    localDc: e.CASSANDRA_LOCAL_DC,
    dataCenters: e.CASSANDRA_DATACENTERS,
    decommissionDataCenters: e.CASSANDRA_DECOMMISSION_DATACENTERS ?? [],
    replicationFactor: e.CASSANDRA_REPLICATION_FACTOR,
    keyspace: e.CASSANDRA_KEYSPACE,
    superuser: { username: e.CASSANDRA_SUPERUSER_USERNAME, password: e.CASSANDRA_SUPERUSER_PASSWORD },
    app: { username: e.CASSANDRA_APP_USERNAME, password: e.CASSANDRA_APP_PASSWORD },
    deadlineSeconds: e.BOOTSTRAP_DEADLINE_SECONDS,
  };
}

function checkSettings(s: BootstrapSettings): void {
  validateKeyspaceName(s.keyspace);
  replicationFor(s.dataCenters, s.replicationFactor);
  if (!s.dataCenters.includes(s.localDc)) throw new BootstrapError(`local DC ${s.localDc} is not among the datacenters ${s.dataCenters.join(', ')}`);
  if (!ROLE_NAME.test(s.app.username)) throw new BootstrapError(`invalid app role name ${JSON.stringify(s.app.username)}`);
  if (s.app.username === s.superuser.username) throw new BootstrapError('the app role must not be the superuser');
  if (s.contactPoints.length === 0) throw new BootstrapError('no contact points');
  if (!s.app.password || !s.superuser.password) throw new BootstrapError('empty password');
}

// ---------------------------------------------------------------------------------------------
// Errors

export class BootstrapError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BootstrapError';
  }
}

/** Some listed DC is missing or has no live node by the deadline; nothing was changed. */
export class DataCentersNotReadyError extends BootstrapError {
  constructor(
    readonly missing: readonly string[],
    readonly down: readonly string[],
    readonly waitedSeconds: number,
  ) {
    const parts = [
      missing.length ? `missing from the cluster: ${missing.join(', ')}` : '',
      down.length ? `no live node in: ${down.join(', ')}` : '',
    ].filter(Boolean);
    super(`Cassandra datacenters not ready after ${waitedSeconds} s (${parts.join('; ')}); nothing was changed (no keyspace, no role)`);
    this.name = 'DataCentersNotReadyError';
  }
}

/** Replaces every occurrence of each secret (raw and CQL-escaped) with ***. */
export function scrubSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) {
    if (!s) continue;
    for (const form of new Set([s, s.replaceAll("'", "''")])) out = out.split(form).join('***');
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Cluster view

interface ClusterNode {
  readonly address: string;
  readonly dc: string;
  readonly coordinator: boolean;
}

export interface DataCenterProbe {
  /** DCs of the cluster (system.local + system.peers_v2 + driver metadata), sorted. */
  readonly present: readonly string[];
  /** Wanted DCs with no node at all. */
  readonly missing: readonly string[];
  /** Wanted DCs whose nodes all look dead. */
  readonly down: readonly string[];
  /** How liveness was judged: `gossip` (heartbeats) or `driver` (metadata, Cassandra < 4.1). */
  readonly method: 'gossip' | 'driver';
  /** The coordinator whose view this is. */
  readonly coordinator: string;
}

const LIVE_STATUSES = new Set(['NORMAL', 'LEAVING', 'MOVING']);

function pickCoordinator(client: cassandra.Client, localDc: string): cassandra.Host | undefined {
  return client.hosts.values().find((h) => h.datacenter === localDc && h.isUp());
}

function isUnconfiguredTable(e: unknown): boolean {
  return /unconfigured table|table .* does not exist|Keyspace .* does not exist/i.test((e as Error).message ?? '');
}

async function clusterNodes(client: cassandra.Client, host: cassandra.Host): Promise<ClusterNode[]> {
  const local = (await client.execute('SELECT data_center, broadcast_address FROM system.local', [], { host })).first();
  const nodes: ClusterNode[] = [{ address: String(local?.get('broadcast_address') ?? host.address), dc: String(local?.get('data_center')), coordinator: true }];
  let peers: cassandra.types.Row[];
  try {
    peers = (await client.execute('SELECT peer, data_center FROM system.peers_v2', [], { host })).rows;
  } catch (e) {
    if (!isUnconfiguredTable(e)) throw e;
    peers = (await client.execute('SELECT peer, data_center FROM system.peers', [], { host })).rows;
  }
  for (const p of peers) nodes.push({ address: String(p.get('peer')), dc: String(p.get('data_center')), coordinator: false });
  return nodes;
}

interface GossipSample {
  readonly dc: string;
  readonly status: string;
  readonly generation: number;
  readonly heartbeat: number;
}

async function gossipSample(client: cassandra.Client, host: cassandra.Host): Promise<Map<string, GossipSample> | undefined> {
  let rows: cassandra.types.Row[];
  try {
    rows = (await client.execute('SELECT address, dc, status, status_with_port, generation, heartbeat FROM system_views.gossip_info', [], { host })).rows;
  } catch (e) {
    if (isUnconfiguredTable(e)) return undefined;
    throw e;
  }
  const out = new Map<string, GossipSample>();
  for (const r of rows) {
    out.set(String(r.get('address')), {
      dc: String(r.get('dc') ?? ''),
      status: String(r.get('status_with_port') ?? r.get('status') ?? '').split(',')[0] ?? '',
      generation: Number(r.get('generation') ?? 0),
      heartbeat: Number(r.get('heartbeat') ?? 0),
    });
  }
  return out;
}

/**
 * Which of `wanted` DCs exist and have a live node, as the coordinator (a local-DC node) sees
 * it. Samples gossip heartbeats for up to `windowMs`, returning early once every present DC has
 * shown a live node.
 */
export async function probeDataCenters(client: cassandra.Client, localDc: string, wanted: readonly string[], windowMs = 5_000): Promise<DataCenterProbe> {
  const host = pickCoordinator(client, localDc);
  if (!host) throw new BootstrapError(`no host of the local DC ${localDc} is up in the driver's view`);
  const nodes = await clusterNodes(client, host);
  const driverHosts = client.hosts.values();
  const present = [...new Set([...nodes.map((n) => n.dc), ...driverHosts.map((h) => h.datacenter)])].sort();
  const missing = wanted.filter((dc) => !present.includes(dc));
  const coordinatorDc = nodes[0]!.dc;
  const alive = new Set<string>([coordinatorDc]);
  const pending = () => wanted.filter((dc) => !missing.includes(dc) && !alive.has(dc));

  const first = await gossipSample(client, host);
  if (!first) {
    // Cassandra < 4.1: only the driver's view is available.
    for (const h of driverHosts) if (h.isUp()) alive.add(h.datacenter);
    return { present, missing, down: pending(), method: 'driver', coordinator: host.address };
  }
  const started = Date.now();
  while (pending().length > 0 && Date.now() - started < windowMs) {
    await new Promise((r) => setTimeout(r, Math.min(1_000, Math.max(0, windowMs - (Date.now() - started)))));
    const now = await gossipSample(client, host);
    for (const [address, s] of now ?? []) {
      const before = first.get(address);
      const advanced = !before || s.generation > before.generation || (s.generation === before.generation && s.heartbeat > before.heartbeat);
      if (advanced && LIVE_STATUSES.has(s.status)) alive.add(s.dc);
    }
  }
  return { present, missing, down: pending(), method: 'gossip', coordinator: host.address };
}

/** Schema versions of the live nodes; agreement = one version. */
async function schemaVersions(client: cassandra.Client, host: cassandra.Host): Promise<Map<string, string[]>> {
  const versions = new Map<string, string[]>();
  const add = (v: unknown, who: string) => {
    const key = String(v);
    versions.set(key, [...(versions.get(key) ?? []), who]);
  };
  const local = (await client.execute('SELECT schema_version, broadcast_address FROM system.local', [], { host })).first();
  add(local?.get('schema_version'), String(local?.get('broadcast_address') ?? host.address));
  const gossip = await gossipSample(client, host);
  const peers = (await client.execute('SELECT peer, schema_version FROM system.peers_v2', [], { host })).rows;
  for (const p of peers) {
    const address = String(p.get('peer'));
    const g = gossip?.get(address);
    // A node that announced its shutdown or left does not take part in agreement.
    if (g && !LIVE_STATUSES.has(g.status)) continue;
    const driverHost = client.hosts.values().find((h) => h.address.split(':')[0] === address);
    if (!gossip && driverHost && !driverHost.isUp()) continue;
    add(p.get('schema_version'), address);
  }
  return versions;
}

// ---------------------------------------------------------------------------------------------
// The bootstrap

export interface BootstrapOptions {
  readonly log?: Logger;
  /** Extra driver options (tests). */
  readonly clientOptions?: Partial<cassandra.ClientOptions>;
  /** Gossip sampling window per DC check (default 5 s). */
  readonly probeWindowMs?: number;
}

export interface BootstrapReport {
  readonly keyspace: string;
  readonly replication: Replication;
  /** What this run changed, in words; empty when everything was already in place. */
  readonly changes: readonly string[];
  readonly warnings: readonly string[];
  readonly durationMs: number;
}

/** Table ids are derived from keyspace + table so concurrent CREATE TABLE IF NOT EXISTS agree. */
const TABLE_ID_NAMESPACE = '4c6f7a8e-2d1b-5c3a-9e8f-7a6b5c4d3e2f';
export function tableId(keyspace: string, table: string): string {
  return uuidV5(`regionmesh:${keyspace}.${table}`, TABLE_ID_NAMESPACE);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, Math.max(0, ms)));
}

function newClient(s: BootstrapSettings, credentials: { username: string; password: string }, extra: Partial<cassandra.ClientOptions> = {}): cassandra.Client {
  return new cassandra.Client({
    contactPoints: [...s.contactPoints],
    localDataCenter: s.localDc,
    credentials: { username: credentials.username, password: credentials.password },
    socketOptions: { connectTimeout: 5_000, readTimeout: 30_000 },
    protocolOptions: { maxSchemaAgreementWaitSeconds: 10 },
    queryOptions: { consistency: consistencies.localQuorum, prepare: false },
    pooling: { warmup: true },
    ...extra,
  });
}

function describeError(e: unknown, secrets: readonly string[]): string {
  const err = e as Error & { innerErrors?: Record<string, Error> };
  let msg = err?.message ?? String(e);
  if (err?.innerErrors && typeof err.innerErrors === 'object') {
    const inner = Object.entries(err.innerErrors).map(([h, ie]) => `${h}: ${ie?.message ?? String(ie)}`);
    if (inner.length) msg = `${msg} [${inner.join('; ')}]`;
  }
  return scrubSecrets(msg, secrets);
}

function isAuthFailure(e: unknown): boolean {
  const err = e as Error & { innerErrors?: Record<string, Error> };
  const all = [err, ...Object.values(err?.innerErrors ?? {})];
  return all.some((x) => x?.name === 'AuthenticationError' || /Provided username .* and\/or password are incorrect|Bad credentials/i.test(x?.message ?? ''));
}

function sameReplication(a: Readonly<Record<string, string | number>>, b: Readonly<Record<string, string | number>>): boolean {
  const ka = Object.keys(a).sort();
  const kb = Object.keys(b).sort();
  return ka.length === kb.length && ka.every((k, i) => k === kb[i] && String(a[k]) === String(b[k]));
}

function showReplication(r: Readonly<Record<string, string | number>>): string {
  return `{${Object.keys(r)
    .sort()
    .map((k) => `${k}: ${r[k]}`)
    .join(', ')}}`;
}

/**
 * Runs the bootstrap. Resolves with what changed; throws DataCentersNotReadyError (nothing
 * changed) or BootstrapError. Never logs or throws a password.
 */
export async function bootstrapCassandra(settings: BootstrapSettings, opts: BootstrapOptions = {}): Promise<BootstrapReport> {
  checkSettings(settings);
  const started = Date.now();
  const deadline = started + settings.deadlineSeconds * 1000;
  const remaining = () => deadline - Date.now();
  const log = (opts.log ?? createLogger({ command: 'bootstrap-cassandra' })).child({ keyspace: settings.keyspace, localDc: settings.localDc });
  const secrets = [settings.superuser.password, settings.app.password];
  const desired = replicationFor(settings.dataCenters, settings.replicationFactor);
  const changes: string[] = [];
  const warnings: string[] = [];
  const warn = (msg: string, fields?: Record<string, unknown>) => {
    warnings.push(msg);
    log.warn(msg, fields);
  };

  log.info('bootstrap starting', {
    contactPoints: settings.contactPoints,
    dataCenters: settings.dataCenters,
    replicationFactor: settings.replicationFactor,
    appRole: settings.app.username,
    deadlineSeconds: settings.deadlineSeconds,
  });

  // 1. Connect (retry with backoff until the deadline).
  const client = await connectWithRetry(settings, opts.clientOptions, log, secrets, remaining);

  try {
    // 2. Every listed DC must have a live node.
    let lastProbe: DataCenterProbe | undefined;
    let lastError = '';
    let lastKey = '';
    for (;;) {
      const window = Math.min(opts.probeWindowMs ?? 5_000, Math.max(0, remaining()));
      try {
        lastProbe = await probeDataCenters(client, settings.localDc, settings.dataCenters, window);
        const key = JSON.stringify([lastProbe.missing, lastProbe.down]);
        if (lastProbe.missing.length === 0 && lastProbe.down.length === 0) {
          log.info('all datacenters have a live node', { dataCenters: settings.dataCenters, clusterDataCenters: lastProbe.present, method: lastProbe.method, coordinator: lastProbe.coordinator });
          break;
        }
        if (key !== lastKey) {
          log.warn('waiting for datacenters', { missing: lastProbe.missing, down: lastProbe.down, clusterDataCenters: lastProbe.present, method: lastProbe.method });
          lastKey = key;
        }
      } catch (e) {
        lastError = describeError(e, secrets);
        log.warn('cannot read the cluster topology yet', { error: lastError });
      }
      if (remaining() <= 0) {
        if (!lastProbe) {
          const unverified = settings.dataCenters.filter((dc) => dc !== settings.localDc);
          throw new BootstrapError(
            `could not read the cluster topology within ${settings.deadlineSeconds} s (${lastError}); datacenters not verified: ${unverified.join(', ') || '(none)'}; nothing was changed (no keyspace, no role)`,
          );
        }
        throw new DataCentersNotReadyError(lastProbe.missing, lastProbe.down, settings.deadlineSeconds);
      }
      await sleep(Math.min(2_000, remaining()));
    }
    const clusterDcs = new Set(lastProbe.present);

    const host = () => {
      const h = pickCoordinator(client, settings.localDc);
      if (!h) throw new BootstrapError(`no host of the local DC ${settings.localDc} is up`);
      return h;
    };

    const awaitAgreement = async (what: string, inAgreement: boolean | undefined) => {
      if (inAgreement === true) return;
      for (;;) {
        const versions = await schemaVersions(client, host());
        if (versions.size <= 1) return;
        if (remaining() <= 0) {
          throw new BootstrapError(
            `no schema agreement after ${what} within the deadline: ${[...versions].map(([v, hosts]) => `${v} on ${hosts.join(', ')}`).join('; ')}`,
          );
        }
        await sleep(Math.min(500, remaining()));
      }
    };

    /** Runs one schema statement (CQL may be logged: no secrets in it). */
    const ddl = async (cql: string, change: string) => {
      log.info('schema change', { cql });
      const rs = await client.execute(cql, [], { consistency: consistencies.localQuorum });
      changes.push(change);
      await awaitAgreement(change, (rs.info as { isSchemaInAgreement?: boolean }).isSchemaInAgreement);
    };

    /** Runs a statement that carries a password: neither the CQL nor a driver error reaches a log. */
    const secretStatement = async (cql: string, what: string) => {
      for (let attempt = 1; ; attempt++) {
        try {
          await client.execute(cql, [], { consistency: consistencies.localQuorum });
          return;
        } catch (e) {
          // Cassandra 5 refuses a second password change of a role within a few seconds.
          const wait = /can only be changed every (\d+) ?ms/i.exec((e as Error).message ?? '');
          if (wait && attempt < 3 && remaining() > Number(wait[1]) + 1_000) {
            log.info('password change rate-limited by Cassandra, retrying', { waitMs: Number(wait[1]) });
            await sleep(Number(wait[1]) + 500);
            continue;
          }
          throw new BootstrapError(`${what} failed: ${describeError(e, secrets)}`);
        }
      }
    };

    // 3. Keyspace.
    const ksRow = (
      await client.execute('SELECT replication, durable_writes FROM system_schema.keyspaces WHERE keyspace_name = ?', [settings.keyspace], { prepare: true })
    ).first();
    if (!ksRow) {
      await ddl(createKeyspaceCql(settings.keyspace, desired), `created keyspace ${settings.keyspace} with replication ${showReplication(desired)}`);
    } else {
      const current = { ...(ksRow.get('replication') as Record<string, string>) };
      const cls = current['class'] ?? '';
      delete current['class'];
      const plan: Record<string, number> = { ...desired };
      if (cls.endsWith('NetworkTopologyStrategy')) {
        for (const [dc, rf] of Object.entries(current)) {
          if (dc in plan) continue;
          if (settings.decommissionDataCenters?.includes(dc)) {
            log.info('the keyspace stops replicating to a leaving DC', { dc });
            continue;
          }
          if (clusterDcs.has(dc)) {
            plan[dc] = Number(rf);
            warn(`keyspace ${settings.keyspace} is replicated to DC ${dc}, which is not listed but still in the cluster: keeping it (remove a live DC by decommissioning it, not by a config edit)`, { dc });
          } else {
            log.info('dropping a DC that no longer exists from the keyspace replication', { dc });
          }
        }
      }
      const durable = ksRow.get('durable_writes') === true;
      if (!cls.endsWith('NetworkTopologyStrategy') || !sameReplication(current, plan) || !durable) {
        const from = `${cls.split('.').pop()} ${showReplication(current)}${durable ? '' : ' (durable_writes = false)'}`;
        const added = Object.keys(plan).filter((dc) => !(dc in current));
        await ddl(alterKeyspaceCql(settings.keyspace, plan), `altered keyspace ${settings.keyspace} replication from ${from} to ${showReplication(plan)}`);
        warn(`keyspace ${settings.keyspace} replication changed from ${from} to ${showReplication(plan)}`, { from: current, to: plan });
        if (added.length > 0 && ksRow) {
          warn(`new DC(s) ${added.join(', ')} hold no data of ${settings.keyspace} yet: run \`nodetool rebuild -- <existing DC>\` on their nodes (k8ssandra: the k8ssandra.io/dc-replication annotation does this), then a repair`, { added });
        }
      } else {
        log.info('keyspace already as desired', { replication: plan });
      }
    }

    // 4. Tables.
    for (const table of TABLES) await ensureTable(client, settings.keyspace, table, ddl, log);

    // 5. App role.
    const roleRow = (
      await client.execute('SELECT can_login, is_superuser FROM system_auth.roles WHERE role = ?', [settings.app.username], { prepare: true })
    ).first();
    if (!roleRow) {
      log.info('creating app role', { role: settings.app.username });
      await secretStatement(createLoginRoleCql(settings.app.username, settings.app.password), `CREATE ROLE ${settings.app.username}`);
      changes.push(`created role ${settings.app.username}`);
    } else {
      if (roleRow.get('is_superuser') === true) {
        warn(`role ${settings.app.username} is a superuser: the app role should only have SELECT/MODIFY on ${settings.keyspace}; not changing it`);
      }
      const canLogin = roleRow.get('can_login') === true;
      const passwordOk = canLogin ? await appCanLogIn(settings, opts.clientOptions) : false;
      if (passwordOk === false) {
        log.info('updating app role (login and password)', { role: settings.app.username, couldLogIn: canLogin });
        await secretStatement(alterLoginRoleCql(settings.app.username, settings.app.password), `ALTER ROLE ${settings.app.username}`);
        changes.push(`updated role ${settings.app.username} (login/password)`);
      } else if (passwordOk === undefined) {
        warn(`could not verify the password of role ${settings.app.username} (not an authentication error); leaving it`);
      } else {
        log.info('app role already as desired', { role: settings.app.username });
      }
    }

    // 6. Grants.
    const resource = keyspaceResource(settings.keyspace);
    const permRow = (
      await client.execute('SELECT permissions FROM system_auth.role_permissions WHERE role = ? AND resource = ?', [settings.app.username, resource], { prepare: true })
    ).first();
    const have = new Set<string>((permRow?.get('permissions') as string[] | null) ?? []);
    for (const p of APP_PERMISSIONS) {
      if (have.has(p)) continue;
      const cql = grantOnKeyspaceCql(p, settings.keyspace, settings.app.username);
      log.info('granting', { cql });
      await client.execute(cql, [], { consistency: consistencies.localQuorum });
      changes.push(`granted ${p} on keyspace ${settings.keyspace} to ${settings.app.username}`);
    }
    const extra = [...have].filter((p) => !(APP_PERMISSIONS as readonly string[]).includes(p));
    if (extra.length) warn(`role ${settings.app.username} also holds ${extra.join(', ')} on ${settings.keyspace}; the bootstrap only needs ${APP_PERMISSIONS.join(', ')} (not revoking)`);

    const report: BootstrapReport = { keyspace: settings.keyspace, replication: desired, changes, warnings, durationMs: Date.now() - started };
    log.info(changes.length ? 'bootstrap done' : 'bootstrap done: nothing to change', { changes, warnings: warnings.length, durationMs: report.durationMs });
    return report;
  } finally {
    await client.shutdown().catch(() => {});
  }
}

async function connectWithRetry(
  settings: BootstrapSettings,
  extra: Partial<cassandra.ClientOptions> | undefined,
  log: Logger,
  secrets: readonly string[],
  remaining: () => number,
): Promise<cassandra.Client> {
  for (let attempt = 1, delay = 500; ; attempt++, delay = Math.min(delay * 2, 10_000)) {
    const c = newClient(settings, settings.superuser, extra);
    c.on('log', (level: string, className: string, message: string) => {
      if (level === 'error' || level === 'warning') log.debug('driver', { driverLevel: level, className, message: scrubSecrets(String(message), secrets) });
    });
    try {
      await c.connect();
      log.info('connected', { attempt, hosts: c.hosts.values().map((h) => ({ address: h.address, dc: h.datacenter })) });
      return c;
    } catch (e) {
      await c.shutdown().catch(() => {});
      const why = describeError(e, secrets);
      const wait = Math.min(delay * (0.75 + Math.random() * 0.5), remaining());
      if (wait <= 0) {
        throw new BootstrapError(
          `cannot connect to ${settings.contactPoints.join(', ')} (local DC ${settings.localDc}) within ${settings.deadlineSeconds} s: ${why}; nothing was changed`,
        );
      }
      log.warn('cannot connect yet, retrying', { attempt, retryInMs: Math.round(wait), error: why });
      await sleep(wait);
    }
  }
}

/** True/false when the app credentials do/don't authenticate; undefined when it cannot tell. */
/**
 * Whether the app role logs in with the configured password. Nodes cache credentials
 * (credentials_validity, 2 s by default), so a password changed moments ago can still be
 * refused: an auth failure is retried past that window before it counts as "does not work".
 */
async function appCanLogIn(s: BootstrapSettings, extra?: Partial<cassandra.ClientOptions>, attempts = 3, spacingMs = 1_200): Promise<boolean | undefined> {
  for (let attempt = 1; ; attempt++) {
    const c = newClient(s, s.app, { ...extra, pooling: { warmup: false } });
    try {
      await c.connect();
      return true;
    } catch (e) {
      if (!isAuthFailure(e)) return undefined;
      if (attempt >= attempts) return false;
    } finally {
      await c.shutdown().catch(() => {});
    }
    await new Promise((r) => setTimeout(r, spacingMs));
  }
}

async function ensureTable(
  client: cassandra.Client,
  keyspace: string,
  table: TableSpec,
  ddl: (cql: string, change: string) => Promise<void>,
  log: Logger,
): Promise<void> {
  const cols = (
    await client.execute('SELECT column_name, type, kind, clustering_order FROM system_schema.columns WHERE keyspace_name = ? AND table_name = ?', [keyspace, table.name], {
      prepare: true,
    })
  ).rows;
  if (cols.length === 0) {
    await ddl(createTableCql(keyspace, table, { id: tableId(keyspace, table.name) }), `created table ${keyspace}.${table.name}`);
    return;
  }
  const existing = new Map(cols.map((r) => [String(r.get('column_name')), { type: String(r.get('type')), kind: String(r.get('kind')), order: String(r.get('clustering_order')) }]));
  const problems: string[] = [];
  for (const c of table.columns) {
    const e = existing.get(c.name);
    if (!e) {
      if (c.kind === 'regular') await ddl(alterTableAddColumnCql(keyspace, table, c), `added column ${c.name} to ${keyspace}.${table.name}`);
      else problems.push(`key column ${c.name} is missing`);
      continue;
    }
    if (e.type !== c.type) problems.push(`column ${c.name} is ${e.type}, expected ${c.type}`);
    if (e.kind !== c.kind) problems.push(`column ${c.name} is ${e.kind}, expected ${c.kind}`);
    const order = table.clusteringOrder?.[c.name];
    if (c.kind === 'clustering' && order && e.order !== order.toLowerCase()) problems.push(`column ${c.name} is clustered ${e.order}, expected ${order.toLowerCase()}`);
  }
  const specKeys = table.columns.filter((c) => c.kind !== 'regular').map((c) => c.name);
  for (const [name, e] of existing) if (e.kind !== 'regular' && !specKeys.includes(name)) problems.push(`unexpected key column ${name}`);
  if (problems.length) {
    throw new BootstrapError(`table ${keyspace}.${table.name} exists with an incompatible definition: ${problems.join('; ')} (fix or migrate it by hand; the bootstrap never drops data)`);
  }
  const ttlRow = (await client.execute('SELECT default_time_to_live FROM system_schema.tables WHERE keyspace_name = ? AND table_name = ?', [keyspace, table.name], { prepare: true })).first();
  const ttl = Number(ttlRow?.get('default_time_to_live') ?? 0);
  const wantTtl = table.defaultTtlSeconds ?? 0;
  if (ttl !== wantTtl) await ddl(alterTableTtlCql(keyspace, table, wantTtl), `set default_time_to_live of ${keyspace}.${table.name} from ${ttl} to ${wantTtl}`);
  else log.info('table already as desired', { table: table.name });
}

