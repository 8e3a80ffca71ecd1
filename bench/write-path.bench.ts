/**
 * The chat write path alone, against the lab's real two-DC Cassandra 5.0 (lab/cassandra.ts):
 * the OLD path (a lightweight-transaction claim on client_messages, then the insert: a copy of
 * the pre-issue-11 logic is below) against the NEW one (app/chat/message-writer.ts: group commit,
 * de-duplication read, one unlogged single-partition batch at LOCAL_QUORUM; and the same with its
 * `readAhead` option), in the same run.
 *
 *   flock /tmp/rm/lab.lock npx tsx bench/write-path.bench.ts
 *
 * Closed loop: `senders` concurrent senders, each sending its next message when the previous one
 * is acknowledged (durable at LOCAL_QUORUM), spread over `rooms` rooms, for WRITE_BENCH_SECONDS
 * (default 5) per cell after a warm-up. Cells alternate old/new/read-ahead so drift hits all. Reports
 * acknowledged msg/s, ack latency p50/p99, messages per Cassandra batch (new), the CPU seconds of
 * this process and of both Cassandra JVMs per 1,000 messages, and new/old ratios. Afterwards it
 * checks that every acknowledged message is stored exactly once. Prints a Markdown table.
 */
import { randomBytes } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import cassandra from 'cassandra-driver';
import { v7 as uuidv7 } from 'uuid';
import { labClient, runningPid, startCassandraLab } from '../lab/cassandra.js';
import { bootstrapCassandra } from '../app/cassandra/bootstrap.js';
import { bucketOf, quoteIdentifier } from '../app/cassandra/schema.js';
import { createLogger } from '../app/log.js';
import { createdAtOf, MessageStore, type StoredMessage } from '../app/chat/history.js';
import { MessageWriter } from '../app/chat/message-writer.js';
import { processCpuSeconds } from './proc-cpu.js';
import { Samples, summarize } from './stats.js';

const { consistencies } = cassandra.types;
const SECONDS = Number(process.env['WRITE_BENCH_SECONDS'] ?? 5);
const WARMUP_SECONDS = 2;
const SENDERS = [1, 10, 50];
const ROOMS = [1, 10];
const REGION = 'dc1';

type SendFn = (roomId: string, authorId: string, clientMessageId: string, body: string) => Promise<string>;

/** The pre-issue-11 write path, copied from app/chat/server.ts (message.send) and history.ts: claim by LWT, then insert. */
class OldPath {
  private readonly claim: string;
  private readonly insert: string;
  constructor(
    private readonly client: cassandra.Client,
    keyspace: string,
  ) {
    const ks = quoteIdentifier(keyspace);
    this.claim = `INSERT INTO ${ks}.client_messages (author_id, client_message_id, room_id, message_id) VALUES (?, ?, ?, ?) IF NOT EXISTS`;
    this.insert = `INSERT INTO ${ks}.messages (room_id, bucket, message_id, author_id, client_message_id, origin_region, body, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`;
  }

  readonly send: SendFn = async (roomId, authorId, clientMessageId, body) => {
    const messageId = uuidv7();
    const r = await this.client.execute(this.claim, [authorId, clientMessageId, roomId, messageId], {
      prepare: true,
      consistency: consistencies.localQuorum,
      serialConsistency: consistencies.localSerial,
      isIdempotent: false,
    });
    if (!r.wasApplied()) throw new Error(`bench: unexpected duplicate ${clientMessageId}`);
    const m: StoredMessage = { roomId, messageId, authorId, body, originRegion: REGION, createdAt: createdAtOf(messageId), clientMessageId };
    await this.client.execute(
      this.insert,
      [m.roomId, bucketOf(m.messageId), m.messageId, m.authorId, m.clientMessageId, m.originRegion, m.body, new Date(m.createdAt)],
      { prepare: true, consistency: consistencies.localQuorum, isIdempotent: true },
    );
    return messageId;
  };
}

interface CellResult {
  readonly acked: number;
  readonly seconds: number;
  readonly p50: number;
  readonly p99: number;
  readonly batches: number;
  readonly ownCpuPerK: number;
  readonly cassandraCpuPerK: number;
  /** room -> acknowledged message ids */
  readonly ids: Map<string, string[]>;
}

async function runCell(send: SendFn, senders: number, rooms: number, seconds: number, batchCounter: { n: number }, jvmPids: readonly number[]): Promise<CellResult> {
  const roomIds = Array.from({ length: rooms }, () => uuidv7());
  const latencies = new Samples();
  const ids = new Map<string, string[]>(roomIds.map((r) => [r, []]));
  const body = 'x'.repeat(100);
  const batches0 = batchCounter.n;
  const own0 = process.cpuUsage();
  const jvm0 = jvmPids.reduce((s, p) => s + processCpuSeconds(p), 0);
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  await Promise.all(
    Array.from({ length: senders }, async (_, s) => {
      const roomId = roomIds[s % rooms]!;
      const authorId = uuidv7();
      for (let i = 0; performance.now() < end; i++) {
        const start = performance.now();
        const id = await send(roomId, authorId, `s${s}-${i}`, body);
        latencies.push(performance.now() - start);
        ids.get(roomId)!.push(id);
      }
    }),
  );
  const elapsed = (performance.now() - t0) / 1000;
  const own = process.cpuUsage(own0);
  const jvm = jvmPids.reduce((s, p) => s + processCpuSeconds(p), 0) - jvm0;
  const sum = summarize(latencies.values());
  const acked = latencies.length;
  return {
    acked,
    seconds: elapsed,
    p50: sum.p50,
    p99: sum.p99,
    batches: batchCounter.n - batches0,
    ownCpuPerK: ((own.user + own.system) / 1e6 / acked) * 1000,
    cassandraCpuPerK: (jvm / acked) * 1000,
    ids,
  };
}

/** Every acknowledged id is stored, once: the partition holds exactly the acknowledged ids. */
async function verifyStored(client: cassandra.Client, keyspace: string, ids: Map<string, string[]>): Promise<void> {
  for (const [roomId, acked] of ids) {
    const buckets = new Set(acked.map(bucketOf));
    const stored: string[] = [];
    for (const b of buckets) {
      const r = await client.execute(`SELECT message_id FROM ${quoteIdentifier(keyspace)}.messages WHERE room_id = ? AND bucket = ?`, [roomId, b], {
        prepare: true,
        consistency: consistencies.localQuorum,
        fetchSize: 100_000,
      });
      stored.push(...r.rows.map((row) => String(row.get('message_id'))));
    }
    const want = [...acked].sort();
    const got = stored.sort();
    if (want.length !== got.length || want.some((id, i) => id !== got[i])) {
      throw new Error(`bench: room ${roomId}: ${acked.length} acknowledged, ${stored.length} stored, or different ids`);
    }
  }
}

const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : '-');

async function main(): Promise<void> {
  const lab = await startCassandraLab({ log: (l) => console.error(l) });
  const keyspace = `chat_bench_${randomBytes(4).toString('hex')}`;
  const app = { username: `${keyspace}_app`, password: randomBytes(12).toString('hex') };
  let admin: cassandra.Client | undefined;
  let client: cassandra.Client | undefined;
  try {
    await lab.waitUntilUp(300_000);
    admin = labClient(lab.node('dc1'), lab.superuser);
    await admin.connect();
    await bootstrapCassandra(
      { contactPoints: [lab.node('dc1').contactPoint], localDc: 'dc1', dataCenters: [...lab.dataCenters], replicationFactor: 1, keyspace, superuser: lab.superuser, app, deadlineSeconds: 120 },
      { log: createLogger({ bench: 'write-path' }, { level: 'warn' }) },
    );
    // As the backend connects (app/chat/dependencies.ts).
    client = labClient(lab.node('dc1'), app, { keyspace, pooling: { heartBeatInterval: 10_000 } });
    await client.connect();
    const jvmPids = lab.nodes.map((n) => runningPid(n)).filter((p): p is number => p !== undefined);
    const old = new OldPath(client, keyspace);
    const store = new MessageStore(client, keyspace);
    const newPath = (readAhead: boolean): { send: SendFn; batches: { n: number } } => {
      const batches = { n: 0 };
      const writer = new MessageWriter(store, { region: REGION, publish: () => void batches.n++, readAhead });
      return { send: async (roomId, authorId, clientMessageId, body) => (await writer.send({ roomId, authorId, clientMessageId, body })).messageId, batches };
    };
    const paths = { old: { send: old.send, batches: { n: 0 } }, new: newPath(false), 'new, read-ahead': newPath(true) } as const;
    const names = Object.keys(paths) as Array<keyof typeof paths>;

    for (const name of names) {
      const w = await runCell(paths[name].send, 10, 10, WARMUP_SECONDS, paths[name].batches, jvmPids);
      console.error(`warm-up ${name}: ${w.acked} messages`);
    }
    // What the two JVMs burn with no load (gossip, GC, compaction), for reading the CPU columns.
    const idle0 = jvmPids.reduce((sum, p) => sum + processCpuSeconds(p), 0);
    await new Promise((r) => setTimeout(r, SECONDS * 1000));
    const idleCpuPerSecond = (jvmPids.reduce((sum, p) => sum + processCpuSeconds(p), 0) - idle0) / SECONDS;
    const rows: string[] = [];
    const allIds: Array<Map<string, string[]>> = [];
    for (const rooms of ROOMS) {
      for (const senders of SENDERS) {
        const r: Partial<Record<keyof typeof paths, CellResult>> = {};
        for (const name of names) {
          const c = await runCell(paths[name].send, senders, rooms, SECONDS, paths[name].batches, jvmPids);
          r[name] = c;
          allIds.push(c.ids);
          console.error(`${name} senders=${senders} rooms=${rooms}: ${fmt(c.acked / c.seconds)} msg/s p50 ${fmt(c.p50, 2)} ms p99 ${fmt(c.p99, 2)} ms${c.batches ? `, ${fmt(c.acked / c.batches, 1)} msgs/batch` : ''}`);
        }
        const o = r.old!;
        const n = r.new!;
        const x = r['new, read-ahead']!;
        const rate = (c: CellResult) => c.acked / c.seconds;
        rows.push(
          `| ${senders} | ${rooms} | ${fmt(rate(o))} | ${fmt(rate(n))} | **${fmt(rate(n) / rate(o), 1)}×** | ${fmt(rate(x))} ` +
            `| ${fmt(o.p50, 1)} / ${fmt(o.p99, 1)} | ${fmt(n.p50, 1)} / ${fmt(n.p99, 1)} | ${fmt(x.p50, 1)} / ${fmt(x.p99, 1)} | ${fmt(n.acked / Math.max(1, n.batches), 1)} ` +
            `| ${fmt(o.cassandraCpuPerK, 2)} / ${fmt(n.cassandraCpuPerK, 2)} | ${fmt(o.ownCpuPerK, 2)} / ${fmt(n.ownCpuPerK, 2)} |`,
        );
      }
    }
    for (const ids of allIds) await verifyStored(client, keyspace, ids);
    const cpu = cpus();
    console.log(`\nWrite path, lab Cassandra ${lab.dataCenters.join('+')} (RF 1 per DC, LOCAL_QUORUM in dc1), ${SECONDS} s per cell, closed loop, 100-byte bodies;`);
    console.log(`${cpu.length} × ${cpu[0]?.model ?? 'cpu'}, Node ${process.version}, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} at the end.`);
    console.log(`Every acknowledged message was found stored exactly once. Idle, the two Cassandra JVMs use ${idleCpuPerSecond.toFixed(2)} CPU s per second (included in the CPU column).\n`);
    console.log(
      '| senders | rooms | old msg/s | new msg/s | new/old | new with read-ahead msg/s | old p50 / p99 ms | new p50 / p99 ms | read-ahead p50 / p99 ms | new msgs/batch | Cassandra CPU s per 1k msgs old / new | bench process CPU s per 1k old / new |',
    );
    console.log('|---|---|---|---|---|---|---|---|---|---|---|---|');
    for (const row of rows) console.log(row);
  } finally {
    if (admin) {
      await admin.execute(`DROP KEYSPACE IF EXISTS ${quoteIdentifier(keyspace)}`).catch(() => {});
      await admin.execute(`DROP ROLE IF EXISTS ${quoteIdentifier(app.username)}`).catch(() => {});
      await admin.shutdown();
    }
    await client?.shutdown();
    await lab.stop();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
