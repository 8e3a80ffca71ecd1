/**
 * Integration (real PostgreSQL 15 + pglogical from lab/postgres.ts): replication-set membership
 * and rollout order, through the same bootstrap code path the spock dialect runs
 * (convergeSets, the final check, the ready marker; see ./bootstrap.ts):
 *
 *   a. the chat backend's tables created BEFORE the bootstrap (its real migration) end up in the
 *      right sets and replicate; chat_local stays out and its rows stay in their region;
 *   c. a table removed from its set by hand is put back, a region-local one put into a set by
 *      hand is taken out, and a replicated table no set can take (UNLOGGED) fails the run,
 *      naming it (library call and the real command);
 *   b. a third region joins (structure + data sync from n1) with Spock's `include_ddl_repset`
 *      emulated on the joining node by an event trigger (every restored table with a PK lands in
 *      `default`, chat_local.otps included, as Spock does): the bootstrap takes chat_local out of
 *      every set on every node, no DDL is queued for peers, no peer logs an error, OTPs stay
 *      local;
 *   and `wait-postgres-node` (the chat backend's init container) waits until the bootstrap has
 *   marked the node ready, connecting with the `app` role's certificate.
 *
 * pglogical has no exception_log and no conflict table: apply errors go to the server log,
 * which is what is checked on the peers. Fails, never skips, when the lab cannot start.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { v7 as uuidv7 } from 'uuid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_LAB_DIR, type PostgresLab } from '../../lab/postgres.js';
import { FAST, spockLabKit, startEmptyLab } from '../../test/spock-lab.js';
import { createPool, migrate, REPLICATED_DDL } from '../chat/postgres.js';
import { createLogger } from '../log.js';
import { BootstrapError, type BootstrapResult } from './bootstrap.js';
import { run } from './bootstrap-command.js';
import { run as waitNode } from './wait-node-command.js';
import type { BootstrapSettings } from './settings.js';

const LAB_DIR = join(DEFAULT_LAB_DIR, 'vitest-repsets');
const BASE_PORT = 25_752;
const PAIR = ['n1', 'n2'] as const;

/** The chat schema's replicated tables, read from its DDL (not from the bootstrap). */
const CHAT_TABLES = [...REPLICATED_DDL.join('\n').matchAll(/CREATE TABLE IF NOT EXISTS public\.([a-z_]+)/g)].map((m) => m[1]!);

let lab: PostgresLab;
const captured: string[] = [];
const log = createLogger({ test: 'repsets' }, { write: (l) => captured.push(l) });
const kit = spockLabKit(() => lab, log);
const { sql, commandEnv, waitFor } = kit;

const boot = (node: string, names: readonly string[] = PAIR, over: Partial<BootstrapSettings> = {}): Promise<BootstrapResult> => kit.boot(node, names, over);

/** Set membership of every user table of public and chat_local on `node`: relation -> sets (independent SQL). */
async function membership(node: string): Promise<Record<string, string[]>> {
  const rows = await sql<{ relation: string; sets: string[] }>(
    node,
    `SELECT c.oid::regclass::text AS relation,
            ARRAY(SELECT rs.set_name::text FROM pglogical.replication_set_table t JOIN pglogical.replication_set rs USING (set_id)
                   WHERE t.set_reloid = c.oid ORDER BY 1) AS sets
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind = 'r' AND n.nspname IN ('public', 'chat_local') ORDER BY 1`,
  );
  return Object.fromEntries(rows.map((r) => [r.relation, r.sets]));
}

async function insertUser(node: string, name: string): Promise<string> {
  const id = uuidv7();
  await sql(node, 'INSERT INTO public.users (id, display_name, created_at) VALUES ($1, $2, now())', [id, name]);
  return id;
}
const userOn = async (node: string, id: string) => (await sql(node, 'SELECT 1 FROM public.users WHERE id = $1', [id])).length === 1;

async function insertOtp(node: string): Promise<string> {
  const id = uuidv7();
  await sql(node, `INSERT INTO chat_local.otps (id, username_norm, code_hash, salt, expires_at, attempts) VALUES ($1, 'eve', '\\x00', '\\x00', now() + interval '5 minutes', 0)`, [id]);
  return id;
}
const otpOn = async (node: string, id: string) => (await sql(node, 'SELECT 1 FROM chat_local.otps WHERE id = $1', [id])).length === 1;

/** `wait-postgres-node` as the chat backend's init container runs it: the `app` role's certificate. */
async function waitNodeAs(node: string, extra: Record<string, string> = {}): Promise<{ code: number; lines: string[] }> {
  const lines: string[] = [];
  const env = {
    ...lab.node(node).adminEnv,
    PGUSER: 'app',
    PGSSLCERT: lab.certs.clients['app']!.cert,
    PGSSLKEY: lab.certs.clients['app']!.key,
    SPOCK_NODE: node,
    SPOCK_WAIT_SECONDS: '60',
    ...extra,
  };
  const code = await waitNode([], { env, write: (l) => (lines.push(l), captured.push(l)), pollMs: 100 });
  return { code, lines };
}

/** Spock's `spock.include_ddl_repset`, emulated on a pglogical node (an event trigger, as Spock's ProcessUtility hook does it). */
const EMULATE_INCLUDE_DDL_REPSET = `
CREATE SCHEMA lab_autoddl;
CREATE FUNCTION lab_autoddl.include_ddl_repset() RETURNS event_trigger LANGUAGE plpgsql AS $f$
DECLARE r record;
BEGIN
  IF to_regclass('pglogical.local_node') IS NULL THEN RETURN; END IF;
  IF NOT EXISTS (SELECT 1 FROM pglogical.local_node) THEN RETURN; END IF;
  FOR r IN SELECT DISTINCT objid FROM pg_event_trigger_ddl_commands() WHERE object_type = 'table' LOOP
    PERFORM pglogical.replication_set_remove_table(rs.set_name, r.objid::regclass)
       FROM pglogical.replication_set_table t JOIN pglogical.replication_set rs USING (set_id) WHERE t.set_reloid = r.objid;
    PERFORM pglogical.replication_set_add_table(
      CASE WHEN EXISTS (SELECT 1 FROM pg_index x WHERE x.indrelid = r.objid AND (x.indisprimary OR x.indisreplident)) THEN 'default' ELSE 'default_insert_only' END,
      r.objid::regclass);
  END LOOP;
END $f$;
CREATE EVENT TRIGGER lab_include_ddl_repset ON ddl_command_end WHEN TAG IN ('CREATE TABLE', 'ALTER TABLE') EXECUTE FUNCTION lab_autoddl.include_ddl_repset();
ALTER EVENT TRIGGER lab_include_ddl_repset ENABLE ALWAYS;
`;

beforeAll(async () => {
  lab = await startEmptyLab('app/spock/repsets.test.ts', { nodes: PAIR, basePort: BASE_PORT, dir: LAB_DIR });
  // The chat backend's real migration, as the app role, BEFORE any bootstrap (finding 2's order),
  // plus a public table without a primary key.
  for (const n of PAIR) {
    const pool = createPool(lab.node(n).appConnectionConfig, () => undefined);
    try {
      await migrate(pool, { dialect: 'pglogical' });
      await pool.query('CREATE TABLE public.audit_log (at timestamptz NOT NULL, what text NOT NULL)');
    } finally {
      await pool.end();
    }
  }
});

afterAll(async () => {
  await lab?.stop();
});

describe('replication sets with the chat schema (pglogical lab, the shared bootstrap path)', () => {
  it('a. tables created before the bootstrap are in the right set afterwards and replicate; chat_local stays out and local', async () => {
    expect(CHAT_TABLES).toEqual(['users', 'username_claims', 'rooms', 'room_members', 'sessions']);
    // Before: no node, so the init container waits, and says why.
    const before = await waitNodeAs('n1', { SPOCK_WAIT_SECONDS: '1' });
    expect(before.code).toBe(1);
    expect(before.lines.map((l) => String((JSON.parse(l) as Record<string, unknown>)['msg'])).join('\n')).toMatch(/postgres node n1 not ready after 1 s: database 127\.0\.0\.1:\d+\/app is not marked ready \(regionmesh\.node_ready unset\)/);

    const [r1, r2] = await Promise.all([boot('n1'), boot('n2')]);
    for (const r of [r1, r2]) {
      expect(r.changes).toEqual(
        expect.arrayContaining([
          'added table audit_log to replication set default_insert_only',
          ...CHAT_TABLES.map((t) => `added table ${t} to replication set default`),
          `marked node ${r.node} ready (regionmesh.node_ready of database app)`,
        ]),
      );
      expect(r.warnings).toEqual(['table audit_log has no primary key or replica identity index: only its INSERTs replicate']);
    }
    const expected = { audit_log: ['default_insert_only'], 'chat_local.otps': [], ...Object.fromEntries(CHAT_TABLES.map((t) => [t, ['default']])) };
    expect(await membership('n1')).toEqual(expected);
    expect(await membership('n2')).toEqual(expected);

    // Rows flow both ways; an OTP written before a user row on the same node never follows it.
    const otp = await insertOtp('n1');
    const u1 = await insertUser('n1', 'from n1');
    const u2 = await insertUser('n2', 'from n2');
    await waitFor('user n1 -> n2', () => userOn('n2', u1));
    await waitFor('user n2 -> n1', () => userOn('n1', u2));
    expect(await otpOn('n2', otp)).toBe(false);
    expect(await otpOn('n1', otp)).toBe(true);

    // The init container passes now, with the app role's certificate.
    const after = await waitNodeAs('n1');
    expect(after.code, after.lines.join('\n')).toBe(0);
    const wrong = await waitNodeAs('n2', { SPOCK_NODE: 'n1', SPOCK_WAIT_SECONDS: '1' });
    expect(wrong.code).toBe(1);
    expect(wrong.lines.map((l) => String((JSON.parse(l) as Record<string, unknown>)['msg'])).join('\n')).toMatch(/not ready after 1 s: database .* is marked ready for node "n2", not "n1"/);
  });

  it('c. a table taken out of its set by hand is put back, a region-local one put into a set is taken out', async () => {
    await sql('n1', `SELECT pglogical.replication_set_remove_table('default', 'public.sessions')`);
    await sql('n1', `SELECT pglogical.replication_set_add_table('default', 'chat_local.otps')`);
    const r = await boot('n1');
    expect(r.changes).toEqual(['removed region-local table chat_local.otps from replication set default', 'added table sessions to replication set default']);
    expect((await membership('n1'))['chat_local.otps']).toEqual([]);
    expect((await membership('n1'))['sessions']).toEqual(['default']);
    expect((await boot('n1')).changes).toEqual([]);
  });

  it('c. the final check fails, naming the table, when a replicated table cannot be in any set (UNLOGGED)', async () => {
    await sql('n1', 'CREATE UNLOGGED TABLE public.scratch (id uuid PRIMARY KEY)');
    try {
      const err = await boot('n1').then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(BootstrapError);
      expect((err as Error).message).toBe(
        'replication sets of node n1 are wrong after the run: table(s) of replicated schema(s) public in no replication set, so they never replicate: scratch (UNLOGGED: no set can take it; ALTER TABLE ... SET LOGGED, or move it to a region-local schema)',
      );
      // The command: exit 1 and the same message in its log.
      const lines: string[] = [];
      const code = await run([], { env: commandEnv('n1', PAIR), write: (l) => (lines.push(l), captured.push(l)), options: FAST });
      expect(code).toBe(1);
      const failure = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l['msg'] === 'bootstrap failed');
      expect(String(failure?.['error'])).toContain('scratch (UNLOGGED');
      // Made loggable, the next run registers it and succeeds.
      await sql('n1', 'ALTER TABLE public.scratch SET LOGGED');
      expect((await boot('n1')).changes).toEqual(['added table scratch to replication set default']);
    } finally {
      await sql('n1', 'DROP TABLE IF EXISTS public.scratch CASCADE');
    }
  });

  it('b. a third region joins with include_ddl_repset on its restore: chat_local in no set anywhere, nothing for the peers, OTPs stay local', async () => {
    const all = ['n1', 'n2', 'n3'];
    await lab.addNode('n3', { fresh: true });
    await lab.psql('n3', EMULATE_INCLUDE_DDL_REPSET, 'app');
    const notYet = await waitNodeAs('n3', { SPOCK_WAIT_SECONDS: '1' });
    expect(notYet.code).toBe(1);
    // Evidence on the peers from before the join: log size and pglogical's DDL queue.
    const logFrom = { n1: statSync(lab.node('n1').logPath).size, n2: statSync(lab.node('n2').logPath).size };
    const queued = async (n: string) => Number((await sql<{ n: string }>(n, 'SELECT count(*)::text AS n FROM pglogical.queue'))[0]!.n);
    const queueBefore = { n1: await queued('n1'), n2: await queued('n2') };

    // The joining region first (its node must exist before the peers subscribe to it), then the peers.
    const r3 = await boot('n3', all, { syncFrom: 'n1' });
    const [r1, r2] = await Promise.all([boot('n1', all), boot('n2', all)]);
    expect(r1.changes).toEqual(['created subscription sub_n3_n1']);
    expect(r2.changes).toEqual(['created subscription sub_n3_n2']);
    // The emulated include_ddl_repset put the restored chat_local.otps into `default`; the shared path took it out.
    expect(r3.changes).toEqual(
      expect.arrayContaining([
        'created node n3',
        'created subscription sub_n1_n3',
        'removed region-local table chat_local.otps from replication set default',
        'marked node n3 ready (regionmesh.node_ready of database app)',
        'created subscription sub_n2_n3',
      ]),
    );
    expect(r3.changes.indexOf('removed region-local table chat_local.otps from replication set default')).toBeLessThan(r3.changes.indexOf('marked node n3 ready (regionmesh.node_ready of database app)'));
    const expected = { audit_log: ['default_insert_only'], 'chat_local.otps': [], ...Object.fromEntries(CHAT_TABLES.map((t) => [t, ['default']])) };
    for (const n of all) expect(await membership(n), n).toEqual(expected);

    // Nothing queued for the peers, no error on any peer (pglogical logs apply errors there).
    expect({ n1: await queued('n1'), n2: await queued('n2'), n3: await queued('n3') }).toEqual({ ...queueBefore, n3: 0 });
    for (const n of ['n1', 'n2'] as const) {
      const text = readFileSync(lab.node(n).logPath, 'utf8').slice(logFrom[n]);
      expect(text.split('\n').filter((l) => /\b(ERROR|FATAL|PANIC):/.test(l)), `${n} log since the join`).toEqual([]);
    }

    // An OTP written in n3 before a user row never follows it; users flow everywhere.
    const otp = await insertOtp('n3');
    const u3 = await insertUser('n3', 'from n3');
    await waitFor('user n3 -> n1', () => userOn('n1', u3));
    await waitFor('user n3 -> n2', () => userOn('n2', u3));
    expect([await otpOn('n1', otp), await otpOn('n2', otp), await otpOn('n3', otp)]).toEqual([false, false, true]);
    const u1 = await insertUser('n1', 'from n1 to n3');
    await waitFor('user n1 -> n3', () => userOn('n3', u1));

    expect((await waitNodeAs('n3')).code).toBe(0);
    // Reruns everywhere are quiet.
    for (const r of await Promise.all([boot('n1', all), boot('n2', all), boot('n3', all, { syncFrom: 'n1' })])) expect(r.changes).toEqual([]);
  });

  it('no password in anything the runs printed', () => {
    expect(captured.length).toBeGreaterThan(10);
    expect(captured.join('\n')).not.toMatch(/password\s*=/i);
  });
});
