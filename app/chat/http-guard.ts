/**
 * The handshake deadline: every raw TCP connection must finish its HTTP request and, for /ws, the
 * WebSocket upgrade within settings.handshakeTimeoutMs (default 10 s), or it is destroyed and
 * counted as chat_connections_refused_total{reason="handshake_timeout"}. A slow-loris client
 * that trickles its headers a byte at a time is cut at the deadline, however slowly it trickles.
 *
 * The clock starts when the connection is accepted and restarts after each HTTP response (a
 * keep-alive connection gets the same budget for its next request); a completed WebSocket
 * upgrade stops it for good (then the heartbeat and the authentication deadline apply).
 *
 * Also here: Node's own HTTP timeouts and size caps, all set explicitly (`httpServerOptions`,
 * `applyServerLimits`), as a second line behind the guard; and at most
 * maxPendingPerPeer connections still in their handshake per untrusted peer address (a client
 * opening thousands of raw connections is refused at accept, reason address_cap; the front
 * door sets it to max(maxConnectionsPerAddress, 64)). Peers that
 * are trusted proxies are exempt: every client behind them shares their address.
 */
import type { IncomingMessage, Server, ServerOptions, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { normalizeAddress, type AddressMatcher } from './client-address.js';

/** Largest request header block accepted, bytes (HTTP 431 beyond it). */
export const MAX_HEADER_BYTES = 16_384;
/** Most header lines per request (more are dropped by Node's parser). */
export const MAX_HEADERS_COUNT = 64;
/** Idle time of a keep-alive HTTP connection between requests, at most (ms). */
export const KEEP_ALIVE_MAX_MS = 5_000;
/** How often Node checks its own headers/request timeouts (ms; Node's default is 30 s). */
export const TIMEOUT_CHECK_INTERVAL_MS = 1_000;

export type GuardRefusal = 'handshake_timeout' | 'address_cap';

/** Keep-alive idle limit for a deadline: below the deadline, so idle sockets close before the guard cuts them. */
export function keepAliveTimeoutMs(handshakeTimeoutMs: number): number {
  return Math.max(1, Math.min(KEEP_ALIVE_MAX_MS, Math.floor(handshakeTimeoutMs / 2)));
}

/** createServer options: Node's header/request timeouts equal the deadline, sizes capped. */
export function httpServerOptions(handshakeTimeoutMs: number): ServerOptions {
  return {
    headersTimeout: handshakeTimeoutMs,
    requestTimeout: handshakeTimeoutMs,
    keepAliveTimeout: keepAliveTimeoutMs(handshakeTimeoutMs),
    connectionsCheckingInterval: TIMEOUT_CHECK_INTERVAL_MS,
    maxHeaderSize: MAX_HEADER_BYTES,
    requireHostHeader: true,
    noDelay: true,
    keepAlive: false,
    joinDuplicateHeaders: false,
    insecureHTTPParser: false,
  };
}

/** The limits that are properties of the server rather than createServer options. */
export function applyServerLimits(server: Server, handshakeTimeoutMs: number): void {
  server.headersTimeout = handshakeTimeoutMs;
  server.requestTimeout = handshakeTimeoutMs;
  server.keepAliveTimeout = keepAliveTimeoutMs(handshakeTimeoutMs);
  server.maxHeadersCount = MAX_HEADERS_COUNT;
  server.maxRequestsPerSocket = 0; // unlimited requests per keep-alive connection; each has the deadline
  server.timeout = 0; // no idle timeout from Node: the guard (handshake) and the heartbeat (WebSocket) own it
}

export interface HandshakeGuardOptions {
  /** The deadline, ms from accept (and from each HTTP response) to a completed request or upgrade. */
  readonly timeoutMs: number;
  /** Connections still in their handshake per untrusted peer address, at most. */
  readonly maxPendingPerPeer: number;
  /** Peers exempt from maxPendingPerPeer (trusted proxies). */
  readonly isTrustedPeer: AddressMatcher;
  /** Called once per connection the guard destroys, with why (for the refusal metric and logs). */
  readonly onRefused: (reason: GuardRefusal, peer: string) => void;
}

interface Pending {
  readonly peer: string;
  readonly counted: boolean;
  timer: NodeJS.Timeout;
  /** A request arrived and its response has not finished yet. */
  answering: boolean;
}

export class HandshakeGuard {
  private readonly pendingSockets = new Map<Duplex, Pending>();
  private readonly pendingPerPeer = new Map<string, number>();

  constructor(private readonly opts: HandshakeGuardOptions) {
    if (!(opts.timeoutMs > 0)) throw new Error(`HandshakeGuard: timeoutMs must be > 0 (got ${opts.timeoutMs})`);
  }

  /** Watches every connection of `server` from accept; restarts the clock after each HTTP response. */
  attach(server: Server): void {
    server.on('connection', (socket: Socket) => this.accepted(socket));
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      const p = this.pendingSockets.get(req.socket);
      if (p) p.answering = true;
      res.once('finish', () => this.restart(req.socket));
    });
  }

  /** Connections accepted and not yet upgraded (or between keep-alive requests). */
  get pending(): number {
    return this.pendingSockets.size;
  }

  /** The socket completed its WebSocket upgrade: no deadline any more. */
  upgraded(socket: Duplex): void {
    this.forget(socket);
  }

  /** Destroys `socket` now as a handshake timeout (Node's own headers/request timeout fired first). */
  timedOut(socket: Duplex): void {
    this.cut(socket, 'handshake_timeout');
  }

  /** Shutdown: destroys every connection still in its handshake, except those being answered (not counted as refusals). */
  destroyAll(): void {
    for (const [socket, p] of [...this.pendingSockets]) {
      if (p.answering) continue;
      this.forget(socket);
      socket.destroy();
    }
  }

  private accepted(socket: Socket): void {
    const peer = normalizeAddress(socket.remoteAddress ?? '') ?? 'unknown';
    const exempt = this.opts.isTrustedPeer(peer);
    if (!exempt && (this.pendingPerPeer.get(peer) ?? 0) >= this.opts.maxPendingPerPeer) {
      socket.destroy();
      this.opts.onRefused('address_cap', peer);
      return;
    }
    if (!exempt) this.pendingPerPeer.set(peer, (this.pendingPerPeer.get(peer) ?? 0) + 1);
    const timer = setTimeout(() => this.cut(socket, 'handshake_timeout'), this.opts.timeoutMs);
    timer.unref();
    this.pendingSockets.set(socket, { peer, counted: !exempt, timer, answering: false });
    socket.once('close', () => this.forget(socket));
  }

  private restart(socket: Duplex): void {
    const p = this.pendingSockets.get(socket);
    if (!p || socket.destroyed) return;
    p.answering = false;
    clearTimeout(p.timer);
    p.timer = setTimeout(() => this.cut(socket, 'handshake_timeout'), this.opts.timeoutMs);
    p.timer.unref();
  }

  /** No response: a client this slow is not reading one either. */
  private cut(socket: Duplex, reason: GuardRefusal): void {
    const p = this.pendingSockets.get(socket);
    if (!p) return; // upgraded, closed, or already cut
    this.forget(socket);
    socket.destroy();
    this.opts.onRefused(reason, p.peer);
  }

  private forget(socket: Duplex): void {
    const p = this.pendingSockets.get(socket);
    if (!p) return;
    clearTimeout(p.timer);
    this.pendingSockets.delete(socket);
    if (!p.counted) return;
    const n = (this.pendingPerPeer.get(p.peer) ?? 1) - 1;
    if (n <= 0) this.pendingPerPeer.delete(p.peer);
    else this.pendingPerPeer.set(p.peer, n);
  }
}
