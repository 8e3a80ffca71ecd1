/**
 * A lean chat WebSocket client for the load generator (./chat-load.ts): no frame history, no
 * per-send timer. Replies are matched by integer `ref`; `message` events go to `onMessage` with
 * their receive time. Each socket can come from its own loopback source address (`localAddress`,
 * any 127.x.y.z works on Linux) so the backend's per-address connection cap is not what limits
 * the benchmark.
 */
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';

export interface Frame {
  readonly type: string;
  readonly ref?: number | string;
  readonly code?: string;
  readonly message?: string;
  readonly [key: string]: unknown;
}

/** A reply (or an error) to one `send` with a ref; `at` = performance.timeOrigin-based ms. */
export type ReplyHandler = (reply: Frame, at: number) => void;

export interface LoadClientOptions {
  /** Source address of the TCP connection (default: the OS picks). */
  readonly localAddress?: string;
  /** Connect + upgrade bound (default 10 s). */
  readonly timeoutMs?: number;
}

/** Milliseconds since the Unix epoch with sub-millisecond resolution (one clock for the whole machine). */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

export class LoadClient {
  /** `message` events: the parsed frame and its receive time (nowMs()). */
  onMessage: (frame: Frame, at: number) => void = () => undefined;
  /** Error frames without a ref (unmatched), by code. */
  readonly unmatchedErrors = new Map<string, number>();
  /** Set when the socket closed. */
  closeInfo: { code: number; reason: string } | undefined;
  /** The server's `hello` frame, once it came (it names the region). */
  hello: Frame | undefined;
  private readonly pending = new Map<number, ReplyHandler>();
  private nextRef = 1;

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      const at = nowMs();
      if (isBinary) return;
      let f: Frame;
      try {
        f = JSON.parse(data.toString()) as Frame;
      } catch {
        return;
      }
      if (f.type === 'message') {
        this.onMessage(f, at);
        return;
      }
      if (f.type === 'hello') {
        this.hello = f;
        return;
      }
      if (typeof f.ref === 'number') {
        const h = this.pending.get(f.ref);
        if (h) {
          this.pending.delete(f.ref);
          h(f, at);
          return;
        }
      }
      if (f.type === 'error') this.unmatchedErrors.set(String(f.code), (this.unmatchedErrors.get(String(f.code)) ?? 0) + 1);
    });
    ws.on('close', (code, reason) => {
      this.closeInfo = { code, reason: reason.toString('utf8') };
      const closed: Frame = { type: 'error', code: 'closed', message: `socket closed (${code} ${this.closeInfo.reason})` };
      for (const [, h] of this.pending) h(closed, nowMs());
      this.pending.clear();
    });
    ws.on('error', () => undefined);
  }

  static connect(url: string, opts: LoadClientOptions = {}): Promise<LoadClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, {
        handshakeTimeout: opts.timeoutMs ?? 10_000,
        maxPayload: 16 * 1024 * 1024,
        perMessageDeflate: false,
        ...(opts.localAddress ? { localAddress: opts.localAddress } : {}),
      });
      const client = new LoadClient(ws);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`WebSocket upgrade to ${url} refused: HTTP ${res.statusCode}`)));
      ws.once('error', (e) => reject(new Error(`WebSocket ${url} from ${opts.localAddress ?? 'any address'}: ${e.message}`)));
      ws.once('open', () => resolve(client));
    });
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** Unanswered requests. */
  get inFlight(): number {
    return this.pending.size;
  }

  /** Sends `frame` with a fresh integer ref; `onReply` gets the reply (or a synthetic `closed` error). */
  send(frame: Record<string, unknown> & { type: string }, onReply: ReplyHandler): void {
    if (!this.isOpen) {
      onReply({ type: 'error', code: 'closed', message: 'socket not open' }, nowMs());
      return;
    }
    const ref = this.nextRef++;
    this.pending.set(ref, onReply);
    this.ws.send(JSON.stringify({ ...frame, ref }));
  }

  /** `send` as a promise, bounded by `timeoutMs` (default 15 s): resolves with the reply, errors included. */
  request(frame: Record<string, unknown> & { type: string }, timeoutMs = 15_000): Promise<Frame> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no reply to ${frame.type} within ${timeoutMs} ms`)), timeoutMs);
      this.send(frame, (reply) => {
        clearTimeout(timer);
        resolve(reply);
      });
    });
  }

  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    const done = new Promise<void>((r) => this.ws.once('close', () => r()));
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close(1000);
    const t = setTimeout(() => this.ws.terminate(), 3_000);
    await done;
    clearTimeout(t);
  }
}
