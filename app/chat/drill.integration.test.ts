/**
 * The kill -9 drill: acknowledged means durable, and a retry creates no duplicate.
 *
 * Against the real two-region lab (one backend PROCESS per region, lab/chat-lab.ts): a client in
 * region A sends a paced burst of 500 messages (100/s, each with its own clientMessageId),
 * recording which ones got `message.sent`. Mid-burst region A's backend process is killed with
 * SIGKILL, alone (region B's keeps running: same pid, no exit). The lab restarts it (as a
 * Deployment would); the client reconnects to A, re-authenticates with its token and resends
 * every message it saw no acknowledgement for, with the same clientMessageId (and the last 20 it
 * did see acknowledged: each must come back `duplicate: true` with its first id). Then, read from
 * each region's own Cassandra DC once replication has settled (bounded wait):
 *   - every message the client saw acknowledged is there, with the acknowledged message id;
 *   - (author, clientMessageId) occurs exactly once for each of the 500 (the resends stored no
 *     second copy of a message that was stored before the kill without its ack arriving);
 *   - the room holds exactly 500 messages.
 * Holds the lab lock: `flock /tmp/rm/lab.lock npx vitest run app/chat/drill.integration.test.ts`.
 */
import { rmSync } from 'node:fs';
import { join as joinPath } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import cassandra from 'cassandra-driver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labClient } from '../../lab/cassandra.js';
import { startChatLab, type ChatLab } from '../../lab/chat-lab.js';
import { loopbackAddress } from '../../lab/nats.js';
import { DEFAULT_LAB_DIR } from '../../lab/postgres.js';
import { freePort, tailFile } from '../../lab/process.js';
import { configWithRegions, REPO_ROOT, tempDir } from '../../test/helpers.js';
import { bucketOfTime } from '../cassandra/schema.js';
import { createLogger } from '../log.js';
import { ChatClient, type AnyFrame } from './client.js';

const MESSAGES = 500;
const PER_SECOND = 100;
/** The burst is interrupted after this many sends (half of it). */
const KILL_AFTER = 250;
/** How many of the messages acknowledged before the kill are resent as well (they must come back duplicate: true). */
const RESEND_ACKED = 20;
const KEYSPACE = 'chat';
// Shared with app/chat/chat.integration.test.ts (files run one at a time): the Cassandra data is reused.
const CASSANDRA_DIR = joinPath(REPO_ROOT, '.lab', 'chat-cassandra');
const CASSANDRA_PORTS = { cqlPort: 19142, storagePort: 17100, jmxPorts: [17399, 17499] as [number, number] };
const POSTGRES_DIR = joinPath(DEFAULT_LAB_DIR, '..', 'chat-postgres');
const POSTGRES_BASE_PORT = 26432;
const LAB_DIR = joinPath(DEFAULT_LAB_DIR, '..', 'chat-drill');

const run = Date.now().toString(36);
const logLines: string[] = [];
let labState: ChatLab | undefined;
let startError: unknown;
let natsWorkDir: string | undefined;
const clients: ChatClient[] = [];

function lab(): ChatLab {
  if (startError) throw startError instanceof Error ? startError : new Error(String(startError));
  if (!labState) throw new Error('the lab did not start');
  return labState;
}

interface Row {
  readonly messageId: string;
  readonly authorId: string;
  readonly clientMessageId: string;
}

/** Every message of `roomId` in the buckets of [fromMs, toMs], read from `dc`'s own replicas. */
async function roomRows(dc: string, roomId: string, fromMs: number, toMs: number): Promise<Row[]> {
  const client = labClient(lab().cassandra.node(dc), lab().cassandra.superuser, { pooling: { warmup: false } });
  await client.connect();
  try {
    const buckets = [...new Set([bucketOfTime(fromMs), bucketOfTime(toMs)])];
    const rows: Row[] = [];
    for (const bucket of buckets) {
      const r = await client.execute(`SELECT message_id, author_id, client_message_id FROM ${KEYSPACE}.messages WHERE room_id = ? AND bucket = ?`, [roomId, bucket], {
        prepare: true,
        fetchSize: 5_000,
        // RF 1 per DC: LOCAL_QUORUM is this DC's one replica, never the other DC.
        consistency: cassandra.types.consistencies.localQuorum,
      });
      for (const row of r.rows) rows.push({ messageId: String(row.get('message_id')), authorId: String(row.get('author_id')), clientMessageId: String(row.get('client_message_id')) });
    }
    return rows;
  } finally {
    await client.shutdown().catch(() => undefined);
  }
}

describe('kill -9 drill: a region\'s backend process is killed mid-burst', () => {
  beforeAll(async () => {
    try {
      const gatewayPort = await freePort([1, 2].map(loopbackAddress));
      const config = configWithRegions(2, (c) => {
        c.dns.clusterSuffix = 'lab';
        c.nats!.gateway = { ...c.nats!.gateway, port: gatewayPort };
      });
      natsWorkDir = tempDir('regionmesh-drill-nats-');
      labState = await startChatLab({
        config,
        dir: LAB_DIR,
        dirs: { nats: natsWorkDir, cassandra: CASSANDRA_DIR, postgres: POSTGRES_DIR },
        ports: { backends: [0, 0], natsBase: 0, cassandra: CASSANDRA_PORTS, postgresBase: POSTGRES_BASE_PORT },
        log: createLogger({}, { level: 'info', write: (l) => logLines.push(l) }),
        // The drill's pace (100/s on one socket) is above the default per-socket rate (50/s).
        rate: { perSecond: 4 * PER_SECOND, burst: 8 * PER_SECOND },
        shutdownGraceSeconds: 5,
      });
      console.log(`drill lab up: ${JSON.stringify(labState.timings)}`);
    } catch (e) {
      startError = e;
    }
  }, 600_000);

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    await labState?.stop();
    if (natsWorkDir) rmSync(natsWorkDir, { recursive: true, force: true });
  }, 120_000);

  it(`${MESSAGES} paced sends, SIGKILL of region A's backend after ${KILL_AFTER}, resend of the unacknowledged: every ack durable in both DCs, no duplicate, exactly ${MESSAGES}`, async () => {
    const a = lab().regions[0]!;
    const b = lab().regions[1]!;
    const report = () => [a, b].map((r) => `--- ${r.backend.logFile}\n${tailFile(r.backend.logFile, 40)}`).join('\n');
    const bPid = b.backend.pid();
    const aPid = a.backend.pid();

    // A user of region A, logged in with the code it was e-mailed, in a room of its own.
    const email = `drill-${run}@regionmesh.lab`;
    const first = await ChatClient.connect(a.backend.url);
    clients.push(first);
    const { token, userId } = await first.login(`drill-${run}`, () => lab().mailpit.codeFor(email, { timeoutMs: 15_000 }), email);
    const room = await first.expect<AnyFrame & { roomId: string }>({ type: 'room.create', name: `drill-${run}`, visibility: 'public' }, 'room.created');
    await first.expect({ type: 'room.join', roomId: room.roomId }, 'room.joined');

    // The burst: one send every 10 ms, pipelined (each waits for its own reply by ref).
    const cid = (i: number) => `drill-${run}-${i}`;
    const acked = new Map<string, string>(); // clientMessageId -> messageId
    const refused: string[] = [];
    const t0 = Date.now();
    let killed: Promise<void> | undefined;
    let killedAt = 0;
    const replies: Array<Promise<void>> = [];
    for (let i = 0; i < MESSAGES; i++) {
      const due = t0 + (i * 1000) / PER_SECOND;
      if (due > Date.now()) await sleep(due - Date.now());
      if (i === KILL_AFTER) {
        killedAt = Date.now();
        killed = a.backend.kill('SIGKILL');
      }
      const id = cid(i);
      replies.push(
        first.request({ type: 'message.send', roomId: room.roomId, clientMessageId: id, body: `drill message ${i}` }, 30_000).then(
          (r) => {
            if (r.type === 'message.sent') acked.set(id, (r as AnyFrame & { messageId: string }).messageId);
            else refused.push(`${id}: ${JSON.stringify(r)}`);
          },
          () => undefined, // the connection died: unacknowledged
        ),
      );
    }
    await killed;
    await Promise.all(replies);
    const ackedBeforeKill = new Map(acked);
    expect(refused, 'sends refused (not by the kill)').toEqual([]);
    expect(ackedBeforeKill.size, 'acks before the kill').toBeGreaterThan(0);
    expect(ackedBeforeKill.size, 'the kill interrupted the burst').toBeLessThan(MESSAGES);
    expect(a.backend.exits.at(-1)).toMatchObject({ pid: aPid, signal: 'SIGKILL' });

    // The lab restarts A alone; B never stopped.
    await a.backend.ready(90_000);
    const restartMs = Date.now() - killedAt;
    expect(a.backend.pid()).not.toBe(aPid);
    expect(a.backend.restarts).toBe(1);
    expect(b.backend.pid()).toBe(bPid);
    expect(b.backend.exits).toEqual([]);
    expect((await fetch(`${b.backend.httpUrl}/readyz`)).status).toBe(200);

    // The client comes back to A with its token and resends what it saw no ack for, same ids.
    const again = await ChatClient.connect(a.backend.url);
    clients.push(again);
    expect(await again.auth(token)).toBe(userId);
    const unacked = Array.from({ length: MESSAGES }, (_, i) => i).filter((i) => !acked.has(cid(i)));
    let duplicates = 0;
    for (const i of unacked) {
      const r = await again.request({ type: 'message.send', roomId: room.roomId, clientMessageId: cid(i), body: `drill message ${i}` }, 30_000);
      expect(r, `resend of ${cid(i)}\n${report()}`).toMatchObject({ type: 'message.sent' });
      acked.set(cid(i), (r as AnyFrame & { messageId: string }).messageId);
      if ((r as AnyFrame & { duplicate?: boolean }).duplicate) duplicates++;
    }
    expect(acked.size).toBe(MESSAGES);
    // A client unsure of its last acks resends them too: the restarted backend (no cache of
    // recent sends) answers each with the id it acknowledged before the kill, and stores nothing.
    const lastAcked = [...ackedBeforeKill].slice(-RESEND_ACKED);
    for (const [c, id] of lastAcked) {
      const i = Number(c.slice(c.lastIndexOf('-') + 1));
      const r = await again.request({ type: 'message.send', roomId: room.roomId, clientMessageId: c, body: `drill message ${i}` }, 30_000);
      expect(r, `resend of acknowledged ${c}`).toMatchObject({ type: 'message.sent', messageId: id, duplicate: true });
    }
    const tEnd = Date.now();

    // Both DCs, each read locally, once replication has settled (bounded).
    const byDc: Record<string, Row[]> = {};
    const deadline = Date.now() + 30_000;
    for (const dc of [a.dataCenter, b.dataCenter]) {
      for (;;) {
        byDc[dc] = await roomRows(dc, room.roomId, t0 - 60_000, tEnd + 60_000);
        const have = new Set(byDc[dc]!.map((r) => r.messageId));
        if ([...acked.values()].every((id) => have.has(id)) || Date.now() > deadline) break;
        await sleep(250);
      }
    }
    for (const dc of [a.dataCenter, b.dataCenter]) {
      const rows = byDc[dc]!;
      const stored = new Map(rows.map((r) => [r.messageId, r]));
      // Every acknowledged message, before the kill and after, with the acknowledged id.
      const lost = [...ackedBeforeKill].filter(([, id]) => !stored.has(id));
      expect(lost, `acknowledged before the kill, missing in ${dc}`).toEqual([]);
      const missing = [...acked].filter(([c, id]) => stored.get(id)?.clientMessageId !== c);
      expect(missing, `acknowledged, missing in ${dc}`).toEqual([]);
      // No duplicate: each (author, clientMessageId) once.
      const perClientId = new Map<string, number>();
      for (const r of rows) perClientId.set(`${r.authorId}/${r.clientMessageId}`, (perClientId.get(`${r.authorId}/${r.clientMessageId}`) ?? 0) + 1);
      expect([...perClientId].filter(([, n]) => n !== 1), `duplicates in ${dc}`).toEqual([]);
      expect(rows.every((r) => r.authorId === userId)).toBe(true);
      expect(rows, `messages of the room in ${dc}`).toHaveLength(MESSAGES);
    }
    console.log(
      `kill -9 drill: ${ackedBeforeKill.size} acked before the kill of ${a.name}'s backend (pid ${aPid}), ` +
        `${unacked.length} unacknowledged resent (${duplicates} of them stored before the kill: duplicate=true), ${lastAcked.length} acknowledged resent (all duplicate=true), restart to ready ${restartMs} ms, ` +
        `${MESSAGES} in ${a.dataCenter} and ${b.dataCenter}, 0 lost, 0 duplicates; ${b.name}'s backend untouched (pid ${bPid})`,
    );
  }, 240_000);
});
