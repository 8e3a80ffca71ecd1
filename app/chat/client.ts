/**
 * A tiny chat client for tests, the benchmark and people poking at a backend:
 *
 *   const c = await ChatClient.connect('ws://127.0.0.1:8080/ws');
 *   await c.request({ type: 'login.request', username: 'ada' });      // reply matched by ref
 *   const ok = await c.request({ type: 'login.verify', username: 'ada', code });
 *   c.messages                                                          // every `message` received
 *   await c.waitForMessages(roomId, 10);
 *
 * `request` adds a fresh `ref` unless the frame has one and resolves with the reply carrying it
 * (an `error` frame included: callers check `type`). `ChatClient` itself never retries or
 * reconnects: `ReconnectingChatClient` (./reconnecting-client.ts, re-exported here) does, with
 * jittered exponential back-off (./backoff.ts), another region after a 4001, and an exact resume.
 */
import WebSocket from 'ws';
import type { ChatMessage, ServerFrame } from './protocol.js';

export type AnyFrame = ServerFrame | (Record<string, unknown> & { type: string });
export type MessageEvent = ChatMessage & { type: 'message' };

export interface ClosedInfo {
  readonly code: number;
  readonly reason: string;
}

export interface ConnectOptions {
  /** Connect timeout (default 10 s). */
  readonly timeoutMs?: number;
  /** Max size of an incoming frame (default 16 MiB). */
  readonly maxPayload?: number;
  /** Local address to connect from (e.g. 127.0.0.7: per-address limits see another client). */
  readonly localAddress?: string;
}

interface Waiter {
  readonly match: (f: AnyFrame) => boolean;
  readonly resolve: (f: AnyFrame) => void;
  readonly reject: (e: Error) => void;
  readonly timer: NodeJS.Timeout;
}

export class ChatClient {
  /** Every frame received, in order. */
  readonly frames: AnyFrame[] = [];
  /** Every `message` event received, in order. */
  readonly messages: MessageEvent[] = [];
  /** Resolves when the socket has closed. */
  readonly closed: Promise<ClosedInfo>;
  /** The `hello` frame (region, limits). */
  hello: AnyFrame | undefined;
  /** Called with every frame received, after it is recorded (ReconnectingChatClient listens here). */
  readonly frameListeners = new Set<(f: AnyFrame) => void>();
  private waiters: Waiter[] = [];
  private nextRef = 1;
  private closedInfo: ClosedInfo | undefined;

  private constructor(readonly ws: WebSocket) {
    this.closed = new Promise((resolve) => {
      ws.on('close', (code, reason) => {
        this.closedInfo = { code, reason: reason.toString('utf8') };
        for (const w of this.waiters.splice(0)) {
          clearTimeout(w.timer);
          w.reject(new Error(`connection closed (${code} ${this.closedInfo.reason})`));
        }
        resolve(this.closedInfo);
      });
    });
    ws.on('error', () => undefined);
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      let f: AnyFrame;
      try {
        f = JSON.parse(data.toString()) as AnyFrame;
      } catch {
        return;
      }
      this.frames.push(f);
      if (f.type === 'message') this.messages.push(f as MessageEvent);
      if (f.type === 'hello') this.hello = f;
      for (const l of this.frameListeners) l(f);
      for (const w of [...this.waiters]) {
        if (w.match(f)) {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          clearTimeout(w.timer);
          w.resolve(f);
        }
      }
    });
  }

  static connect(url: string, opts: ConnectOptions = {}): Promise<ChatClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, {
        maxPayload: opts.maxPayload ?? 16 * 1024 * 1024,
        handshakeTimeout: opts.timeoutMs ?? 10_000,
        ...(opts.localAddress ? { localAddress: opts.localAddress } : {}),
      });
      const client = new ChatClient(ws);
      const onError = (e: Error) => reject(e);
      ws.once('error', onError);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`WebSocket upgrade refused: HTTP ${res.statusCode}`)));
      ws.once('open', () => {
        ws.off('error', onError);
        resolve(client);
      });
    });
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  get closeInfo(): ClosedInfo | undefined {
    return this.closedInfo;
  }

  /** Sends a frame as JSON (no ref added). */
  send(frame: Record<string, unknown>): void {
    this.ws.send(JSON.stringify(frame));
  }

  /** Sends raw data: text, or a binary frame with `{ binary: true }`. */
  sendRaw(data: string | Buffer, opts: { binary?: boolean } = {}): void {
    this.ws.send(data, { binary: opts.binary ?? typeof data !== 'string' });
  }

  /** The first frame (received from now on) matching `match`. */
  waitFor(match: (f: AnyFrame) => boolean, timeoutMs = 10_000, what = 'frame'): Promise<AnyFrame> {
    if (this.closedInfo) return Promise.reject(new Error(`connection closed (${this.closedInfo.code})`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.timer !== timer);
        reject(new Error(`no ${what} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.push({ match, resolve, reject, timer });
    });
  }

  /** Sends `frame` with a ref and resolves with the reply that echoes it. */
  request(frame: Record<string, unknown> & { type: string }, timeoutMs = 10_000): Promise<AnyFrame> {
    const ref = (frame['ref'] as string | number | undefined) ?? `r${this.nextRef++}`;
    const reply = this.waitFor((f) => (f as { ref?: unknown }).ref === ref, timeoutMs, `reply to ${frame.type} (ref ${String(ref)})`);
    this.send({ ...frame, ref });
    return reply;
  }

  /** Like `request`, but rejects unless the reply has type `expect`. */
  async expect<T extends AnyFrame = AnyFrame>(frame: Record<string, unknown> & { type: string }, expect: string, timeoutMs = 10_000): Promise<T> {
    const r = await this.request(frame, timeoutMs);
    if (r.type !== expect) throw new Error(`${frame.type}: expected ${expect}, got ${JSON.stringify(r)}`);
    return r as T;
  }

  /** Resolves with the server's `hello` frame (at once if it already came). */
  async welcome(timeoutMs = 10_000): Promise<AnyFrame> {
    return this.hello ?? this.waitFor((f) => f.type === 'hello', timeoutMs, 'hello');
  }

  /** Messages received so far for `roomId`. */
  roomMessages(roomId: string): MessageEvent[] {
    return this.messages.filter((m) => m.roomId === roomId);
  }

  /**
   * The message `messageId`, already received or arriving within `timeoutMs`. (A message can reach
   * another member before its sender's ack: look at what came in, then wait.)
   */
  async waitForMessage(messageId: string, timeoutMs = 10_000): Promise<MessageEvent> {
    const had = this.messages.find((m) => m.messageId === messageId);
    if (had) return had;
    return (await this.waitFor((f) => f.type === 'message' && (f as MessageEvent).messageId === messageId, timeoutMs, `message ${messageId}`)) as MessageEvent;
  }

  /** Resolves once at least `n` messages of `roomId` have been received (all of them, in order). */
  async waitForMessages(roomId: string, n: number, timeoutMs = 10_000): Promise<MessageEvent[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.roomMessages(roomId).length < n) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`only ${this.roomMessages(roomId).length} of ${n} messages for room ${roomId} within ${timeoutMs} ms`);
      await this.waitFor((f) => f.type === 'message' && (f as MessageEvent).roomId === roomId, left, `message for ${roomId}`).catch(() => undefined);
    }
    return this.roomMessages(roomId);
  }

  /**
   * login.request (+ `email` when given) + code + login.verify; `getCode` fetches the code (from
   * the mailbox, e.g. Mailpit's API, or a memory sender).
   */
  async login(username: string, getCode: (usernameNorm: string) => Promise<string>, email?: string): Promise<{ token: string; userId: string }> {
    const sent = await this.expect<AnyFrame & { username: string }>({ type: 'login.request', username, ...(email ? { email } : {}) }, 'login.code_sent');
    const code = await getCode(sent.username);
    const ok = await this.expect<AnyFrame & { token: string; userId: string }>({ type: 'login.verify', username, code }, 'login.ok');
    return { token: ok.token, userId: ok.userId };
  }

  /** Authenticates with a session token. */
  async auth(token: string): Promise<string> {
    const ok = await this.expect<AnyFrame & { userId: string }>({ type: 'auth', token }, 'auth.ok');
    return ok.userId;
  }

  /** Sends a message and resolves with its message id. */
  async sendMessage(roomId: string, body: string, clientMessageId: string): Promise<string> {
    const r = await this.expect<AnyFrame & { messageId: string }>({ type: 'message.send', roomId, clientMessageId, body }, 'message.sent');
    return r.messageId;
  }

  /** Closes the socket (default 1000) and waits for the close. */
  async close(code = 1000, reason = ''): Promise<ClosedInfo> {
    if (this.ws.readyState === WebSocket.CONNECTING || this.ws.readyState === WebSocket.OPEN) this.ws.close(code, reason);
    const t = setTimeout(() => this.ws.terminate(), 3_000);
    const info = await this.closed;
    clearTimeout(t);
    return info;
  }
}

export { ReconnectingChatClient, type ReconnectEvent, type ReconnectingClientOptions } from './reconnecting-client.js';
export { Backoff, BACKOFF_DEFAULTS, backoffCeiling, fullJitterDelay, type BackoffOptions } from './backoff.js';
