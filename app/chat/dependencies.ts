/**
 * The region's three dependencies, connected in the background with back-off so the process
 * answers /healthz at once: the local NATS cluster (and the room bus on it), the local Cassandra
 * DC (message store + writer) and the local Postgres primary (pool, migration, queries).
 * `probe(timeoutMs)` is one health round (./health.ts): the three checks run in parallel, each
 * bounded by `timeoutMs` (CHAT_HEALTH_TIMEOUT_SECONDS); slower counts as down:
 *   nats       connected AND a PING/PONG round trip to the server (flush): a hung server fails it;
 *   cassandra  a LOCAL_QUORUM read of the chat keyspace's `messages` table (one empty partition)
 *              in the local DC: what every history read needs, not just one node answering;
 *   postgres   `SELECT 1` through the pool on the local primary.
 */
import cassandra from 'cassandra-driver';
import { connect as natsConnect, Events, type NatsConnection } from 'nats';
import type { Pool } from 'pg';
import type { Logger } from '../log.js';
import { ChatDb } from './chat-db.js';
import type { DependencyStatus } from './health.js';
import { RoomBus, type BusEvent } from './fanout.js';
import { MessageStore, type StoredMessage } from './history.js';
import { MessageWriter } from './message-writer.js';
import type { ChatMetrics } from './metrics.js';
import { createPool, migrate } from './postgres.js';
import type { ChatSettings } from './settings.js';

export interface DependencyEvents {
  /** A live event of a room this backend subscribes to. */
  onBusEvent(roomId: string, ev: BusEvent): void;
  /** NATS came back after a disconnect: live messages may have been missed. */
  onNatsReconnect(): void;
}

/** Rejects with `<what>: timeout after <ms> ms` unless `p` settles first. */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${what}: timeout after ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

export class Dependencies {
  readonly pool: Pool;
  readonly db: ChatDb;
  nc: NatsConnection | undefined;
  bus: RoomBus | undefined;
  store: MessageStore | undefined;
  writer: MessageWriter | undefined;
  private natsConnected = false;
  private cass: cassandra.Client | undefined;
  private migrated: boolean;
  private closing = false;
  private readonly abort = new AbortController();
  private readonly connecting: Array<Promise<unknown>> = [];

  constructor(
    private readonly settings: ChatSettings,
    private readonly log: Logger,
    private readonly metrics: ChatMetrics,
    private readonly events: DependencyEvents,
  ) {
    this.pool = createPool(settings.postgres, (e) => log.warn('idle postgres client error', { error: e }));
    this.db = new ChatDb(this.pool, settings.region);
    this.migrated = !settings.migrate;
  }

  /** Starts the NATS and Cassandra connect loops (Postgres connects per query through the pool). */
  start(): void {
    this.connecting.push(this.connectNats(), this.connectCassandra());
  }

  /** True while NATS is connected (not reconnecting). */
  get natsUp(): boolean {
    return this.nc !== undefined && !this.nc.isClosed() && this.natsConnected;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(t);
        this.abort.signal.removeEventListener('abort', done);
        resolve();
      };
      const t = setTimeout(done, ms);
      this.abort.signal.addEventListener('abort', done, { once: true });
    });
  }

  private async connectNats(): Promise<void> {
    const s = this.settings;
    for (let delay = 500; !this.closing; delay = Math.min(delay * 2, 10_000)) {
      try {
        const conn = await natsConnect({
          servers: [...s.nats.servers],
          ...(s.nats.user !== undefined ? { user: s.nats.user, pass: s.nats.password } : {}),
          name: `regionmesh-chat-${s.region}`,
          // Our own publications are delivered locally by RoomBus (./fanout.ts), not sent back.
          noEcho: true,
          maxReconnectAttempts: -1,
          reconnectTimeWait: 1_000,
          pingInterval: 10_000,
          timeout: 5_000,
        });
        if (this.closing) return void (await conn.close());
        this.nc = conn;
        this.natsConnected = true;
        this.bus = new RoomBus(conn, s.region, (roomId, ev) => this.events.onBusEvent(roomId, ev), this.log.child({ component: 'bus' }), () =>
          this.metrics.protocolErrors.inc({ code: 'bad_bus_event' }),
        );
        this.log.info('nats connected', { server: conn.getServer() });
        void this.watchNats(conn);
        return;
      } catch (e) {
        this.log.warn('nats not reachable, retrying', { error: e, retryInMs: delay });
        await this.sleep(delay);
      }
    }
  }

  private async watchNats(conn: NatsConnection): Promise<void> {
    void conn.closed().then((err) => {
      this.natsConnected = false;
      if (err && !this.closing) this.log.error('nats connection closed', { error: err });
    });
    try {
      for await (const st of conn.status()) {
        if (st.type === Events.Disconnect) {
          this.natsConnected = false;
          this.log.warn('nats disconnected', { server: String(st.data) });
        } else if (st.type === Events.Reconnect) {
          this.natsConnected = true;
          this.log.info('nats reconnected', { server: String(st.data) });
          this.events.onNatsReconnect();
        }
      }
    } catch {
      /* the status iterator ends with the connection */
    }
  }

  private async connectCassandra(): Promise<void> {
    const s = this.settings.cassandra;
    for (let delay = 500; !this.closing; delay = Math.min(delay * 2, 10_000)) {
      const client = new cassandra.Client({
        contactPoints: [...s.contactPoints],
        localDataCenter: s.localDataCenter,
        keyspace: s.keyspace,
        ...(s.username !== undefined ? { credentials: { username: s.username, password: s.password ?? '' } } : {}),
        queryOptions: { consistency: cassandra.types.consistencies.localQuorum, prepare: true },
        socketOptions: { connectTimeout: 5_000, readTimeout: 10_000 },
        pooling: { heartBeatInterval: 10_000 },
        // A DC that comes back is noticed within seconds (the default grows to 10 minutes).
        policies: { reconnection: new cassandra.policies.reconnection.ExponentialReconnectionPolicy(500, 5_000, false) },
      });
      try {
        await client.connect();
        if (this.closing) return void (await client.shutdown().catch(() => undefined));
        this.cass = client;
        this.store = new MessageStore(client, s.keyspace);
        this.writer = new MessageWriter(this.store, {
          region: this.settings.region,
          publish: (messages: readonly StoredMessage[]) => this.publish(messages),
          metrics: this.metrics,
          minBatchIntervalMs: this.settings.writeMinIntervalMs,
        });
        this.log.info('cassandra connected', { localDataCenter: s.localDataCenter, keyspace: s.keyspace });
        return;
      } catch (e) {
        await client.shutdown().catch(() => undefined);
        this.log.warn('cassandra not reachable, retrying', { error: e, retryInMs: delay });
        await this.sleep(delay);
      }
    }
  }

  /** Durable messages go out live, in id order (core NATS: at most once; resume fills gaps). */
  private publish(messages: readonly StoredMessage[]): void {
    const bus = this.bus;
    if (!bus) return;
    const first = messages[0];
    if (first) bus.publishMessages(first.roomId, messages);
  }

  /** One health round: the three checks in parallel, each within `timeoutMs` (migrating Postgres first when due). */
  async probe(timeoutMs: number = this.settings.health.timeoutMs): Promise<DependencyStatus> {
    const ok = (p: Promise<unknown>): Promise<boolean> => p.then(
      () => true,
      () => false,
    );
    const [nats, cass, pg] = await Promise.all([ok(this.checkNats(timeoutMs)), ok(this.checkCassandra(timeoutMs)), ok(this.checkPostgres(timeoutMs))]);
    return { nats, cassandra: cass, postgres: pg };
  }

  private async checkNats(timeoutMs: number): Promise<void> {
    const nc = this.nc;
    if (!nc || !this.natsUp) throw new Error('nats not connected');
    await withTimeout(nc.flush(), timeoutMs, 'nats round trip');
  }

  private async checkCassandra(timeoutMs: number): Promise<void> {
    const store = this.store;
    if (!store) throw new Error('cassandra not connected');
    await withTimeout(store.ping(timeoutMs), timeoutMs, 'cassandra LOCAL_QUORUM read');
  }

  private async checkPostgres(timeoutMs: number): Promise<void> {
    if (!this.migrated) {
      try {
        await withTimeout(migrate(this.pool, { dialect: this.settings.pgDialect }), 30_000, 'postgres migrate');
        this.migrated = true;
        this.log.info('postgres schema migrated', { dialect: this.settings.pgDialect });
      } catch (e) {
        if (!this.closing) this.log.warn('postgres migrate failed, retrying', { error: e });
        throw e;
      }
    }
    await withTimeout(this.db.ping(), timeoutMs, 'postgres ping');
  }

  /** Flushes pending writes, drains NATS, shuts the drivers down; each bounded by `boundMs`. */
  async close(boundMs: number): Promise<void> {
    this.closing = true;
    this.abort.abort();
    if (this.writer) await this.writer.drain(boundMs).catch((e: unknown) => this.log.warn('message writer did not drain', { error: e }));
    const nc = this.nc;
    await Promise.allSettled([
      nc && !nc.isClosed()
        ? withTimeout(nc.drain(), boundMs, 'nats drain').catch(async (e: unknown) => {
            this.log.warn('nats drain did not finish; closing', { error: e });
            await nc.close().catch(() => undefined);
          })
        : Promise.resolve(),
      this.cass ? withTimeout(this.cass.shutdown(), boundMs, 'cassandra shutdown') : Promise.resolve(),
      withTimeout(this.pool.end(), boundMs, 'postgres pool end'),
      withTimeout(Promise.allSettled(this.connecting), boundMs, 'background connects'),
    ]);
  }
}
