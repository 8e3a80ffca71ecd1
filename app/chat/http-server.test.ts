/**
 * The front door with real sockets on 127.0.0.1 (no engines): routes, draining, the heartbeat,
 * maxPayload, onSocket failures and close(). The limits themselves: limits.integration.test.ts.
 */
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { createLogger } from '../log.js';
import { startFront, type Front, type FrontOptions, type FrontSettings } from './http-server.js';
import { chatMetrics, type ChatMetrics } from './metrics.js';

const SETTINGS: FrontSettings = {
  host: '127.0.0.1',
  port: 0,
  maxFrameBytes: 1_024,
  handshakeTimeoutMs: 5_000,
  maxConnectionsPerAddress: 16,
  maxConnectionsPerUser: 4,
  trustedProxies: [],
};

let fronts: Front[] = [];
afterEach(async () => {
  await Promise.all(fronts.map((f) => f.close(100)));
  fronts = [];
});

async function start(over: Partial<FrontOptions> = {}): Promise<{ front: Front; metrics: ChatMetrics; sockets: Array<{ ws: WebSocket; address: string }> }> {
  const metrics = chatMetrics();
  const sockets: Array<{ ws: WebSocket; address: string }> = [];
  const front = await startFront({
    settings: SETTINGS,
    log: createLogger({ test: 'http-server' }, { level: 'error', write: () => undefined }),
    metrics,
    readiness: () => ({ status: 200, body: { ready: true } }),
    draining: () => false,
    onSocket: (ws, peer) => {
      sockets.push({ ws, address: peer.address });
      ws.send('hello');
    },
    ...over,
  });
  fronts.push(front);
  return { front, metrics, sockets };
}

/** Opens a client socket and waits for the server's first message (or the failure). */
function open(url: string, opts: ConstructorParameters<typeof WebSocket>[2] = {}): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, opts);
    ws.once('message', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

const closed = (ws: WebSocket) => new Promise<number>((resolve) => (ws.readyState === ws.CLOSED ? resolve(-1) : ws.once('close', (code) => resolve(code))));

/** Writes `text` on a raw TCP connection and collects everything until the server closes it. */
function raw(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ port, host: '127.0.0.1' });
    let got = '';
    s.on('data', (d) => (got += d.toString('latin1')));
    s.on('error', reject);
    s.on('close', () => resolve(got));
    s.write(text);
  });
}

describe('startFront: HTTP', () => {
  it('answers /healthz, /readyz from readiness(), /metrics, 404, 405 and 426', async () => {
    let ready = false;
    const { front } = await start({ readiness: () => (ready ? { status: 200, body: { ready: true } } : { status: 503, body: { ready: false, down: ['nats'] } }) });
    const get = (path: string, init?: RequestInit) => fetch(`${front.httpUrl}${path}`, init);
    const health = await get('/healthz');
    expect([health.status, await health.text()]).toEqual([200, 'ok\n']);
    const notReady = await get('/readyz');
    expect(notReady.status).toBe(503);
    expect(notReady.headers.get('content-type')).toBe('application/json');
    expect(await notReady.json()).toEqual({ ready: false, down: ['nats'] });
    ready = true;
    expect((await get('/readyz?verbose=1')).status).toBe(200);
    const metrics = await get('/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get('content-type')).toBe(chatMetrics().contentType);
    const body = await metrics.text();
    expect(body).toContain('chat_connections_refused_total{reason="address_cap"} 0');
    expect(body).toContain('process_cpu_seconds_total');
    const head = await get('/healthz', { method: 'HEAD' });
    expect([head.status, await head.text()]).toEqual([200, '']);
    const post = await get('/healthz', { method: 'POST' });
    expect([post.status, post.headers.get('allow')]).toEqual([405, 'GET, HEAD']);
    expect((await get('/nope')).status).toBe(404);
    expect((await get('/ws')).status).toBe(426);
  });

  it('answers 500 (and keeps serving) when readiness() throws', async () => {
    const { front } = await start({
      readiness: () => {
        throw new Error('boom');
      },
    });
    expect((await fetch(`${front.httpUrl}/readyz`)).status).toBe(500);
    expect((await fetch(`${front.httpUrl}/healthz`)).status).toBe(200);
  });

  it('answers 431 to a header block over the cap', async () => {
    const { front } = await start();
    const reply = await raw(front.port, `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    expect(reply).toMatch(/^HTTP\/1\.1 431 /);
  });
});

describe('startFront: WebSocket', () => {
  it('upgrades /ws and hands the socket to onSocket with the peer address; other paths get 404', async () => {
    const { front, sockets } = await start();
    const ws = await open(front.url);
    expect(sockets.map((s) => s.address)).toEqual(['127.0.0.1']);
    ws.close();
    await expect(open(front.url.replace('/ws', '/other'))).rejects.toThrow('HTTP 404');
  });

  it('refuses upgrades with 503 and Retry-After while draining, counted under the reason draining() gives', async () => {
    let draining: boolean | 'region_unavailable' = true;
    const { front, metrics } = await start({ draining: () => draining });
    const reply = await raw(front.port, `GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`);
    expect(reply).toMatch(/^HTTP\/1\.1 503 /);
    expect(reply).toMatch(/\r\nRetry-After: \d+\r\n/);
    expect(await metrics.connectionsRefused.get({ reason: 'draining' })).toBe(1);
    draining = 'region_unavailable';
    await expect(open(front.url)).rejects.toThrow('HTTP 503');
    expect(await metrics.connectionsRefused.get({ reason: 'region_unavailable' })).toBe(1);
    draining = false;
    (await open(front.url)).close();
  });

  it('closes a frame over maxFrameBytes with 1009', async () => {
    const { front } = await start();
    const ws = await open(front.url);
    ws.send('x'.repeat(SETTINGS.maxFrameBytes + 1));
    expect(await closed(ws)).toBe(1009);
  });

  it('terminates a socket that stops answering pings; one that answers stays', async () => {
    const { front } = await start({ heartbeatMs: 100 });
    const deaf = await open(front.url, { autoPong: false });
    const live = await open(front.url);
    const started = Date.now();
    expect(await closed(deaf)).toBe(1006); // terminated: no close frame
    expect(Date.now() - started).toBeLessThan(1_000);
    await new Promise((r) => setTimeout(r, 300));
    expect(live.readyState).toBe(WebSocket.OPEN);
    live.close();
  });

  it('terminates the socket when onSocket throws, and keeps serving', async () => {
    let fail = true;
    const { front } = await start({
      onSocket: (ws) => {
        if (fail) throw new Error('session layer bug');
        ws.send('hello');
      },
    });
    const ws = new WebSocket(front.url);
    expect(await closed(ws)).toBe(1006);
    fail = false;
    (await open(front.url)).close();
  });

  it('close(): refuses new connections, cuts pending handshakes, and terminates sockets still open after the grace', async () => {
    const { front } = await start();
    const ws = await open(front.url);
    const pending = connect({ port: front.port, host: '127.0.0.1' });
    await new Promise((r) => pending.once('connect', r));
    pending.write('GET /ws HTTP/1.1\r\nHost: x\r\n'); // never finishes
    const pendingClosed = new Promise((r) => pending.once('close', r));
    pending.on('error', () => undefined);
    const started = Date.now();
    await front.close(300);
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(await closed(ws)).toBe(1006);
    await pendingClosed;
    await expect(fetch(`${front.httpUrl}/healthz`)).rejects.toThrow();
  });

  it('close() resolves as soon as the caller has closed its sockets', async () => {
    const { front, sockets } = await start();
    const ws = await open(front.url);
    const closing = front.close(10_000);
    for (const s of sockets) s.ws.close(1012, 'restart');
    expect(await closed(ws)).toBe(1012);
    const started = Date.now();
    await closing;
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});
