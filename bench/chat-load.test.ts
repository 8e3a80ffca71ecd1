import { describe, expect, it } from 'vitest';
import { DEFAULT_OPTIONS, pacedSenders, parseBenchArgs, planFor, type BenchLab } from './chat-bench-run.js';
import { sourceAddress } from './chat-load.js';

describe('sourceAddress', () => {
  it('gives 8 sockets each address, 127.0.1.1 first, then the next /24 after 254 addresses', () => {
    expect([0, 7, 8, 15, 16].map((k) => sourceAddress(k, 8))).toEqual(['127.0.1.1', '127.0.1.1', '127.0.1.2', '127.0.1.2', '127.0.1.3']);
    expect(sourceAddress(253 * 8, 8)).toBe('127.0.1.254');
    expect(sourceAddress(254 * 8, 8)).toBe('127.0.2.1');
  });

  it('never gives more than `perAddress` sockets one address (the backend caps at 64)', () => {
    const counts = new Map<string, number>();
    for (let k = 0; k < 2000; k++) counts.set(sourceAddress(k, 8), (counts.get(sourceAddress(k, 8)) ?? 0) + 1);
    expect(Math.max(...counts.values())).toBe(8);
  });
});

describe('the plan', () => {
  const lab: BenchLab = {
    regions: [
      { name: 'r1', url: 'ws://127.0.0.1:1/ws', nats: { url: 'nats://127.0.0.1:2' } },
      { name: 'r2', url: 'ws://127.0.0.1:3/ws', nats: { url: 'nats://127.0.0.1:4' } },
    ],
    backendProcesses: () => [],
    getCode: () => Promise.reject(new Error('not used')),
    legacy: false,
    perSocketRate: 50,
    description: 'test',
    commit: 'test',
  };

  it('paced 1,000 msg/s is 50 senders at 20 msg/s each; 200 is 10; 50 is 3', () => {
    expect([50, 200, 1000].map(pacedSenders)).toEqual([3, 10, 50]);
    const plan = planFor(lab, DEFAULT_OPTIONS, 'x');
    const p1000 = plan.phases.find((p) => p.name === 'paced1000')!;
    expect(p1000.rate! / p1000.senders).toBe(20);
  });

  it('saturated senders stay under the per-socket rate limit (90% of it)', () => {
    const sat = planFor(lab, DEFAULT_OPTIONS, 'x').phases.find((p) => p.kind === 'saturated')!;
    expect(sat.maxPerSenderRate).toBe(45);
    expect(sat.window).toBe(8);
  });

  it('NATS baseline publishes in the first region and subscribes in the second', () => {
    const plan = planFor(lab, DEFAULT_OPTIONS, 'x');
    expect(plan.nats?.publish.region).toBe('r1');
    expect(plan.nats?.subscribe.region).toBe('r2');
    expect(plan.nats?.rate).toBe(1000);
  });

  it("the WebSocket floor gets one backend's share of the saturated load: half the senders (the odd one to the first region), the same window, rate and body", () => {
    const withFloor: BenchLab = { ...lab, wsFloor: { url: 'ws://127.0.0.1:5/', pid: () => 1 } };
    const plan = planFor(withFloor, { ...DEFAULT_OPTIONS, saturatedSenders: 63, window: 6 }, 'x');
    const sat = plan.phases.find((p) => p.kind === 'saturated')!;
    expect(plan.wsFloor).toEqual({ url: 'ws://127.0.0.1:5/', senders: 32, rate: 45, window: 6, seconds: 10, bodyBytes: plan.bodyBytes });
    expect([sat.maxPerSenderRate, sat.window]).toEqual([45, 6]);
    expect(planFor(withFloor, parseBenchArgs(['--no-ws-floor']), 'x').wsFloor).toBeUndefined();
    expect(planFor(lab, DEFAULT_OPTIONS, 'x').wsFloor).toBeUndefined(); // no server started
    expect(planFor(withFloor, { ...DEFAULT_OPTIONS, saturatedSenders: 0 }, 'x').wsFloor).toBeUndefined();
  });

  it('parses options and refuses unknown ones', () => {
    const o = parseBenchArgs(['--seconds', '5', '--rates', '100,300', '--senders-listen', '--no-nats']);
    expect(o).toMatchObject({ seconds: 5, rates: [100, 300], sendersListen: true, nats: false });
    expect(() => parseBenchArgs(['--fast'])).toThrow(/unknown argument --fast/);
    expect(() => parseBenchArgs(['--seconds', '0'])).toThrow(/1\.\.120/);
  });
});
