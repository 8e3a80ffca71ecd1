/**
 * Region A (r1) loses one engine at a time, for real, in the two-region lab (test/chat-fixture.ts:
 * backend processes, NATS super-cluster, Cassandra with one DC per region, Postgres + pglogical):
 * its NATS server, its Cassandra DC (the DC's node), its Postgres node. For each:
 *
 *  1. a slow engine for less than the hysteresis (its processes frozen with SIGSTOP for
 *     BLIP_MS, so its checks time out) is seen by the checks (/readyz still 200 while naming
 *     it down) and does NOT take A out: /readyz never says 503, no client is moved;
 *  2. the engine stops: A reports unready (/readyz 503) within the configured time
 *     (failuresBeforeUnready rounds + one check bound) and not before failuresBeforeUnready
 *     rounds (the backend's log: the first failing round and the transition, with its count);
 *  3. A's clients (ReconnectingChatClient, back-off as configured) are closed with 4001, wait a
 *     back-off within its bound, move to region B, resume with the newest id they hold, and have
 *     every message a sender in B sent meanwhile exactly once and in order (ids compared with
 *     what the sender got acknowledged; nothing dropped as a duplicate either);
 *  4. the engine starts again: A is ready again, successesBeforeReady healthy rounds after the
 *     backend sees it back (log), within a bound from the engine's return.
 *
 * The backends run with small health numbers (HEALTH, passed as CHAT_HEALTH_*). Holds the lab lock:
 *   flock /tmp/rm/lab.lock npx vitest run app/chat/failover.integration.test.ts
 */
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freezeEngine, LAB_ENGINES, startEngine, stopEngine, type LabEngine } from '../../lab/chat-lab-outage.js';
import { chatFixture, eventually, type LoggedIn } from '../../test/chat-fixture.js';
import { ReconnectingChatClient, type ReconnectEvent } from './reconnecting-client.js';

/** The backends' health settings in this file (seconds / rounds), different from the defaults on purpose. */
const HEALTH = { intervalSeconds: 1, timeoutSeconds: 1, failuresBeforeUnready: 4, successesBeforeReady: 3 } as const;
const INTERVAL_MS = HEALTH.intervalSeconds * 1000;
const TIMEOUT_MS = HEALTH.timeoutSeconds * 1000;
/** The clients' back-off (ms). */
const BACKOFF = { baseMs: 300, capMs: 3_000, stableMs: 10_000 } as const;
/**
 * A slow engine: frozen this long, the checks of the rounds that start in its first
 * BLIP_MS - TIMEOUT_MS = one interval time out: one or two failing rounds, fewer than
 * failuresBeforeUnready.
 */
const BLIP_MS = TIMEOUT_MS + INTERVAL_MS;
/** Polling of /readyz and scheduling noise on a busy 2-core box. */
const SLACK_MS = 1_500;
/** How much longer one round's checks may take than another's (the log has the END of each round). */
const ROUND_NOISE_MS = 250;

const fx = chatFixture({
  name: 'chat-failover',
  backendEnv: {
    CHAT_HEALTH_INTERVAL_SECONDS: String(HEALTH.intervalSeconds),
    CHAT_HEALTH_TIMEOUT_SECONDS: String(HEALTH.timeoutSeconds),
    CHAT_HEALTH_FAILURES_BEFORE_UNREADY: String(HEALTH.failuresBeforeUnready),
    CHAT_HEALTH_SUCCESSES_BEFORE_READY: String(HEALTH.successesBeforeReady),
  },
});
const timings: Record<string, number> = {};
const started = Date.now();
let failed = false;
let alice: LoggedIn;
let carol: LoggedIn;
let bob: LoggedIn;
let roomId: string;

/** The back-off ceiling of attempt k (0-based), the README's formula written out again. */
const ceiling = (k: number) => Math.min(BACKOFF.capMs, BACKOFF.baseMs * 2 ** k);

async function readyz(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const r = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(3_000) });
  return { status: r.status, body: (await r.json()) as Record<string, unknown> };
}

/** Polls A's /readyz every 100 ms until `status`; the moment it was first seen. */
async function untilStatus(url: string, status: number, timeoutMs: number, what: string): Promise<{ at: number; body: Record<string, unknown> }> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const r = await readyz(url).catch(() => undefined);
    if (r?.status === status) return { at: Date.now(), body: r.body };
    await sleep(100);
  }
  throw new Error(`${what}: /readyz not ${status} within ${timeoutMs} ms`);
}

/** The backend's JSON log lines since `since` (ms) with message `msg`. */
function logLines(file: string, since: number, msg: RegExp): Array<{ t: number; line: Record<string, unknown> }> {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => typeof l['msg'] === 'string' && msg.test(l['msg']) && Date.parse(String(l['time'])) >= since)
    .map((line) => ({ t: Date.parse(String(line['time'])), line }));
}

/** Bob in region B sends every 150 ms until stopped; the acknowledged ids, in order. */
function sender(tag: string) {
  const sent: string[] = [];
  let stopping = false;
  const done = (async () => {
    for (let i = 0; !stopping; i++) {
      sent.push(await bob.client.sendMessage(roomId, `${tag} ${i}`, `${tag}-${fx.run}-${i}`));
      await sleep(150);
    }
  })();
  return {
    sent,
    stop: async () => {
      stopping = true;
      await done;
    },
  };
}

describe('region A loses NATS, its Cassandra DC, its Postgres: unready with hysteresis, clients resume in B exactly', () => {
  beforeAll(async () => {
    await fx.start();
    timings['lab start'] = Date.now() - started;
    alice = await fx.login('r1', 'alice');
    carol = await fx.login('r1', 'carol');
    bob = await fx.login('r2', 'bob');
    roomId = await fx.createRoom(alice.client, `failover-${fx.run}`, 'public');
    await fx.join(bob.client, roomId);
  }, 600_000);
  afterEach((ctx) => {
    if (ctx.task.result?.state === 'fail') failed = true;
  });
  afterAll(async () => {
    await fx.stop(failed);
    console.log(`failover timings (ms): ${JSON.stringify(timings)}`);
  }, 120_000);

  it.each(LAB_ENGINES.map((e) => [e]))('%s of region A', async (engine: LabEngine) => {
    const t0 = Date.now();
    const a = fx.lab().region('r1').backend;
    const b = fx.lab().region('r2').backend;
    await untilStatus(a.httpUrl, 200, 30_000, 'region A before the test');

    // A's clients, in A first, B second.
    const events: Record<string, ReconnectEvent[]> = {};
    const clients: Record<string, ReconnectingChatClient> = {};
    for (const u of [alice, carol]) {
      events[u.username] = [];
      clients[u.username] = await ReconnectingChatClient.open({ urls: [a.url, b.url], token: u.token, backoff: BACKOFF, onEvent: (e) => events[u.username]!.push(e) });
      expect(clients[u.username]!.region).toBe('r1');
      await clients[u.username]!.join(roomId);
    }
    const send = sender(`${engine}`);
    try {
      await eventually('A clients get live messages', 15_000, async () => (Object.values(clients).every((c) => c.roomMessages(roomId).length >= 3) ? true : undefined));

      // 1. A slow engine, shorter than the hysteresis: seen by the checks, A stays in.
      const seen: Array<{ status: number; down: unknown }> = [];
      let watching = true;
      const watcher = (async () => {
        while (watching) {
          const r = await readyz(a.httpUrl).catch(() => undefined);
          if (r) seen.push({ status: r.status, down: r.body['down'] });
          await sleep(100);
        }
      })();
      await freezeEngine(fx.lab(), 'r1', engine, BLIP_MS);
      await sleep(2 * INTERVAL_MS + TIMEOUT_MS); // the rounds that overlapped the freeze have answered
      watching = false;
      await watcher;
      expect(seen.some((s) => s.status === 200 && Array.isArray(s.down) && s.down.includes(engine)), `a check saw ${engine} slow: ${JSON.stringify(seen)}`).toBe(true);
      expect(seen.filter((s) => s.status !== 200)).toEqual([]);
      for (const u of [alice, carol]) expect(events[u.username]!.filter((e) => e.type === 'closed')).toEqual([]);

      // 2. The engine stops: unready within the configured time, not before failuresBeforeUnready rounds.
      const logFile = a.logFile;
      const stopBegan = Date.now();
      await stopEngine(fx.lab(), 'r1', engine);
      const stopped = Date.now();
      timings[`${engine} stop`] = stopped - stopBegan;
      const unready = await untilStatus(a.httpUrl, 503, HEALTH.failuresBeforeUnready * INTERVAL_MS + TIMEOUT_MS + SLACK_MS + (stopped - stopBegan), `${engine} stopped`);
      timings[`${engine} down -> 503`] = unready.at - stopped;
      expect(unready.body).toMatchObject({ ready: false, [engine]: false });
      expect(unready.body['down']).toContain(engine);
      // Within the configured time: failuresBeforeUnready rounds (the first one starts within an interval) + one check bound.
      expect(unready.at - stopped).toBeLessThanOrEqual(HEALTH.failuresBeforeUnready * INTERVAL_MS + TIMEOUT_MS + SLACK_MS);
      // Not before failuresBeforeUnready rounds: the engine was still there when the stop began.
      expect(unready.at - stopBegan).toBeGreaterThanOrEqual((HEALTH.failuresBeforeUnready - 1) * INTERVAL_MS);
      const firstDown = logLines(logFile, stopBegan - 1_000, new RegExp(`^${engine} down$`)).at(0);
      const lost = logLines(logFile, stopBegan - 1_000, /^region unavailable/).at(0);
      expect(firstDown, `${engine} down logged`).toBeDefined();
      expect(lost?.line['rounds']).toBe(HEALTH.failuresBeforeUnready);
      // Log lines are written when a round ends: the first failing round may have taken a little longer than the last.
      expect(lost!.t - firstDown!.t).toBeGreaterThanOrEqual((HEALTH.failuresBeforeUnready - 1) * INTERVAL_MS - ROUND_NOISE_MS);

      // 3. A's clients: 4001, a back-off within its bound, region B, resumed.
      for (const u of [alice, carol]) {
        const c = clients[u.username]!;
        await eventually(`${u.username} resumed in B`, 20_000, async () => (c.region === 'r2' && events[u.username]!.some((e) => e.type === 'resumed' && e.at > stopBegan) ? true : undefined));
        const ev = events[u.username]!.filter((e) => e.at >= stopBegan);
        const closed = ev.find((e) => e.type === 'closed');
        expect(closed).toMatchObject({ type: 'closed', code: 4001, url: a.url });
        const retries = ev.filter((e): e is Extract<ReconnectEvent, { type: 'retry' }> => e.type === 'retry');
        expect(retries.length).toBeGreaterThanOrEqual(1);
        expect(retries[0]).toMatchObject({ after: 'close', nextUrl: b.url });
        for (const r of retries) {
          expect(r.delayMs).toBeGreaterThanOrEqual(0);
          expect(r.delayMs).toBeLessThan(ceiling(r.attempt));
        }
        expect(ev.find((e) => e.type === 'connected')).toMatchObject({ url: b.url, region: 'r2' });
      }
      timings[`${engine} 503 -> clients in B`] = Math.max(...[alice, carol].map((u) => events[u.username]!.find((e) => e.type === 'connected' && e.at > stopBegan)!.at)) - unready.at;
      await sleep(1_000); // B's sender goes on while they are there

      // 4. The engine returns: ready again after successesBeforeReady healthy rounds.
      const startBegan = Date.now();
      await startEngine(fx.lab(), 'r1', engine);
      const back = Date.now();
      timings[`${engine} start`] = back - startBegan;
      const ready = await untilStatus(a.httpUrl, 200, 30_000 + HEALTH.successesBeforeReady * INTERVAL_MS, `${engine} back`);
      timings[`${engine} back -> 200`] = ready.at - back;
      const firstUp = logLines(logFile, startBegan, new RegExp(`^${engine} up$`)).at(0);
      const available = logLines(logFile, startBegan, /^region available$/).at(0);
      expect(available?.line['rounds']).toBe(HEALTH.successesBeforeReady);
      expect(available!.t - firstUp!.t).toBeGreaterThanOrEqual((HEALTH.successesBeforeReady - 1) * INTERVAL_MS - ROUND_NOISE_MS);
      expect(available!.t - firstUp!.t).toBeLessThanOrEqual((HEALTH.successesBeforeReady - 1) * INTERVAL_MS + TIMEOUT_MS + SLACK_MS);
      // The backend sees the engine again within its driver's reconnect (NATS 1 s, Cassandra <= 5 s, Postgres per query).
      expect(firstUp!.t - back).toBeLessThanOrEqual(5_000 + INTERVAL_MS + TIMEOUT_MS + SLACK_MS);
    } finally {
      await send.stop();
      // A failed step must not leave the engine down for the next engine's test.
      await startEngine(fx.lab(), 'r1', engine).catch((e: unknown) => console.error(`restarting ${engine} of r1: ${(e as Error).message}`));
    }

    // Every message B's sender had acknowledged, exactly once and in order, in each moved client.
    const sent = send.sent;
    expect(sent.length).toBeGreaterThan(10);
    for (const u of [alice, carol]) {
      const c = clients[u.username]!;
      await c.waitForIds(roomId, sent, 15_000);
      await sleep(300);
      const got = c.roomMessages(roomId).map((m) => m.messageId);
      expect(got.filter((id) => sent.includes(id))).toEqual(sent);
      expect(new Set(got).size).toBe(got.length);
      expect(c.duplicatesDropped, `${u.username}: duplicates on the wire`).toBe(0);
      await c.close();
    }
    timings[`${engine} scenario`] = Date.now() - t0;
  }, 240_000);

  it('reports its duration', () => {
    timings['total'] = Date.now() - started;
    expect(timings['total']).toBeGreaterThan(0);
  });
});
