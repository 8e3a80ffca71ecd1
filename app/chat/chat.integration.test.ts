/**
 * The chat backend against the real two-region lab, one backend PROCESS per region (Node 24,
 * `serve` of the image's tsc build of app/, lab/app-build.ts, with the environment a Deployment gives it):
 *   region r1 (A): nats-server r1, Cassandra DC dc1 (127.0.0.1), Postgres node n1, backend r1
 *   region r2 (B): nats-server r2, Cassandra DC dc2 (127.0.0.2), Postgres node n2, backend r2
 * started by `startChatLab` (lab/chat-lab.ts): NATS regions are joined by the generated gateway
 * block (lab/nats.ts); Cassandra is one cluster with two DCs and the `chat` keyspace from
 * bootstrap-cassandra; Postgres nodes replicate both ways through pglogical, set up by
 * bootstrap-spock (pglogical dialect) AFTER `migrate` ran on both nodes, so the bootstrap puts the
 * chat tables into the replication set (the backends run `migrate` again at start: idempotent).
 * Logins receive their code by e-mail: the backends' smtp sender delivers it to Mailpit, and the
 * test reads it through Mailpit's API. The resume test, which needs seams (hooks) inside the
 * server, starts its own in-process server for region B against the lab's engines.
 *
 * The Cassandra and Postgres labs run in their own directories and ports (.lab/chat-*), so this
 * file never touches the labs other suites use. Every engine starts once for the whole file. If
 * one cannot start, every test fails with the reason (nothing is skipped). Holds the lab lock:
 *   flock /tmp/rm/lab.lock npx vitest run app/chat/chat.integration.test.ts
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { join as joinPath } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import cassandra from 'cassandra-driver';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { serveCommand } from '../../lab/backend-process.js';
import { labClient } from '../../lab/cassandra.js';
import { startChatLab, type ChatLab } from '../../lab/chat-lab.js';
import { loopbackAddress } from '../../lab/nats.js';
import { DEFAULT_LAB_DIR } from '../../lab/postgres.js';
import { freePort } from '../../lab/process.js';
import { eventually } from '../../test/chat-fixture.js';
import { configWithRegions, REPO_ROOT, tempDir } from '../../test/helpers.js';
import { bucketOf } from '../cassandra/schema.js';
import { createLogger, type Logger } from '../log.js';
import { ChatClient, type AnyFrame, type MessageEvent } from './client.js';
import { startChatServer, type ChatServer, type ResumeHooks } from './server.js';

const REGIONS = ['r1', 'r2'] as const;
type RegionName = (typeof REGIONS)[number];

const CASSANDRA_DIR = joinPath(REPO_ROOT, '.lab', 'chat-cassandra');
const CASSANDRA_PORTS = { cqlPort: 19142, storagePort: 17100, jmxPorts: [17399, 17499] as [number, number] };
// Beside the other Postgres labs (a folder the postgres OS user can reach, wherever the checkout is).
const POSTGRES_DIR = joinPath(DEFAULT_LAB_DIR, '..', 'chat-postgres');
const POSTGRES_BASE_PORT = 26432;
// The lab's own files (process record, Mailpit, backend logs).
const LAB_DIR = joinPath(DEFAULT_LAB_DIR, '..', 'chat-integration');
const KEYSPACE = 'chat';
const MAX_FRAME = 16_384;
const RATE = 100;
const BURST = 200;

const run = Date.now().toString(36);
const logLines: string[] = [];
const quiet: Logger = createLogger({}, { level: 'info', write: (l) => logLines.push(l) });
const clients: ChatClient[] = [];
const secrets: string[] = [];
let labState: ChatLab<RegionName> | undefined;
let startError: unknown;
let natsWorkDir: string | undefined;
let failed = false;
const timings: Record<string, number> = {};
const children: ChildProcess[] = [];
const hooks: Record<RegionName, ResumeHooks> = { r1: {}, r2: {} };

function lab(): ChatLab<RegionName> {
  if (startError) throw startError instanceof Error ? startError : new Error(String(startError));
  if (!labState) throw new Error('the lab did not start');
  return labState;
}

/** A client of `region`'s backend process (or of `url`, e.g. a test's in-process server of that region). */
async function connect(region: RegionName, url = lab().region(region).backend.url): Promise<ChatClient> {
  const c = await ChatClient.connect(url);
  clients.push(c);
  expect(await c.welcome(5_000)).toMatchObject({ type: 'hello', region, protocol: 1, maxFrameBytes: MAX_FRAME });
  return c;
}

/** The lab address of a test user. */
const emailOf = (name: string) => `${name}-${run}@regionmesh.lab`;

/** The login code mailed to `email` (read from Mailpit), received at or after `since`. */
async function mailedCode(email: string, since?: Date): Promise<string> {
  const code = await lab().mailpit.codeFor(email, { ...(since ? { since } : {}), timeoutMs: 15_000 });
  secrets.push(code);
  return code;
}

/** A logged-in client in `region` (login by one-time code, e-mailed through SMTP to Mailpit). */
async function login(region: RegionName, name: string): Promise<{ client: ChatClient; token: string; userId: string; username: string }> {
  const client = await connect(region);
  const username = `${name}-${run}`;
  const { token, userId } = await client.login(username, () => mailedCode(emailOf(name)), emailOf(name));
  secrets.push(token);
  return { client, token, userId, username };
}

/** room.join, retried while the room has not replicated to this region yet. */
async function join(c: ChatClient, roomId: string, lastSeenMessageId?: string): Promise<AnyFrame & { replayed: number; recovered: boolean }> {
  return eventually(`join ${roomId}`, 20_000, async () => {
    const r = await c.request({ type: 'room.join', roomId, ...(lastSeenMessageId ? { lastSeenMessageId } : {}) });
    if (r.type === 'room.joined') return r as AnyFrame & { replayed: number; recovered: boolean };
    if (r.type === 'error' && (r as { code: string }).code === 'not_found') return undefined;
    throw new Error(`join failed: ${JSON.stringify(r)}`);
  });
}

/** A room anyone may join (`public`), or only invited members (`private`). */
async function createRoom(c: ChatClient, name: string, visibility: 'public' | 'private' = 'public'): Promise<string> {
  const r = await c.expect<AnyFrame & { roomId: string; visibility: string }>({ type: 'room.create', name, visibility }, 'room.created');
  expect(r.visibility).toBe(visibility);
  return r.roomId;
}

/** Every line the backend processes logged so far. */
function backendLogs(): string {
  return lab()
    .regions.map((r) => readFileSync(r.backend.logFile, 'utf8'))
    .join('\n');
}

/** Every page of `history` (newest first) for `roomId`. */
async function fullHistory(c: ChatClient, roomId: string): Promise<MessageEvent[]> {
  const out: MessageEvent[] = [];
  let before: string | undefined;
  for (let page = 0; page < 20; page++) {
    const r = await c.expect<AnyFrame & { messages: MessageEvent[]; nextBefore?: string }>(
      { type: 'history', roomId, limit: 100, ...(before ? { before } : {}) },
      'history.page',
    );
    out.push(...r.messages);
    if (!r.nextBefore) return out;
    before = r.nextBefore;
  }
  throw new Error('history did not end within 20 pages');
}

const ids = (ms: ReadonlyArray<{ messageId: string }>) => ms.map((m) => m.messageId);

/**
 * Resolves once `c` has received message `id`, now or earlier: a message is published before
 * its sender's `message.sent`, so a member often has it before the sender's send resolves.
 */
async function seen(c: ChatClient, id: string, timeoutMs: number): Promise<void> {
  if (c.messages.some((m) => m.messageId === id)) return;
  await c.waitFor((f) => f.type === 'message' && (f as MessageEvent).messageId === id, timeoutMs, `message ${id}`);
}

async function pgCounts(region: RegionName): Promise<Record<string, number>> {
  const client = new pg.Client(lab().region(region).postgres.adminConnectionConfig);
  await client.connect();
  try {
    const out: Record<string, number> = {};
    for (const t of ['public.users', 'public.username_claims', 'public.rooms', 'public.room_members', 'public.sessions', 'chat_local.otps']) {
      out[t] = Number((await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${t}`)).rows[0]?.n ?? -1);
    }
    return out;
  } finally {
    await client.end();
  }
}

async function cassandraCounts(): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  // message_client_ids: the de-duplication rows of the write path; client_messages: the former (LWT) one.
  for (const t of ['messages', 'message_client_ids', 'client_messages']) {
    const r = await lab().cql.execute(`SELECT count(*) AS n FROM ${KEYSPACE}.${t}`, [], { consistency: cassandra.types.consistencies.localQuorum });
    out[t] = Number(r.first()?.get('n') ?? -1);
  }
  return out;
}

describe('chat backend in two regions (real NATS super-cluster, Cassandra 2 DCs, Postgres + pglogical)', () => {
  beforeAll(async () => {
    try {
      const gatewayPort = await freePort([1, 2].map(loopbackAddress));
      const config = configWithRegions(2, (c) => {
        c.dns.clusterSuffix = 'lab';
        c.nats!.gateway = { ...c.nats!.gateway, port: gatewayPort };
      });
      natsWorkDir = tempDir('regionmesh-chat-nats-');
      const started = await startChatLab<RegionName>({
        config,
        dir: LAB_DIR,
        dirs: { nats: natsWorkDir, cassandra: CASSANDRA_DIR, postgres: POSTGRES_DIR },
        ports: { backends: [0, 0], natsBase: 0, cassandra: CASSANDRA_PORTS, postgresBase: POSTGRES_BASE_PORT },
        log: quiet,
        rate: { perSecond: RATE, burst: BURST },
        maxFrameBytes: MAX_FRAME,
        shutdownGraceSeconds: 10,
      });
      labState = started;
      Object.assign(timings, started.timings);
      expect(started.keyspace).toBe(KEYSPACE);
      expect(started.regions.map((r) => [r.name, r.dataCenter, r.pgNode])).toEqual([
        ['r1', 'dc1', 'n1'],
        ['r2', 'dc2', 'n2'],
      ]);
      secrets.push(started.appPassword, started.nats.region('r1').credentials.password, started.nats.region('r2').credentials.password);
      console.log(`chat lab up: ${JSON.stringify(timings)}`);
    } catch (e) {
      startError = e;
    }
  }, 600_000);

  // Every test fails with the lab's start-up error, and a test that builds on test 1's users and
  // room says so: never a follow-on TypeError (`reading 'client'` of an undefined user).
  beforeEach((ctx) => {
    lab();
    if (/^(room\.leave|[2-5]\. )/.test(ctx.task.name) && (alice === undefined || bob === undefined || room1 === undefined)) {
      throw new Error('test "1. two clients in different regions ..." did not log in alice and bob or create their room (see its failure); this test builds on them');
    }
  });

  afterEach((ctx) => {
    if (ctx.task.result?.state === 'fail') failed = true;
  });

  afterAll(async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    await labState?.stop();
    if (failed || startError) {
      console.error(`lab log (last 40 lines):\n${logLines.slice(-40).join('\n')}`);
      for (const r of labState?.regions ?? []) console.error(`--- ${r.backend.logFile} (last 60 lines)\n${readFileSync(r.backend.logFile, 'utf8').trimEnd().split('\n').slice(-60).join('\n')}`);
    }
    if (natsWorkDir && !failed && !startError) rmSync(natsWorkDir, { recursive: true, force: true });
  }, 120_000);

  let alice: Awaited<ReturnType<typeof login>>; // region r1, set by test 1
  let bob: Awaited<ReturnType<typeof login>>; // region r2, set by test 1
  let room1: string;
  let room2: string;

  it('serves /healthz, /readyz and /metrics in both regions', async () => {
    for (const r of REGIONS) {
      const s = lab().region(r).backend;
      expect((await fetch(`${s.httpUrl}/healthz`)).status).toBe(200);
      const ready = await fetch(`${s.httpUrl}/readyz`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toMatchObject({ ready: true, region: r, nats: true, cassandra: true, postgres: true, down: [] });
      const metrics = await (await fetch(`${s.httpUrl}/metrics`)).text();
      for (const name of ['chat_connections', 'chat_messages_in_total', 'chat_nats_up 1', 'chat_cassandra_up 1', 'chat_postgres_up 1']) expect(metrics).toContain(name);
      expect((await fetch(`${s.httpUrl}/nope`)).status).toBe(404);
    }
  });

  it('1. two clients in different regions in one room get each other\'s messages', async () => {
    alice = await login('r1', 'alice');
    bob = await login('r2', 'bob');
    room1 = await createRoom(alice.client, 'one');
    await join(alice.client, room1);
    await join(bob.client, room1); // waits for the room to replicate to n2

    const m1 = await alice.client.sendMessage(room1, 'hello from r1', 'a-1');
    const atBob = await bob.client.waitForMessages(room1, 1, 10_000);
    expect(atBob[0]).toMatchObject({ type: 'message', roomId: room1, messageId: m1, authorId: alice.userId, body: 'hello from r1', originRegion: 'r1' });

    const m2 = await bob.client.sendMessage(room1, 'hello from r2', 'b-1');
    const atAlice = await alice.client.waitForMessages(room1, 2, 10_000);
    expect(atAlice.map((m) => [m.messageId, m.originRegion, m.authorId])).toEqual([
      [m1, 'r1', alice.userId],
      [m2, 'r2', bob.userId],
    ]);
    expect(Date.parse(atAlice[1]!.createdAt)).toBeGreaterThanOrEqual(Date.parse(atAlice[0]!.createdAt));

    // Typing fans out across regions (not to the typist), debounced, never stored.
    const typingAtAlice = () => alice.client.frames.filter((f) => f.type === 'typing').length;
    // Waiting starts before the send: the event is published before bob's typing.ok is written, so it can reach alice first.
    const typingEvent = alice.client.waitFor((f) => f.type === 'typing', 10_000, 'typing event');
    expect(await bob.client.request({ type: 'typing', roomId: room1 })).toMatchObject({ type: 'typing.ok', roomId: room1 });
    expect(await typingEvent).toEqual({ type: 'typing', roomId: room1, userId: bob.userId });
    expect(await bob.client.request({ type: 'typing', roomId: room1 })).toMatchObject({ type: 'typing.ok' });
    await sleep(700);
    expect(typingAtAlice()).toBe(1);
    expect(bob.client.frames.filter((f) => f.type === 'typing')).toEqual([]);
  }, 60_000);

  it('room.leave stops delivery to that client and its membership', async () => {
    const roomL = await createRoom(alice.client, 'leave-me');
    await join(alice.client, roomL);
    await join(bob.client, roomL);
    const m1 = await alice.client.sendMessage(roomL, 'before leave', 'a-l-1');
    await bob.client.waitForMessages(roomL, 1, 10_000);
    expect(await bob.client.request({ type: 'room.leave', roomId: roomL })).toMatchObject({ type: 'room.left', roomId: roomL });
    await alice.client.sendMessage(roomL, 'after leave', 'a-l-2');
    await sleep(700);
    expect(ids(bob.client.roomMessages(roomL))).toEqual([m1]);
    expect(await bob.client.request({ type: 'message.send', roomId: roomL, clientMessageId: 'b-l-1', body: 'x' })).toMatchObject({ type: 'error', code: 'not_member' });
    expect(await bob.client.request({ type: 'history', roomId: roomL })).toMatchObject({ type: 'error', code: 'not_member' });
  }, 60_000);

  it('2. after both send 100 messages, both regions\' history returns the same 200 in the same order', async () => {
    room2 = await createRoom(alice.client, 'two');
    await join(alice.client, room2);
    await join(bob.client, room2);
    const send = async (who: typeof alice, prefix: string) => {
      const out: string[] = [];
      for (let i = 0; i < 100; i++) out.push(await who.client.sendMessage(room2, `${prefix} ${i}`, `${prefix}-r2-${i}`));
      return out;
    };
    const t0 = Date.now();
    const [fromAlice, fromBob] = await Promise.all([send(alice, 'a'), send(bob, 'b')]);
    timings['200 sends'] = Date.now() - t0;
    const sent = new Set([...fromAlice, ...fromBob]);
    expect(sent.size).toBe(200);

    // Live: each client got all 200, each sender's messages in send order, no duplicates.
    for (const c of [alice.client, bob.client]) {
      const got = ids(await c.waitForMessages(room2, 200, 30_000));
      expect(got).toHaveLength(200);
      expect(new Set(got)).toEqual(sent);
      expect(got.filter((id) => fromAlice.includes(id))).toEqual(fromAlice);
      expect(got.filter((id) => fromBob.includes(id))).toEqual(fromBob);
    }

    // Stored once each, by the receiving region; replicated so both regions page the same history.
    const t1 = Date.now();
    const histories = await eventually('both regions converge on 200 messages', 30_000, async () => {
      const h1 = await fullHistory(alice.client, room2);
      const h2 = await fullHistory(bob.client, room2);
      return h1.length === 200 && h2.length === 200 && ids(h1).join() === ids(h2).join() ? [h1, h2] : undefined;
    });
    timings['history convergence'] = Date.now() - t1;
    const [h1] = histories;
    expect(new Set(ids(h1!))).toEqual(sent);
    const sorted = [...ids(h1!)].sort().reverse();
    expect(ids(h1!)).toEqual(sorted); // newest first by message id
    expect(h1!.filter((m) => m.originRegion === 'r1').map((m) => m.authorId)).toEqual(Array(100).fill(alice.userId));
    expect(h1!.filter((m) => m.originRegion === 'r2').map((m) => m.authorId)).toEqual(Array(100).fill(bob.userId));

    // Paging: 3 pages of 70 reproduce the same order, and the cursor excludes itself.
    const p1 = await alice.client.expect<AnyFrame & { messages: MessageEvent[]; nextBefore: string }>({ type: 'history', roomId: room2, limit: 70 }, 'history.page');
    const p2 = await alice.client.expect<AnyFrame & { messages: MessageEvent[]; nextBefore: string }>(
      { type: 'history', roomId: room2, limit: 70, before: p1.nextBefore },
      'history.page',
    );
    expect([...ids(p1.messages), ...ids(p2.messages)]).toEqual(ids(h1!).slice(0, 140));

    // Every delivery was measured, labelled by path.
    const metrics = await (await fetch(`${lab().region('r1').backend.httpUrl}/metrics`)).text();
    expect(metrics).toMatch(/chat_delivery_latency_seconds_count\{path="cross_region"\} [1-9]/);
    expect(metrics).toMatch(/chat_delivery_latency_seconds_count\{path="same_region"\} [1-9]/);
    expect(metrics).toMatch(/chat_messages_in_total [1-9]/);
  }, 120_000);

  it('3. a client away for 20 messages resumes with its last id: exactly those 20 in order, then live, no gap, no duplicate', async () => {
    // Region B's resume runs in a server of this process (the seams are hooks), on the lab's engines.
    const b2: ChatServer = await startChatServer({ ...lab().region('r2').settings, port: 0 }, { log: quiet, hooks: hooks.r2, healthIntervalMs: 500 });
    try {
      await b2.ready(60_000);
      await resumeInRegionB(b2);
    } finally {
      await b2.close();
    }
  }, 120_000);

  /** Test 3 against `b2`, an in-process server of region B: resumes, the deterministic races, a NATS reconnect. */
  async function resumeInRegionB(b2: ChatServer): Promise<void> {
    const carol = await login('r2', 'carol');
    await join(carol.client, room1);
    const before = await alice.client.sendMessage(room1, 'before carol leaves', 'a-before');
    await carol.client.waitForMessages(room1, 1, 10_000);
    const lastSeen = carol.client.roomMessages(room1).at(-1)!.messageId;
    expect(lastSeen).toBe(before);
    await carol.client.close();

    const missed: string[] = [];
    for (let i = 0; i < 20; i++) missed.push(await alice.client.sendMessage(room1, `missed ${i}`, `a-missed-${i}`));
    // The replay reads region B's own DC: wait until the 20 rows have replicated to dc2.
    const dc2 = labClient(lab().cassandra.node('dc2'));
    await dc2.connect();
    try {
      await eventually('20 missed messages replicated to dc2', 20_000, async () => {
        const r = await dc2.execute(`SELECT message_id FROM ${KEYSPACE}.messages WHERE room_id = ? AND bucket IN ? AND message_id > ?`, [room1, [...new Set(missed.map((id) => bucketOf(id)))], lastSeen], {
          prepare: true,
          consistency: cassandra.types.consistencies.localOne,
        });
        return r.rowLength >= 20 ? true : undefined;
      });
    } finally {
      await dc2.shutdown();
    }

    const back = await connect('r2', b2.url);
    await back.auth(carol.token);
    // Messages keep coming while carol resumes (from the moment her live subscription exists):
    // each must arrive exactly once, in order, after the replay.
    let during: Promise<string[]> | undefined;
    hooks.r2.beforeReplay = async () => {
      during ??= (async () => {
        const out: string[] = [];
        for (let i = 0; i < 10; i++) out.push(await alice.client.sendMessage(room1, `during ${i}`, `a-during-${i}`));
        return out;
      })();
    };
    let joined: Awaited<ReturnType<typeof join>>;
    try {
      joined = await join(back, room1, lastSeen);
    } finally {
      hooks.r2.beforeReplay = undefined;
    }
    expect(joined.recovered).toBe(true);
    expect(joined.replayed).toBeGreaterThanOrEqual(20);
    expect(during).toBeDefined();
    const duringIds = (await during)!;
    const after: string[] = [];
    for (let i = 0; i < 5; i++) after.push(await alice.client.sendMessage(room1, `after ${i}`, `a-after-${i}`));
    const got = ids(await back.waitForMessages(room1, 35, 15_000));
    await sleep(500); // nothing extra may trail in
    const all = ids(back.roomMessages(room1));
    expect(all).toEqual([...missed, ...duringIds, ...after]);
    expect(got.slice(0, 20)).toEqual(missed);
    // The 20 missed came before room.joined (the replay), in order.
    const joinedAt = back.frames.findIndex((f) => f.type === 'room.joined');
    const firstMsgAt = back.frames.findIndex((f) => f.type === 'message');
    expect(firstMsgAt).toBeLessThan(joinedAt);
    await back.close();

    // Deterministic races: messages published while the resume is between its steps.
    //  - before the replay read: they reach the live buffer AND the replay (must appear once);
    //  - after the replay read: they reach only the live buffer (must not be lost).
    const lastSeen2 = all.at(-1)!;
    const away: string[] = [];
    for (let i = 0; i < 5; i++) away.push(await alice.client.sendMessage(room1, `away ${i}`, `a-away-${i}`));
    const inBoth: string[] = [];
    const bufferOnly: string[] = [];
    // A member connected to the same server: once it has a message, that server's room subscription
    // (shared by every socket of the room there, the resuming one included) has it.
    const watcher = await connect('r2', b2.url);
    await watcher.auth(bob.token);
    await join(watcher, room1);
    const seenByBob = (id: string) => seen(watcher, id, 10_000);
    const replicatedToDc2 = async (ids: string[]) => {
      const dc2c = labClient(lab().cassandra.node('dc2'));
      await dc2c.connect();
      try {
        await eventually('replicated to dc2', 20_000, async () => {
          const r = await dc2c.execute(`SELECT message_id FROM ${KEYSPACE}.messages WHERE room_id = ? AND bucket IN ? AND message_id IN ?`, [room1, [...new Set(ids.map((id) => bucketOf(id)))], ids], {
            prepare: true,
            consistency: cassandra.types.consistencies.localOne,
          });
          return r.rowLength === ids.length ? true : undefined;
        });
      } finally {
        await dc2c.shutdown();
      }
    };
    hooks.r2.beforeReplay = async () => {
      for (let i = 0; i < 3; i++) {
        const id = await alice.client.sendMessage(room1, `racing replay ${i}`, `a-race-before-${i}`);
        inBoth.push(id);
        await seenByBob(id); // region B's backend has it from NATS (so the resuming client's buffer has it)
      }
      await replicatedToDc2([...away, ...inBoth]); // ... and the replay read will find it too
    };
    hooks.r2.afterReplay = async () => {
      for (let i = 0; i < 3; i++) {
        const id = await alice.client.sendMessage(room1, `racing flush ${i}`, `a-race-after-${i}`);
        bufferOnly.push(id);
        await seenByBob(id);
      }
    };
    let again: ChatClient | undefined;
    try {
      await replicatedToDc2(away);
      again = await connect('r2', b2.url);
      await again.auth(carol.token);
      const j = await join(again, room1, lastSeen2);
      expect(j.replayed).toBe(away.length + inBoth.length);
      await sleep(500);
      expect(ids(again.roomMessages(room1))).toEqual([...away, ...inBoth, ...bufferOnly]);
    } finally {
      hooks.r2.beforeReplay = undefined;
      hooks.r2.afterReplay = undefined;
    }

    // When region B's backend reconnects to NATS, its clients are told to re-join with their cursor;
    // the re-join replays nothing twice and the room stays live.
    const resumed = again!;
    const resyncFrame = resumed.waitFor((f) => f.type === 'resync', 15_000, 'resync');
    await b2.natsConnection()!.reconnect();
    expect(await resyncFrame).toMatchObject({ type: 'resync', roomIds: [room1] });
    const cursor = resumed.roomMessages(room1).at(-1)!.messageId;
    const countBefore = resumed.roomMessages(room1).length;
    expect(await join(resumed, room1, cursor)).toMatchObject({ replayed: 0, recovered: true });
    const live = await alice.client.sendMessage(room1, 'after resync', 'a-after-resync');
    await seen(resumed, live, 15_000);
    await sleep(300);
    expect(ids(resumed.roomMessages(room1)).slice(countBefore)).toEqual([live]);
  }

  it('5. hostile frames each get a protocol error or a limit; the process survives and nothing is stored', async () => {
    const s = lab().region('r1').backend;
    const mallory = await login('r1', 'mallory');
    const own = await createRoom(mallory.client, 'mallory');
    await join(mallory.client, own);
    const own2 = await createRoom(mallory.client, 'mallory-2');
    const firstId = await mallory.client.sendMessage(own, 'legit', 'm-1');
    await sleep(300);
    const pgBefore = await pgCounts('r1');
    const casBefore = await cassandraCounts();
    const errorsBefore = await (await fetch(`${s.httpUrl}/metrics`)).text();

    const m = mallory.client;
    const results: Array<[string, string]> = [];
    const expectError = async (what: string, frame: Record<string, unknown> & { type: string }, code: string) => {
      const r = await m.request(frame, 10_000);
      results.push([what, r.type === 'error' ? (r as { code: string }).code : r.type]);
      expect(r, what).toMatchObject({ type: 'error', code });
    };
    const expectRawError = async (what: string, raw: string | Buffer, code: string, binary = false) => {
      const next = m.waitFor((f) => f.type === 'error', 10_000, `error for ${what}`);
      m.sendRaw(raw, { binary });
      const r = await next;
      results.push([what, (r as { code: string }).code]);
      expect(r, what).toMatchObject({ type: 'error', code });
    };
    const v4 = '9b2f6a4e-3c1d-4e5f-8a7b-6c5d4e3f2a1b';
    const strangerRoom = '01900000-0000-7000-8000-00000000dead';

    await expectRawError('truncated JSON', '{"type":', 'bad_json');
    await expectRawError('empty text frame', '', 'bad_json');
    await expectRawError('JSON array', '[1,2,3]', 'bad_frame');
    await expectRawError('JSON number', '42', 'bad_frame');
    await expectRawError('JSON null', 'null', 'bad_frame');
    await expectRawError('binary frame', Buffer.from('{"type":"ping"}'), 'binary_not_supported', true);
    await expectRawError('__proto__ pollution', '{"type":"message.send","__proto__":{"isAdmin":true},"roomId":"x"}', 'bad_frame');
    await expectRawError('constructor.prototype pollution', '{"type":"ping","constructor":{"prototype":{"x":1}}}', 'bad_frame');
    await expectRawError('number beyond double range in ref', '{"type":"ping","ref":1e400}', 'bad_frame');
    await expectError('missing type', { type: undefined as unknown as string }, 'bad_frame');
    await expectError('unknown type', { type: 'admin.dropAll' }, 'unknown_type');
    await expectError('unknown field', { type: 'ping', sudo: true }, 'bad_frame');
    await expectError('body of wrong type', { type: 'message.send', roomId: own, clientMessageId: 'h-1', body: { $ne: 1 } }, 'bad_frame');
    await expectError('blank body', { type: 'message.send', roomId: own, clientMessageId: 'h-2', body: ' \n ' }, 'bad_frame');
    await expectError('body over 4000 chars', { type: 'message.send', roomId: own, clientMessageId: 'h-3', body: 'x'.repeat(4_001) }, 'bad_frame');
    await expectError('control characters', { type: 'message.send', roomId: own, clientMessageId: 'h-4', body: 'bell\u0007' }, 'bad_frame');
    await expectError('client id with spaces', { type: 'message.send', roomId: own, clientMessageId: 'a b', body: 'x' }, 'bad_frame');
    await expectError('room id not a uuid', { type: 'message.send', roomId: "1' OR '1'='1", clientMessageId: 'h-5', body: 'x' }, 'bad_frame');
    await expectError('huge limit', { type: 'history', roomId: own, limit: 1e308 }, 'bad_frame');
    await expectError('negative limit', { type: 'history', roomId: own, limit: -1 }, 'bad_frame');
    await expectError('unknown room (join)', { type: 'room.join', roomId: strangerRoom }, 'not_found');
    // A room this user cannot see does not exist for it (README: a private room's existence is not revealed).
    await expectError('unknown room (send)', { type: 'message.send', roomId: strangerRoom, clientMessageId: 'h-6', body: 'x' }, 'not_found');
    await expectError('not a member (send)', { type: 'message.send', roomId: room1, clientMessageId: 'h-7', body: 'let me in' }, 'not_member');
    await expectError('not a member (history)', { type: 'history', roomId: room1 }, 'not_member');
    await expectError('not a member (typing)', { type: 'typing', roomId: room1 }, 'not_member');
    await expectError('bad cursor (garbage)', { type: 'history', roomId: own, before: 'zzz' }, 'bad_cursor');
    await expectError('bad cursor (v4 uuid)', { type: 'history', roomId: own, before: v4 }, 'bad_cursor');
    await expectError('bad resume cursor', { type: 'room.join', roomId: own, lastSeenMessageId: '../../etc/passwd' }, 'bad_cursor');
    await expectError('client id reused for another room', { type: 'message.send', roomId: own2, clientMessageId: 'm-1', body: 'x' }, 'bad_frame');
    await expectError('second auth on an authenticated connection', { type: 'auth', token: 'A'.repeat(43) }, 'already_authenticated');
    await expectError('login.request with an invalid name', { type: 'login.request', username: '<script>' }, 'invalid_username');
    // A replayed client id returns the SAME message id and stores nothing.
    const replay = await m.request({ type: 'message.send', roomId: own, clientMessageId: 'm-1', body: 'legit' });
    results.push(['replayed client id', replay.type]);
    expect(replay).toMatchObject({ type: 'message.sent', messageId: firstId, duplicate: true });

    // Fresh, unauthenticated connections.
    const anon = await connect('r1');
    for (const [what, frame, code] of [
      ['unauthenticated send', { type: 'message.send', roomId: own, clientMessageId: 'u-1', body: 'x' }, 'unauthenticated'],
      ['unauthenticated room.create', { type: 'room.create', name: 'x' }, 'unauthenticated'],
      ['unauthenticated history', { type: 'history', roomId: own }, 'unauthenticated'],
      ['forged session token', { type: 'auth', token: randomBytes(32).toString('base64url') }, 'auth_failed'],
      ['wrong login code', { type: 'login.verify', username: mallory.username, code: '000000' }, 'invalid_code'],
    ] as const) {
      const r = await anon.request(frame as unknown as Record<string, unknown> & { type: string });
      results.push([what, (r as { code?: string }).code ?? r.type]);
      expect(r, what).toMatchObject({ type: 'error', code });
    }
    // Brute-forcing tokens: closed with 1008 after 5 failures.
    const guesser = await connect('r1');
    for (let i = 0; i < 5; i++) await guesser.request({ type: 'auth', token: randomBytes(32).toString('base64url') }).catch(() => undefined);
    expect((await guesser.closed).code).toBe(1008);
    results.push(['token guessing', 'closed 1008']);

    // Oversized frame: the limit closes the connection (1009).
    const big = await connect('r1');
    big.sendRaw(JSON.stringify({ type: 'room.create', name: 'x'.repeat(MAX_FRAME) }));
    expect((await big.closed).code).toBe(1009);
    results.push(['oversized frame', 'closed 1009']);

    // Invalid UTF-8 in a text frame: closed (1007).
    const utf = await connect('r1');
    utf.ws.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: false });
    expect((await utf.closed).code).toBe(1007);
    results.push(['invalid UTF-8', 'closed 1007']);

    // Flooding: past the burst, rate_limited; continuing, closed with 1008.
    const flood = await connect('r1');
    const n = 3 * BURST;
    const floodStart = performance.now();
    for (let i = 0; i < n; i++) flood.send({ type: 'ping', ref: i });
    const closed = await flood.closed;
    const floodSeconds = (performance.now() - floodStart) / 1000;
    expect(closed.code).toBe(1008);
    const limited = flood.frames.filter((f) => f.type === 'error' && (f as { code: string }).code === 'rate_limited').length;
    expect(limited).toBeGreaterThan(0);
    // The bucket's model: the burst, plus what RATE refills while the server works through the
    // flood (at most the time from the first send to the close), plus one token in flight.
    expect(flood.frames.filter((f) => f.type === 'pong').length).toBeLessThanOrEqual(BURST + Math.ceil(RATE * floodSeconds) + 1);
    results.push(['flooding', `rate_limited x${limited}, closed 1008`]);

    expect(results.length).toBeGreaterThanOrEqual(30);

    // The process survived: health, metrics, and a good client still works (in both directions).
    expect((await fetch(`${s.httpUrl}/healthz`)).status).toBe(200);
    expect((await fetch(`${s.httpUrl}/readyz`)).status).toBe(200);
    const pingReply = await m.request({ type: 'ping' });
    expect(pingReply.type).toBe('pong');

    // Nothing was stored by any of it.
    await sleep(500);
    expect(await pgCounts('r1')).toEqual(pgBefore);
    expect(await cassandraCounts()).toEqual(casBefore);
    const okId = await alice.client.sendMessage(room1, 'still working', `a-after-hostile`);
    await seen(bob.client, okId, 10_000);
    expect((await cassandraCounts())['messages']).toBe(casBefore['messages']! + 1);

    const errorsAfter = await (await fetch(`${s.httpUrl}/metrics`)).text();
    const count = (text: string, code: string) => Number(new RegExp(`chat_protocol_errors_total\\{code="${code}"\\} (\\d+)`).exec(text)?.[1] ?? 0);
    for (const code of ['bad_json', 'bad_frame', 'not_member', 'bad_cursor', 'rate_limited', 'frame_too_large', 'unauthenticated', 'binary_not_supported']) {
      expect(count(errorsAfter, code), code).toBeGreaterThan(count(errorsBefore, code));
    }
    // Logs (the lab's and both backend processes') never carry a token, a code or a password.
    const logs = `${logLines.join('\n')}\n${backendLogs()}`;
    for (const secret of secrets) expect(logs.includes(secret)).toBe(false);
  }, 90_000);

  it('login codes are hashed, region-local (never replicated), limited in attempts and in number', async () => {
    const eve = `eve-${run}`;
    const eveEmail = emailOf('eve');
    const c1 = await connect('r1');
    // A new user gives an address with the request; it is bound when a code is verified.
    await c1.expect({ type: 'login.request', username: eve, email: eveEmail }, 'login.code_sent');
    const code = await mailedCode(eveEmail);
    expect(code).toMatch(/^[0-9]{6}$/);
    const q = async (region: RegionName, sql: string, params: unknown[] = []) => {
      const client = new pg.Client(lab().region(region).postgres.adminConnectionConfig);
      await client.connect();
      try {
        return (await client.query(sql, params)).rows as Array<Record<string, unknown>>;
      } finally {
        await client.end();
      }
    };
    const [row] = await q('r1', 'SELECT code_hash, salt, attempts, expires_at > now() AS live FROM chat_local.otps WHERE username_norm = $1', [eve]);
    expect(row).toMatchObject({ attempts: 0, live: true });
    expect((row!['code_hash'] as Buffer).length).toBe(32);
    expect((row!['salt'] as Buffer).length).toBe(16);
    expect((row!['code_hash'] as Buffer).toString('latin1')).not.toContain(code);
    // The user and its claim replicate to n2; the code does not.
    await eventually('username claim replicated to n2', 20_000, async () =>
      (await q('r2', 'SELECT 1 FROM public.username_claims WHERE username_norm = $1', [eve])).length === 1 ? true : undefined,
    );
    expect(await q('r2', 'SELECT 1 FROM chat_local.otps WHERE username_norm = $1', [eve])).toEqual([]);
    const repset = (await q('r1', 'SELECT set_reloid::regclass::text AS t FROM pglogical.replication_set_table ORDER BY 1')).map((r) => String(r['t']));
    expect(repset).toEqual(expect.arrayContaining(['room_members', 'rooms', 'sessions', 'username_claims', 'users']));
    expect(repset.join()).not.toContain('otps');

    // Five wrong guesses use the code up: the right code no longer works.
    const wrong = code === '999999' ? '999998' : '999999';
    for (let i = 0; i < 4; i++) expect(await c1.request({ type: 'login.verify', username: eve, code: wrong })).toMatchObject({ type: 'error', code: 'invalid_code' });
    const c2 = await connect('r1');
    expect(await c2.request({ type: 'login.verify', username: eve, code: wrong })).toMatchObject({ type: 'error', code: 'invalid_code' });
    expect(await c2.request({ type: 'login.verify', username: eve, code })).toMatchObject({ type: 'error', code: 'invalid_code' });
    expect((await q('r1', 'SELECT attempts FROM chat_local.otps WHERE username_norm = $1', [eve]))[0]).toEqual({ attempts: 5 });
    // A code is only good in the region that issued it.
    const inB = await connect('r2');
    expect(await inB.request({ type: 'login.verify', username: eve, code })).toMatchObject({ type: 'error', code: 'invalid_code' });

    // At most 5 live codes per name; the newest one logs in and every code of the name is gone.
    for (let i = 0; i < 3; i++) await c2.expect({ type: 'login.request', username: eve, email: eveEmail }, 'login.code_sent');
    const beforeNewest = new Date();
    await c2.expect({ type: 'login.request', username: eve, email: eveEmail }, 'login.code_sent');
    expect(await c2.request({ type: 'login.request', username: eve, email: eveEmail })).toMatchObject({ type: 'error', code: 'too_many_codes' });
    const newest = await mailedCode(eveEmail, beforeNewest);
    // One mail per code issued (the refused sixth request sent none).
    expect(await lab().mailpit.messagesTo(eveEmail)).toHaveLength(5);
    const ok = await c2.expect<AnyFrame & { token: string; userId: string }>({ type: 'login.verify', username: eve.toUpperCase(), code: newest }, 'login.ok');
    secrets.push(ok.token);
    expect(await q('r1', 'SELECT 1 FROM chat_local.otps WHERE username_norm = $1', [eve])).toEqual([]);
    expect(await c2.request({ type: 'login.verify', username: eve, code: newest })).toMatchObject({ type: 'error', code: 'already_authenticated' });
    const c3 = await connect('r1');
    expect(await c3.request({ type: 'login.verify', username: eve, code: newest })).toMatchObject({ type: 'error', code: 'invalid_code' });
    // Sessions are stored hashed (and replicate): the raw token is nowhere in the table.
    const sessions = await q('r1', 'SELECT token_hash FROM public.sessions WHERE user_id = $1', [ok.userId]);
    expect(sessions).toHaveLength(1);
    expect(sessions[0]!['token_hash']).toMatch(/^[0-9a-f]{64}$/);
    expect(String(sessions[0]!['token_hash'])).not.toContain(ok.token);
  }, 60_000);

  it('4. with region A\'s NATS and backend stopped, region B keeps chatting and still serves A\'s history', async () => {
    const { nats } = lab();
    const a = lab().region('r1').backend;
    const b = lab().region('r2').backend;
    const dave = await login('r2', 'dave');
    await join(dave.client, room1);
    // Region A goes away: its nats-server dies; A's backend tells its clients to go to another
    // region (4001) and refuses new ones; then A's backend process is stopped (SIGTERM).
    const aliceClosed = alice.client.closed;
    const r1 = nats.region('r1');
    process.kill(r1.pid, 'SIGKILL');
    await eventually('nats-server r1 gone', 10_000, async () => {
      try {
        process.kill(r1.pid, 0);
        return undefined;
      } catch {
        return true;
      }
    });
    const t0 = Date.now();
    const closeInfo = await Promise.race([aliceClosed, sleep(20_000).then(() => ({ code: -1, reason: 'not closed within 20 s' }))]);
    timings['NATS down to 4001'] = Date.now() - t0;
    expect(closeInfo.code).toBe(4001);
    expect(closeInfo.reason).toMatch(/another region/);
    const notReady = await eventually('region A reports NATS down', 15_000, async () => {
      const r = await fetch(`${a.httpUrl}/readyz`);
      return r.status === 503 ? ((await r.json()) as Record<string, unknown>) : undefined;
    });
    expect(notReady).toMatchObject({ ready: false, nats: false, cassandra: true, postgres: true, down: ['nats'] });
    expect(await (await fetch(`${a.httpUrl}/metrics`)).text()).toMatch(/^chat_nats_up(\{[^}]*\})? 0$/m);
    await expect(ChatClient.connect(a.url)).rejects.toThrow(/HTTP 503/);
    const t1 = Date.now();
    const aPid = a.pid();
    await a.stop();
    timings['region A shutdown'] = Date.now() - t1;
    const aExit = a.exits.at(-1);
    await expect(fetch(`${a.httpUrl}/healthz`, { signal: AbortSignal.timeout(2_000) })).rejects.toThrow();

    // B keeps chatting.
    const m1 = await bob.client.sendMessage(room1, 'A is down, B is fine', 'b-a-down-1');
    await seen(dave.client, m1, 10_000);
    const m2 = await dave.client.sendMessage(room1, 'still here', 'd-a-down-1');
    await seen(bob.client, m2, 10_000);
    expect((await fetch(`${b.httpUrl}/readyz`)).status).toBe(200);

    // A's client reconnects to B with its (replicated) session and goes on.
    const aliceAgain = await connect('r2');
    expect(await aliceAgain.auth(alice.token)).toBe(alice.userId);
    // She resumes with the newest message she had when A closed her: what B's users said while
    // she was away (m1, m2) is replayed, nothing she had comes twice.
    const had = alice.client.roomMessages(room1).map((m) => m.messageId);
    const lastSeen = [...had].sort().at(-1)!;
    await join(aliceAgain, room1, lastSeen);
    const replayed = aliceAgain.roomMessages(room1).map((m) => m.messageId);
    expect(replayed).toEqual(expect.arrayContaining([m1, m2]));
    expect(replayed.filter((id) => had.includes(id))).toEqual([]);
    expect(new Set(replayed).size).toBe(replayed.length);
    const m3 = await aliceAgain.sendMessage(room1, 'hello from A, via B', 'a-via-b');
    await seen(bob.client, m3, 10_000);

    // B still serves the history written in A: all 100 of alice's room-2 messages (stored in dc1, replicated to dc2).
    const h = await fullHistory(bob.client, room2);
    expect(h).toHaveLength(200);
    expect(h.filter((x) => x.originRegion === 'r1')).toHaveLength(100);
    expect(h.filter((x) => x.originRegion === 'r1').every((x) => x.authorId === alice.userId)).toBe(true);

    // A's backend exited by itself, cleanly, within its grace period (checked last: the rest does not depend on it).
    expect(aExit, `region A's backend after SIGTERM (lab stops it with SIGKILL after 15 s)`).toMatchObject({ pid: aPid, code: 0, signal: null });
    expect(timings['region A shutdown']).toBeLessThan(10_000);
  }, 90_000);

  it('`serve` as a process: env contract, development code sender, SIGTERM closes sockets with 1012 and exits 0 within the grace period', async () => {
    const { nats, cassandra: cas, postgres } = lab();
    const n2 = postgres.node('n2');
    const app = postgres.certs.clients['app']!;
    const port = await freePort();
    const env: Record<string, string> = {
      PATH: process.env['PATH'] ?? '/usr/bin:/bin',
      HOME: process.env['HOME'] ?? '/root',
      LOG_LEVEL: 'info',
      CHAT_REGION: 'r2',
      CHAT_PORT: String(port),
      NATS_URL: nats.region('r2').clientUrl,
      NATS_USER: nats.region('r2').credentials.user,
      NATS_PASSWORD: nats.region('r2').credentials.password,
      CASSANDRA_CONTACT_POINTS: cas.node('dc2').contactPoint,
      CASSANDRA_LOCAL_DC: 'dc2',
      CASSANDRA_KEYSPACE: KEYSPACE,
      CASSANDRA_USERNAME: lab().appRole,
      CASSANDRA_PASSWORD: lab().appPassword,
      PGHOST: '127.0.0.1',
      PGPORT: String(n2.port),
      PGDATABASE: n2.database,
      PGUSER: 'app',
      PGSSLMODE: 'verify-full',
      PGSSLROOTCERT: postgres.certs.caCert,
      PGSSLCERT: app.cert,
      PGSSLKEY: app.key,
      PGPASSFILE: '/nonexistent/pgpass',
      CHAT_PG_DIALECT: 'pglogical',
      CHAT_CODE_SENDER: 'log',
      CHAT_DEV_PRINT_CODES: 'true',
      CHAT_SHUTDOWN_GRACE_SECONDS: '5',
    };
    // What the image runs (Node 24, the tsc build), as the lab's backends.
    const serve = serveCommand();
    const child = spawn(serve.bin, serve.args, { cwd: serve.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      await eventually(`serve ready on port ${port}`, 60_000, async () => {
        if (child.exitCode !== null) throw new Error(`serve exited with ${child.exitCode}: ${stderr}${stdout}`);
        const r = await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined);
        return r?.status === 200 ? true : undefined;
      });
      const c = await ChatClient.connect(`ws://127.0.0.1:${port}/ws`);
      clients.push(c);
      expect(await c.welcome()).toMatchObject({ type: 'hello', region: 'r2', maxFrameBytes: 16_384 });
      const username = `gina-${run}`;
      const { token } = await c.login(username, async (norm) => {
        const code = await eventually('code on stderr', 5_000, async () => new RegExp(`login code for ${norm}: ([0-9]{6})`).exec(stderr)?.[1]);
        secrets.push(code);
        return code;
      }, emailOf('gina'));
      secrets.push(token);
      expect(await c.request({ type: 'ping' })).toMatchObject({ type: 'pong' });

      const t0 = Date.now();
      child.kill('SIGTERM');
      const closed = await c.closed;
      const code = await exited;
      const ms = Date.now() - t0;
      expect(closed.code).toBe(1012);
      expect(code).toBe(0);
      expect(ms).toBeLessThan(5_000);
      timings['serve SIGTERM to exit'] = ms;
      // stdout: JSON log lines only, saying a code was issued, never the code, token or a password.
      const lines = stdout.trim().split('\n');
      for (const l of lines) expect(() => JSON.parse(l), l).not.toThrow();
      expect(stdout).toContain('login code issued');
      for (const secret of [...secrets, env['NATS_PASSWORD']!, env['CASSANDRA_PASSWORD']!]) expect(stdout.includes(secret)).toBe(false);
      expect(stdout).toContain('shut down');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 90_000);

  it('reports timings', () => {
    console.log(`chat integration timings (ms): ${JSON.stringify(timings)}`);
    expect(lab()).toBeDefined();
  });
});

