/**
 * The chat backend's front door: one HTTP server on settings.host:port with
 *   GET /healthz   200 "ok" while the process runs
 *   GET /readyz    opts.readiness() as JSON (200 or 503)
 *   GET /metrics   opts.metrics.render() (Prometheus text)
 *   GET /ws        the WebSocket upgrade (a plain GET gets 426)
 * anything else 404, methods other than GET/HEAD 405.
 *
 * Every connection passes, in order: the handshake deadline and Node's header limits
 * (http-guard.ts); at the upgrade, draining (503 + Retry-After, reason draining) and the
 * per-address cap (429 + Retry-After, reason address_cap; the slot is freed when the socket
 * closes); then `ws` completes the upgrade (maxPayload = settings.maxFrameBytes, no compression,
 * no client tracking) and opts.onSocket gets the socket with its client address
 * (client-address.ts: the peer, or X-Forwarded-For from a trusted proxy). Upgraded sockets are
 * pinged every heartbeatMs (default 30 s) and terminated when they missed the previous pong.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Logger } from '../log.js';
import { Admission } from './admission.js';
import { clientAddressResolver } from './client-address.js';
import { HandshakeGuard, applyServerLimits, httpServerOptions } from './http-guard.js';
import { ipMatcher } from './ip-list.js';
import type { ChatMetrics } from './metrics.js';
import type { ChatSettings } from './settings.js';

/** Ping period of upgraded sockets (ms); a socket that did not answer the previous ping is terminated. */
export const HEARTBEAT_MS = 30_000;
/** Retry-After of a 429 (per-address cap), seconds. */
export const ADDRESS_CAP_RETRY_AFTER_SECONDS = 10;
/** Retry-After of a 503 while draining or unable to serve, seconds. */
export const DRAINING_RETRY_AFTER_SECONDS = 5;
/** How long close() waits for upgraded sockets to close before terminating them (ms, default). */
export const CLOSE_GRACE_MS = 5_000;
export const WS_PATH = '/ws';
/**
 * Connections still in their handshake per untrusted peer: max(maxConnectionsPerAddress, this).
 * Never below 64, so keep-alive HTTP clients (probes, scrapers) and reconnect bursts behind one
 * NAT are not refused at accept when the per-address cap is set low.
 */
export const MIN_PENDING_HANDSHAKES_PER_PEER = 64;

export type FrontSettings = Pick<
  ChatSettings,
  'host' | 'port' | 'maxFrameBytes' | 'handshakeTimeoutMs' | 'maxConnectionsPerAddress' | 'maxConnectionsPerUser' | 'trustedProxies'
>;

export interface FrontOptions {
  readonly settings: FrontSettings;
  readonly log: Logger;
  readonly metrics: Pick<ChatMetrics, 'connectionsRefused' | 'render' | 'contentType'>;
  /** The /readyz answer. */
  readiness(): { status: 200 | 503; body: object };
  /**
   * Truthy: refuse upgrades with 503 + Retry-After. The refusal is counted under the returned
   * reason: 'region_unavailable', or 'draining' (also for `true`).
   */
  draining(): boolean | 'draining' | 'region_unavailable';
  /** An admitted, upgraded socket and its client address. Must not throw (a throw terminates the socket). */
  onSocket(ws: WebSocket, peer: { address: string }): void;
  /** Ping period (ms, default HEARTBEAT_MS). */
  readonly heartbeatMs?: number;
}

export interface Front {
  /** Host for URLs (127.0.0.1 when listening on every interface). */
  readonly host: string;
  readonly port: number;
  /** `ws://<host>:<port>/ws` */
  readonly url: string;
  /** `http://<host>:<port>` */
  readonly httpUrl: string;
  /** The per-address and per-user caps (tryUser/releaseUser are the session layer's). */
  readonly admission: Admission;
  /**
   * Stops accepting (upgrades answer 503 from now on), destroys connections still in their
   * handshake, closes idle HTTP connections, and resolves when every connection is gone. The
   * caller closes upgraded sockets itself (1012); those still open after `graceMs` (default
   * CLOSE_GRACE_MS) are terminated. Idempotent.
   */
  close(graceMs?: number): Promise<void>;
}

const STATUS_TEXT: Readonly<Record<number, string>> = { 404: 'Not Found', 429: 'Too Many Requests', 503: 'Service Unavailable' };

/** Answers an upgrade request on its raw socket and closes it. */
function refuseUpgrade(socket: Duplex, status: number, body: string, retryAfterSeconds?: number): void {
  const retry = retryAfterSeconds !== undefined ? `Retry-After: ${retryAfterSeconds}\r\n` : '';
  const head = `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Error'}\r\nConnection: close\r\n${retry}Content-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`;
  if (!socket.writable) return void socket.destroy();
  socket.end(head + body, () => socket.destroy());
}

const pathOf = (url: string | undefined) => (url ?? '/').split('?')[0];
const urlHost = (host: string) => (host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host);

export async function startFront(opts: FrontOptions): Promise<Front> {
  const { settings, log, metrics } = opts;
  const admission = new Admission(settings);
  const resolveAddress = clientAddressResolver(settings.trustedProxies);
  const heartbeatMs = opts.heartbeatMs ?? HEARTBEAT_MS;
  let closing = false;

  const guard = new HandshakeGuard({
    timeoutMs: settings.handshakeTimeoutMs,
    maxPendingPerPeer: Math.max(settings.maxConnectionsPerAddress, MIN_PENDING_HANDSHAKES_PER_PEER),
    isTrustedPeer: ipMatcher(settings.trustedProxies),
    onRefused: (reason, peer) => {
      metrics.connectionsRefused.inc({ reason });
      log.debug('connection cut before its handshake completed', { reason, peer });
    },
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: settings.maxFrameBytes, perMessageDeflate: false, clientTracking: false });
  /** Upgraded sockets -> answered the last ping. */
  const sockets = new Map<WebSocket, { alive: boolean }>();

  const server = createServer(httpServerOptions(settings.handshakeTimeoutMs), (req: IncomingMessage, res: ServerResponse) => {
    void answer(req, res);
  });
  applyServerLimits(server, settings.handshakeTimeoutMs);
  guard.attach(server);

  async function answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const respond = (status: number, body: string, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', ...headers });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    const json = (status: number, body: object) => respond(status, `${JSON.stringify(body)}\n`, { 'content-type': 'application/json' });
    const path = pathOf(req.url);
    try {
      if (req.method !== 'GET' && req.method !== 'HEAD') return respond(405, 'method not allowed\n', { allow: 'GET, HEAD' });
      if (path === '/healthz') return respond(200, 'ok\n');
      if (path === '/readyz') {
        const r = opts.readiness();
        return json(r.status, r.body);
      }
      if (path === '/metrics') return respond(200, await metrics.render(), { 'content-type': metrics.contentType });
      if (path === WS_PATH) return respond(426, 'this path speaks WebSocket only\n', { upgrade: 'websocket', connection: 'Upgrade' });
      return respond(404, 'not found\n');
    } catch (e) {
      log.error('http handler failed', { path, error: e });
      if (!res.headersSent) respond(500, 'internal error\n');
      else res.destroy();
    }
  }

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => undefined);
    if (pathOf(req.url) !== WS_PATH) return refuseUpgrade(socket, 404, 'not found\n');
    const drain = closing || opts.draining();
    if (drain) {
      metrics.connectionsRefused.inc({ reason: drain === 'region_unavailable' ? 'region_unavailable' : 'draining' });
      return refuseUpgrade(socket, 503, 'not accepting connections now; retry or use another region\n', DRAINING_RETRY_AFTER_SECONDS);
    }
    const address = resolveAddress(req.socket.remoteAddress, req.headers['x-forwarded-for']);
    const release = admission.admitAddress(address);
    if (!release) {
      metrics.connectionsRefused.inc({ reason: 'address_cap' });
      log.debug('upgrade refused: per-address cap', { address, cap: settings.maxConnectionsPerAddress });
      return refuseUpgrade(socket, 429, `too many connections from this address (at most ${settings.maxConnectionsPerAddress})\n`, ADDRESS_CAP_RETRY_AFTER_SECONDS);
    }
    socket.once('close', release);
    wss.handleUpgrade(req, socket, head, (ws) => {
      guard.upgraded(socket);
      const state = { alive: true };
      sockets.set(ws, state);
      ws.on('pong', () => (state.alive = true));
      // A protocol error (frame too big, bad UTF-8) must never crash the process for want of a
      // listener; onSocket adds its own to count them. ws closes the socket itself.
      ws.on('error', () => undefined);
      ws.once('close', () => sockets.delete(ws));
      try {
        opts.onSocket(ws, { address });
      } catch (e) {
        log.error('onSocket failed; terminating the socket', { error: e });
        ws.terminate();
      }
    });
  });

  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') return guard.timedOut(socket);
    if (!socket.writable || err.code === 'ECONNRESET') return void socket.destroy();
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request';
    socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`, () => socket.destroy());
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(settings.port, settings.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (e) => log.error('http server error', { error: e }));

  const heartbeat = setInterval(() => {
    for (const [ws, state] of sockets) {
      if (!state.alive) {
        ws.terminate();
        continue;
      }
      state.alive = false;
      try {
        ws.ping();
      } catch {
        /* closing already */
      }
    }
  }, heartbeatMs);
  heartbeat.unref();

  const port = (server.address() as AddressInfo).port;
  const host = urlHost(settings.host);
  let closed: Promise<void> | undefined;

  return {
    host,
    port,
    url: `ws://${host}:${port}${WS_PATH}`,
    httpUrl: `http://${host}:${port}`,
    admission,
    close(graceMs = CLOSE_GRACE_MS) {
      closed ??= (async () => {
        closing = true;
        clearInterval(heartbeat);
        const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
        guard.destroyAll();
        server.closeIdleConnections();
        const force = setTimeout(() => {
          for (const ws of sockets.keys()) ws.terminate();
          server.closeAllConnections();
        }, graceMs);
        force.unref();
        await serverClosed;
        clearTimeout(force);
        wss.close();
      })();
      return closed;
    },
  };
}
