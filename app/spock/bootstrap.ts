/**
 * bootstrap-spock for ONE region: this region's node and its subscriptions to every peer,
 * converged idempotently on the region's own database (it never connects to a peer itself; the
 * server does, inside sub_create, with the DSNs from SPOCK_NODES).
 *
 *   1. wait for the local database (retry with backoff until the deadline; a standby counts as
 *      not ready), take a session advisory lock so that two runs never interleave;
 *   2. check wal_level / shared_preload_libraries; ensure the extension;
 *   3. ensure the replication role named in this node's DSN (LOGIN SUPERUSER REPLICATION, no password);
 *   4. ensure the local node with its advertised DSN (a different registered DSN is an error that
 *      says how to fix it; bootstrap never rewrites or drops a node);
 *   5. replication sets (both dialects, ./dialect.ts `repset`): every table of the replicated
 *      schemas (SPOCK_REPLICATION_SCHEMAS) that is in no set goes into `default` (or
 *      `default_insert_only` when it has no PK / replica identity index): Spock's auto-DDL only
 *      covers tables created after the node exists, so the chat backend's tables created before it
 *      would never replicate. Tables of region-local schemas (SPOCK_LOCAL_SCHEMAS, chat_local) are
 *      removed from every set they are in;
 *   6a. for every node in SPOCK_REMOVED_NODES (a region leaving the mesh): drop
 *      `sub_<removed>_<me>`, the slot here that served the removed node, and its node row once no
 *      subscription references it (./removal.ts);
 *   6. a joining region (SPOCK_SYNC_FROM): the one syncing subscription first, with the dialect's
 *      auto-DDL settings turned off for the node DSN's role in this database while the sync's
 *      pg_restore runs (so the restored DDL is neither replayed to the peers nor are the restored
 *      tables put into sets), reset once it is `replicating`; then step 5 again (the restore
 *      created tables, region-local ones included);
 *   6b. mark the node ready for the chat backend: the database setting `regionmesh.node_ready` =
 *      this node's name, which the backend's init container (`wait-postgres-node`) waits for, so
 *      that its migration never runs before the node exists (or before a structure sync is done);
 *   6c. for every other peer p: `sub_<p>_<me>` exists and is enabled, `forward_origins '{}'`, no
 *      sync. Creating one connects to p, so an unreachable peer is retried with exponential
 *      backoff until the deadline;
 *   7. wait until every subscription has been `replicating` for a short stable period; step 5
 *      once more, then the final check: no table of a replicated schema in no set, no region-local
 *      table in a set (an error naming the tables otherwise, e.g. an UNLOGGED table, which no set
 *      can take).
 *
 * With SPOCK_LEAVE=true (this region leaves; SPOCK_NODES lists only this node) none of that runs:
 * every subscription here, the remote node rows, the mesh's slots here and then this node are
 * dropped instead (./removal.ts). Tables and data are never dropped.
 *
 * Administrative statements run in transactions; with Spock each starts with
 * `SELECT spock.repair_mode(true)`. On failure nothing is dropped: the error names the peers
 * that could not be reached or are not replicating. Only removed nodes and a leaving node's own
 * replication state are ever dropped.
 */
import type { ClientConfig } from 'pg';
import { setTimeout as sleepTimer } from 'node:timers/promises';
import { createLogger, type Logger } from '../log.js';
import { connectPg, type Connect, type Db, type Row } from './db.js';
import {
  dbSettingReset,
  dbSettingSet,
  dbSettingsGet,
  dialectFor,
  extensionCreate,
  NODE_READY_SETTING,
  roleSettingReset,
  roleSettingSet,
  extensionGet,
  roleCreate,
  roleGet,
  serverInfo,
  subscriptionName,
  tryLock,
  type Dialect,
  type LocalNodeRow,
  type DbSettingRow,
  type MissingTableRow,
  type SetMemberRow,
  type SubscriptionRow,
  type SubStatusRow,
} from './dialect.js';
import { conninfoMap, maskDsn } from './dsn.js';
import { BootstrapError, errText } from './errors.js';
import { leaveMesh, removePeers, type RemovalContext } from './removal.js';
import { DEFAULT_LOCAL_SCHEMAS, SettingsError, settingsProblems, type BootstrapSettings, type NodeSpec } from './settings.js';
import type { Statement } from './sql.js';

export interface BootstrapOptions {
  readonly log?: Logger;
  /** Opens the local connection (tests pass a double). Default: node-postgres. */
  readonly connect?: Connect;
  /** Status poll interval while waiting for `replicating`. Default 500 ms. */
  readonly pollIntervalMs?: number;
  /** How long every subscription must stay `replicating` before the run counts as done. Default 1500 ms. */
  readonly stableMs?: number;
  /** Upper bound of the retry backoff. Default 10 s. */
  readonly maxBackoffMs?: number;
  /** Bound of one statement (further capped by the deadline). Default 60 s. */
  readonly statementTimeoutMs?: number;
}

export interface SubscriptionReport {
  readonly name: string;
  readonly provider: string;
  readonly status: string;
}

export interface BootstrapResult {
  readonly node: string;
  readonly dialect: string;
  /** What this run changed, in order; empty when everything was in place. */
  readonly changes: readonly string[];
  readonly warnings: readonly string[];
  readonly subscriptions: readonly SubscriptionReport[];
  readonly durationMs: number;
}

export { BootstrapError };

const str = (v: unknown): string => (v === null || v === undefined ? '' : String(v));

/** Session: the local connection, reopened (and re-locked) when it breaks. */
class Session {
  private db: Db | undefined;
  constructor(
    private readonly admin: ClientConfig,
    private readonly connect: Connect,
    private readonly deadline: number,
    private readonly log: Logger,
    private readonly maxBackoffMs: number,
  ) {}

  remaining(): number {
    return this.deadline - Date.now();
  }

  /** Connected, primary, locked; retries until the deadline. */
  async get(): Promise<Db> {
    if (this.db && !this.db.broken) return this.db;
    await this.close();
    let delay = 500;
    let attempt = 0;
    for (;;) {
      attempt++;
      let db: Db | undefined;
      let lockHeld = false;
      try {
        db = await this.connect(this.admin);
        const [info] = await db.query(serverInfo(), this.bound(10_000));
        if (info?.['in_recovery'] === true) throw new Error('the server is a standby (in recovery); waiting for a primary');
        const [lock] = await db.query(tryLock(), this.bound(10_000));
        lockHeld = lock?.['locked'] === true;
        if (!lockHeld) throw new Error('another bootstrap-spock run holds the lock on this database; waiting for it');
        this.db = db;
        if (attempt > 1) this.log.info('local database ready', { attempts: attempt });
        return db;
      } catch (e) {
        await db?.close().catch(() => undefined);
        const left = this.remaining();
        if (left <= 0) {
          throw new BootstrapError(`local database not ready before the deadline (${attempt} attempt(s)): ${errText(e)}`);
        }
        const wait = Math.min(delay, left);
        this.log.warn('local database not ready, retrying', { attempt, retryInMs: wait, error: errText(e) });
        await sleepTimer(wait);
        delay = Math.min(delay * 2, this.maxBackoffMs);
      }
    }
  }

  /** A statement bound: `ms`, but never past the deadline (and at least 1 s so a last attempt can answer). */
  bound(ms: number): number {
    return Math.max(1_000, Math.min(ms, this.remaining()));
  }

  async close(): Promise<void> {
    const db = this.db;
    this.db = undefined;
    await db?.close().catch(() => undefined);
  }
}

const rowsAs = <T>(rows: Row[]): T[] => rows as unknown as T[];

/** Runs the bootstrap for `settings.node`; see the module comment. */
export async function bootstrapRegion(settings: BootstrapSettings, options: BootstrapOptions = {}): Promise<BootstrapResult> {
  const problems = settingsProblems(settings);
  if (problems.length > 0) throw new SettingsError(problems);
  const started = Date.now();
  const deadline = started + settings.deadlineSeconds * 1000;
  const dialect: Dialect = dialectFor(settings.dialect);
  const me = settings.nodes.find((n) => n.name === settings.node)!;
  const peers: NodeSpec[] = settings.nodes.filter((n) => n.name !== me.name).sort((a, b) => a.name.localeCompare(b.name));
  const log = (options.log ?? createLogger({ command: 'bootstrap-spock' })).child({ node: me.name, dialect: dialect.name });
  const pollMs = options.pollIntervalMs ?? 500;
  const stableMs = options.stableMs ?? 1_500;
  const maxBackoffMs = options.maxBackoffMs ?? 10_000;
  const stmtMs = options.statementTimeoutMs ?? 60_000;
  const session = new Session(settings.admin, options.connect ?? connectPg, deadline, log, maxBackoffMs);
  const changes: string[] = [];
  const warnings: string[] = [];
  const change = (what: string, fields: Record<string, unknown> = {}) => {
    changes.push(what);
    log.info(what, fields);
  };
  const warn = (what: string, fields: Record<string, unknown> = {}) => {
    warnings.push(what);
    log.warn(what, fields);
  };
  const query = async (s: Statement, ms = 30_000): Promise<Row[]> => (await session.get()).query(s, session.bound(Math.min(ms, stmtMs)));
  /** An administrative transaction: the dialect's prelude (spock: repair_mode(true)), then `stmts`. */
  const admin = async (stmts: readonly Statement[], ms = 30_000): Promise<Row[][]> => {
    const db = await session.get();
    const out = await db.transaction([...dialect.txPrelude, ...stmts], session.bound(Math.min(ms, stmtMs)));
    return out.slice(dialect.txPrelude.length);
  };

  const removed = [...(settings.removedNodes ?? [])];
  const leave = settings.leave === true;
  log.info(leave ? 'leaving the mesh' : 'bootstrap starting', {
    dsn: maskDsn(me.dsn),
    peers: peers.map((p) => ({ name: p.name, dsn: maskDsn(p.dsn) })),
    syncFrom: settings.syncFrom ?? null,
    removedNodes: removed,
    leave,
    deadlineSeconds: settings.deadlineSeconds,
  });
  const localSchemas = settings.localSchemas ?? DEFAULT_LOCAL_SCHEMAS;
  const removal: RemovalContext = {
    dialect,
    me: me.name,
    deadlineSeconds: settings.deadlineSeconds,
    log,
    pollMs,
    maxBackoffMs,
    query: (s) => query(s, stmtMs),
    admin: (stmts) => admin(stmts, stmtMs),
    change,
    warn,
    remaining: () => session.remaining(),
  };
  const done = (subscriptions: SubscriptionReport[]): BootstrapResult => {
    const durationMs = Date.now() - started;
    if (changes.length === 0) log.info('no changes', { subscriptions, durationMs });
    else log.info(leave ? 'left the mesh' : 'bootstrap complete', { changes, subscriptions, durationMs });
    return { node: me.name, dialect: dialect.name, changes, warnings, subscriptions, durationMs };
  };

  try {
    if (leave) {
      // This region leaves: nothing is created, the server settings do not matter any more.
      if ((await query(extensionGet(dialect.extension))).length === 0) {
        log.info(`extension ${dialect.extension} is not installed: this database is no mesh node, nothing to leave`);
      } else {
        const [local] = rowsAs<LocalNodeRow>(await query(dialect.localNode()));
        await leaveMesh(removal, local);
      }
      // The chat backend's init container must not take this database for a mesh node any more.
      const [ready] = rowsAs<DbSettingRow>(await query(dbSettingsGet([NODE_READY_SETTING])));
      if (ready?.setting) {
        await admin([dbSettingReset(ready.database, NODE_READY_SETTING)]);
        change(`reset ${NODE_READY_SETTING}`, { database: ready.database });
      }
      return done([]);
    }

    // 1-2. Server and extension.
    const [info] = await query(serverInfo());
    if (str(info?.['wal_level']) !== 'logical') {
      throw new BootstrapError(`wal_level is "${str(info?.['wal_level'])}" on the local server; logical replication needs wal_level=logical (server restart)`);
    }
    const preload = str(info?.['shared_preload_libraries']).split(',').map((s) => s.trim().replace(/^"|"$/g, ''));
    if (!preload.includes(dialect.extension)) {
      throw new BootstrapError(`${dialect.extension} is not in shared_preload_libraries on the local server (server restart needed)`);
    }
    if (str(info?.['track_commit_timestamp']) !== 'on') {
      warn('track_commit_timestamp is off: last_update_wins conflict resolution needs it');
    }
    if ((await query(extensionGet(dialect.extension))).length === 0) {
      // repair_mode cannot run before the extension exists: this one statement runs without it.
      await (await session.get()).transaction([extensionCreate(dialect.extension)], session.bound(stmtMs));
      change(`created extension ${dialect.extension}`);
    }

    // 3. The replication role the node DSNs use.
    const role = conninfoMap(me.dsn).get('user');
    if (role) {
      const [r] = await query(roleGet(role));
      if (!r) {
        await admin([roleCreate(role)]);
        change(`created role ${role}`, { role });
      } else if (r['superuser'] !== true || r['login'] !== true) {
        warn(`role ${role} (from this node's DSN) is not a LOGIN SUPERUSER; replication administration needs a superuser`, { role });
      }
    }

    // 4. The local node.
    let [local] = rowsAs<LocalNodeRow>(await query(dialect.localNode()));
    if (!local) {
      await admin([dialect.nodeCreate(me.name, me.dsn)]);
      [local] = rowsAs<LocalNodeRow>(await query(dialect.localNode()));
      if (!local) throw new BootstrapError(`node ${me.name} was created but ${dialect.extension}.local_node is still empty`);
      change(`created node ${me.name}`, { dsn: maskDsn(me.dsn) });
    }
    if (local.node_name !== me.name) {
      throw new BootstrapError(
        `this database is already ${dialect.extension} node "${local.node_name}", not "${me.name}": check SPOCK_NODE and PGHOST (bootstrap never drops a node)`,
      );
    }
    if (local.dsn !== me.dsn) {
      throw new BootstrapError(
        `node ${me.name} is registered with a different DSN than SPOCK_NODES gives (registered: ${maskDsn(local.dsn)}; configured: ${maskDsn(me.dsn)}). ${dialect.dsnFixHint}`,
      );
    }

    // 5. Replication sets: region-local tables out of every set, replicated tables into one.
    const convergeSets = async () => {
      const local = rowsAs<SetMemberRow>(await query(dialect.repset.members(localSchemas)));
      const missing = rowsAs<MissingTableRow>(await query(dialect.repset.missingTables(settings.replicationSchemas)));
      const plan = missing.filter((t) => t.logged).map((t) => ({ relation: t.relation, set: t.has_identity ? 'default' : 'default_insert_only' }));
      if (local.length === 0 && plan.length === 0) return;
      await admin([...local.map((m) => dialect.repset.removeTable(m.set_name, m.relation)), ...plan.map((p) => dialect.repset.addTable(p.set, p.relation))]);
      for (const m of local) change(`removed region-local table ${m.relation} from replication set ${m.set_name}`, { table: m.relation, set: m.set_name });
      for (const p of plan) {
        if (p.set !== 'default') warn(`table ${p.relation} has no primary key or replica identity index: only its INSERTs replicate`, { table: p.relation });
        change(`added table ${p.relation} to replication set ${p.set}`, { table: p.relation, set: p.set });
      }
    };
    await convergeSets();

    // 6a. Regions leaving the mesh: their subscriptions, the slots that served them, their node rows.
    if (removed.length > 0) await removePeers(removal, removed);

    // 6. Subscriptions on this (subscriber) node, one per peer.
    const expected = peers.map((p) => ({ peer: p, name: subscriptionName(p.name, me.name) }));
    const existing = new Map(rowsAs<SubscriptionRow>(await query(dialect.subscriptions())).map((s) => [s.name, s]));
    for (const s of existing.values()) {
      if (!expected.some((x) => x.name === s.name)) {
        warn(`subscription ${s.name} (provider ${s.provider}) is not for a node in SPOCK_NODES; left in place`, { subscription: s.name });
      }
    }
    const pending: Array<(typeof expected)[number]> = [];
    for (const x of expected) {
      const s = existing.get(x.name);
      if (!s) {
        pending.push(x);
        continue;
      }
      if (s.provider !== x.peer.name) {
        throw new BootstrapError(`subscription ${x.name} exists but its provider is node "${s.provider}", not "${x.peer.name}"`, [x.peer.name]);
      }
      if (s.provider_dsn !== x.peer.dsn) {
        warn(`subscription ${x.name} uses a different DSN for ${x.peer.name} than SPOCK_NODES gives. ${dialect.dsnFixHint}`, {
          subscription: x.name,
          registered: maskDsn(s.provider_dsn),
          configured: maskDsn(x.peer.dsn),
        });
      }
      if ((s.forward_origins ?? []).length > 0) {
        warn(`subscription ${x.name} forwards origins ${JSON.stringify(s.forward_origins)}; a full mesh needs '{}' (recreate it to change this)`, { subscription: x.name });
      }
      if (!s.enabled) {
        await admin([dialect.subEnable(x.name)]);
        change(`enabled subscription ${x.name}`, { subscription: x.name, provider: x.peer.name });
      }
    }

    /** Creates the subscriptions in `todo`, retrying unreachable providers with backoff until the deadline. */
    const createSubscriptions = async (todo: Array<(typeof expected)[number]>) => {
      const lastError = new Map<string, string>();
      let delay = 1_000;
      for (let round = 1; todo.length > 0; round++) {
        for (const x of [...todo]) {
          const synchronize = settings.syncFrom === x.peer.name;
          try {
            const [rows] = await admin([dialect.subCreate({ name: x.name, providerDsn: x.peer.dsn, synchronize })], stmtMs);
            todo.splice(todo.indexOf(x), 1);
            if ((rows ?? []).length > 0) {
              change(`created subscription ${x.name}`, { subscription: x.name, provider: x.peer.name, providerDsn: maskDsn(x.peer.dsn), synchronize });
            }
          } catch (e) {
            const msg = errText(e);
            if (/different dsn/i.test(msg)) {
              throw new BootstrapError(`cannot subscribe to ${x.peer.name}: ${msg}. ${dialect.dsnFixHint}`, [x.peer.name]);
            }
            lastError.set(x.peer.name, msg);
            log.warn('peer not reachable yet', { peer: x.peer.name, subscription: x.name, round, error: msg });
          }
        }
        if (todo.length === 0) break;
        const left = session.remaining();
        if (left <= 0) {
          const names = todo.map((x) => x.peer.name);
          throw new BootstrapError(
            `deadline of ${settings.deadlineSeconds} s reached: could not subscribe to peer(s) ${names.join(', ')} (${todo
              .map((x) => `${x.name}: ${lastError.get(x.peer.name) ?? 'not attempted'}`)
              .join('; ')})`,
            names,
          );
        }
        const wait = Math.min(delay, left);
        log.info('retrying unreachable peers', { peers: todo.map((x) => x.peer.name), retryInMs: wait });
        await sleepTimer(wait);
        delay = Math.min(delay * 2, maxBackoffMs);
      }
    };
    const wait = (subs: typeof expected) =>
      waitReplicating(subs, { afterSync: convergeSets, query, session, dialect, pollMs, stableMs, deadlineSeconds: settings.deadlineSeconds, log });

    // The role the sync's pg_restore connects as (the node DSN's user) in this database: its
    // auto-DDL settings, turned off during a structure sync (see the module comment, step 6).
    const syncRole = conninfoMap(me.dsn).get('user');
    const autoDdlSettings = async (): Promise<{ database: string; set: string[] }> => {
      const rows = rowsAs<DbSettingRow>(await query(dbSettingsGet(dialect.autoDdlSettings, syncRole)));
      return { database: rows[0]?.database ?? '', set: rows.flatMap((r) => (r.setting ? [r.setting] : [])) };
    };

    // 6. A joining region: the one syncing subscription first, and replicating (structure and
    // data copied) before any other provider's changes can arrive for tables that do not exist yet.
    const syncing = expected.find((x) => x.peer.name === settings.syncFrom);
    if (syncing) {
      if (pending.includes(syncing)) {
        if (dialect.autoDdlSettings.length > 0) {
          if (!syncRole) {
            warn(`node ${me.name}'s DSN names no user: auto-DDL stays on for the structure sync's restore (its DDL may be replayed on peers)`);
          } else {
            const { database } = await autoDdlSettings();
            await admin(dialect.autoDdlSettings.map((g) => roleSettingSet(syncRole, database, g, 'off')));
            change(`turned ${dialect.autoDdlSettings.join(', ')} off for role ${syncRole} in database ${database} during the structure sync`, { role: syncRole });
          }
        }
        await createSubscriptions([syncing]);
        pending.splice(pending.indexOf(syncing), 1);
      }
      await wait([syncing]);
    }
    // Reset what step 6 turned off (also after a run that died during the sync).
    if (syncRole && dialect.autoDdlSettings.length > 0) {
      const { database, set } = await autoDdlSettings();
      if (set.length > 0) {
        const names = set.map((x) => x.split('=')[0]!);
        await admin(names.map((g) => roleSettingReset(syncRole, database, g)));
        change(`reset ${names.join(', ')} for role ${syncRole} in database ${database} (structure sync done)`, { role: syncRole });
      }
    }

    // 6b. Ready for the chat backend's migration.
    const [ready] = rowsAs<DbSettingRow>(await query(dbSettingsGet([NODE_READY_SETTING])));
    if (ready?.setting !== `${NODE_READY_SETTING}=${me.name}`) {
      await admin([dbSettingSet(ready?.database ?? '', NODE_READY_SETTING, me.name)]);
      change(`marked node ${me.name} ready (${NODE_READY_SETTING} of database ${ready?.database ?? ''})`);
    }

    // 6c. Every other peer.
    await createSubscriptions(pending);

    // 7. Wait for `replicating`, then the sets once more and the final check.
    const subscriptions = await wait(expected);
    await convergeSets();
    const unregistered = rowsAs<MissingTableRow>(await query(dialect.repset.missingTables(settings.replicationSchemas)));
    const localInSets = rowsAs<SetMemberRow>(await query(dialect.repset.members(localSchemas)));
    if (unregistered.length > 0 || localInSets.length > 0) {
      const parts = [
        ...(unregistered.length > 0
          ? [
              `table(s) of replicated schema(s) ${settings.replicationSchemas.join(', ')} in no replication set, so they never replicate: ${unregistered
                .map((t) => `${t.relation}${t.logged ? '' : ' (UNLOGGED: no set can take it; ALTER TABLE ... SET LOGGED, or move it to a region-local schema)'}`)
                .join(', ')}`,
            ]
          : []),
        ...(localInSets.length > 0
          ? [`region-local table(s) still in a replication set: ${localInSets.map((m) => `${m.relation} (${m.set_name})`).join(', ')}`]
          : []),
      ];
      throw new BootstrapError(`replication sets of node ${me.name} are wrong after the run: ${parts.join('; ')}`);
    }
    return done(subscriptions);
  } catch (e) {
    // Errors of the local server can quote a DSN: rethrown with their text masked.
    if (e instanceof BootstrapError || e instanceof SettingsError) throw e;
    throw new BootstrapError(errText(e));
  } finally {
    await session.close();
  }
}

async function waitReplicating(
  expected: ReadonlyArray<{ peer: NodeSpec; name: string }>,
  ctx: {
    /** Runs once, as soon as every subscription is `replicating` (a structure sync is done by then). */
    afterSync: () => Promise<void>;
    query: (s: Statement) => Promise<Row[]>;
    session: Session;
    dialect: Dialect;
    pollMs: number;
    stableMs: number;
    deadlineSeconds: number;
    log: Logger;
  },
): Promise<SubscriptionReport[]> {
  const since = new Map<string, number>();
  let tablesChecked = false;
  let last = new Map<string, SubStatusRow>();
  let logged = '';
  for (;;) {
    const rows = rowsAs<SubStatusRow>(await ctx.query(ctx.dialect.subStatus()));
    last = new Map(rows.map((r) => [r.name, r]));
    const now = Date.now();
    for (const x of expected) {
      if (last.get(x.name)?.status === 'replicating') {
        if (!since.has(x.name)) since.set(x.name, now);
      } else since.delete(x.name);
    }
    const allReplicating = expected.every((x) => since.has(x.name));
    if (allReplicating && !tablesChecked) {
      // A structure sync has finished by now: register the tables it created.
      await ctx.afterSync();
      tablesChecked = true;
    }
    if (allReplicating && expected.every((x) => now - since.get(x.name)! >= ctx.stableMs)) {
      return expected.map((x) => ({ name: x.name, provider: x.peer.name, status: 'replicating' }));
    }
    const statusLine = expected.map((x) => `${x.name}=${last.get(x.name)?.status ?? 'missing'}`).join(' ');
    if (statusLine !== logged) {
      ctx.log.info('waiting for subscriptions to replicate', { status: statusLine });
      logged = statusLine;
    }
    const left = ctx.session.remaining();
    if (left <= 0) {
      const stuck = expected.filter((x) => !since.has(x.name) || now - since.get(x.name)! < ctx.stableMs);
      const names = stuck.map((x) => x.peer.name);
      throw new BootstrapError(
        `deadline of ${ctx.deadlineSeconds} s reached: subscription(s) from peer(s) ${names.join(', ')} not replicating (${stuck
          .map((x) => `${x.name}: ${last.get(x.name)?.status ?? 'missing'}`)
          .join('; ')}); check that the peers are up and reachable from this node's postgres server, and their logs`,
        names,
      );
    }
    await sleepTimer(Math.min(ctx.pollMs, left));
  }
}
