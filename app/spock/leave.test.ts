/**
 * Integration: a region leaving the mesh (SPOCK_LEAVE on the leaving node, SPOCK_REMOVED_NODES on
 * the remaining ones), pglogical dialect, against three real PostgreSQL 15 + pglogical servers
 * from lab/postgres.ts (client certificates only). Its own lab directory and ports, so it runs in
 * the same vitest run as bootstrap.test.ts (files run one at a time). Fails, never skips, when
 * PostgreSQL + pglogical cannot be installed.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_LAB_DIR, type PostgresLab } from '../../lab/postgres.js';
import { CREATE_TABLE, FAST, spockLabKit, startEmptyLab, TABLE } from '../../test/spock-lab.js';
import { createLogger } from '../log.js';
import { bootstrapRegion, type BootstrapResult } from './bootstrap.js';
import { run } from './bootstrap-command.js';
import { pglogicalDialect } from './dialect.js';
import { settingsFromEnv, type BootstrapSettings } from './settings.js';

const LAB_DIR = join(DEFAULT_LAB_DIR, 'vitest-leave');
/** bootstrap.test.ts uses 25732-25735; the default lab 25432 (all below the ephemeral port range). */
const BASE_PORT = 25_742;
const ALL = ['n1', 'n2', 'n3'] as const;
const REMAINING = ['n1', 'n2'] as const;
/** How long a row written on the departed node is given to (wrongly) show up elsewhere. */
const ISOLATION_WAIT_MS = 3_000;

let lab: PostgresLab;
const captured: string[] = [];
const log = createLogger({ test: 'leave' }, { write: (l) => captured.push(l) });
const kit = spockLabKit(() => lab, log);
const { sql, commandEnv, insert, waitForRow, snapshot } = kit;

/** The library call with settings parsed from the command's environment (the env contract end to end). */
function bootFromEnv(node: string, names: readonly string[], extra: Record<string, string> = {}): Promise<BootstrapResult> {
  return bootstrapRegion({ ...settingsFromEnv(commandEnv(node, names, extra)), admin: lab.node(node).adminConnectionConfig }, { ...FAST, log });
}

/** `node` in the mesh of all three. */
const boot = (node: string, over: Partial<BootstrapSettings> = {}): Promise<BootstrapResult> => kit.boot(node, ALL, over);

/** The real command in-process for the leaving node; returns its exit code and parsed log lines. */
async function leaveCommand(node: string): Promise<{ code: number; lines: Array<Record<string, unknown>>; changes: string[] }> {
  const raw: string[] = [];
  const code = await run([], { env: commandEnv(node, [node], { SPOCK_LEAVE: 'true' }), write: (l) => (raw.push(l), captured.push(l)), options: FAST });
  const lines = raw.map((l) => JSON.parse(l) as Record<string, unknown>);
  const done = lines.find((l) => l['msg'] === 'left the mesh');
  return { code, lines, changes: (done?.['changes'] as string[] | undefined) ?? [] };
}

/** n1 <-> n2 both ways. */
async function remainingReplicate(): Promise<number[]> {
  const a = await insert('n1', 'n1 after n3 left');
  const b = await insert('n2', 'n2 after n3 left');
  return [await waitForRow('n2', a), await waitForRow('n1', b)];
}

const slotNames = async (node: string) => (await sql<{ slot_name: string }>(node, 'SELECT slot_name FROM pg_replication_slots ORDER BY 1')).map((r) => r.slot_name);
const rowCount = async (node: string) => Number((await sql<{ n: string }>(node, `SELECT count(*) AS n FROM ${TABLE}`))[0]!.n);

/** Nothing on the remaining nodes refers to n3 any more; each keeps exactly its peer's subscription, slot and origin. */
async function expectN3Gone(): Promise<void> {
  for (const [me, peer] of [
    ['n1', 'n2'],
    ['n2', 'n1'],
  ] as const) {
    const s = await snapshot(me);
    expect(await sql(me, 'SELECT sub_name, sub_enabled, sub_slot_name FROM pglogical.subscription ORDER BY sub_name'), me).toEqual([
      { sub_name: `sub_${peer}_${me}`, sub_enabled: true, sub_slot_name: `pgl_app_${peer}_sub_${peer}_${me}` },
    ]);
    expect((await sql(me, 'SELECT node_name::text FROM pglogical.node ORDER BY 1')).map((r) => r['node_name']), me).toEqual(['n1', 'n2']);
    expect(await slotNames(me), me).toEqual([`pgl_app_${me}_sub_${me}_${peer}`]);
    expect(s.origins, me).toEqual([JSON.stringify({ roname: `pgl_app_${peer}_sub_${peer}_${me}` })]);
    expect(JSON.stringify(s), me).not.toContain('n3');
    expect(s.nodeInterface.join(), me).not.toContain(`port=${lab.node('n3').port}`);
  }
}

/** The departed node: no node (local or remote), subscription, replication set, mesh slot or origin; its table and rows stay. */
async function expectN3Empty(rowsBefore: number): Promise<void> {
  const s = await snapshot('n3');
  expect(s).toEqual({ node: [], nodeInterface: [], localNode: [], subscription: [], replicationSet: [], repsetTables: [], slots: [], origins: [] });
  expect(await sql('n3', `SELECT to_regclass('${TABLE}')::text AS t`)).toEqual([{ t: TABLE }]);
  expect(await rowCount('n3')).toBe(rowsBefore);
  expect(await sql('n3', `SELECT extname FROM pg_extension WHERE extname = 'pglogical'`)).toEqual([{ extname: 'pglogical' }]); // the extension stays
}

beforeAll(async () => {
  const t0 = Date.now();
  lab = await startEmptyLab('app/spock/leave.test.ts', { nodes: ALL, basePort: BASE_PORT, dir: LAB_DIR });
  for (const n of ALL) await sql(n, CREATE_TABLE);
  const labMs = Date.now() - t0;
  // The full mesh of three, with the existing flow.
  const t1 = Date.now();
  const results = await Promise.all(ALL.map((n) => boot(n)));
  for (const [i, r] of results.entries()) expect(r.subscriptions.map((s) => s.status), ALL[i]).toEqual(['replicating', 'replicating']);
  console.info(`lab (3 nodes, reset) ready in ${labMs} ms; 3-node mesh bootstrapped in ${Date.now() - t1} ms`);
});

afterAll(async () => {
  await lab?.stop();
});

describe('bootstrap-spock, pglogical dialect: a region leaves the mesh', () => {
  let n3Rows = 0;

  it('the three-node mesh replicates every way, with the slot names pglogical generates', async () => {
    for (const from of ALL) {
      const id = await insert(from, `from ${from}`);
      for (const to of ALL.filter((x) => x !== from)) await waitForRow(to, id);
    }
    // gen_slot_name: pgl_<subscriber db>_<provider>_<subscription>, on the provider.
    expect(await slotNames('n3')).toEqual(['pgl_app_n3_sub_n3_n1', 'pgl_app_n3_sub_n3_n2']);
    expect(await slotNames('n1')).toEqual(['pgl_app_n1_sub_n1_n2', 'pgl_app_n1_sub_n1_n3']);
    const [gen] = await sql('n1', `SELECT pglogical.pglogical_gen_slot_name('app', 'n1', 'sub_n1_n3')::text AS s`);
    expect(gen).toEqual({ s: 'pgl_app_n1_sub_n1_n3' });
    n3Rows = await rowCount('n3');
    expect(n3Rows).toBe(3);
  });

  it('n3 leaves (SPOCK_LEAVE=true) while n1 and n2 drop it (SPOCK_REMOVED_NODES=n3), all at once: nothing refers to n3, n1 <-> n2 still replicate', async () => {
    const t0 = Date.now();
    const [left, r1, r2] = await Promise.all([
      leaveCommand('n3'),
      bootFromEnv('n1', REMAINING, { SPOCK_REMOVED_NODES: 'n3' }),
      bootFromEnv('n2', REMAINING, { SPOCK_REMOVED_NODES: 'n3' }),
    ]);
    const ms = Date.now() - t0;
    expect(left.code, JSON.stringify(left.lines)).toBe(0);
    // Who drops the slots between two live nodes depends on timing (each side's own drop, or the
    // other side's drop_subscription); the subscriptions and the node are each dropped by their owner.
    expect(left.changes).toEqual(expect.arrayContaining(['dropped subscription sub_n1_n3', 'dropped subscription sub_n2_n3', 'dropped node n3']));
    expect(left.changes.filter((c) => !/^dropped (subscription|node|replication slot) /.test(c))).toEqual(['reset regionmesh.node_ready']);
    // The node goes last, then the marker the chat backend's init container waits for.
    expect(left.changes.slice(-2)).toEqual(['dropped node n3', 'reset regionmesh.node_ready']);
    expect(r1.changes).toEqual(expect.arrayContaining(['dropped subscription sub_n3_n1']));
    expect(r2.changes).toEqual(expect.arrayContaining(['dropped subscription sub_n3_n2']));
    for (const r of [r1, r2]) {
      expect(r.changes.filter((c) => !/^(dropped subscription sub_n3_n[12]|dropped replication slot pgl_app_n[12]_sub_n[12]_n3|forgot node n3)$/.test(c))).toEqual([]);
      expect(r.warnings).toEqual([]);
    }
    expect(r1.subscriptions).toEqual([{ name: 'sub_n2_n1', provider: 'n2', status: 'replicating' }]);
    expect(r2.subscriptions).toEqual([{ name: 'sub_n1_n2', provider: 'n1', status: 'replicating' }]);
    console.info(`leave of n3 with both removals concurrent: ${ms} ms; n3: ${left.changes.join('; ')}; n1: ${r1.changes.join('; ')}; n2: ${r2.changes.join('; ')}`);

    await expectN3Gone();
    await expectN3Empty(n3Rows);
    const rep = await remainingReplicate();
    console.info(`after the leave: n1->n2 seen after ${rep[0]} ms, n2->n1 after ${rep[1]} ms`);
  });

  it('rows written on n3 afterwards reach neither n1 nor n2', async () => {
    const late = await insert('n3', 'written on n3 after it left');
    // A barrier on the live pipes: a row written after the n3 row does reach the other remaining node.
    const marker = await insert('n1', 'marker');
    await waitForRow('n2', marker);
    await new Promise((r) => setTimeout(r, ISOLATION_WAIT_MS));
    for (const n of REMAINING) expect(await sql(n, `SELECT 1 FROM ${TABLE} WHERE id = $1`, [late]), n).toEqual([]);
    expect(await sql('n3', `SELECT 1 FROM ${TABLE} WHERE id = $1`, [late])).toHaveLength(1);
    n3Rows += 1;
  });

  it('reruns of all three change nothing and say so', async () => {
    const before = { n1: await snapshot('n1'), n2: await snapshot('n2'), n3: await snapshot('n3') };
    for (let i = 0; i < 2; i++) {
      const [left, r1, r2] = await Promise.all([
        leaveCommand('n3'),
        bootFromEnv('n1', REMAINING, { SPOCK_REMOVED_NODES: 'n3' }),
        bootFromEnv('n2', REMAINING, { SPOCK_REMOVED_NODES: 'n3' }),
      ]);
      expect(left.code).toBe(0);
      expect(left.lines.some((l) => l['msg'] === 'no changes')).toBe(true);
      expect(left.lines.filter((l) => /^(dropped|forgot|created|added|enabled)/.test(String(l['msg'])))).toEqual([]);
      expect([r1.changes, r2.changes, r1.warnings, r2.warnings]).toEqual([[], [], [], []]);
    }
    expect({ n1: await snapshot('n1'), n2: await snapshot('n2'), n3: await snapshot('n3') }).toEqual(before);
    await expectN3Empty(n3Rows);
  });

  it('a removed region that is down: the remaining nodes drop its subscription and the slot that served it; it leaves when back', async () => {
    // n3 joins again, empty, syncing from n1 (a new region on the same address).
    await lab.resetNodes(['n3']);
    const joined = await Promise.all([boot('n1'), boot('n2'), boot('n3', { syncFrom: 'n1' })]);
    expect(joined.map((r) => r.changes.filter((c) => c.startsWith('created subscription')))).toEqual([
      ['created subscription sub_n3_n1'],
      ['created subscription sub_n3_n2'],
      ['created subscription sub_n1_n3', 'created subscription sub_n2_n3'],
    ]);
    await waitForRow('n1', await insert('n3', 'n3 rejoined'));
    const rows = await rowCount('n3');
    expect(await slotNames('n1')).toEqual(['pgl_app_n1_sub_n1_n2', 'pgl_app_n1_sub_n1_n3']);

    await lab.stopNode('n3');
    try {
      const t0 = Date.now();
      const [r1, r2] = await Promise.all([bootFromEnv('n1', REMAINING, { SPOCK_REMOVED_NODES: 'n3' }), bootFromEnv('n2', REMAINING, { SPOCK_REMOVED_NODES: 'n3' })]);
      console.info(`removal of an unreachable n3 from n1 and n2: ${Date.now() - t0} ms`);
      // drop_subscription cannot reach n3 (it only warns); n3's slots here are still there, idle: dropped by us.
      expect(r1.changes).toEqual(['dropped subscription sub_n3_n1', 'dropped replication slot pgl_app_n1_sub_n1_n3']);
      expect(r2.changes).toEqual(['dropped subscription sub_n3_n2', 'dropped replication slot pgl_app_n2_sub_n2_n3']);
      await expectN3Gone();
      await remainingReplicate();
    } finally {
      await lab.startNode('n3');
    }

    // Back up: n3's own slots for n1 and n2 were never dropped (their subscribers could not reach it).
    expect(await slotNames('n3')).toEqual(['pgl_app_n3_sub_n3_n1', 'pgl_app_n3_sub_n3_n2']);
    const left = await leaveCommand('n3');
    expect(left.code, JSON.stringify(left.lines)).toBe(0);
    expect(left.changes).toEqual([
      'dropped subscription sub_n1_n3',
      'dropped subscription sub_n2_n3',
      'dropped replication slot pgl_app_n3_sub_n3_n1',
      'dropped replication slot pgl_app_n3_sub_n3_n2',
      'dropped node n3',
      'reset regionmesh.node_ready',
    ]);
    await expectN3Empty(rows);
    await expectN3Gone();
    const again = await leaveCommand('n3');
    expect([again.code, again.changes, again.lines.some((l) => l['msg'] === 'no changes')]).toEqual([0, [], true]);
  });

  it('every pglogical call of the removal statements matches the installed pglogical functions (pg_proc)', async () => {
    const stmts = [
      pglogicalDialect.subDrop('sub_a_b'),
      pglogicalDialect.nodes(),
      pglogicalDialect.nodeDrop('n9'),
      pglogicalDialect.localNodeDrop('n9'),
      pglogicalDialect.meshSlots(),
      pglogicalDialect.meshSlots({ provider: 'n1', subscription: 'sub_n1_n9' }),
    ];
    const calls = stmts.flatMap((s) => s.calls);
    expect(calls.map((c) => `${c.schema}.${c.fn}`).sort()).toEqual(['pglogical.drop_node', 'pglogical.drop_node', 'pglogical.drop_subscription', 'pglogical.pglogical_gen_slot_name']);
    for (const call of calls) {
      const rows = await sql<{ names: string[] | null; types: string }>(
        'n1',
        `SELECT p.proargnames AS names, oidvectortypes(p.proargtypes) AS types
           FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = $1 AND p.proname = $2`,
        [call.schema, call.fn],
      );
      expect(rows, `${call.schema}.${call.fn}`).toHaveLength(1);
      const types = rows[0]!.types.split(', ');
      if (call.style === 'positional') {
        expect(rows[0]!.names, `${call.fn} has no argument names`).toBeNull();
        expect(types, call.fn).toEqual(call.args.map((a) => a.type));
      } else {
        for (const arg of call.args) {
          const i = (rows[0]!.names ?? []).indexOf(arg.name);
          expect(i, `${call.fn}(${arg.name})`).toBeGreaterThanOrEqual(0);
          expect(types[i], `${call.fn}(${arg.name})`).toBe(arg.type);
        }
      }
    }
    // And each statement is valid SQL against the real catalogs (the drops match nothing here).
    for (const s of stmts) await sql('n1', s.sql, [...s.params]);
  });

  it('no password in anything the runs printed', () => {
    expect(captured.length).toBeGreaterThan(10);
    expect(captured.join('\n')).not.toMatch(/password\s*=/i);
    expect(captured.join('\n')).not.toMatch(/PRIVATE KEY/);
  });
});
