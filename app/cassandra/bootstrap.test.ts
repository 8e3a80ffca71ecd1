/**
 * bootstrap-cassandra against the lab's real two-DC Cassandra 5.0 (lab/cassandra.ts): one node
 * in dc1 on 127.0.0.1, one in dc2 on 127.0.0.2, RF 1 per DC. Cassandra is started once for
 * the file. If Java, Maven or the download is missing, beforeAll fails with what to install:
 * these tests never skip.
 */
import { randomBytes } from 'node:crypto';
import cassandra from 'cassandra-driver';
import { v7 as uuidV7, v4 as uuidV4 } from 'uuid';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ensureCassandraInstalled, labClient, runningPid, startCassandraLab, type CassandraLabHandle } from '../../lab/cassandra.js';
import { CASSANDRA_TIMER_SLACK_NS, threadTimerSlacks } from '../../lab/timer-slack.js';
import { createLogger, type Logger } from '../log.js';
import { run } from './bootstrap-command.js';
import { bootstrapCassandra, DataCentersNotReadyError, type BootstrapSettings } from './bootstrap.js';
import { bucketOf, CLIENT_MESSAGE_TTL_SECONDS } from './schema.js';

const { consistencies } = cassandra.types;
const RUN_ID = randomBytes(4).toString('hex');
const KEYSPACE = `chat_it_${RUN_ID}`;
const APP_ROLE = `chat_it_app_${RUN_ID}`;
// Quotes on purpose: the password travels inside a CQL string literal.
const APP_PASSWORD = `pw'${randomBytes(6).toString('hex')}"x`;

let lab: CassandraLabHandle;
let admin: cassandra.Client; // superuser, local DC dc1
const cleanup = { keyspaces: new Set<string>(), roles: new Set<string>() };

function settings(overrides: Partial<BootstrapSettings> = {}): BootstrapSettings {
  return {
    contactPoints: [lab.node('dc1').contactPoint],
    localDc: 'dc1',
    dataCenters: ['dc1', 'dc2'],
    replicationFactor: 1,
    keyspace: KEYSPACE,
    superuser: lab.superuser,
    app: { username: APP_ROLE, password: APP_PASSWORD },
    deadlineSeconds: 120,
    ...overrides,
  };
}

/** A logger that keeps its JSON lines (and proves they are JSON). */
function capturingLogger(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  return { log: createLogger({ test: 'bootstrap' }, { level: 'debug', write: (l) => lines.push(l) }), lines };
}

async function keyspaceRow(c: cassandra.Client, ks: string) {
  return (await c.execute('SELECT replication, durable_writes FROM system_schema.keyspaces WHERE keyspace_name = ?', [ks], { prepare: true })).first() ?? undefined;
}

async function roleRow(c: cassandra.Client, role: string) {
  return (await c.execute('SELECT can_login, is_superuser, salted_hash FROM system_auth.roles WHERE role = ?', [role], { prepare: true })).first() ?? undefined;
}

/** Everything the bootstrap may touch, as one comparable value. */
async function snapshot(c: cassandra.Client, ks: string, role: string): Promise<unknown> {
  const plain = (rs: cassandra.types.ResultSet) => rs.rows.map((r) => Object.fromEntries(rs.columns.map((col) => [col.name, String(r.get(col.name))])));
  return {
    schemaVersion: String((await c.execute('SELECT schema_version FROM system.local')).first().get('schema_version')),
    keyspace: plain(await c.execute('SELECT * FROM system_schema.keyspaces WHERE keyspace_name = ?', [ks], { prepare: true })),
    tables: plain(await c.execute('SELECT table_name, id, default_time_to_live, comment FROM system_schema.tables WHERE keyspace_name = ?', [ks], { prepare: true })),
    columns: plain(await c.execute('SELECT * FROM system_schema.columns WHERE keyspace_name = ?', [ks], { prepare: true })),
    role: plain(await c.execute('SELECT * FROM system_auth.roles WHERE role = ?', [role], { prepare: true })),
    permissions: plain(await c.execute('SELECT * FROM system_auth.role_permissions WHERE role = ?', [role], { prepare: true })),
  };
}

beforeAll(async () => {
  const t0 = Date.now();
  const install = await ensureCassandraInstalled({ log: (l) => console.log(l) });
  const t1 = Date.now();
  lab = await startCassandraLab({ log: (l) => console.log(l) });
  await lab.waitUntilUp(300_000);
  console.log(`cassandra lab: install check ${((t1 - t0) / 1000).toFixed(1)} s (installed now: ${install.installedNow}), up after ${((Date.now() - t1) / 1000).toFixed(1)} s`);
  admin = labClient(lab.node('dc1'), lab.superuser);
  await admin.connect();
}, 600_000);

afterAll(async () => {
  if (admin) {
    for (const ks of cleanup.keyspaces) await admin.execute(`DROP KEYSPACE IF EXISTS "${ks}"`).catch(() => {});
    for (const role of cleanup.roles) await admin.execute(`DROP ROLE IF EXISTS "${role}"`).catch(() => {});
    await admin.shutdown();
  }
  await lab?.stop();
  if (lab?.owned) for (const n of lab.nodes) expect(runningPid(n), `${n.dc} JVM still running`).toBeUndefined();
}, 120_000);

describe('the lab', () => {
  it('is idempotent: a second start reuses the running nodes', async () => {
    const before = lab.nodes.map((n) => runningPid(n));
    expect(before.every((p) => p !== undefined)).toBe(true);
    const again = await startCassandraLab();
    await again.waitUntilUp(30_000);
    expect(again.nodes.map((n) => runningPid(n))).toEqual(before);
  });

  it("runs every thread of both JVMs with the lab's timer slack (lab/timer-slack.ts: Cassandra's idle workers park 10 µs at a time)", () => {
    for (const n of lab.nodes) {
      const slacks = threadTimerSlacks(runningPid(n)!);
      expect(slacks.size, `${n.dc}: JVM threads`).toBeGreaterThan(20);
      expect(new Set(slacks.values()), `${n.dc}: timer slack of its threads`).toEqual(new Set([CASSANDRA_TIMER_SLACK_NS]));
    }
  });
});

describe('bootstrap-cassandra on two DCs', () => {
  it('creates keyspace, tables, role and grants; a second run (library and command) changes nothing', async () => {
    cleanup.keyspaces.add(KEYSPACE);
    cleanup.roles.add(APP_ROLE);
    const first = capturingLogger();
    const r1 = await bootstrapCassandra(settings(), { log: first.log });
    expect(r1.changes).toEqual([
      `created keyspace ${KEYSPACE} with replication {dc1: 1, dc2: 1}`,
      `created table ${KEYSPACE}.messages`,
      `created table ${KEYSPACE}.client_messages`,
      `created table ${KEYSPACE}.message_client_ids`,
      `created role ${APP_ROLE}`,
      `granted SELECT on keyspace ${KEYSPACE} to ${APP_ROLE}`,
      `granted MODIFY on keyspace ${KEYSPACE} to ${APP_ROLE}`,
    ]);

    // Replication: exactly dc1 and dc2 at RF 1, durable.
    const ks = await keyspaceRow(admin, KEYSPACE);
    expect(ks?.get('replication')).toEqual({ class: 'org.apache.cassandra.locator.NetworkTopologyStrategy', dc1: '1', dc2: '1' });
    expect(ks?.get('durable_writes')).toBe(true);

    // Tables.
    const tables = (await admin.execute('SELECT table_name, default_time_to_live FROM system_schema.tables WHERE keyspace_name = ?', [KEYSPACE], { prepare: true })).rows;
    expect(Object.fromEntries(tables.map((t) => [t.get('table_name'), t.get('default_time_to_live')]))).toEqual({
      messages: 0,
      client_messages: CLIENT_MESSAGE_TTL_SECONDS,
      message_client_ids: CLIENT_MESSAGE_TTL_SECONDS,
    });
    const cols = (
      await admin.execute('SELECT table_name, column_name, type, kind, clustering_order FROM system_schema.columns WHERE keyspace_name = ?', [KEYSPACE], { prepare: true })
    ).rows.map((r) => `${r.get('table_name')}.${r.get('column_name')} ${r.get('type')} ${r.get('kind')} ${r.get('clustering_order')}`);
    expect(cols.sort()).toEqual(
      [
        'client_messages.author_id uuid partition_key none',
        'client_messages.client_message_id text partition_key none',
        'client_messages.message_id uuid regular none',
        'client_messages.room_id uuid regular none',
        'message_client_ids.author_id uuid clustering asc',
        'message_client_ids.bucket int partition_key none',
        'message_client_ids.client_message_id text clustering asc',
        'message_client_ids.message_id uuid regular none',
        'message_client_ids.room_id uuid partition_key none',
        'messages.author_id uuid regular none',
        'messages.body text regular none',
        'messages.bucket int partition_key none',
        'messages.client_message_id text regular none',
        'messages.created_at timestamp regular none',
        'messages.message_id uuid clustering desc',
        'messages.origin_region text regular none',
        'messages.room_id uuid partition_key none',
      ].sort(),
    );

    // Role: login, not superuser, SELECT + MODIFY on the keyspace only.
    const role = await roleRow(admin, APP_ROLE);
    expect(role?.get('can_login')).toBe(true);
    expect(role?.get('is_superuser')).toBe(false);
    const perms = (await admin.execute('SELECT resource, permissions FROM system_auth.role_permissions WHERE role = ?', [APP_ROLE], { prepare: true })).rows;
    expect(perms.map((p) => [p.get('resource'), [...(p.get('permissions') as string[])].sort()])).toEqual([[`data/${KEYSPACE}`, ['MODIFY', 'SELECT']]]);

    // The app role logs in, in both DCs, and is confined to data access.
    for (const dc of lab.dataCenters) {
      const app = labClient(lab.node(dc), { username: APP_ROLE, password: APP_PASSWORD });
      await app.connect();
      try {
        await app.execute(`SELECT * FROM "${KEYSPACE}".messages LIMIT 1`);
        await expect(app.execute(`CREATE TABLE "${KEYSPACE}".nope (a int PRIMARY KEY)`)).rejects.toThrow(/has no CREATE permission|Unauthorized/i);
        await expect(app.execute(`DROP KEYSPACE "${KEYSPACE}"`)).rejects.toThrow(/has no DROP permission|Unauthorized/i);
      } finally {
        await app.shutdown();
      }
    }

    const before = await snapshot(admin, KEYSPACE, APP_ROLE);

    // Second run through the library: nothing to change.
    const second = capturingLogger();
    const r2 = await bootstrapCassandra(settings(), { log: second.log });
    expect(r2.changes).toEqual([]);
    expect(r2.warnings).toEqual([]);
    expect(await snapshot(admin, KEYSPACE, APP_ROLE)).toEqual(before);

    // Third run through the command, configured by environment variables only.
    const out: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      out.push(String(chunk));
      return true;
    });
    let code: number;
    try {
      code = await run([], {
        CASSANDRA_CONTACT_POINTS: lab.node('dc1').contactPoint,
        CASSANDRA_LOCAL_DC: 'dc1',
        CASSANDRA_DATACENTERS: 'dc1,dc2',
        CASSANDRA_REPLICATION_FACTOR: '1',
        CASSANDRA_KEYSPACE: KEYSPACE,
        CASSANDRA_SUPERUSER_USERNAME: lab.superuser.username,
        CASSANDRA_SUPERUSER_PASSWORD: lab.superuser.password,
        CASSANDRA_APP_USERNAME: APP_ROLE,
        CASSANDRA_APP_PASSWORD: APP_PASSWORD,
        BOOTSTRAP_DEADLINE_SECONDS: '60',
      });
    } finally {
      spy.mockRestore();
    }
    expect(code).toBe(0);
    // JSON log lines (app/log.ts: pino, `{"level":...,"time":...}`), one per write.
    const logLines = out.flatMap((chunk) => chunk.split('\n')).filter((l) => l.startsWith('{"level"'));
    expect(logLines.length).toBeGreaterThan(3);
    const finished = logLines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l['msg'] === 'bootstrap-cassandra finished');
    expect(finished).toMatchObject({ level: 'info', changed: false, changes: [] });
    expect(await snapshot(admin, KEYSPACE, APP_ROLE)).toEqual(before);

    // Logs: JSON lines, never the app password (raw or escaped).
    for (const line of [...first.lines, ...second.lines, ...logLines]) {
      expect(() => JSON.parse(line)).not.toThrow();
      expect(line).not.toContain(APP_PASSWORD);
      expect(line).not.toContain(APP_PASSWORD.replaceAll("'", "''"));
      expect(line).not.toContain(JSON.stringify(APP_PASSWORD).slice(1, -1));
    }
  }, 120_000);

  it('a row written at LOCAL_QUORUM in dc1 is read at LOCAL_QUORUM in dc2', async () => {
    const creds = { username: APP_ROLE, password: APP_PASSWORD };
    const writer = labClient(lab.node('dc1'), creds);
    const reader = labClient(lab.node('dc2'), creds);
    await Promise.all([writer.connect(), reader.connect()]);
    try {
      const roomId = uuidV4();
      const authorId = uuidV4();
      const messageId = uuidV7();
      const bucket = bucketOf(messageId);
      await writer.execute(
        `INSERT INTO "${KEYSPACE}".messages (room_id, bucket, message_id, author_id, client_message_id, origin_region, body, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
        [roomId, bucket, messageId, authorId, 'c-1', 'dc1', 'hello from dc1', new Date()],
        { prepare: true, consistency: consistencies.localQuorum, isIdempotent: true },
      );
      await writer.execute(
        `INSERT INTO "${KEYSPACE}".client_messages (author_id, client_message_id, room_id, message_id) VALUES (?, ?, ?, ?)`,
        [authorId, 'c-1', roomId, messageId],
        { prepare: true, consistency: consistencies.localQuorum, isIdempotent: true },
      );
      // The coordinator answered from dc1 only; dc2 gets the write asynchronously.
      const deadline = Date.now() + 10_000;
      let body: unknown;
      let dedup: unknown;
      while (Date.now() < deadline) {
        const rs = await reader.execute(`SELECT body FROM "${KEYSPACE}".messages WHERE room_id = ? AND bucket = ?`, [roomId, bucket], {
          prepare: true,
          consistency: consistencies.localQuorum,
        });
        const rs2 = await reader.execute(`SELECT message_id, TTL(room_id) AS ttl FROM "${KEYSPACE}".client_messages WHERE author_id = ? AND client_message_id = ?`, [authorId, 'c-1'], {
          prepare: true,
          consistency: consistencies.localQuorum,
        });
        body = rs.first()?.get('body');
        dedup = rs2.first();
        if (body !== undefined && dedup) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(reader.hosts.values().find((h) => h.address === lab.node('dc2').contactPoint)?.datacenter).toBe('dc2');
      expect(body).toBe('hello from dc1');
      const row = dedup as cassandra.types.Row;
      expect(String(row.get('message_id'))).toBe(messageId);
      expect(Number(row.get('ttl'))).toBeGreaterThan(CLIENT_MESSAGE_TTL_SECONDS - 60);
    } finally {
      await Promise.all([writer.shutdown(), reader.shutdown()]);
    }
  }, 60_000);

  it('ALTERs a keyspace with other replication to the listed DCs, but never drops a DC that is still in the cluster', async () => {
    const ks = `${KEYSPACE}_alt`;
    cleanup.keyspaces.add(ks);
    await admin.execute(`CREATE KEYSPACE "${ks}" WITH replication = {'class': 'NetworkTopologyStrategy', 'dc1': 1} AND durable_writes = false`);
    const { log, lines } = capturingLogger();
    const r = await bootstrapCassandra(settings({ keyspace: ks }), { log });
    expect(r.changes[0]).toBe(`altered keyspace ${ks} replication from NetworkTopologyStrategy {dc1: 1} (durable_writes = false) to {dc1: 1, dc2: 1}`);
    expect(r.warnings.join('\n')).toMatch(/new DC\(s\) dc2 .*nodetool rebuild/);
    expect(lines.some((l) => l.includes('"level":"warn"') && l.includes('replication changed'))).toBe(true);
    expect((await keyspaceRow(admin, ks))?.get('replication')).toEqual({ class: 'org.apache.cassandra.locator.NetworkTopologyStrategy', dc1: '1', dc2: '1' });
    expect((await keyspaceRow(admin, ks))?.get('durable_writes')).toBe(true);

    // dc2 is no longer listed, but its node is alive: the keyspace keeps it (with a warning).
    const r2 = await bootstrapCassandra(settings({ keyspace: ks, dataCenters: ['dc1'] }), { log: capturingLogger().log });
    expect(r2.changes).toEqual([]);
    expect(r2.warnings.join('\n')).toMatch(/replicated to DC dc2, which is not listed but still in the cluster: keeping it/);
    expect((await keyspaceRow(admin, ks))?.get('replication')).toEqual({ class: 'org.apache.cassandra.locator.NetworkTopologyStrategy', dc1: '1', dc2: '1' });

    // A leaving region names its DC for decommission: the keyspace stops replicating to it, the DC itself stays.
    const r3 = await bootstrapCassandra(settings({ keyspace: ks, dataCenters: ['dc1'], decommissionDataCenters: ['dc2'] }), { log: capturingLogger().log });
    expect(r3.changes).toEqual([`altered keyspace ${ks} replication from NetworkTopologyStrategy {dc1: 1, dc2: 1} to {dc1: 1}`]);
    expect((await keyspaceRow(admin, ks))?.get('replication')).toEqual({ class: 'org.apache.cassandra.locator.NetworkTopologyStrategy', dc1: '1' });
    const r4 = await bootstrapCassandra(settings({ keyspace: ks, dataCenters: ['dc1'], decommissionDataCenters: ['dc2'] }), { log: capturingLogger().log });
    expect(r4.changes).toEqual([]);
  }, 90_000);

  it('rotates the app password: ALTERs the role once, then changes nothing', async () => {
    const rotated = `${APP_PASSWORD}-rotated`;
    const r1 = await bootstrapCassandra(settings({ app: { username: APP_ROLE, password: rotated } }), { log: capturingLogger().log });
    expect(r1.changes).toEqual([`updated role ${APP_ROLE} (login/password)`]);
    const r2 = await bootstrapCassandra(settings({ app: { username: APP_ROLE, password: rotated } }), { log: capturingLogger().log });
    expect(r2.changes).toEqual([]);
    const app = labClient(lab.node('dc2'), { username: APP_ROLE, password: rotated });
    await app.connect();
    await app.shutdown();
    const old = labClient(lab.node('dc1'), { username: APP_ROLE, password: APP_PASSWORD });
    await expect(old.connect()).rejects.toThrow(/password are incorrect/);
    await old.shutdown();
  }, 60_000);

  it('with dc2 down: fails by the deadline naming dc2 and creates nothing; dc2 then comes back', async () => {
    const ks = `${KEYSPACE}_down`;
    const role = `${APP_ROLE}_down`;
    cleanup.keyspaces.add(ks);
    cleanup.roles.add(role);
    await lab.stopNode('dc2');
    const deadlineSeconds = 15;
    const t0 = Date.now();
    const { log, lines } = capturingLogger();
    const err = await bootstrapCassandra(settings({ keyspace: ks, app: { username: role, password: APP_PASSWORD }, deadlineSeconds }), { log }).then(
      () => undefined,
      (e: unknown) => e,
    );
    const elapsed = (Date.now() - t0) / 1000;
    expect(err).toBeInstanceOf(DataCentersNotReadyError);
    expect((err as DataCentersNotReadyError).down).toEqual(['dc2']);
    expect((err as Error).message).toMatch(/no live node in: dc2/);
    expect((err as Error).message).toMatch(/nothing was changed/);
    expect(elapsed).toBeGreaterThanOrEqual(deadlineSeconds - 1);
    expect(elapsed).toBeLessThan(deadlineSeconds + 5);
    expect(lines.some((l) => l.includes('waiting for datacenters') && l.includes('"down":["dc2"]'))).toBe(true);
    // Nothing was created (dc1 holds the schema and a full copy of system_auth).
    expect(await keyspaceRow(admin, ks)).toBeUndefined();
    expect(await roleRow(admin, role)).toBeUndefined();

    await lab.startNode('dc2');
    await lab.waitUntilUp(120_000);
  }, 180_000);
});
