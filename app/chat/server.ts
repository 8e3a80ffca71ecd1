/**
 * One region's chat backend: HTTP (/healthz, /readyz, /metrics) and the WebSocket protocol
 * (/ws, see ./protocol.ts) on one port, talking only to the region's own NATS, Cassandra DC and
 * Postgres primary. This module wires the parts together and owns start-up and shutdown:
 *
 *   http-server.ts   the front door: HTTP routes, upgrade, handshake deadline, per-address cap
 *   dependencies.ts  NATS / Cassandra / Postgres connections; health.ts: availability with hysteresis
 *   connection.ts    one socket's session state and outbox; dispatch.ts: frame -> handler
 *   *-handlers.ts    the protocol; rooms.ts: room membership of sockets and live routing
 *   message-writer.ts  the write path (durable at LOCAL_QUORUM, ordered, de-duplicated)
 *
 * Dependencies connect in the background: /healthz answers at once, /readyz says what is down,
 * upgrades are refused (503) while the region cannot serve, and when a dependency stays down for
 * CHAT_HEALTH_FAILURES_BEFORE_UNREADY health rounds in a row every client is closed with 4001
 * "reconnect to another region".
 */
import type { NatsConnection } from 'nats';
import type { WebSocket } from 'ws';
import { createLogger, type Logger } from '../log.js';
import { createCodeSender, type CodeSender } from './code-sender.js';
import { Connection } from './connection.js';
import { Dependencies } from './dependencies.js';
import { onFrame, type DispatchState } from './dispatch.js';
import { Refusal } from './errors.js';
import type { HandlerContext, ResumeHooks } from './handler-context.js';
import { HealthMonitor, type DependencyStatus } from './health.js';
import { startFront } from './http-server.js';
import { chatMetrics, type ChatMetrics } from './metrics.js';
import { CLOSE, PROTOCOL_VERSION, type ErrorCode } from './protocol.js';
import { Debouncer } from './ratelimit.js';
import { MembershipCache, RoomRegistry } from './rooms.js';
import { settingsSummary, type ChatSettings } from './settings.js';

export type { DependencyStatus } from './health.js';
export type { ResumeHooks } from './handler-context.js';

export const TYPING_DEBOUNCE_MS = 2_000;
export const MAX_AUTH_FAILURES = 5;

export interface ChatServerDeps {
  readonly log?: Logger;
  /** Overrides the sender chosen by `settings.codeSender`. */
  readonly codeSender?: CodeSender;
  /** Overrides settings.health.intervalMs (CHAT_HEALTH_INTERVAL_SECONDS; tests), ms. */
  readonly healthIntervalMs?: number;
  /** Test seams, read at call time (tests pause a resume between its steps). */
  readonly hooks?: ResumeHooks;
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

export async function startChatServer(settings: ChatSettings, opts: ChatServerDeps = {}): Promise<ChatServer> {
  const log = (opts.log ?? createLogger({ component: 'chat' })).child({ region: settings.region });
  const metrics = chatMetrics();
  const codeSender = opts.codeSender ?? createCodeSender(settings.codeSender, log.child({ component: 'code-sender' }));
  const connections = new Set<Connection>();
  const rooms = new RoomRegistry(metrics, settings.region);
  let closing = false;
  let nextConnId = 1;

  const deps = new Dependencies(settings, log, metrics, {
    onBusEvent: (roomId, ev) => rooms.route(roomId, ev),
    // Live messages published while NATS was away are lost (at-most-once): clients re-join with their cursor.
    onNatsReconnect: () => {
      for (const c of connections) {
        if (c.rooms.size > 0) c.send({ type: 'resync', roomIds: [...c.rooms.keys()], reason: 'messaging reconnected; re-join with lastSeenMessageId' });
      }
    },
  });
  const health = new HealthMonitor((timeoutMs) => deps.probe(timeoutMs), log, {
    ...settings.health,
    ...(opts.healthIntervalMs !== undefined ? { intervalMs: opts.healthIntervalMs } : {}),
    onStatus: (s) => {
      metrics.natsUp.set(s.nats ? 1 : 0);
      metrics.cassandraUp.set(s.cassandra ? 1 : 0);
      metrics.postgresUp.set(s.postgres ? 1 : 0);
    },
    // A deaf client is worse than a moved one: tell everyone to go to another region.
    onLost: (down) => {
      if (closing) return;
      metrics.regionUnavailableCloses.inc(undefined, connections.size);
      for (const c of connections) c.close(CLOSE.regionUnavailable, `region unavailable (${down.join(', ')} down); reconnect to another region`);
    },
  });

  const state: DispatchState = { closing: () => closing, inflight: 0 };
  let front: Awaited<ReturnType<typeof startFront>> | undefined;
  const ctx: HandlerContext = {
    settings,
    log,
    metrics,
    deps,
    rooms,
    membership: new MembershipCache(),
    codeSender,
    typing: new Debouncer(TYPING_DEBOUNCE_MS),
    get hooks() {
      return opts.hooks;
    },
    authenticate(c, userId) {
      if (front && !front.admission.tryUser(userId, `conn:${c.id}`)) {
        metrics.connectionsRefused.inc({ reason: 'user_cap' });
        throw new Refusal('rate_limited', `too many connections for this user (at most ${settings.maxConnectionsPerUser}); close another one`);
      }
      c.userId = userId;
      c.authFailures = 0;
      if (c.authTimer) clearTimeout(c.authTimer);
      c.authTimer = undefined;
    },
    failedAuth(c) {
      c.authFailures++;
      if (c.authFailures >= MAX_AUTH_FAILURES) {
        metrics.protocolErrors.inc({ code: 'auth_failures' });
        setImmediate(() => c.close(CLOSE.policy, 'too many failed authentication attempts')); // after the error frame
      }
    },
  };

  const onSocket = (ws: WebSocket, peer: { address: string }) => {
    const c = new Connection({ id: nextConnId++, ws, address: peer.address, region: settings.region, metrics, ratePerSecond: settings.ratePerSecond, rateBurst: settings.rateBurst });
    connections.add(c);
    metrics.connections.set(connections.size);
    c.authTimer = setTimeout(() => {
      if (c.userId !== undefined) return;
      metrics.connectionsRefused.inc({ reason: 'auth_timeout' });
      c.close(CLOSE.policy, 'authentication timeout');
    }, settings.authTimeoutMs);
    c.authTimer.unref();
    ws.on('message', (data, isBinary) => onFrame(ctx, state, c, data, isBinary));
    ws.on('error', (e: Error & { code?: string }) => {
      const code: ErrorCode = e.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' ? 'frame_too_large' : e.code === 'WS_ERR_INVALID_UTF8' ? 'bad_utf8' : 'bad_frame';
      metrics.protocolErrors.inc({ code });
      log.debug('websocket protocol error', { conn: c.id, wsCode: e.code, error: e.message });
    });
    ws.on('close', () => {
      c.closed = true;
      if (c.authTimer) clearTimeout(c.authTimer);
      rooms.detachAll(c, deps.bus);
      if (c.userId !== undefined) front?.admission.releaseUser(c.userId, `conn:${c.id}`);
      connections.delete(c);
      metrics.connections.set(connections.size);
    });
    c.send({ type: 'hello', region: settings.region, protocol: PROTOCOL_VERSION, maxFrameBytes: settings.maxFrameBytes });
  };

  front = await startFront({
    settings,
    log,
    metrics,
    readiness: () => {
      const body = { ready: health.available && !closing, region: settings.region, ...health.status, down: health.down, ...(closing ? { shuttingDown: true } : {}) };
      return { status: body.ready ? 200 : 503, body };
    },
    draining: () => (closing ? 'draining' : health.available ? false : 'region_unavailable'),
    onSocket,
  });
  log.info('chat backend listening', { ...settingsSummary(settings), port: front.port });

  deps.start();
  health.start();
  const cleanupTimer = setInterval(() => {
    if (health.status.postgres) deps.db.cleanupOtps().catch((e: unknown) => log.warn('otp cleanup failed', { error: e }));
  }, 60_000);
  cleanupTimer.unref();

  let closePromise: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closePromise ??= (async () => {
      const started = Date.now();
      const deadline = started + Math.max(1_000, settings.shutdownGraceSeconds * 1000 - 500);
      const left = () => Math.max(1, deadline - Date.now());
      closing = true;
      clearInterval(cleanupTimer);
      log.info('shutting down', { connections: connections.size, graceSeconds: settings.shutdownGraceSeconds });
      const frontClosed = front!.close();
      // Tell every client to reconnect (elsewhere), then wait for the close handshakes.
      for (const c of connections) c.close(CLOSE.serviceRestart, 'server restarting; reconnect');
      const socketsDeadline = Date.now() + Math.min(5_000, left() / 2);
      while (connections.size > 0 && Date.now() < socketsDeadline) await new Promise((r) => setTimeout(r, 20));
      for (const c of connections) c.ws.terminate();
      // In-flight frames finish (a send completes its write + publish) before the drivers stop.
      while (state.inflight > 0 && Date.now() < deadline - 2_000) await new Promise((r) => setTimeout(r, 20));
      await health.stop(Math.min(3_000, left()));
      await deps.close(Math.min(5_000, left()));
      await codeSender.close?.().catch((e: unknown) => log.warn('code sender did not close', { error: e }));
      await Promise.race([frontClosed, new Promise((r) => setTimeout(r, left()))]);
      log.info('shut down', { ms: Date.now() - started });
    })();
    return closePromise;
  };

  return {
    url: front.url,
    httpUrl: front.httpUrl,
    port: front.port,
    region: settings.region,
    codeSender,
    metrics,
    status: () => health.status,
    natsConnection: () => deps.nc,
    ready: (timeoutMs = 60_000) => health.ready(timeoutMs, settings.region),
    close,
  };
}
