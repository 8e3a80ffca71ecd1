/**
 * One client socket's session state and its outbox: who it is (after auth), which rooms it has
 * joined (each with its resume gate), its flood guard, and the queue that runs its frames one at
 * a time, in order. Every frame to the client goes through `send*` here, which enforces the
 * slow-consumer bound.
 */
import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import type { ChatMetrics } from './metrics.js';
import { errorFrame, type ChatMessage, type ErrorCode, type Ref, type ServerFrame } from './protocol.js';
import { FloodGuard } from './ratelimit.js';
import type { ResumeGate } from './resume.js';
import { CLOSE } from './protocol.js';

/** A socket whose unsent bytes exceed this is closed (1013, slow consumer). */
export const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;

export interface ConnectionOptions {
  readonly id: number;
  readonly ws: WebSocket;
  /** The client's address (after trusted proxies), for the per-address cap and logs. */
  readonly address: string;
  readonly region: string;
  readonly metrics: ChatMetrics;
  readonly ratePerSecond: number;
  readonly rateBurst: number;
}

export class Connection {
  readonly id: number;
  readonly ws: WebSocket;
  readonly address: string;
  userId: string | undefined;
  /** Rooms this connection has joined, with their resume state. */
  readonly rooms = new Map<string, ResumeGate<ChatMessage>>();
  readonly guard: FloodGuard;
  /** The frame queue: each frame's handler starts after the previous one finished. */
  queue: Promise<void> = Promise.resolve();
  /** Frames accepted and not yet answered. */
  pending = 0;
  authFailures = 0;
  closed = false;
  authTimer: NodeJS.Timeout | undefined;
  private readonly metrics: ChatMetrics;
  private readonly region: string;
  private corked = false;

  constructor(o: ConnectionOptions) {
    this.id = o.id;
    this.ws = o.ws;
    this.address = o.address;
    this.metrics = o.metrics;
    this.region = o.region;
    this.guard = new FloodGuard({ ratePerSecond: o.ratePerSecond, burst: o.rateBurst });
  }

  /** Sends an already serialized frame (true when it was queued); closes the socket when the client cannot keep up. */
  sendRaw(data: string): boolean {
    if (this.closed || this.ws.readyState !== this.ws.OPEN) return false;
    if (this.ws.bufferedAmount > MAX_BUFFERED_BYTES) {
      this.close(CLOSE.tryAgainLater, 'slow consumer');
      return false;
    }
    this.coalesceWrites();
    this.ws.send(data);
    return true;
  }

  /**
   * Frames sent in the same turn of the event loop (live messages from every NATS read and
   * Cassandra reply handled in it, a replay, several acknowledgements) leave in one write: the
   * socket is corked until the loop's check phase (setImmediate), after the I/O callbacks of
   * that turn. A write syscall per frame was the largest CPU cost of fan-out; the wait is the
   * rest of the current turn (under a millisecond unless the process is saturated, when the
   * saving matters most). `ws` has no public accessor for its socket; without one, frames go one by one.
   */
  private coalesceWrites(): void {
    if (this.corked) return;
    const socket = (this.ws as unknown as { _socket?: Socket })._socket;
    if (!socket || typeof socket.cork !== 'function') return;
    this.corked = true;
    socket.cork();
    setImmediate(() => {
      this.corked = false;
      socket.uncork();
    });
  }

  send(frame: ServerFrame): void {
    this.sendRaw(JSON.stringify(frame));
  }

  /** A reply: the frame with the request's `ref` when it had one. */
  reply(ref: Ref | undefined, frame: ServerFrame): void {
    this.send(ref !== undefined ? ({ ...frame, ref } as ServerFrame) : frame);
  }

  error(code: ErrorCode, message: string, ref?: Ref): void {
    this.metrics.protocolErrors.inc({ code });
    this.send(errorFrame(code, message, ref));
  }

  /** A chat message (pre-serialized `frame`), counted and, when live, timed from its id's timestamp. */
  deliver(m: ChatMessage, frame: string, kind: 'live' | 'replay', origin?: string): void {
    if (!this.sendRaw(frame)) return;
    if (kind === 'live') countLiveDeliveries(this.metrics, this.region, m, origin, 1);
    else this.metrics.messagesOut.inc({ kind });
  }

  close(code: number, reason: string): void {
    if (this.closed) return;
    try {
      this.ws.close(code, reason);
    } catch {
      this.ws.terminate();
    }
  }
}

/**
 * `count` live deliveries of `m` made now by this backend (in `region`): chat_messages_out_total
 * grows by `count`, and chat_delivery_latency_seconds gets ONE observation, the time from the
 * message id's timestamp to now (every local member that got it at this instant waited as long;
 * one observation per message and instant keeps the histogram's cost off the per-socket path).
 */
export function countLiveDeliveries(metrics: ChatMetrics, region: string, m: ChatMessage, origin: string | undefined, count: number): void {
  if (count <= 0) return;
  metrics.messagesOut.inc({ kind: 'live' }, count);
  const ms = Date.parse(m.createdAt);
  const latency = Number.isFinite(ms) ? Math.max(0, (Date.now() - ms) / 1000) : 0;
  metrics.deliveryLatency.observe(latency, { path: (origin ?? m.originRegion) === region ? 'same_region' : 'cross_region' });
}
