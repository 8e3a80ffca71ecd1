/**
 * Integration: the bootstrap (pglogical dialect) against real PostgreSQL 15 + pglogical servers
 * from lab/postgres.ts, authenticated with client certificates only. Needs apt (the lab installs
 * postgresql-15-pglogical when missing) and fails, never skips, when that is impossible.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import pg from 'pg';
import { v7 as uuidv7 } from 'uuid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_LAB_DIR, REPO_ROOT, startPostgresLab, type PostgresLab } from '../../lab/postgres.js';
import { CREATE_TABLE, FAST, spockLabKit, startEmptyLab, TABLE } from '../../test/spock-lab.js';
import { createLogger } from '../log.js';
import { BootstrapError, type BootstrapResult } from './bootstrap.js';
import { run } from './bootstrap-command.js';
import { pglogicalDialect, REPLICATION_SETS } from './dialect.js';
import type { BootstrapSettings } from './settings.js';

const LAB_DIR = join(DEFAULT_LAB_DIR, 'vitest-bootstrap');
const BASE_PORT = 25_732;
const PAIR = ['n1', 'n2'] as const;

let lab: PostgresLab;
/** Every log line and child output of the file, checked for passwords at the end. */
const captured: string[] = [];
const log = createLogger({ test: 'bootstrap' }, { write: (l) => captured.push(l) });
const kit = spockLabKit(() => lab, log);
const { sql, nodes, insert, waitFor, waitForRow, snapshot } = kit;

/** n1 or n2 in the mesh of both (`over.nodes` for more). */
const boot = (node: string, over: Partial<BootstrapSettings> = {}): Promise<BootstrapResult> => kit.boot(node, PAIR, over);
const commandEnv = (node: string, names: readonly string[] = PAIR, extra: Record<string, string> = {}): NodeJS.ProcessEnv => kit.commandEnv(node, names, extra);

/** `regionmesh-app bootstrap-spock` as a real process (the container's entry point). */
function runCommand(env: NodeJS.ProcessEnv, timeoutMs = 90_000): Promise<{ code: number | null; out: string }> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'app', 'main.ts'), 'bootstrap-spock'], {
      cwd: REPO_ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`bootstrap-spock did not exit within ${timeoutMs} ms:\n${out}`));
    }, timeoutMs);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      captured.push(out);
      resolveRun({ code, out });
    });
  });
}

beforeAll(async () => {
  const t0 = Date.now();
  lab = await startEmptyLab('app/spock/bootstrap.test.ts', { nodes: PAIR, basePort: BASE_PORT, dir: LAB_DIR });
  console.info(`lab (2 nodes, reset) ready in ${Date.now() - t0} ms`);
  // The same table on both nodes first (sync=false needs identical schemas).
  for (const n of PAIR) await sql(n, CREATE_TABLE);
});

afterAll(async () => {
  await lab?.stop();
});

describe('lab/postgres', () => {
  it('reuses healthy running servers on a second start and never hands out a password', async () => {
    const before = await sql('n1', 'SELECT pg_postmaster_start_time()::text AS t');
    const again = await startPostgresLab({ nodes: ['n1', 'n2'], basePort: BASE_PORT, dir: LAB_DIR, skipInstall: true });
    expect(await sql('n1', 'SELECT pg_postmaster_start_time()::text AS t')).toEqual(before);
    await again.stop(); // started nothing, so stops nothing
    expect(lab.isRunning('n1') && lab.isRunning('n2')).toBe(true);
    for (const n of lab.nodes) {
      expect(n.dsn).toBe(`host=127.0.0.1 port=${n.port} dbname=app user=pgedge sslmode=require sslcert=${lab.certs.clients['pgedge']!.cert} sslkey=${lab.certs.clients['pgedge']!.key}`);
      expect(JSON.stringify({ ...n.adminEnv, dsn: n.dsn, appDsn: n.appDsn })).not.toMatch(/password/i);
    }
    // Certificate auth only: a TLS connection without a client certificate is refused.
    const noCert = new pg.Client({ host: '127.0.0.1', port: lab.node('n1').port, user: 'pgedge', database: 'app', ssl: { rejectUnauthorized: false } });
    await expect(noCert.connect()).rejects.toThrow(/certificate/i);
    await noCert.end().catch(() => undefined);
  });
});

describe('bootstrap-spock, pglogical dialect, two regions', () => {
  it('after both regions bootstrap (library call and the real command), writes replicate both ways', async () => {
    const t0 = Date.now();
    const [n1, n2] = await Promise.all([boot('n1'), runCommand(commandEnv('n2'))]);
    const bootMs = Date.now() - t0;
    expect(n2.code, n2.out).toBe(0);
    expect(n1.changes).toEqual([
      'created extension pglogical',
      'created node n1',
      `added table ${TABLE} to replication set default`,
      'marked node n1 ready (regionmesh.node_ready of database app)',
      'created subscription sub_n2_n1',
    ]);
    expect(n1.subscriptions).toEqual([{ name: 'sub_n2_n1', provider: 'n2', status: 'replicating' }]);
    expect(n2.out).toContain('"msg":"created subscription sub_n1_n2"');

    const a = await insert('n1', 'hello from n1');
    const b = await insert('n2', 'hello from n2');
    const ms = [await waitForRow('n2', a), await waitForRow('n1', b)];
    console.info(`both bootstraps in ${bootMs} ms; replication n1->n2 seen after ${ms[0]} ms, n2->n1 after ${ms[1]} ms`);

    // Full mesh, no forwarding (pglogical stores forward_origins '{}' as NULL), no initial data sync, the configured sets, byte-identical DSNs.
    for (const [node, peer] of [
      ['n1', 'n2'],
      ['n2', 'n1'],
    ] as const) {
      const [s] = await sql(node, `SELECT s.sub_name::text, coalesce(s.sub_forward_origins, '{}') AS sub_forward_origins, s.sub_replication_sets, s.sub_enabled, i.if_dsn
        FROM pglogical.subscription s JOIN pglogical.node_interface i ON i.if_id = s.sub_origin_if`);
      expect(s).toEqual({ sub_name: `sub_${peer}_${node}`, sub_forward_origins: [], sub_replication_sets: [...REPLICATION_SETS], sub_enabled: true, if_dsn: lab.node(peer).dsn });
      const [local] = await sql(node, 'SELECT i.if_dsn FROM pglogical.local_node l JOIN pglogical.node_interface i ON i.if_id = l.node_local_interface');
      expect(local).toEqual({ if_dsn: lab.node(node).dsn });
    }
  });

  it('three more runs of both regions change nothing and say so', async () => {
    const before = { n1: await snapshot('n1'), n2: await snapshot('n2') };
    expect(before.n1.slots).toHaveLength(1);
    for (let i = 0; i < 3; i++) {
      const lines: string[] = [];
      const [r1, code2] = await Promise.all([
        boot('n1'),
        // The command in-process, with its own env and captured log lines.
        run([], { env: commandEnv('n2'), write: (l) => (lines.push(l), captured.push(l)), options: FAST }),
      ]);
      expect(r1.changes).toEqual([]);
      expect(r1.warnings).toEqual([]);
      expect(code2, lines.join('\n')).toBe(0);
      expect(lines.some((l) => JSON.parse(l).msg === 'no changes')).toBe(true);
      expect(lines.filter((l) => /"msg":"(created|added|enabled)/.test(l))).toEqual([]);
    }
    expect({ n1: await snapshot('n1'), n2: await snapshot('n2') }).toEqual(before);
  });

  it('registers a table created later on the next run (pglogical has no auto-DDL)', async () => {
    for (const n of ['n1', 'n2']) await sql(n, 'CREATE TABLE room_members (room_id uuid, user_id uuid, PRIMARY KEY (room_id, user_id))');
    const [r1, r2] = await Promise.all([boot('n1'), boot('n2')]);
    expect(r1.changes).toEqual(['added table room_members to replication set default']);
    expect(r2.changes).toEqual(['added table room_members to replication set default']);
    const room = uuidv7();
    const user = uuidv7();
    await sql('n2', 'INSERT INTO room_members VALUES ($1, $2)', [room, user]);
    await waitFor('room_members row reaching n1', async () => (await sql('n1', 'SELECT 1 FROM room_members WHERE room_id = $1', [room])).length > 0);
  });

  it('with a peer down, a run whose subscriptions exist fails at its deadline naming the stuck peer', async () => {
    await lab.stopNode('n2');
    try {
      const t0 = Date.now();
      const err = await boot('n1', { deadlineSeconds: 5 }).then(
        () => undefined,
        (e: unknown) => e,
      );
      const ms = Date.now() - t0;
      expect(err).toBeInstanceOf(BootstrapError);
      expect((err as BootstrapError).peers).toEqual(['n2']);
      expect((err as Error).message).toMatch(/peer\(s\) n2 not replicating \(sub_n2_n1: (down|initializing|unknown)\)/);
      expect(ms).toBeGreaterThanOrEqual(4_500);
      expect(ms).toBeLessThan(10_000);
    } finally {
      await lab.startNode('n2');
    }
  });

  it('with a peer down, creating its subscription fails within the deadline naming it, and drops nothing', async () => {
    // A fresh situation for n1: its subscription to n2 is gone (dropped while n2 is up, so the slot on n2 goes too).
    await sql('n1', `SELECT pglogical.drop_subscription(subscription_name := 'sub_n2_n1')`);
    await lab.stopNode('n2');
    const nodeBefore = await sql('n1', 'SELECT n.node_id, n.node_name FROM pglogical.local_node l JOIN pglogical.node n USING (node_id)');
    let out = '';
    try {
      const t0 = Date.now();
      const err = await boot('n1', { deadlineSeconds: 15 }).then(
        () => undefined,
        (e: unknown) => e,
      );
      const ms = Date.now() - t0;
      console.info(`unreachable-peer bootstrap failed after ${ms} ms (deadline 15 s)`);
      expect(err).toBeInstanceOf(BootstrapError);
      expect((err as BootstrapError).peers).toEqual(['n2']);
      expect((err as Error).message).toMatch(/could not subscribe to peer\(s\) n2 \(sub_n2_n1: /);
      expect(ms).toBeGreaterThanOrEqual(14_000);
      expect(ms).toBeLessThan(22_000);

      // The command: exit code 1 and a log line that names the peer.
      const lines: string[] = [];
      const code = await run([], { env: commandEnv('n1', ['n1', 'n2'], { SPOCK_DEADLINE_SECONDS: '3' }), write: (l) => (lines.push(l), captured.push(l)), options: FAST });
      out = lines.join('\n');
      expect(code, out).toBe(1);
      const failure = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l['msg'] === 'bootstrap failed');
      expect(failure?.['peers']).toEqual(['n2']);
      expect(String(failure?.['error'])).toContain('n2');

      // Nothing dropped, nothing half-created.
      expect(await sql('n1', 'SELECT n.node_id, n.node_name FROM pglogical.local_node l JOIN pglogical.node n USING (node_id)')).toEqual(nodeBefore);
      expect(nodeBefore).toHaveLength(1);
      expect(await sql('n1', 'SELECT sub_name FROM pglogical.subscription')).toEqual([]);
    } finally {
      await lab.startNode('n2');
    }
    // Once the peer is back, the same run recovers.
    const r = await boot('n1');
    expect(r.changes).toEqual(['created subscription sub_n2_n1']);
    await waitForRow('n1', await insert('n2', 'after the outage'));
  });

  it('a joining third region syncs structure and data from SPOCK_SYNC_FROM only, then the mesh is full', async () => {
    const existing = await insert('n1', 'before n3 joined');
    await waitForRow('n2', existing);
    await lab.addNode('n3', { fresh: true });
    expect(await sql('n3', `SELECT to_regclass('${TABLE}') AS t`)).toEqual([{ t: null }]);
    const all = ['n1', 'n2', 'n3'];
    const [r1, r2, r3] = await Promise.all([
      boot('n1', { nodes: nodes(all) }),
      boot('n2', { nodes: nodes(all) }),
      boot('n3', { nodes: nodes(all), syncFrom: 'n1' }),
    ]);
    expect(r1.changes).toEqual(['created subscription sub_n3_n1']);
    expect(r2.changes).toEqual(['created subscription sub_n3_n2']);
    expect(r3.changes).toEqual(
      expect.arrayContaining(['created node n3', 'created subscription sub_n1_n3', 'created subscription sub_n2_n3', `added table ${TABLE} to replication set default`]),
    );
    const subs = await sql('n3', `SELECT sub_name::text, coalesce(sub_forward_origins, '{}') AS sub_forward_origins FROM pglogical.subscription ORDER BY 1`);
    expect(subs).toEqual([
      { sub_name: 'sub_n1_n3', sub_forward_origins: [] },
      { sub_name: 'sub_n2_n3', sub_forward_origins: [] },
    ]);
    // Structure and data came from n1.
    expect(await sql('n3', `SELECT body FROM ${TABLE} WHERE id = $1`, [existing])).toEqual([{ body: 'before n3 joined' }]);
    // And new writes flow between all three.
    const c = await insert('n3', 'from n3');
    await waitForRow('n1', c);
    await waitForRow('n2', c);
    await waitForRow('n3', await insert('n2', 'from n2 to n3'));
  });

  it('every pglogical call the dialect emits matches the installed pglogical functions (pg_proc)', async () => {
    const stmts = [
      pglogicalDialect.nodeCreate('n9', 'host=x'),
      pglogicalDialect.subCreate({ name: 'sub_a_b', providerDsn: 'host=x', synchronize: false }),
      pglogicalDialect.subEnable('sub_a_b'),
      pglogicalDialect.subStatus(),
      pglogicalDialect.repset.addTable('default', 'public.t'),
      pglogicalDialect.repset.removeTable('default', 'public.t'),
    ];
    for (const call of stmts.flatMap((s) => s.calls)) {
      const rows = await sql<{ args: string }>(
        'n1',
        `SELECT pg_get_function_arguments(p.oid) AS args FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = $1 AND p.proname = $2`,
        [call.schema, call.fn],
      );
      expect(rows, `${call.schema}.${call.fn}`).toHaveLength(1);
      const declared = new Map(
        rows[0]!.args
          .split(/,\s*(?=[a-z_]+ )/)
          .filter((a) => !a.startsWith('OUT '))
          .map((a) => {
            const [name = '', ...rest] = a.split(' ');
            return [name, rest.join(' ').replace(/ DEFAULT .*$/, '')] as const;
          }),
      );
      for (const arg of call.args) {
        expect(declared.get(arg.name), `${call.fn}(${arg.name})`).toBe(arg.type === 'boolean' ? 'boolean' : arg.type);
      }
    }
  });

  it('no password in the catalogs, the slots, or anything the runs printed', async () => {
    for (const n of ['n1', 'n2', 'n3']) {
      const text = JSON.stringify([
        await sql(n, 'SELECT * FROM pglogical.node_interface'),
        await sql(n, 'SELECT * FROM pglogical.subscription'),
        await sql(n, 'SELECT * FROM pglogical.show_subscription_status()'),
      ]);
      expect(text).toContain('sslcert=');
      expect(text).not.toMatch(/password/i);
    }
    expect(captured.length).toBeGreaterThan(10);
    expect(captured.join('\n')).not.toMatch(/password\s*=/i);
    expect(captured.join('\n')).not.toMatch(/PRIVATE KEY/);
  });
});
