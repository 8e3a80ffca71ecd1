/**
 * A chat client that survives its backend, the way the README's "Reconnecting" asks every client
 * to behave:
 *
 * - a lost connection (any close but 1000 by us and 1008 policy) or a failed connect is retried
 *   after a full-jitter exponential back-off (./backoff.ts), reset once a connection has been up
 *   for `stableMs`;
 * - a close with 4001 (region unavailable) moves to the NEXT URL of `urls` (another region's
 *   name) for the next attempt; so does a failed connect (refused, HTTP 503 while unready);
 *   other closes (1012 restart, 1006 network) retry the same URL first;
 * - each connection authenticates with the session token and re-joins every room with the newest
 *   message id it holds (`lastSeenMessageId`), also on `resync`; messages are de-duplicated by
 *   id, so the replay overlapping live delivery shows nothing twice.
 *
 *   const c = await ReconnectingChatClient.open({ urls: [regionA, regionB], token });
 *   await c.join(roomId);
 *   c.roomMessages(roomId)                       // every message once, in arrival order
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Backoff, type BackoffOptions } from './backoff.js';
import { ChatClient, type AnyFrame, type ConnectOptions, type MessageEvent } from './client.js';
import { CLOSE } from './protocol.js';

export interface ReconnectingClientOptions {
  /** Backend WebSocket URLs in order of preference (this region's first), or just the global name. */
  readonly urls: readonly string[];
  /** Session token from login.ok: every connection authenticates with it. */
  readonly token: string;
  readonly backoff?: Partial<BackoffOptions>;
  /** Random source in [0, 1) for the jitter (tests). */
  readonly random?: () => number;
  readonly connect?: ConnectOptions;
  /** The first connection must be up within this (default 30 s). */
  readonly openTimeoutMs?: number;
  /** Every connection, drop, retry and resume, as it happens. */
  readonly onEvent?: (e: ReconnectEvent) => void;
}

export type ReconnectEvent =
  | { readonly type: 'connected'; readonly at: number; readonly url: string; readonly region: string }
  | { readonly type: 'closed'; readonly at: number; readonly url: string; readonly code: number; readonly reason: string }
  | { readonly type: 'retry'; readonly at: number; readonly after: 'close' | 'connect_failed'; readonly nextUrl: string; readonly attempt: number; readonly delayMs: number; readonly ceilingMs: number; readonly error?: string }
  | { readonly type: 'resumed'; readonly at: number; readonly roomId: string; readonly lastSeenMessageId: string | undefined; readonly replayed: number }
  | { readonly type: 'gave_up'; readonly at: number; readonly reason: string };

interface RoomState {
  readonly ids: Set<string>;
  readonly messages: MessageEvent[];
  lastSeen: string | undefined;
}

/** Closes after which reconnecting would not help. */
const FATAL = new Set<number>([CLOSE.policy, CLOSE.tooBig]);

export class ReconnectingChatClient {
  /** Everything that happened to the connection, in order. */
  readonly events: ReconnectEvent[] = [];
  /** `message` frames dropped because their id had already been received. */
  duplicatesDropped = 0;
  private readonly rooms = new Map<string, RoomState>();
  private readonly backoff: Backoff;
  private current: ChatClient | undefined;
  private currentRegion: string | undefined;
  private urlIndex = 0;
  private stopped = false;
  private readonly abort = new AbortController();
  private loop: Promise<void> | undefined;
  private firstConnection: { resolve: () => void; reject: (e: Error) => void } | undefined;

  private constructor(private readonly opts: ReconnectingClientOptions) {
    if (opts.urls.length === 0) throw new Error('ReconnectingChatClient: urls is empty');
    this.backoff = new Backoff(opts.backoff, opts.random);
  }

  /** Connects (retrying with back-off across `urls`) and authenticates; resolves once the first connection is up. */
  static async open(opts: ReconnectingClientOptions): Promise<ReconnectingChatClient> {
    const c = new ReconnectingChatClient(opts);
    const first = new Promise<void>((resolve, reject) => (c.firstConnection = { resolve, reject }));
    c.loop = c.run();
    const timeoutMs = opts.openTimeoutMs ?? 30_000;
    const timer = setTimeout(() => c.firstConnection?.reject(new Error(`no connection to ${opts.urls.join(' or ')} within ${timeoutMs} ms`)), timeoutMs);
    try {
      await first;
    } catch (e) {
      await c.close();
      throw e;
    } finally {
      clearTimeout(timer);
    }
    return c;
  }

  /** The live connection, if any. */
  get client(): ChatClient | undefined {
    return this.current;
  }

  /** Region of the live connection (from its hello), if any. */
  get region(): string | undefined {
    return this.current ? this.currentRegion : undefined;
  }

  /** Joins `roomId` now and after every reconnect (with the newest id held). */
  async join(roomId: string): Promise<AnyFrame> {
    this.room(roomId);
    const c = this.current;
    if (!c) throw new Error('not connected (the room is joined on the next connection)');
    return this.joinOn(c, roomId);
  }

  /** Messages of `roomId`, each id once, in arrival order. */
  roomMessages(roomId: string): readonly MessageEvent[] {
    return this.rooms.get(roomId)?.messages ?? [];
  }

  /** The newest message id held for `roomId` (what a resume starts after). */
  lastSeen(roomId: string): string | undefined {
    return this.rooms.get(roomId)?.lastSeen;
  }

  /** Resolves when every id of `ids` has been received in `roomId`; rejects after `timeoutMs` naming the missing ones. */
  async waitForIds(roomId: string, ids: readonly string[], timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const have = this.rooms.get(roomId)?.ids;
      const missing = ids.filter((id) => !have?.has(id));
      if (missing.length === 0) return;
      if (Date.now() >= deadline) throw new Error(`${missing.length} of ${ids.length} messages not received in room ${roomId} within ${timeoutMs} ms (first missing ${missing[0]})`);
      await sleep(50);
    }
  }

  /** Stops reconnecting and closes the live connection (1000). */
  async close(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    await this.current?.close().catch(() => undefined);
    await this.loop?.catch(() => undefined);
  }

  private emit(e: ReconnectEvent): void {
    this.events.push(e);
    this.opts.onEvent?.(e);
  }

  private room(roomId: string): RoomState {
    let r = this.rooms.get(roomId);
    if (!r) this.rooms.set(roomId, (r = { ids: new Set(), messages: [], lastSeen: undefined }));
    return r;
  }

  private onFrame = (f: AnyFrame): void => {
    if (f.type === 'message') {
      const m = f as MessageEvent;
      const r = this.rooms.get(m.roomId);
      if (!r) return;
      if (r.ids.has(m.messageId)) {
        this.duplicatesDropped++;
        return;
      }
      r.ids.add(m.messageId);
      r.messages.push(m);
      // Message ids are UUIDv7: the string order is the time order.
      if (r.lastSeen === undefined || m.messageId > r.lastSeen) r.lastSeen = m.messageId;
    } else if (f.type === 'resync') {
      const c = this.current;
      for (const roomId of (f as { roomIds?: string[] }).roomIds ?? []) if (c && this.rooms.has(roomId)) void this.joinOn(c, roomId).catch(() => undefined);
    }
  };

  /** room.join with the newest id held; retried a few times while the room has not replicated here yet. */
  private async joinOn(c: ChatClient, roomId: string): Promise<AnyFrame> {
    const r = this.room(roomId);
    for (let i = 0; ; i++) {
      const lastSeenMessageId = r.lastSeen;
      const reply = await c.request({ type: 'room.join', roomId, ...(lastSeenMessageId ? { lastSeenMessageId } : {}) });
      if (reply.type === 'room.joined') {
        this.emit({ type: 'resumed', at: Date.now(), roomId, lastSeenMessageId, replayed: Number((reply as { replayed?: number }).replayed ?? 0) });
        return reply;
      }
      if (reply.type === 'error' && (reply as { code?: string }).code === 'not_found' && i < 20) {
        await sleep(250);
        continue;
      }
      throw new Error(`room.join ${roomId}: ${JSON.stringify(reply)}`);
    }
  }

  private async wait(after: 'close' | 'connect_failed', error?: string): Promise<void> {
    const { attempt, delayMs, ceilingMs } = this.backoff.next();
    this.emit({ type: 'retry', at: Date.now(), after, nextUrl: this.opts.urls[this.urlIndex]!, attempt, delayMs, ceilingMs, ...(error ? { error } : {}) });
    await sleep(delayMs, undefined, { signal: this.abort.signal }).catch(() => undefined);
  }

  private nextUrl(): void {
    this.urlIndex = (this.urlIndex + 1) % this.opts.urls.length;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      const url = this.opts.urls[this.urlIndex]!;
      let c: ChatClient | undefined;
      try {
        c = await ChatClient.connect(url, this.opts.connect);
        const hello = await c.welcome(this.opts.connect?.timeoutMs ?? 10_000);
        c.frameListeners.add(this.onFrame);
        await c.auth(this.opts.token);
        this.current = c;
        this.currentRegion = String((hello as { region?: unknown }).region ?? '');
        for (const roomId of this.rooms.keys()) await this.joinOn(c, roomId);
      } catch (e) {
        this.current = undefined;
        await c?.close().catch(() => undefined);
        if (this.stopped) break;
        // An unknown or expired session: only a new login helps.
        if (/^auth: expected auth\.ok, got .*"code":"auth_failed"/.test((e as Error).message)) {
          this.emit({ type: 'gave_up', at: Date.now(), reason: (e as Error).message });
          this.firstConnection?.reject(e as Error);
          return;
        }
        this.nextUrl();
        await this.wait('connect_failed', (e as Error).message);
        continue;
      }
      this.emit({ type: 'connected', at: Date.now(), url, region: this.currentRegion });
      this.firstConnection?.resolve();
      this.firstConnection = undefined;
      const stable = setTimeout(() => this.backoff.reset(), this.backoff.options.stableMs);
      const info = await c.closed;
      clearTimeout(stable);
      this.current = undefined;
      if (this.stopped) break;
      this.emit({ type: 'closed', at: Date.now(), url, code: info.code, reason: info.reason });
      if (FATAL.has(info.code)) {
        this.emit({ type: 'gave_up', at: Date.now(), reason: `closed with ${info.code} ${info.reason}` });
        return;
      }
      // The region said it cannot serve: the next attempt goes to another region.
      if (info.code === CLOSE.regionUnavailable) this.nextUrl();
      await this.wait('close');
    }
  }
}
