import { EventEmitter } from 'node:events';
import type { Server } from 'node:http';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { HandshakeGuard, KEEP_ALIVE_MAX_MS, MAX_HEADER_BYTES, applyServerLimits, httpServerOptions, keepAliveTimeoutMs, type GuardRefusal } from './http-guard.js';
import { ipMatcher } from './ip-list.js';

/** The parts of a net.Socket the guard uses. */
class FakeSocket extends EventEmitter {
  destroyed = false;
  constructor(readonly remoteAddress: string) {
    super();
  }
  destroy(): this {
    if (!this.destroyed) {
      this.destroyed = true;
      this.emit('close');
    }
    return this;
  }
}

/** A fake HTTP server: connections and requests are emitted by the test. */
class FakeServer extends EventEmitter {
  connect(peer: string): FakeSocket {
    const s = new FakeSocket(peer);
    this.emit('connection', s);
    return s;
  }
  /** A request on `socket`; returns "the response finished". */
  request(socket: FakeSocket): () => void {
    const res = new EventEmitter();
    this.emit('request', { socket }, res);
    return () => res.emit('finish');
  }
}

const TIMEOUT_MS = 10_000;

describe('HandshakeGuard', () => {
  let server: FakeServer;
  let guard: HandshakeGuard;
  let refused: Array<{ reason: GuardRefusal; peer: string }>;

  beforeEach(() => {
    vi.useFakeTimers();
    server = new FakeServer();
    refused = [];
    guard = new HandshakeGuard({
      timeoutMs: TIMEOUT_MS,
      maxPendingPerPeer: 2,
      isTrustedPeer: ipMatcher(['10.0.0.1']),
      onRefused: (reason, peer) => refused.push({ reason, peer }),
    });
    guard.attach(server as unknown as Server);
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('destroys a connection that has not completed its handshake at the deadline, and counts it once', () => {
    const s = server.connect('198.51.100.7');
    vi.advanceTimersByTime(TIMEOUT_MS - 1);
    expect(s.destroyed).toBe(false);
    vi.advanceTimersByTime(1);
    expect(s.destroyed).toBe(true);
    expect(refused).toEqual([{ reason: 'handshake_timeout', peer: '198.51.100.7' }]);
    expect(guard.pending).toBe(0);
  });

  it('leaves an upgraded socket alone', () => {
    const s = server.connect('198.51.100.7');
    vi.advanceTimersByTime(TIMEOUT_MS / 2);
    guard.upgraded(s as never);
    vi.advanceTimersByTime(10 * TIMEOUT_MS);
    expect(s.destroyed).toBe(false);
    expect(refused).toEqual([]);
  });

  it('restarts the clock after each HTTP response (keep-alive), and does not cut while a request is answered', () => {
    const s = server.connect('198.51.100.7');
    vi.advanceTimersByTime(TIMEOUT_MS - 1_000);
    const finish = server.request(s);
    guard.destroyAll(); // shutdown: a request being answered is not destroyed
    expect(s.destroyed).toBe(false);
    vi.advanceTimersByTime(500);
    finish();
    vi.advanceTimersByTime(TIMEOUT_MS - 1);
    expect(s.destroyed).toBe(false);
    vi.advanceTimersByTime(1);
    expect(s.destroyed).toBe(true);
    expect(refused.map((r) => r.reason)).toEqual(['handshake_timeout']);
  });

  it("counts Node's own timeout (timedOut) once, even if the guard's timer would fire later", () => {
    const s = server.connect('198.51.100.7');
    guard.timedOut(s as never);
    vi.advanceTimersByTime(2 * TIMEOUT_MS);
    expect(s.destroyed).toBe(true);
    expect(refused).toHaveLength(1);
  });

  it('caps connections still in their handshake per untrusted peer; trusted proxies are exempt', () => {
    const a = server.connect('198.51.100.7');
    const b = server.connect('::ffff:198.51.100.7'); // the same peer through a dual-stack socket
    const c = server.connect('198.51.100.7');
    expect([a.destroyed, b.destroyed, c.destroyed]).toEqual([false, false, true]);
    expect(refused).toEqual([{ reason: 'address_cap', peer: '198.51.100.7' }]);
    expect(server.connect('198.51.100.8').destroyed).toBe(false);
    guard.upgraded(a as never); // an upgraded socket no longer counts as pending
    expect(server.connect('198.51.100.7').destroyed).toBe(false);
    const viaProxy = [1, 2, 3, 4, 5].map(() => server.connect('10.0.0.1'));
    expect(viaProxy.every((s) => !s.destroyed)).toBe(true);
  });

  it('destroys every idle pending connection on shutdown without counting refusals', () => {
    const sockets = [server.connect('198.51.100.7'), server.connect('198.51.100.8')];
    guard.destroyAll();
    expect(sockets.every((s) => s.destroyed)).toBe(true);
    expect(guard.pending).toBe(0);
    vi.advanceTimersByTime(2 * TIMEOUT_MS);
    expect(refused).toEqual([]);
  });

  it('refuses a deadline of 0', () => {
    expect(() => new HandshakeGuard({ timeoutMs: 0, maxPendingPerPeer: 1, isTrustedPeer: () => false, onRefused: () => undefined })).toThrow(/timeoutMs/);
  });
});

describe("Node's HTTP limits", () => {
  it('are all explicit: header/request timeouts at the deadline, keep-alive below it, header size capped', () => {
    const o = httpServerOptions(10_000);
    expect(o).toMatchObject({ headersTimeout: 10_000, requestTimeout: 10_000, keepAliveTimeout: KEEP_ALIVE_MAX_MS, maxHeaderSize: MAX_HEADER_BYTES });
    expect(o.connectionsCheckingInterval).toBeLessThanOrEqual(1_000);
    expect(keepAliveTimeoutMs(2_000)).toBe(1_000);
    expect(keepAliveTimeoutMs(1)).toBe(1);
    const server = { headersTimeout: 0, requestTimeout: 0, keepAliveTimeout: 0, maxHeadersCount: null, maxRequestsPerSocket: null, timeout: 1 } as unknown as Server;
    applyServerLimits(server, 3_000);
    expect(server).toMatchObject({ headersTimeout: 3_000, requestTimeout: 3_000, keepAliveTimeout: 1_500, timeout: 0 });
    expect(server.maxHeadersCount).toBeGreaterThan(0);
  });
});
