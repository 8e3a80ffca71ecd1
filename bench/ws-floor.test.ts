import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatBenchReport, ReportedPhase, WsFloorReport } from './chat-report.js';
import { floorComparison } from './chat-report.js';
import { LoadClient } from './load-client.js';
import { wsFloor } from './ws-floor.js';
import { startWsFloorServer, type WsFloorServer } from './ws-floor-server.js';

describe('the bare WebSocket server and its load', () => {
  let server: WsFloorServer;
  beforeAll(async () => {
    server = await startWsFloorServer('127.0.0.1', 0);
  });
  afterAll(() => server.close());

  it('answers each text frame once, like message.sent, with the frame\'s ref, roomId and clientMessageId', async () => {
    const c = await LoadClient.connect(`ws://127.0.0.1:${server.port}/`);
    try {
      const reply = await c.request({ type: 'message.send', roomId: 'room-1', clientMessageId: 'c-1', body: 'hi' }, 5_000);
      expect(reply).toMatchObject({ type: 'message.sent', roomId: 'room-1', clientMessageId: 'c-1', duplicate: false });
      expect(reply.messageId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      expect(typeof reply.ref).toBe('number');
    } finally {
      await c.close();
    }
  });

  it('runs the saturated schedule between the two marks: 4 sockets at most 20/s each for 1 s, every send answered', async () => {
    const marks: string[] = [];
    const before = server.answered();
    const r = await wsFloor(
      { url: `ws://127.0.0.1:${server.port}/`, senders: 4, rate: 20, window: 2, seconds: 1, bodyBytes: 120 },
      (k) => `127.0.1.${k + 1}`,
      async (edge) => void marks.push(`${edge}@${server.answered() - before}`),
    );
    expect(marks[0]).toBe('start@0');
    expect(marks[1]).toBe(`end@${r.sent}`);
    expect(r.answered).toBe(r.sent);
    // 4 sockets x 20/s x 1 s, staggered starts: about 80, never more than 4 x 21.
    expect(r.sent).toBeGreaterThanOrEqual(60);
    expect(r.sent).toBeLessThanOrEqual(84);
    expect(r.replyMs.n).toBe(r.sent);
    expect([r.senders, r.window, r.rate]).toEqual([4, 2, 20]);
  });
});

describe('the saturated phase against the floor', () => {
  const cpu = (byProcess: Record<string, number>) => ({ byProcess, regionsOf: {}, machineBusy: 1, machineCapacity: 2 });
  const summary = { n: 0, min: 0, p50: 0, p95: 0, p99: 0, max: 0, mean: 0 };
  const saturated = { name: 'saturated', kind: 'saturated', senders: 64, window: 8, receivers: 4, accepted: 1_000, cpu: cpu({ mn: 0.15, fsn1: 0.13 }) } as unknown as ReportedPhase;
  const floor: WsFloorReport = { senders: 32, window: 8, rate: 45, sent: 2_000, answered: 2_000, seconds: 1, answeredPerSec: 2_000, replyMs: summary, windowSeconds: 1, loadGenCpuSeconds: 0.1, cpu: cpu({ 'ws-floor': 0.18 }) };
  const report = { phases: [saturated], wsFloor: floor } as unknown as ChatBenchReport;

  it('divides both backends\' CPU per accepted message by the bare server\'s CPU per answered message', () => {
    // 0.28 s / 1,000 = 280 µs; 0.18 s / 2,000 = 90 µs; 90 / 4 receivers = 22.5 µs per delivery.
    const c = floorComparison(report)!;
    expect(c.chatUs).toBeCloseTo(280, 6);
    expect(c.floorUs).toBeCloseTo(90, 6);
    expect(c.ratio).toBeCloseTo(280 / 90, 6);
    expect(c.floorPerDeliveryUs).toBeCloseTo(22.5, 6);
  });

  it('has nothing to say without a saturated phase or a floor', () => {
    expect(floorComparison({ ...report, wsFloor: undefined } as unknown as ChatBenchReport)).toBeUndefined();
    expect(floorComparison({ ...report, phases: [] } as unknown as ChatBenchReport)).toBeUndefined();
  });
});
