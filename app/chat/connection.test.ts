/**
 * A Connection's outbox over a real WebSocket on loopback: frames sent in one turn of the event
 * loop leave the server in one socket write, in order; frames of a later turn in another.
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { Socket } from 'node:net';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { Connection } from './connection.js';
import { chatMetrics } from './metrics.js';

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
}, 5_000);

/** A server-side Connection, its client, the frames the client received and the server socket's write calls. */
async function pair() {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  await once(wss, 'listening');
  closers.push(() => new Promise((r) => wss.close(() => r())));
  const accepted = once(wss, 'connection') as Promise<[WebSocket]>;
  const client = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`, { perMessageDeflate: false });
  closers.push(async () => client.terminate());
  const received: string[] = [];
  client.on('message', (d) => received.push(String(d)));
  await once(client, 'open');
  const [ws] = await accepted;
  closers.unshift(async () => ws.terminate());
  // Count what reaches the kernel: one _write or _writev call is one write syscall attempt.
  const socket = (ws as unknown as { _socket: Socket & { _write: Function; _writev: Function } })._socket;
  const writes: number[] = [];
  for (const name of ['_write', '_writev'] as const) {
    const original = socket[name].bind(socket);
    socket[name] = (chunks: unknown, ...rest: unknown[]) => {
      writes.push(Array.isArray(chunks) ? chunks.length : 1);
      return original(chunks, ...rest);
    };
  }
  const c = new Connection({ id: 1, ws, address: '127.0.0.1', region: 'r1', metrics: chatMetrics(), ratePerSecond: 100, rateBurst: 100 });
  const until = async (n: number) => {
    for (let i = 0; i < 200 && received.length < n; i++) await new Promise((r) => setTimeout(r, 5));
  };
  return { c, received, writes, until };
}

describe('Connection outbox', () => {
  it('sends the frames of one event-loop turn in one write, in order', { timeout: 5_000 }, async () => {
    const { c, received, writes, until } = await pair();
    for (let i = 0; i < 5; i++) c.sendRaw(JSON.stringify({ type: 'pong', ref: i }));
    expect(writes).toEqual([]); // held until the turn ends
    await until(5);
    expect(received.map((f) => JSON.parse(f).ref)).toEqual([0, 1, 2, 3, 4]);
    expect(writes).toHaveLength(1); // ONE writev: 5 frames, a header and a payload chunk each
    expect(writes[0]).toBe(10);
  });

  it('shares the write among frames sent by separate callbacks of the same turn (e.g. two Cassandra replies read in one poll)', { timeout: 5_000 }, async () => {
    const { c, received, writes, until } = await pair();
    // Two immediates queued together run in one check phase, each as its own callback (with
    // process.nextTick work run between them), like two I/O callbacks of one poll phase.
    for (const ref of [0, 1]) setImmediate(() => c.sendRaw(JSON.stringify({ type: 'pong', ref })));
    await until(2);
    expect(received.map((f) => JSON.parse(f).ref)).toEqual([0, 1]);
    expect(writes).toEqual([4]);
  });

  it('writes again for frames of a later turn', { timeout: 5_000 }, async () => {
    const { c, received, writes, until } = await pair();
    c.sendRaw('{"type":"pong","ref":"a"}');
    await nextTurn();
    await nextTurn();
    c.sendRaw('{"type":"pong","ref":"b"}');
    c.sendRaw('{"type":"pong","ref":"c"}');
    await until(3);
    expect(received.map((f) => JSON.parse(f).ref)).toEqual(['a', 'b', 'c']);
    expect(writes).toHaveLength(2);
  });
});
