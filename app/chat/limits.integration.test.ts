/**
 * The front door's limits with real sockets (no engines): the handshake deadline against
 * slow-loris upgrades, the per-address cap (distinct loopback source addresses), X-Forwarded-For
 * from trusted and untrusted peers, the per-connection flood guard, and /readyz + /metrics.
 * The authentication deadline and the per-user cap live in the session layer (server.ts).
 */
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { createLogger } from '../log.js';
import { MIN_PENDING_HANDSHAKES_PER_PEER, startFront, type Front, type FrontSettings } from './http-server.js';
import { chatMetrics, type ChatMetrics } from './metrics.js';
import { FloodGuard } from './ratelimit.js';
import { DEFAULTS } from './settings.js';

const BASE: FrontSettings = {
  host: '127.0.0.1',
  port: 0,
  maxFrameBytes: 16_384,
  handshakeTimeoutMs: 1_500,
  maxConnectionsPerAddress: 2,
  maxConnectionsPerUser: 8,
  trustedProxies: [],
};

interface Started {
  front: Front;
  metrics: ChatMetrics;
  /** Server side of every admitted socket, with the client address it was admitted as. */
  admitted: Array<{ ws: WebSocket; address: string }>;
}

let fronts: Front[] = [];
afterEach(async () => {
  await Promise.all(fronts.map((f) => f.close(200)));
  fronts = [];
});

/** A front door whose onSocket says hello and answers each JSON frame {ref} through a FloodGuard. */
async function start(over: Partial<FrontSettings> = {}): Promise<Started> {
  const metrics = chatMetrics();
  const admitted: Started['admitted'] = [];
  const front = await startFront({
    settings: { ...BASE, ...over },
    log: createLogger({ test: 'limits' }, { level: 'error', write: () => undefined }),
    metrics,
    readiness: () => ({ status: 200, body: { ready: true, region: 'r1' } }),
    draining: () => false,
    onSocket: (ws, peer) => {
      admitted.push({ ws, address: peer.address });
      const guard = new FloodGuard({ ratePerSecond: DEFAULTS.ratePerSecond, burst: DEFAULTS.rateBurst });
      ws.on('message', (data) => {
        const ref = (JSON.parse(String(data)) as { ref?: number }).ref;
        const verdict = guard.check();
        if (verdict === 'close') return ws.close(1008, 'rate limit exceeded');
        ws.send(JSON.stringify(verdict === 'ok' ? { type: 'pong', ref } : { type: 'error', code: 'rate_limited', ref }));
      });
      ws.send(JSON.stringify({ type: 'hello' }));
    },
  });
  fronts.push(front);
  return { front, metrics, admitted };
}

/** Upgrades from `localAddress` with optional X-Forwarded-For; resolves at the server's hello. */
function upgrade(front: Front, localAddress: string, forwardedFor?: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(front.url, { localAddress, ...(forwardedFor !== undefined ? { headers: { 'x-forwarded-for': forwardedFor } } : {}) });
    ws.once('message', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode, retryAfter: res.headers['retry-after'] })));
    ws.once('error', reject);
  });
}

const closeOf = (ws: WebSocket) => new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const UPGRADE_REQUEST =
  'GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
  'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n';

/**
 * Sends UPGRADE_REQUEST one byte every `byteEveryMs`; resolves when the server closes the
 * connection, with how long it lived (ms from connect) and what the server answered.
 */
function trickle(port: number, byteEveryMs: number): Promise<{ livedMs: number; reply: string }> {
  return new Promise((resolve) => {
    const s: Socket = connect({ port, host: '127.0.0.1' });
    let reply = '';
    let i = 0;
    let connectedAt = Date.now();
    let timer: NodeJS.Timeout | undefined;
    s.on('connect', () => {
      connectedAt = Date.now();
      timer = setInterval(() => {
        if (i < UPGRADE_REQUEST.length && !s.destroyed) s.write(UPGRADE_REQUEST[i++]!);
      }, byteEveryMs);
    });
    s.on('data', (d) => (reply += d.toString('latin1')));
    s.on('error', () => undefined);
    s.on('close', () => {
      clearInterval(timer);
      resolve({ livedMs: Date.now() - connectedAt, reply });
    });
  });
}

describe('handshake deadline', () => {
  it('cuts a slow upgrade (1 byte / 200 ms) at the deadline; a normal and a slow-but-in-time upgrade are unaffected', async () => {
    const deadline = BASE.handshakeTimeoutMs;
    const { front, metrics } = await start();
    const normal = await upgrade(front, '127.0.0.1');
    const [slow, inTime] = await Promise.all([
      trickle(front.port, 200),
      // The whole request in ~1/3 of the deadline: answered 101, then we close it ourselves.
      new Promise<string>((resolve) => {
        const s = connect({ port: front.port, host: '127.0.0.1' });
        const chunks = UPGRADE_REQUEST.match(/[\s\S]{1,16}/g)!;
        const every = Math.floor(deadline / 3 / chunks.length);
        s.on('connect', async () => {
          for (const c of chunks) {
            s.write(c);
            await sleep(every);
          }
        });
        s.on('data', (d) => {
          resolve(d.toString('latin1'));
          s.destroy();
        });
      }),
    ]);
    expect(slow.reply).toBe('');
    expect(slow.livedMs).toBeGreaterThanOrEqual(deadline - 50);
    expect(slow.livedMs).toBeLessThan(deadline + 1_000);
    expect(inTime).toMatch(/^HTTP\/1\.1 101 /);
    expect(await metrics.connectionsRefused.get({ reason: 'handshake_timeout' })).toBe(1);
    // The socket upgraded before the deadline still works after it.
    expect(normal.readyState).toBe(WebSocket.OPEN);
    const pong = new Promise<string>((r) => normal.once('message', (d) => r(String(d))));
    normal.send(JSON.stringify({ ref: 1 }));
    expect(JSON.parse(await pong)).toEqual({ type: 'pong', ref: 1 });
    normal.close();
  });

  it('cuts 300 concurrent half-open upgrades trickling 1 byte / s at the deadline', async () => {
    const { front, metrics } = await start({ maxConnectionsPerAddress: 1_000 });
    const started = Date.now();
    const results = await Promise.all(Array.from({ length: 300 }, () => trickle(front.port, 1_000)));
    expect(Date.now() - started).toBeLessThan(BASE.handshakeTimeoutMs + 2_000);
    expect(Math.max(...results.map((r) => r.livedMs))).toBeLessThan(BASE.handshakeTimeoutMs + 1_000);
    expect(await metrics.connectionsRefused.get({ reason: 'handshake_timeout' })).toBe(300);
  });
});

describe('per-address cap', () => {
  it('refuses the next upgrade from an address at its cap with 429 + Retry-After, per address, and admits again after one closes', async () => {
    const cap = BASE.maxConnectionsPerAddress;
    const { front, metrics, admitted } = await start();
    const fromA = await Promise.all(Array.from({ length: cap }, () => upgrade(front, '127.0.0.2')));
    const refused = await upgrade(front, '127.0.0.2').then(
      () => undefined,
      (e: { status?: number; retryAfter?: string }) => e,
    );
    expect(refused?.status).toBe(429);
    expect(Number(refused?.retryAfter)).toBeGreaterThan(0);
    expect(await metrics.connectionsRefused.get({ reason: 'address_cap' })).toBe(1);
    // Another source address has its own cap.
    const fromB = await Promise.all(Array.from({ length: cap }, () => upgrade(front, '127.0.0.3')));
    expect(front.admission.addressCount('127.0.0.2')).toBe(cap);
    expect(front.admission.addressCount('127.0.0.3')).toBe(cap);
    // One of A's sockets closes: A gets its slot back once the server has seen the close.
    const serverSide = admitted.find((a) => a.address === '127.0.0.2')!.ws;
    const serverClosed = new Promise((r) => serverSide.once('close', r));
    fromA[0]!.close();
    await serverClosed;
    expect(front.admission.addressCount('127.0.0.2')).toBe(cap - 1);
    const again = await upgrade(front, '127.0.0.2');
    expect(again.readyState).toBe(WebSocket.OPEN);
    for (const ws of [...fromA, ...fromB, again]) ws.close();
  });
});

describe('connections still in their handshake, per peer', () => {
  it('are capped at accept: one address cannot hold more than max(cap, 64) half-open connections', async () => {
    const { front, metrics } = await start({ handshakeTimeoutMs: 10_000 });
    const limit = Math.max(BASE.maxConnectionsPerAddress, MIN_PENDING_HANDSHAKES_PER_PEER);
    const openRaw = (localAddress: string) =>
      new Promise<Socket>((resolve, reject) => {
        const s = connect({ port: front.port, host: '127.0.0.1', localAddress });
        s.once('connect', () => resolve(s));
        s.once('error', reject);
      });
    const held: Socket[] = [];
    for (let i = 0; i < limit; i++) held.push(await openRaw('127.0.0.5'));
    const extra = await openRaw('127.0.0.5');
    extra.on('error', () => undefined);
    const started = Date.now();
    await new Promise((r) => extra.once('close', r));
    expect(Date.now() - started).toBeLessThan(1_000); // refused at once, not at the deadline
    expect(await metrics.connectionsRefused.get({ reason: 'address_cap' })).toBe(1);
    expect(held.every((s) => !s.destroyed)).toBe(true);
    // Another address is not affected.
    const other = await upgrade(front, '127.0.0.6');
    other.close();
    for (const s of held) s.destroy();
  });
});

describe('X-Forwarded-For', () => {
  it('is ignored from an untrusted peer and used (right-most untrusted hop) from a trusted proxy, with the cap per client behind it', async () => {
    const { front, admitted } = await start({ trustedProxies: ['127.0.0.4'], maxConnectionsPerAddress: 1 });
    const spoofer = await upgrade(front, '127.0.0.2', '203.0.113.9');
    expect(admitted.at(-1)!.address).toBe('127.0.0.2');
    const viaProxy = await upgrade(front, '127.0.0.4', '203.0.113.9');
    expect(admitted.at(-1)!.address).toBe('203.0.113.9');
    // A client that wrote its own header: our proxy appended the real peer on the right.
    const spoofedThroughProxy = await upgrade(front, '127.0.0.4', '203.0.113.9, 198.51.100.1');
    expect(admitted.at(-1)!.address).toBe('198.51.100.1');
    // The cap (1) applies to the client behind the proxy, not to the proxy's own address.
    await expect(upgrade(front, '127.0.0.4', '203.0.113.9')).rejects.toMatchObject({ status: 429 });
    const otherClient = await upgrade(front, '127.0.0.4', '203.0.113.10');
    expect(admitted.at(-1)!.address).toBe('203.0.113.10');
    for (const ws of [spoofer, viaProxy, spoofedThroughProxy, otherClient]) ws.close();
  });
});

describe('flood guard on real sockets (default CHAT_RATE_PER_SECOND / CHAT_RATE_BURST)', () => {
  it('never refuses a 20 msg/s sender; refuses a flood with its ref, then closes it with 1008', async () => {
    const { front } = await start();
    const paced = await upgrade(front, '127.0.0.2');
    const pacedReplies: Array<{ type: string; ref: number }> = [];
    paced.on('message', (d) => pacedReplies.push(JSON.parse(String(d)) as { type: string; ref: number }));
    let ref = 0;
    const timer = setInterval(() => paced.send(JSON.stringify({ ref: ++ref })), 50);
    const flood = await upgrade(front, '127.0.0.3');
    const floodReplies: Array<{ type: string; ref: number }> = [];
    flood.on('message', (d) => floodReplies.push(JSON.parse(String(d)) as { type: string; ref: number }));
    const floodClosed = closeOf(flood);
    for (let i = 1; i <= 500; i++) flood.send(JSON.stringify({ ref: i }));
    expect(await floodClosed).toBe(1008);
    await sleep(3_000);
    clearInterval(timer);
    await sleep(200);
    expect(pacedReplies.length).toBeGreaterThanOrEqual(50);
    expect(pacedReplies.filter((r) => r.type !== 'pong')).toEqual([]);
    const limited = floodReplies.filter((r) => r.type === 'error');
    expect(floodReplies.filter((r) => r.type === 'pong').length).toBeGreaterThanOrEqual(DEFAULTS.rateBurst);
    expect(limited.length).toBeGreaterThan(0);
    expect(limited.every((r) => Number.isInteger(r.ref) && r.ref > DEFAULTS.rateBurst)).toBe(true);
    paced.close();
  });
});

describe('/readyz and /metrics', () => {
  it('answer, and /metrics shows the refusals by reason', async () => {
    const { front } = await start({ maxConnectionsPerAddress: 1 });
    const one = await upgrade(front, '127.0.0.2');
    await expect(upgrade(front, '127.0.0.2')).rejects.toMatchObject({ status: 429 });
    const ready = await fetch(`${front.httpUrl}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ ready: true, region: 'r1' });
    const text = await (await fetch(`${front.httpUrl}/metrics`)).text();
    expect(text).toContain('chat_connections_refused_total{reason="address_cap"} 1');
    expect(text).toContain('chat_connections_refused_total{reason="handshake_timeout"} 0');
    one.close();
  });
});
