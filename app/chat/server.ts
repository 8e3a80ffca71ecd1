/**
 * One region's chat backend: HTTP (/healthz, /readyz, /metrics) and the WebSocket protocol
 * (/ws, see ./protocol.ts) on one port, talking only to the region's own NATS, Cassandra DC and
 * Postgres primary.
 *
 * Dependencies are connected in the background with retries: the process answers /healthz at
 * once, /readyz says which dependency is down, and frames that need a missing dependency get
 * `unavailable`. `startChatServer` resolves when listening; `ready()` when every dependency is up.
 *
 * Each connection processes its frames one at a time, in order (a `room.join` replay finishes
 * before the next frame of that connection runs); live deliveries arrive independently through
 * the room's NATS subscription.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import cassandra from 'cassandra-driver';
import { connect as natsConnect, Events, type NatsConnection } from 'nats';
import type { Pool } from 'pg';
import { v7 as uuidv7 } from 'uuid';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { createLogger, type Logger } from '../log.js';
import { LogCodeSender, MemoryCodeSender, type CodeSender } from './code-sender.js';
import { RoomBus, messageFrame, type BusEvent } from './fanout.js';
import { MessageStore, createdAtOf, type StoredMessage } from './history.js';
import { CONTENT_TYPE, chatMetrics, type ChatMetrics } from './metrics.js';
import { OTP_TTL_SECONDS, SESSION_TTL_SECONDS, issueCode, newSessionToken, tokenHash } from './otp.js';
import { ChatDb } from './chat-db.js';
import { createPool, migrate } from './postgres.js';
import {
  LIMITS,
  PROTOCOL_VERSION,
  UNAUTHENTICATED_TYPES,
  chatMessageOf,
  errorFrame,
  isUuidV7,
  normalizeUsername,
  parseClientFrame,
  type ChatMessage,
  type ClientFrame,
  type ErrorCode,
  type Ref,
  type ServerFrame,
} from './protocol.js';
import { Debouncer, FloodGuard } from './ratelimit.js';
import { ResumeGate } from './resume.js';
import { settingsSummary, type ChatSettings } from './settings.js';

/** Most messages one `room.join` replays; beyond that it answers `recovered: false` (use history). */
export const REPLAY_MAX = 1_000;
export const TYPING_DEBOUNCE_MS = 2_000;
export const AUTH_TIMEOUT_MS = 120_000;
export const HEARTBEAT_MS = 30_000;
export const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;
export const MAX_AUTH_FAILURES = 5;
const MEMBERSHIP_TTL_MS = 30_000;

export const CLOSE = {
  normal: 1000,
  policy: 1008,
  tooBig: 1009,
  serviceRestart: 1012,
  tryAgainLater: 1013,
} as const;

export interface ChatServerDeps {
  readonly log?: Logger;
  /** Overrides the sender chosen by `settings.codeSender`. */
  readonly codeSender?: CodeSender;
  /** Dependency health-check period (default 2000 ms). */
  readonly healthIntervalMs?: number;
  /** Test seams, read at call time (tests pause a resume between its steps). */
  readonly hooks?: ResumeHooks;
}

export interface ResumeHooks {
  /** After the room's live subscription is registered, before the replay read. */
  beforeReplay?: (roomId: string) => Promise<void>;
  /** After the replay read, before the buffer is flushed and the connection goes live. */
  afterReplay?: (roomId: string) => Promise<void>;
}

export interface DependencyStatus {
  readonly nats: boolean;
  readonly cassandra: boolean;
  readonly postgres: boolean;
}

export interface ChatServer {
  /** WebSocket URL, `ws://<host>:<port>/ws`. */
  readonly url: string;
  /** HTTP base URL, `http://<host>:<port>`. */
  readonly httpUrl: string;
  readonly port: number;
  readonly region: string;
  readonly codeSender: CodeSender;
  readonly metrics: ChatMetrics;
  status(): DependencyStatus;
  /** The live NATS connection, if any (debugging and tests). */
  natsConnection(): NatsConnection | undefined;
  /** Resolves when NATS, Cassandra and Postgres are all up (rejects after `timeoutMs`). */
  ready(timeoutMs?: number): Promise<void>;
  /** Graceful shutdown, bounded by settings.shutdownGraceSeconds. Idempotent. */
  close(): Promise<void>;
}

/** A refusal the client is told about. */
class Refusal extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}

const CASSANDRA_UNAVAILABLE = new Set([0x1000, 0x1001, 0x1002, 0x1100, 0x1200, 0x1300, 0x1400, 0x1500]);

/** Errors that mean a dependency is down or slow (answered `unavailable`), not a bug. */
export function isUnavailableError(e: unknown): boolean {
  if (!(e instanceof Error)) return false;
  if (e instanceof cassandra.errors.NoHostAvailableError || e instanceof cassandra.errors.OperationTimedOutError) return true;
  if (e instanceof cassandra.errors.ResponseError && CASSANDRA_UNAVAILABLE.has(e.code)) return true;
  const code = (e as { code?: unknown }).code;
  if (typeof code === 'string' && (/^08/.test(code) || /^57P0/.test(code) || /^53/.test(code))) return true;
  if (typeof code === 'string' && /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|CONNECTION_CLOSED|DISCONNECT|TIMEOUT)$/.test(code)) return true;
  return /timeout|terminated|connection (closed|ended)|not queryable|ECONNREFUSED/i.test(e.message);
}

class Connection {
  userId: string | undefined;
  /** Rooms this connection has joined, with their resume state. */
  readonly rooms = new Map<string, ResumeGate<ChatMessage>>();
  readonly guard: FloodGuard;
  queue: Promise<void> = Promise.resolve();
  pending = 0;
  alive = true;
  authFailures = 0;
  closed = false;
  authTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly id: number,
    readonly ws: WebSocket,
    settings: ChatSettings,
  ) {
    this.guard = new FloodGuard({ ratePerSecond: settings.ratePerSecond, burst: settings.rateBurst });
  }
}

export async function startChatServer(settings: ChatSettings, deps: ChatServerDeps = {}): Promise<ChatServer> {
  const log = (deps.log ?? createLogger({ component: 'chat' })).child({ region: settings.region });
  const metrics = chatMetrics();
  const codeSender: CodeSender =
    deps.codeSender ?? (settings.codeSender === 'memory' ? new MemoryCodeSender() : new LogCodeSender(log.child({ component: 'code-sender' }), settings.devPrintCodes));
  const healthIntervalMs = deps.healthIntervalMs ?? 2_000;

  // ------------------------------------------------------------------------------------------
  // Dependencies

  const pool: Pool = createPool(settings.postgres, (e) => log.warn('idle postgres client error', { error: e }));
  const db = new ChatDb(pool, settings.region);
  let migrated = !settings.migrate;
  let nc: NatsConnection | undefined;
  let natsConnected = false;
  let bus: RoomBus | undefined;
  let cass: cassandra.Client | undefined;
  let store: MessageStore | undefined;
  const up = { nats: false, cassandra: false, postgres: false };
  let closing = false;
  const background: Array<Promise<unknown>> = [];
  const abort = new AbortController();
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(t);
        abort.signal.removeEventListener('abort', done);
        resolve();
      };
      const t = setTimeout(done, ms);
      abort.signal.addEventListener('abort', done, { once: true });
    });

  const connections = new Set<Connection>();
  const roomConns = new Map<string, Set<Connection>>();
  const membership = new Map<string, number>();
  const typing = new Debouncer(TYPING_DEBOUNCE_MS);
  let nextConnId = 1;
  let inflight = 0;

  const onBusEvent = (roomId: string, ev: BusEvent) => {
    const conns = roomConns.get(roomId);
    if (!conns) return;
    for (const c of conns) {
      if (ev.kind === 'typing') {
        if (c.userId !== ev.event.userId) sendRaw(c, ev.frame);
        continue;
      }
      const gate = c.rooms.get(roomId);
      if (!gate) continue;
      const verdict = gate.offer(ev.message);
      if (verdict === 'send') deliver(c, ev.message, ev.frame, 'live', ev.origin);
      else if (verdict === 'overflow') closeConn(c, CLOSE.tryAgainLater, 'resume buffer overflow');
    }
  };

  const connectNats = async () => {
    let delay = 500;
    while (!closing) {
      try {
        const conn = await natsConnect({
          servers: [...settings.nats.servers],
          ...(settings.nats.user !== undefined ? { user: settings.nats.user, pass: settings.nats.password } : {}),
          name: `regionmesh-chat-${settings.region}`,
          maxReconnectAttempts: -1,
          reconnectTimeWait: 1_000,
          pingInterval: 10_000,
          timeout: 5_000,
        });
        if (closing) {
          await conn.close();
          return;
        }
        nc = conn;
        natsConnected = true;
        bus = new RoomBus(conn, settings.region, onBusEvent, log.child({ component: 'bus' }), () => metrics.protocolErrors.inc({ code: 'bad_bus_event' }));
        log.info('nats connected', { server: conn.getServer() });
        void (async () => {
          for await (const s of conn.status()) {
            if (s.type === Events.Disconnect) {
              natsConnected = false;
              log.warn('nats disconnected', { server: String(s.data) });
            } else if (s.type === Events.Reconnect) {
              natsConnected = true;
              log.info('nats reconnected', { server: String(s.data) });
              // Live messages published while we were away are lost (at-most-once): clients re-join with their cursor.
              for (const c of connections) {
                if (c.rooms.size > 0) send(c, { type: 'resync', roomIds: [...c.rooms.keys()], reason: 'messaging reconnected; re-join with lastSeenMessageId' });
              }
            }
          }
        })().catch(() => undefined);
        void conn.closed().then((err) => {
          natsConnected = false;
          if (err && !closing) log.error('nats connection closed', { error: err });
        });
        return;
      } catch (e) {
        log.warn('nats not reachable, retrying', { error: e, retryInMs: delay });
        await sleep(delay);
        delay = Math.min(delay * 2, 10_000);
      }
    }
  };

  const connectCassandra = async () => {
    let delay = 500;
    while (!closing) {
      const client = new cassandra.Client({
        contactPoints: [...settings.cassandra.contactPoints],
        localDataCenter: settings.cassandra.localDataCenter,
        keyspace: settings.cassandra.keyspace,
        ...(settings.cassandra.username !== undefined
          ? { credentials: { username: settings.cassandra.username, password: settings.cassandra.password ?? '' } }
          : {}),
        queryOptions: { consistency: cassandra.types.consistencies.localQuorum, prepare: true },
        socketOptions: { connectTimeout: 5_000, readTimeout: 10_000 },
        pooling: { heartBeatInterval: 10_000 },
      });
      try {
        await client.connect();
        if (closing) {
          await client.shutdown().catch(() => undefined);
          return;
        }
        cass = client;
        store = new MessageStore(client, settings.cassandra.keyspace);
        log.info('cassandra connected', { localDataCenter: settings.cassandra.localDataCenter, keyspace: settings.cassandra.keyspace });
        return;
      } catch (e) {
        await client.shutdown().catch(() => undefined);
        log.warn('cassandra not reachable, retrying', { error: e, retryInMs: delay });
        await sleep(delay);
        delay = Math.min(delay * 2, 10_000);
      }
    }
  };

  const withTimeout = <T>(p: Promise<T>, ms: number, what: string): Promise<T> =>
    new Promise<T>((resolve, reject) => {
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

  const readyWaiters: Array<() => void> = [];
  const checkHealth = async () => {
    const natsOk = nc !== undefined && !nc.isClosed() && natsConnected;
    let cassOk = false;
    if (store) {
      try {
        await withTimeout(store.ping(2_000), 3_000, 'cassandra ping');
        cassOk = true;
      } catch {
        cassOk = false;
      }
    }
    let pgOk = false;
    try {
      if (!migrated) {
        await withTimeout(migrate(pool, { dialect: settings.pgDialect }), 30_000, 'postgres migrate');
        migrated = true;
        log.info('postgres schema migrated', { dialect: settings.pgDialect });
      }
      await withTimeout(db.ping(), 3_000, 'postgres ping');
      pgOk = true;
    } catch (e) {
      if (!migrated && !closing) log.warn('postgres migrate failed, retrying', { error: e });
      pgOk = false;
    }
    for (const [name, ok] of [
      ['nats', natsOk],
      ['cassandra', cassOk],
      ['postgres', pgOk],
    ] as const) {
      if (up[name] !== ok && !closing) (ok ? log.info : log.warn)(`${name} ${ok ? 'up' : 'down'}`, { dependency: name });
      up[name] = ok;
    }
    metrics.natsUp.set(natsOk ? 1 : 0);
    metrics.cassandraUp.set(cassOk ? 1 : 0);
    metrics.postgresUp.set(pgOk ? 1 : 0);
    if (natsOk && cassOk && pgOk) readyWaiters.splice(0).forEach((w) => w());
  };

  let healthRunning: Promise<void> | undefined;
  const runHealth = () => {
    if (closing || healthRunning) return;
    healthRunning = checkHealth()
      .catch((e: unknown) => log.error('health check failed', { error: e }))
      .finally(() => {
        healthRunning = undefined;
      });
  };

  // ------------------------------------------------------------------------------------------
  // Sending

  function sendRaw(c: Connection, data: string): void {
    if (c.closed || c.ws.readyState !== c.ws.OPEN) return;
    if (c.ws.bufferedAmount > MAX_BUFFERED_BYTES) {
      closeConn(c, CLOSE.tryAgainLater, 'slow consumer');
      return;
    }
    c.ws.send(data);
  }

  function send(c: Connection, frame: ServerFrame): void {
    sendRaw(c, JSON.stringify(frame));
  }

  function reply(c: Connection, ref: Ref | undefined, frame: ServerFrame): void {
    send(c, ref !== undefined ? ({ ...frame, ref } as ServerFrame) : frame);
  }

  function sendError(c: Connection, code: ErrorCode, message: string, ref?: Ref): void {
    metrics.protocolErrors.inc({ code });
    send(c, errorFrame(code, message, ref));
  }

  function deliver(c: Connection, m: ChatMessage, frame: string, kind: 'live' | 'replay', origin?: string): void {
    if (c.closed) return;
    sendRaw(c, frame);
    metrics.messagesOut.inc({ kind });
    if (kind === 'live') {
      const ms = Date.parse(m.createdAt);
      const latency = Number.isFinite(ms) ? Math.max(0, (Date.now() - ms) / 1000) : 0;
      metrics.deliveryLatency.observe(latency, { path: (origin ?? m.originRegion) === settings.region ? 'same_region' : 'cross_region' });
    }
  }

  function closeConn(c: Connection, code: number, reason: string): void {
    if (c.closed) return;
    try {
      c.ws.close(code, reason);
    } catch {
      c.ws.terminate();
    }
  }

  // ------------------------------------------------------------------------------------------
  // Rooms

  function attach(c: Connection, roomId: string, gate: ResumeGate<ChatMessage>): void {
    if (!bus) throw new Refusal('unavailable', 'messaging is not connected; retry');
    const existed = c.rooms.has(roomId);
    c.rooms.set(roomId, gate);
    if (existed) return;
    let set = roomConns.get(roomId);
    if (!set) {
      set = new Set();
      roomConns.set(roomId, set);
    }
    set.add(c);
    bus.retain(roomId);
    metrics.roomSubscriptions.set(bus.subscriptionCount);
  }

  function detach(c: Connection, roomId: string): void {
    if (!c.rooms.delete(roomId)) return;
    const set = roomConns.get(roomId);
    set?.delete(c);
    if (set && set.size === 0) roomConns.delete(roomId);
    bus?.release(roomId);
    if (bus) metrics.roomSubscriptions.set(bus.subscriptionCount);
  }

  const memberKey = (roomId: string, userId: string) => `${roomId}:${userId}`;
  function rememberMember(roomId: string, userId: string): void {
    if (membership.size > 100_000) membership.clear();
    membership.set(memberKey(roomId, userId), Date.now() + MEMBERSHIP_TTL_MS);
  }
  async function requireMember(roomId: string, userId: string): Promise<void> {
    const until = membership.get(memberKey(roomId, userId));
    if (until !== undefined && until > Date.now()) return;
    if (await db.isMember(roomId, userId)) {
      rememberMember(roomId, userId);
      return;
    }
    membership.delete(memberKey(roomId, userId));
    throw new Refusal('not_member', 'you are not a member of this room');
  }

  const needStore = (): MessageStore => {
    if (!store) throw new Refusal('unavailable', 'history store is not connected; retry');
    return store;
  };
  const needBus = (): RoomBus => {
    if (!bus || !natsConnected) throw new Refusal('unavailable', 'messaging is not connected; retry');
    return bus;
  };

  // ------------------------------------------------------------------------------------------
  // Frame handlers

  async function handle(c: Connection, f: ClientFrame): Promise<void> {
    const ref = f.ref;
    if (!UNAUTHENTICATED_TYPES.has(f.type) && c.userId === undefined) {
      throw new Refusal('unauthenticated', 'authenticate first (auth or login.verify)');
    }
    const userId = c.userId ?? '';
    switch (f.type) {
      case 'ping':
        reply(c, ref, { type: 'pong' });
        return;

      case 'login.request': {
        const norm = normalizeUsername(f.username);
        if (!norm) throw new Refusal('invalid_username', 'usernames are 3-32 characters: letters, digits, _ . - (starting with a letter or digit)');
        const display = f.username.normalize('NFC').trim();
        await db.findOrCreateUser(norm, display);
        const issued = await issueCode();
        if (!(await db.storeOtp(norm, issued, undefined))) throw new Refusal('too_many_codes', 'too many login codes requested for this user; wait a few minutes');
        await codeSender.send({ username: display, usernameNorm: norm, code: issued.code, expiresAt: issued.expiresAt });
        reply(c, ref, { type: 'login.code_sent', username: norm, expiresInSeconds: OTP_TTL_SECONDS });
        return;
      }

      case 'login.verify': {
        if (c.userId !== undefined) throw new Refusal('already_authenticated', 'this connection is already authenticated');
        const norm = normalizeUsername(f.username);
        const result = norm ? await db.verifyOtp(norm, f.code) : ({ ok: false, reason: 'no_code' } as const);
        if (!result.ok) {
          failedAuth(c);
          throw new Refusal('invalid_code', 'the code is wrong, expired or used up; request a new one');
        }
        const token = newSessionToken();
        const expiresAt = new Date(Date.now() + SESSION_TTL_SECONDS * 1000);
        await db.createSession(result.userId, tokenHash(token), expiresAt);
        authenticated(c, result.userId);
        log.info('login', { userId: result.userId, conn: c.id });
        reply(c, ref, { type: 'login.ok', token, userId: result.userId, expiresAt: expiresAt.toISOString() });
        return;
      }

      case 'auth': {
        if (c.userId !== undefined) throw new Refusal('already_authenticated', 'this connection is already authenticated');
        const uid = await db.sessionUser(tokenHash(f.token));
        if (!uid) {
          failedAuth(c);
          throw new Refusal('auth_failed', 'unknown or expired session');
        }
        authenticated(c, uid);
        reply(c, ref, { type: 'auth.ok', userId: uid });
        return;
      }

      case 'room.create': {
        const roomId = uuidv7();
        const name = f.name.trim();
        await db.createRoom(roomId, name, userId, 'public');
        rememberMember(roomId, userId);
        log.info('room created', { roomId, userId });
        reply(c, ref, { type: 'room.created', roomId, name, visibility: 'public' });
        return;
      }

      case 'room.join': {
        const cursor = f.lastSeenMessageId;
        if (cursor !== undefined && !isUuidV7(cursor)) throw new Refusal('bad_cursor', 'lastSeenMessageId must be a message id (UUIDv7)');
        const s = needStore();
        needBus();
        if (!(await db.joinPublicRoom(f.roomId, userId))) throw new Refusal('not_found', 'no such room');
        rememberMember(f.roomId, userId);
        // 1. live first (buffered), 2. replay, 3. flush the buffer without duplicates.
        const gate = new ResumeGate<ChatMessage>();
        attach(c, f.roomId, gate);
        let replayed: StoredMessage[] = [];
        let recovered = true;
        try {
          await bus!.flush();
          await deps.hooks?.beforeReplay?.(f.roomId);
          if (cursor !== undefined) {
            replayed = await s.after(f.roomId, cursor, REPLAY_MAX + 1);
            if (replayed.length > REPLAY_MAX) {
              replayed = [];
              recovered = false;
            }
          }
          await deps.hooks?.afterReplay?.(f.roomId);
        } catch (e) {
          detach(c, f.roomId);
          throw e;
        }
        if (c.rooms.get(f.roomId) !== gate) return; // left or re-joined meanwhile
        const toSend = gate.goLive(replayed.map(chatMessageOf));
        const replayIds = new Set(replayed.map((m) => m.messageId));
        for (const m of toSend) deliver(c, m, messageFrame(m), replayIds.has(m.messageId) ? 'replay' : 'live');
        reply(c, ref, { type: 'room.joined', roomId: f.roomId, replayed: replayed.length, recovered });
        return;
      }

      case 'room.leave': {
        detach(c, f.roomId);
        await db.leaveRoom(f.roomId, userId);
        membership.delete(memberKey(f.roomId, userId));
        reply(c, ref, { type: 'room.left', roomId: f.roomId });
        return;
      }

      case 'message.send': {
        const s = needStore();
        const b = needBus();
        await requireMember(f.roomId, userId);
        const messageId = uuidv7();
        const claim = await s.claimClientMessage(userId, f.clientMessageId, f.roomId, messageId);
        if (!claim.applied) {
          if (claim.roomId !== f.roomId) throw new Refusal('bad_frame', 'clientMessageId was already used for another room');
          // A retry. If the first attempt died between claim and insert, finish it now.
          if (!(await s.get(f.roomId, claim.messageId))) {
            const m: StoredMessage = {
              roomId: f.roomId,
              messageId: claim.messageId,
              authorId: userId,
              body: f.body,
              originRegion: settings.region,
              createdAt: createdAtOf(claim.messageId),
              clientMessageId: f.clientMessageId,
            };
            await s.insert(m);
            b.publishMessage(m);
          }
          reply(c, ref, { type: 'message.sent', roomId: f.roomId, clientMessageId: f.clientMessageId, messageId: claim.messageId, duplicate: true });
          return;
        }
        const m: StoredMessage = {
          roomId: f.roomId,
          messageId,
          authorId: userId,
          body: f.body,
          originRegion: settings.region,
          createdAt: createdAtOf(messageId),
          clientMessageId: f.clientMessageId,
        };
        await s.insert(m);
        metrics.messagesIn.inc();
        b.publishMessage(m);
        reply(c, ref, { type: 'message.sent', roomId: f.roomId, clientMessageId: f.clientMessageId, messageId, duplicate: false });
        return;
      }

      case 'typing': {
        const b = needBus();
        await requireMember(f.roomId, userId);
        if (typing.allow(`${userId}:${f.roomId}`)) b.publishTyping({ roomId: f.roomId, userId });
        if (ref !== undefined) reply(c, ref, { type: 'typing.ok', roomId: f.roomId });
        return;
      }

      case 'history': {
        if (f.before !== undefined && !isUuidV7(f.before)) throw new Refusal('bad_cursor', 'before must be a message id (UUIDv7)');
        const s = needStore();
        await requireMember(f.roomId, userId);
        const limit = f.limit ?? LIMITS.historyDefault;
        const page = await s.before(f.roomId, f.before, limit);
        const last = page[page.length - 1];
        reply(c, ref, {
          type: 'history.page',
          roomId: f.roomId,
          messages: page.map(chatMessageOf),
          ...(page.length === limit && last ? { nextBefore: last.messageId } : {}),
        });
        return;
      }
    }
  }

  function authenticated(c: Connection, userId: string): void {
    c.userId = userId;
    c.authFailures = 0;
    if (c.authTimer) clearTimeout(c.authTimer);
    c.authTimer = undefined;
  }

  function failedAuth(c: Connection): void {
    c.authFailures++;
    if (c.authFailures >= MAX_AUTH_FAILURES) {
      metrics.protocolErrors.inc({ code: 'auth_failures' });
      // Let the error frame go out first.
      setImmediate(() => closeConn(c, CLOSE.policy, 'too many failed authentication attempts'));
    }
  }

  function onFrame(c: Connection, data: RawData, isBinary: boolean): void {
    const verdict = c.guard.check();
    if (verdict === 'close') {
      metrics.protocolErrors.inc({ code: 'rate_limited' });
      closeConn(c, CLOSE.policy, 'rate limit exceeded');
      return;
    }
    if (verdict === 'limited') {
      sendError(c, 'rate_limited', 'too many frames; slow down');
      return;
    }
    if (isBinary) {
      sendError(c, 'binary_not_supported', 'only text frames carrying JSON are accepted');
      return;
    }
    const text = Buffer.isBuffer(data) ? data.toString('utf8') : Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data).toString('utf8');
    const parsed = parseClientFrame(text);
    if (!parsed.ok) {
      sendError(c, parsed.code, parsed.message, parsed.ref);
      return;
    }
    if (closing) {
      sendError(c, 'shutting_down', 'the server is restarting; reconnect', parsed.frame.ref);
      return;
    }
    if (c.pending >= settings.rateBurst) {
      sendError(c, 'rate_limited', 'too many requests in flight', parsed.frame.ref);
      return;
    }
    c.pending++;
    inflight++;
    const frame = parsed.frame;
    c.queue = c.queue
      .then(async () => {
        if (c.closed) return;
        try {
          await handle(c, frame);
        } catch (e) {
          if (e instanceof Refusal) sendError(c, e.code, e.message, frame.ref);
          else if (isUnavailableError(e)) {
            log.warn('dependency unavailable while handling a frame', { conn: c.id, frameType: frame.type, error: e });
            sendError(c, 'unavailable', 'a backing service did not answer; retry', frame.ref);
          } else {
            log.error('frame handler failed', { conn: c.id, frameType: frame.type, error: e });
            sendError(c, 'internal', 'internal error', frame.ref);
          }
        }
      })
      .finally(() => {
        c.pending--;
        inflight--;
      });
  }

  // ------------------------------------------------------------------------------------------
  // HTTP + WebSocket

  const wss = new WebSocketServer({ noServer: true, maxPayload: settings.maxFrameBytes, perMessageDeflate: false, clientTracking: false });

  wss.on('connection', (ws: WebSocket) => {
    const c = new Connection(nextConnId++, ws, settings);
    connections.add(c);
    metrics.connections.set(connections.size);
    c.authTimer = setTimeout(() => {
      if (c.userId === undefined) closeConn(c, CLOSE.policy, 'authentication timeout');
    }, AUTH_TIMEOUT_MS);
    c.authTimer.unref();
    ws.on('message', (data, isBinary) => {
      try {
        onFrame(c, data, isBinary);
      } catch (e) {
        log.error('frame dispatch failed', { conn: c.id, error: e });
      }
    });
    ws.on('pong', () => {
      c.alive = true;
    });
    ws.on('error', (e: Error & { code?: string }) => {
      const code: ErrorCode =
        e.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' ? 'frame_too_large' : e.code === 'WS_ERR_INVALID_UTF8' ? 'bad_utf8' : 'bad_frame';
      metrics.protocolErrors.inc({ code });
      log.debug('websocket protocol error', { conn: c.id, wsCode: e.code, error: e.message });
    });
    ws.on('close', () => {
      c.closed = true;
      if (c.authTimer) clearTimeout(c.authTimer);
      for (const roomId of [...c.rooms.keys()]) detach(c, roomId);
      connections.delete(c);
      metrics.connections.set(connections.size);
    });
    send(c, { type: 'hello', region: settings.region, protocol: PROTOCOL_VERSION, maxFrameBytes: settings.maxFrameBytes });
  });

  const httpServer: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0];
    const respond = (status: number, body: string, type = 'text/plain; charset=utf-8') => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return respond(405, 'method not allowed\n');
    if (path === '/healthz') return respond(200, 'ok\n');
    if (path === '/readyz') {
      const down = (['nats', 'cassandra', 'postgres'] as const).filter((d) => !up[d]);
      if (closing) return respond(503, `${JSON.stringify({ ready: false, shuttingDown: true, down })}\n`, 'application/json');
      return respond(down.length === 0 ? 200 : 503, `${JSON.stringify({ ready: down.length === 0, region: settings.region, ...up, down })}\n`, 'application/json');
    }
    if (path === '/metrics') return respond(200, metrics.registry.render(), CONTENT_TYPE);
    return respond(404, 'not found\n');
  });

  httpServer.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => undefined);
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/ws') {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    if (closing) {
      socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });
  httpServer.on('clientError', (_e, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
  });

  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(settings.port, settings.host, () => {
      httpServer.off('error', reject);
      resolve();
    });
  });
  httpServer.on('error', (e) => log.error('http server error', { error: e }));
  const port = (httpServer.address() as AddressInfo).port;
  const host = settings.host === '0.0.0.0' || settings.host === '::' ? '127.0.0.1' : settings.host;
  log.info('chat backend listening', { ...settingsSummary(settings), port });

  background.push(connectNats(), connectCassandra());
  runHealth();
  const healthTimer = setInterval(runHealth, healthIntervalMs);
  healthTimer.unref();
  const cleanupTimer = setInterval(() => {
    if (up.postgres) db.cleanupOtps().catch((e: unknown) => log.warn('otp cleanup failed', { error: e }));
  }, 60_000);
  cleanupTimer.unref();
  const heartbeat = setInterval(() => {
    for (const c of connections) {
      if (!c.alive) {
        c.ws.terminate();
        continue;
      }
      c.alive = false;
      try {
        c.ws.ping();
      } catch {
        /* closing */
      }
    }
  }, HEARTBEAT_MS);
  heartbeat.unref();

  // ------------------------------------------------------------------------------------------
  // Shutdown

  let closePromise: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closePromise ??= (async () => {
      const started = Date.now();
      const deadline = started + Math.max(1_000, settings.shutdownGraceSeconds * 1000 - 500);
      const left = () => Math.max(1, deadline - Date.now());
      closing = true;
      abort.abort();
      clearInterval(healthTimer);
      clearInterval(cleanupTimer);
      clearInterval(heartbeat);
      log.info('shutting down', { connections: connections.size, graceSeconds: settings.shutdownGraceSeconds });
      const httpClosed = new Promise<void>((resolve) => httpServer.close(() => resolve()));
      httpServer.closeIdleConnections();
      // Tell every client to reconnect (elsewhere), then wait for the close handshakes.
      for (const c of connections) closeConn(c, CLOSE.serviceRestart, 'server restarting; reconnect');
      const socketsDeadline = Date.now() + Math.min(5_000, left() / 2);
      while (connections.size > 0 && Date.now() < socketsDeadline) await new Promise((r) => setTimeout(r, 20));
      for (const c of connections) c.ws.terminate();
      // In-flight frames finish (a send completes its store + publish) before the drivers stop.
      while (inflight > 0 && Date.now() < deadline - 2_000) await new Promise((r) => setTimeout(r, 20));
      if (healthRunning) await Promise.race([healthRunning, new Promise((r) => setTimeout(r, Math.min(3_000, left())))]);
      await Promise.allSettled([
        nc ? withTimeout(nc.isClosed() ? Promise.resolve() : nc.drain(), Math.min(5_000, left()), 'nats drain').catch(async (e: unknown) => {
          log.warn('nats drain did not finish; closing', { error: e });
          await nc?.close().catch(() => undefined);
        }) : Promise.resolve(),
        cass ? withTimeout(cass.shutdown(), Math.min(5_000, left()), 'cassandra shutdown') : Promise.resolve(),
        withTimeout(pool.end(), Math.min(5_000, left()), 'postgres pool end'),
        withTimeout(Promise.allSettled(background), Math.min(5_000, left()), 'background connects'),
      ]);
      httpServer.closeAllConnections();
      await withTimeout(httpClosed, left(), 'http close').catch(() => undefined);
      wss.close();
      log.info('shut down', { ms: Date.now() - started });
    })();
    return closePromise;
  };

  return {
    url: `ws://${host}:${port}/ws`,
    httpUrl: `http://${host}:${port}`,
    port,
    region: settings.region,
    codeSender,
    metrics,
    status: () => ({ ...up }),
    natsConnection: () => nc,
    ready(timeoutMs = 60_000) {
      if (up.nats && up.cassandra && up.postgres) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => {
          const down = (['nats', 'cassandra', 'postgres'] as const).filter((d) => !up[d]);
          reject(new Error(`chat backend ${settings.region} not ready within ${timeoutMs} ms: down: ${down.join(', ')}`));
        }, timeoutMs);
        readyWaiters.push(() => {
          clearTimeout(t);
          resolve();
        });
        runHealth();
      });
    },
    close,
  };
}
