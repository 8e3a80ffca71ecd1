/**
 * MessageStore + MessageWriter against the lab's real two-DC Cassandra 5.0 (lab/cassandra.ts:
 * dc1 on 127.0.0.1, dc2 on 127.0.0.2, RF 1 per DC), schema made by bootstrap-cassandra. A missing
 * Java/Maven/download fails beforeAll with what to install; nothing skips. Hold the lab lock:
 * `flock /tmp/rm/lab.lock npx vitest run app/chat/history.integration.test.ts`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import cassandra from 'cassandra-driver';
import { v7 as uuidv7 } from 'uuid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labClient, runningPid, startCassandraLab, type CassandraLabHandle } from '../../lab/cassandra.js';
import { bootstrapCassandra } from '../cassandra/bootstrap.js';
import { CLIENT_MESSAGE_TTL_SECONDS, bucketOf } from '../cassandra/schema.js';
import { createLogger } from '../log.js';
import { MessageStore, type StoredMessage } from './history.js';
import { MessageWriter } from './message-writer.js';

const { consistencies } = cassandra.types;
const RUN_ID = randomBytes(4).toString('hex');
const KEYSPACE = `chat_wp_${RUN_ID}`;
const APP = { username: `chat_wp_app_${RUN_ID}`, password: `pw-${randomBytes(8).toString('hex')}` };

let lab: CassandraLabHandle;
let admin: cassandra.Client;
const clients: cassandra.Client[] = [];

/** Every CQL text and option set a client is asked to run (execute and batch). */
interface Recorded {
  readonly cql: string;
  readonly options: Record<string, unknown>;
}

/** An app-role client in `dc` that records what it is asked to run. */
async function appClient(dc: string, recorded?: Recorded[]): Promise<cassandra.Client> {
  const c = labClient(lab.node(dc), APP, { keyspace: KEYSPACE });
  await c.connect();
  clients.push(c);
  if (!recorded) return c;
  const execute = c.execute.bind(c) as (q: string, p?: unknown, o?: Record<string, unknown>) => Promise<cassandra.types.ResultSet>;
  const batch = c.batch.bind(c) as (qs: Array<{ query: string }>, o?: Record<string, unknown>) => Promise<cassandra.types.ResultSet>;
  Object.assign(c, {
    execute: (q: string, p?: unknown, o: Record<string, unknown> = {}) => (recorded.push({ cql: q, options: o }), execute(q, p, o)),
    batch: (qs: Array<{ query: string }>, o: Record<string, unknown> = {}) => {
      for (const q of qs) recorded.push({ cql: q.query, options: o });
      return batch(qs, o);
    },
  });
  return c;
}

function newWriter(store: MessageStore, published: StoredMessage[][] = []): MessageWriter {
  return new MessageWriter(store, { region: 'dc1', publish: (ms) => published.push([...ms]) });
}

async function partitionCount(table: 'messages' | 'message_client_ids', roomId: string, bucket: number, c: cassandra.Client): Promise<number> {
  const r = await c.execute(`SELECT count(*) AS n FROM "${KEYSPACE}".${table} WHERE room_id = ? AND bucket = ?`, [roomId, bucket], {
    prepare: true,
    consistency: consistencies.localQuorum,
  });
  return Number(r.first()?.get('n'));
}

const DRILL_CHILD = fileURLToPath(new URL('./message-writer.drill-child.ts', import.meta.url));

interface WriterProcess {
  readonly proc: ChildProcess;
  /** clientMessageId -> what the process acknowledged. */
  readonly acks: Map<string, { readonly messageId: string; readonly duplicate: boolean }>;
  readonly errors: string[];
  readonly ready: Promise<void>;
  readonly exited: Promise<void>;
}

/** ./message-writer.drill-child.ts in its own Node process, writing through dc1. */
function startWriterProcess(roomId: string, authorId: string): WriterProcess {
  const config = { contactPoint: lab.node('dc1').contactPoint, dc: 'dc1', keyspace: KEYSPACE, ...APP, roomId, authorId };
  const proc = spawn(process.execPath, ['--import', 'tsx', DRILL_CHILD], { env: { ...process.env, DRILL_CONFIG: JSON.stringify(config) }, stdio: ['pipe', 'pipe', 'inherit'] });
  const acks: WriterProcess['acks'] = new Map();
  const errors: string[] = [];
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const ready = new Promise<void>((resolve, reject) => {
    proc.once('exit', (code, signal) => reject(new Error(`writer process exited (${code ?? signal}) before it was ready`)));
    createInterface({ input: proc.stdout! }).on('line', (line) => {
      const [kind, clientMessageId, messageId, duplicate] = line.split(' ');
      if (kind === 'ready') resolve();
      else if (kind === 'ack') acks.set(clientMessageId!, { messageId: messageId!, duplicate: duplicate === 'true' });
      else errors.push(line);
    });
  });
  return { proc, acks, errors, ready, exited };
}

async function until(what: string, ok: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; !(await ok()); await new Promise((r) => setTimeout(r, 50))) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
  }
}

/** Rows of system.paxos on the node of `dc` for the keyspace's tables (a node-local table). */
async function paxosRows(dc: string): Promise<number> {
  const c = labClient(lab.node(dc), lab.superuser);
  await c.connect();
  try {
    const ids = (await c.execute('SELECT id FROM system_schema.tables WHERE keyspace_name = ?', [KEYSPACE], { prepare: true })).rows.map((r) => String(r.get('id')));
    expect(ids.length).toBeGreaterThanOrEqual(3);
    // Every page: earlier LWT runs on this lab (the bench's old path) can leave thousands of rows.
    let n = 0;
    for await (const row of await c.execute('SELECT cf_id FROM system.paxos', [], { consistency: consistencies.localOne, fetchSize: 5_000 })) {
      if (ids.includes(String(row.get('cf_id')))) n++;
    }
    return n;
  } finally {
    await c.shutdown();
  }
}

beforeAll(async () => {
  lab = await startCassandraLab({ log: (l) => console.log(l) });
  await lab.waitUntilUp(300_000);
  admin = labClient(lab.node('dc1'), lab.superuser);
  await admin.connect();
  await bootstrapCassandra(
    {
      contactPoints: [lab.node('dc1').contactPoint],
      localDc: 'dc1',
      dataCenters: ['dc1', 'dc2'],
      replicationFactor: 1,
      keyspace: KEYSPACE,
      superuser: lab.superuser,
      app: APP,
      deadlineSeconds: 120,
    },
    { log: createLogger({ test: 'write-path' }, { level: 'warn' }) },
  );
}, 600_000);

afterAll(async () => {
  for (const c of clients) await c.shutdown().catch(() => {});
  if (admin) {
    await admin.execute(`DROP KEYSPACE IF EXISTS "${KEYSPACE}"`).catch(() => {});
    await admin.execute(`DROP ROLE IF EXISTS "${APP.username}"`).catch(() => {});
    await admin.shutdown();
  }
  await lab?.stop();
  if (lab?.owned) for (const n of lab.nodes) expect(runningPid(n), `${n.dc} JVM still running`).toBeUndefined();
}, 120_000);

describe('the write path on real Cassandra (two DCs)', () => {
  const roomId = uuidv7();
  const authorA = uuidv7();
  const authorB = uuidv7();
  const recorded: Recorded[] = [];
  let sent: StoredMessage[] = [];

  it('a batch written in dc1 at LOCAL_QUORUM (messages + de-duplication rows) is read in dc2, same order', async () => {
    const store = new MessageStore(await appClient('dc1', recorded), KEYSPACE);
    const published: StoredMessage[][] = [];
    const writer = newWriter(store, published);
    const outcomes = await Promise.all(
      Array.from({ length: 40 }, (_, i) => writer.send({ roomId, authorId: i % 2 ? authorB : authorA, clientMessageId: `c-${i}`, body: `message ${i} ✓` })),
    );
    const ids = outcomes.map((o) => o.messageId);
    sent = published.flat();
    expect(outcomes.every((o) => !o.duplicate)).toBe(true);
    expect(ids).toEqual([...ids].sort());
    expect(sent.map((m) => m.messageId)).toEqual(ids);
    expect(published.length).toBeLessThan(40); // group commit: one batch in flight, the rest queued behind it

    const dc2 = new MessageStore(await appClient('dc2'), KEYSPACE);
    let page: StoredMessage[] = [];
    for (const deadline = Date.now() + 15_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 100))) {
      page = await dc2.before(roomId, undefined, 100);
      if (page.length >= 40) break;
    }
    expect(page.map((m) => m.messageId)).toEqual([...ids].reverse());
    expect(page.find((m) => m.clientMessageId === 'c-7')).toEqual(sent[7]);
    // Resume in dc2 from the 10th message: exactly the rest, ascending.
    expect((await dc2.after(roomId, ids[9]!, 100)).map((m) => m.messageId)).toEqual(ids.slice(10));

    // The de-duplication rows replicated with them, with the 1-day TTL.
    const bucket = bucketOf(ids[0]!);
    const dc2Client = clients.at(-1)!;
    expect(await partitionCount('message_client_ids', roomId, bucket, dc2Client)).toBe(40);
    const ttl = await dc2Client.execute(`SELECT TTL(message_id) AS t FROM "${KEYSPACE}".message_client_ids WHERE room_id = ? AND bucket = ? AND author_id = ? AND client_message_id = ?`, [roomId, bucket, authorA, 'c-0'], { prepare: true });
    expect(Number(ttl.first()?.get('t'))).toBeGreaterThan(CLIENT_MESSAGE_TTL_SECONDS - 120);
    expect(Number(ttl.first()?.get('t'))).toBeLessThanOrEqual(CLIENT_MESSAGE_TTL_SECONDS);
  }, 60_000);

  it('finds exactly the asked (author, clientMessageId) pairs (a tuple IN, not the cartesian product)', async () => {
    const store = new MessageStore(await appClient('dc1'), KEYSPACE);
    const bucket = bucketOf(sent[0]!.messageId);
    // Stored: (A, c-0), (B, c-1). Asked: (A, c-1) and (B, c-0) are not stored; (A, c-0) is.
    const found = await store.findClientIds(roomId, bucket, [
      { authorId: authorA, clientMessageId: 'c-1' },
      { authorId: authorB, clientMessageId: 'c-0' },
      { authorId: authorA, clientMessageId: 'c-0' },
    ]);
    expect(found).toEqual(new Map([[`${authorA}:c-0`, sent[0]!.messageId]]));
    expect((await store.getMessages(roomId, bucket, [sent[3]!.messageId, uuidv7()])).map((m) => m.messageId)).toEqual([sent[3]!.messageId]);
  });

  it('a retry after a crash (new client, store and writer: empty memory) gets the same ids and stores nothing new', async () => {
    const counter = await appClient('dc1');
    const store = new MessageStore(await appClient('dc1', recorded), KEYSPACE);
    const published: StoredMessage[][] = [];
    const writer = newWriter(store, published);
    const bucket = bucketOf(sent[0]!.messageId);
    const before = await partitionCount('messages', roomId, bucket, counter);
    const retried = await Promise.all(sent.map((m) => writer.send({ roomId, authorId: m.authorId, clientMessageId: m.clientMessageId, body: m.body })));
    expect(retried.map((o) => o.messageId)).toEqual(sent.map((m) => m.messageId));
    expect(retried.every((o) => o.duplicate)).toBe(true);
    expect(published).toEqual([]);
    expect(await partitionCount('messages', roomId, bucket, counter)).toBe(before);
    expect(before).toBe(40);
  }, 60_000);

  it('uses no lightweight transaction: no IF / SERIAL in any statement, and system.paxos has no row for the keyspace', async () => {
    expect(recorded.length).toBeGreaterThan(0);
    const writePath = new Set(recorded.map((r) => r.cql));
    // What the writer ran: the batch inserts, the de-duplication read and the message read-back.
    const store = new MessageStore(admin, KEYSPACE);
    expect([...writePath].sort()).toEqual([store.cql.insertMessage, store.cql.insertClientId, store.cql.findClientIds, store.cql.getMany].sort());
    for (const r of recorded) {
      expect(r.cql).not.toMatch(/\bIF\b|SERIAL/i);
      expect(r.options['serialConsistency']).toBeUndefined();
      expect(r.options['consistency']).toBe(consistencies.localQuorum);
    }
    for (const text of Object.values(store.cql)) expect(text).not.toMatch(/\bIF\b/i);
    expect(await paxosRows('dc1')).toBe(0);
    expect(await paxosRows('dc2')).toBe(0);
    // The check can see one: the old path's claim (an LWT on the legacy table) leaves Paxos state.
    const lwt = await admin.execute(`INSERT INTO "${KEYSPACE}".client_messages (author_id, client_message_id, room_id, message_id) VALUES (?, ?, ?, ?) IF NOT EXISTS`, [authorA, 'lwt', roomId, uuidv7()], {
      prepare: true,
      consistency: consistencies.localQuorum,
      serialConsistency: consistencies.localSerial,
    });
    expect(lwt.wasApplied()).toBe(true);
    expect(await paxosRows('dc1')).toBeGreaterThan(0);
  }, 60_000);
});

describe('acknowledged means durable: kill -9 of the writer process mid-burst', () => {
  // Three kills at different points of the burst, so some land while a batch is being read, written or acknowledged.
  it.each([101, 200, 333])('after %i sends: every acknowledged message is in both DCs; resending the unacknowledged ones with the same ids stores each exactly once', async (killAfter) => {
    const roomId = uuidv7();
    const authorId = uuidv7();
    const TOTAL = 500;
    const first = startWriterProcess(roomId, authorId);
    await first.ready;
    // A paced burst, one message every 2 ms; SIGKILL after `killAfter` are sent, whatever is in flight then.
    let sent = 0;
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        if (sent >= killAfter) {
          clearInterval(timer);
          resolve();
          return;
        }
        first.proc.stdin!.write(`m-${sent} body ${sent}\n`);
        sent++;
      }, 2);
    });
    first.proc.kill('SIGKILL');
    await first.exited;
    const acked = new Map(first.acks);
    expect(first.errors).toEqual([]);
    expect(acked.size).toBeGreaterThan(0);
    expect(sent).toBeLessThan(TOTAL);

    // The restarted process: the client resends every unacknowledged message (sent or not) and, as a
    // client that lost its acks would, 20 acknowledged ones, all with their original client ids.
    const second = startWriterProcess(roomId, authorId);
    await second.ready;
    const unacked = Array.from({ length: TOTAL }, (_, i) => `m-${i}`).filter((c) => !acked.has(c));
    const again = [...acked.keys()].slice(0, 20);
    for (const c of [...unacked, ...again]) second.proc.stdin!.write(`${c} body ${c.slice(2)}\n`);
    await until('the restarted writer to acknowledge every resend', () => second.acks.size + second.errors.length === unacked.length + again.length, 60_000);
    second.proc.kill('SIGTERM');
    await second.exited;
    expect(second.errors).toEqual([]);
    for (const c of again) expect(second.acks.get(c)).toEqual({ messageId: acked.get(c)!.messageId, duplicate: true });
    const landedBeforeKill = unacked.filter((c) => second.acks.get(c)?.duplicate).length;
    console.log(`kill -9 drill: ${sent} sent, ${acked.size} acknowledged before SIGKILL, ${landedBeforeKill} of the unacknowledged had landed (answered duplicate)`);

    for (const dc of ['dc1', 'dc2']) {
      const store = new MessageStore(await appClient(dc), KEYSPACE);
      const start = '00000000-0000-7000-8000-000000000000';
      await until(`${TOTAL} messages in ${dc}`, async () => (await store.after(roomId, start, 2 * TOTAL)).length >= TOTAL, 20_000);
      const history = await store.after(roomId, start, 2 * TOTAL);
      expect(history).toHaveLength(TOTAL);
      const byClientId = new Map(history.map((m) => [m.clientMessageId, m]));
      expect(byClientId.size).toBe(TOTAL);
      for (const [c, a] of acked) expect(byClientId.get(c)?.messageId, `${c} in ${dc}`).toBe(a.messageId);
      for (const c of unacked) expect(byClientId.get(c)?.messageId, `${c} in ${dc}`).toBe(second.acks.get(c)!.messageId);
      expect(byClientId.get('m-7')?.body).toBe('body 7');
    }
  }, 180_000);
});
