/**
 * `npm run plan`: exactly the expected entries for 2 -> 3 and 3 -> 2 regions, every danger
 * rule refused without its acknowledgement and accepted with it, "no changes" when nothing
 * changed, --json and --base.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { stringify } from 'yaml';
import type { PlatformConfigInput } from '../regions/schema.js';
import { configFrom, inputWithRegions, REPO_ROOT, tempDir } from '../test/helpers.js';
import { readDist, writeDistAtomically } from './dist-writer.js';
import { main } from './main.js';
import { computePlan, formatPlan, type Plan } from './plan.js';
import { planMain } from './plan-main.js';
import { renderDist } from './render.js';

afterEach(() => vi.restoreAllMocks());

function plan(base: PlatformConfigInput, next: PlatformConfigInput): Plan {
  return computePlan(renderDist(configFrom(base)), renderDist(configFrom(next)), configFrom(next));
}

const app = (p: Plan, name: string) => p.applications.find((a) => a.application === name);

function joiningThird(): PlatformConfigInput {
  const c = inputWithRegions(3);
  c.regions[2] = { ...c.regions[2]!, state: 'joining', syncFrom: 'r1' };
  return c;
}

describe('2 -> 3 regions (r3 joining from r1)', () => {
  const p = plan(inputWithRegions(2), joiningThird());

  it('adds the new region\'s data layer, without the app', () => {
    const clusters = p.clusters.map((c) => c.cluster);
    expect(clusters).toContain('astring-r3');
    const r3Apps = p.applications.filter((a) => a.cluster === 'astring-r3').map((a) => a.application).sort();
    // The default config has backups: the region's backup components come with its data layer.
    const backups = (configFrom(joiningThird()) as { backups?: { medusa: { enabled: boolean } } }).backups;
    const backupApps = backups ? ['astring-barman-cloud-r3', 'astring-postgres-backups-r3', ...(backups.medusa.enabled ? ['astring-cassandra-backups-r3'] : [])] : [];
    expect(r3Apps).toEqual(
      [
        'astring-cert-manager-r3',
        'astring-cnpg-operator-r3',
        'astring-k8ssandra-operator-r3',
        'astring-nats-r3',
        'astring-postgres-r3',
        ...backupApps,
      ].sort(),
    );
    expect(app(p, 'astring-chat-r3')).toBeUndefined();
  });

  it('adds the DC with the dc-replication annotation and a ClientConfig', () => {
    const cas = app(p, 'astring-cassandra-management')!;
    expect(cas.added).toEqual(['clusters/astring-mgmt/cassandra/clientconfig-astring-r3.yaml']);
    expect(cas.changed).toEqual(['clusters/astring-mgmt/cassandra/k8ssandracluster-astring.yaml']);
    expect(cas.effects).toEqual([
      'Cassandra DC dc3 is created in astring-r3 and rebuilt from the other DCs',
      'k8ssandra-operator replicates {"dc3":{"chat":3}} to the new DC(s)',
    ]);
  });

  it('rolls the NATS pods of every old region (new gateway entry) and reruns their Spock Jobs', () => {
    for (const r of ['r1', 'r2']) {
      expect(app(p, `astring-nats-${r}`)!.effects).toEqual([
        `NATS StatefulSet nats in astring-${r} rolls its 3 pods one at a time (config checksum; the gateway list changed and is never hot-reloaded)`,
      ]);
      expect(app(p, `astring-postgres-${r}`)!.effects).toContain(`Job bootstrap-spock runs again after the next sync of astring-${r}`);
      // Capacity is sized for 8 regions: no database restart.
      expect(app(p, `astring-postgres-${r}`)!.effects).toContain(`pgEdge node list changes in astring-${r}; no pod restarts`);
      expect(app(p, `astring-chat-${r}`)).toBeUndefined();
    }
  });

  it('refuses nothing', () => {
    expect(p.danger.changes).toEqual([]);
    expect(p.summary).toMatch(/0 dangerous change\(s\) refused$/);
  });

  it('reads as a plan a reviewer can follow', () => {
    const text = formatPlan(p);
    expect(text).toMatch(/^astring-r3 {2}\(\+\d+ ~0 -0\)$/m);
    expect(text).toMatch(/^ {2}astring-nats-r3$/m);
    expect(text).toMatch(/^ {4}\+ values\/astring-r3\/nats\.yaml$/m);
    expect(text).toMatch(/^ {4}=> NATS StatefulSet nats is created in astring-r3 \(3 servers\)$/m);
  });
});

describe('3 -> 2 regions', () => {
  const three = inputWithRegions(3);
  const leaving = (() => {
    const c = inputWithRegions(3);
    c.regions[2] = { ...c.regions[2]!, state: 'leaving' };
    return c;
  })();

  /** With global routing configured, r3 leaving DNS is its own dangerous change (README "Global routing"). */
  const routingIds = configFrom(three).routing ? ['remove-routing:r3'] : [];

  it('going straight from active to removed is refused (the DC and database still exist)', () => {
    const p = plan(three, inputWithRegions(2));
    expect(p.danger.refused.map((d) => d.id)).toEqual(['remove-region:r3', ...routingIds]);
  });

  it('leaving first: the app stops, the region leaves the gateway lists, the keyspace and the mesh', () => {
    const p = plan(three, leaving);
    expect(p.danger.changes.map((d) => d.id)).toEqual(routingIds);
    expect(app(p, 'astring-chat-r3')!.effects).toEqual(['chat-backend in astring-r3 scales to 0 (region leaving)']);
    expect([...app(p, 'astring-chat-r3')!.removed].sort()).toEqual([
      'clusters/astring-r3/chat/horizontalpodautoscaler-chat-backend.yaml',
      'clusters/astring-r3/chat/poddisruptionbudget-chat-backend.yaml',
    ]);
    for (const r of ['r1', 'r2']) expect(app(p, `astring-nats-${r}`)!.effects[0]).toMatch(/gateway list changed/);
    expect(app(p, 'astring-cassandra-r1')!.effects).toEqual(['Job bootstrap-cassandra runs again after the next sync of astring-r1']);
  });

  it('then removing the leaving region is allowed and decommissions its DC', () => {
    const p = plan(leaving, inputWithRegions(2));
    expect(p.danger.changes).toEqual([]);
    expect(app(p, 'astring-cassandra-management')!.effects).toEqual(['Cassandra DC dc3 in astring-r3 is decommissioned and its volumes deleted']);
    expect(app(p, 'astring-cassandra-management')!.removed).toEqual(['clusters/astring-mgmt/cassandra/clientconfig-astring-r3.yaml']);
    expect(p.clusters.find((c) => c.cluster === 'astring-r3')!.added).toBe(0);
  });
});

describe('pgEdge instance, storage and resource changes', () => {
  /** Two regions with explicit Postgres sizing, so every expected value below comes from here. */
  const sized = (instances: number, storageSize: string, cpu: string, memory = '1Gi'): PlatformConfigInput => {
    const c = inputWithRegions(2);
    c.postgres = { ...c.postgres, instances, storageSize, resources: { cpu, memory } };
    return c;
  };
  /** The effects on the Postgres Application of each region, keyed by region name. */
  const postgresEffects = (p: Plan) =>
    Object.fromEntries(['r1', 'r2'].map((r) => [r, app(p, `astring-postgres-${r}`)?.effects ?? []]));

  // The replication capacity counts the instances (README, pgEdge values: max_replication_slots =
  // 2*peers + (instances-1) + 8, max_wal_senders = slots + 2), and both are restart-only
  // PostgreSQL settings: an instance change also rolls the pods.
  const capacityRoll = (r: string, ordinal: number) =>
    `pgEdge node n${ordinal} in astring-${r}: CloudNativePG rolls the Postgres pods for the changed server settings (max_replication_slots, max_wal_senders need a restart): standbys first, one at a time, then the primary restarts without a switchover (primaryUpdateMethod restart): writes in this region pause until it is back`;

  it('more instances: standbys are added, cloned from the primary (and the capacity settings roll the pods)', () => {
    const effects = postgresEffects(plan(sized(2, '10Gi', '500m'), sized(3, '10Gi', '500m')));
    for (const [r, ordinal] of [['r1', 1], ['r2', 2]] as const) {
      expect(effects[r]).toEqual([
        `pgEdge node n${ordinal} in astring-${r}: CloudNativePG adds 1 standby pod(s) (2 -> 3 instances), each cloned from the primary with pg_basebackup onto a new PVC; running pods do not restart`,
        capacityRoll(r, ordinal),
      ]);
    }
  });

  it('fewer instances: standbys and their PVCs are removed; down to 1, nothing takes over', () => {
    expect(postgresEffects(plan(sized(3, '10Gi', '500m'), sized(2, '10Gi', '500m')))['r1']).toEqual([
      'pgEdge node n1 in astring-r1: CloudNativePG removes 1 standby pod(s) (3 -> 2 instances) and deletes their PVCs; the primary and its data stay',
      capacityRoll('r1', 1),
    ]);
    const [effect] = postgresEffects(plan(sized(3, '10Gi', '500m'), sized(1, '10Gi', '500m')))['r2']!;
    expect(effect).toMatch(/^pgEdge node n2 in astring-r2: CloudNativePG removes 2 standby pod\(s\) \(3 -> 1 instances\) and deletes their PVCs; the primary and its data stay; with 1 instance nothing takes over/);
  });

  it('bigger storage: the PVCs are resized in place (volume expansion needed); smaller storage is refused by CloudNativePG', () => {
    expect(postgresEffects(plan(sized(2, '10Gi', '500m'), sized(2, '20Gi', '500m')))['r1']).toEqual([
      'pgEdge node n1 in astring-r1: CloudNativePG resizes every PVC 10Gi -> 20Gi in place, no data moves and no pod restarts; the StorageClass must allow volume expansion (allowVolumeExpansion: true), otherwise the API server refuses the resize and the PVCs stay at 10Gi',
    ]);
    expect(postgresEffects(plan(sized(2, '20Gi', '500m'), sized(2, '10Gi', '500m')))['r1']).toEqual([
      'pgEdge node n1 in astring-r1: storage 20Gi -> 10Gi is refused by the CloudNativePG webhook (it never shrinks a volume): the sync of this Application fails and nothing changes until the size is back to at least 20Gi',
    ]);
    // 1Ti is more than 900Gi: sizes compare as quantities, not as text.
    expect(postgresEffects(plan(sized(2, '900Gi', '500m'), sized(2, '1Ti', '500m')))['r1']![0]).toMatch(/resizes every PVC 900Gi -> 1Ti in place/);
  });

  it('other resources: a rolling restart, standbys first, then the primary without a switchover (primaryUpdateMethod restart, set for Spock)', () => {
    const expected = (r: string, ordinal: number) =>
      `pgEdge node n${ordinal} in astring-${r}: CloudNativePG rolls the Postgres pods for the changed resources: standbys first, one at a time, then the primary restarts without a switchover (primaryUpdateMethod restart): writes in this region pause until it is back`;
    const cpu = postgresEffects(plan(sized(2, '10Gi', '500m'), sized(2, '10Gi', '1')));
    expect(cpu).toEqual({ r1: [expected('r1', 1)], r2: [expected('r2', 2)] });
    const memory = postgresEffects(plan(sized(2, '10Gi', '500m'), sized(2, '10Gi', '500m', '2Gi')));
    expect(memory).toEqual({ r1: [expected('r1', 1)], r2: [expected('r2', 2)] });
  });

  it('a single instance: a resource change takes the node down while its only pod restarts', () => {
    expect(postgresEffects(plan(sized(1, '10Gi', '500m'), sized(1, '10Gi', '1')))['r1']).toEqual([
      'pgEdge node n1 in astring-r1: CloudNativePG rolls the Postgres pods for the changed resources: its only instance restarts, so the node is down until the pod is back',
    ]);
  });

  it('several changes at once: each has its effect, one rolling restart for all of them', () => {
    const [added, resized, rolled, ...rest] = postgresEffects(plan(sized(2, '10Gi', '500m'), sized(3, '20Gi', '1')))['r2']!;
    expect(added).toMatch(/adds 1 standby pod\(s\) \(2 -> 3 instances\)/);
    expect(resized).toMatch(/resizes every PVC 10Gi -> 20Gi in place/);
    expect(rolled).toMatch(/rolls the Postgres pods for the changed resources, server settings \(max_replication_slots, max_wal_senders need a restart\): standbys first/);
    expect(rest).toEqual([]);
  });

  it('a reload-only server setting is reloaded, not rolled', () => {
    const base = renderDist(configFrom(sized(2, '10Gi', '500m')));
    const next = new Map(base);
    const path = 'values/astring-r1/pgedge.yaml';
    next.set(path, base.get(path)!.replace('wal_sender_timeout: 5s', 'wal_sender_timeout: 10s'));
    expect(next.get(path)).not.toBe(base.get(path));
    const p = computePlan(base, next, configFrom(sized(2, '10Gi', '500m')));
    expect(app(p, 'astring-postgres-r1')!.effects).toEqual([
      'pgEdge node n1 in astring-r1: CloudNativePG applies the changed server settings wal_sender_timeout with a reload (a restart only if PostgreSQL reports one of them needs it)',
    ]);
  });
});

describe('danger rules', () => {
  const rules: Array<[string, (c: PlatformConfigInput) => void, string]> = [
    ['rename a region', (c) => void (c.regions[1]!.name = 'r9'), 'rename-region:r2->r9'],
    ['change an ordinal', (c) => void (c.regions[1]!.ordinal = 7), 'change-ordinal:r2:2->7'],
    ['change a DC name', (c) => void (c.regions[0]!.cassandra.datacenter = 'dc9'), 'change-datacenter:r1:dc1->dc9'],
    ['change the Cassandra cluster name', (c) => void (c.cassandra.clusterName = 'other'), 'change-cassandra-cluster-name:astring->other'],
    ['change the pgEdge appName', (c) => void (c.postgres.appName = 'other'), 'change-pgedge-appname:astring-cluster->other'],
    ['remove a region that still has data', (c) => void c.regions.pop(), 'remove-region:r3'],
    ['add a region as active', (c) => void c.regions.push({ name: 'r4', ordinal: 4, cluster: 'astring-r4', cassandra: { datacenter: 'dc4', size: 3 } }), 'add-region-active:r4'],
    ['shrink a DC', (c) => void (c.regions[0]!.cassandra.size = 3), 'shrink-datacenter:r1:4->3'],
    ['downgrade Cassandra', (c) => void (c.cassandra.serverVersion = '4.1.9'), 'downgrade-cassandra:5.0.6->4.1.9'],
    ['downgrade Postgres', (c) => void (c.postgres.image = 'ghcr.io/pgedge/pgedge-postgres:16.10-spock5.0.0-standard-1'), 'downgrade-postgres:ghcr.io/pgedge/pgedge-postgres:17.6-spock5.0.0-standard-1->ghcr.io/pgedge/pgedge-postgres:16.10-spock5.0.0-standard-1'],
    ['downgrade NATS', (c) => void (c.nats!.image = { repository: 'nats', tag: '1.4.1-alpine' }), 'downgrade-nats:nats:2.14.2-alpine->nats:1.4.1-alpine'],
    ['leave no active region', (c) => c.regions.forEach((r) => void (r.state = 'leaving')), 'remove-last-region'],
  ];
  const base = () => {
    const c = inputWithRegions(3);
    c.regions[0]!.cassandra.size = 4;
    return c;
  };

  it.each(rules)('%s is refused without acknowledgement', (_name, mutate, id) => {
    const next = base();
    mutate(next);
    const p = plan(base(), next);
    expect(p.danger.refused.map((d) => d.id)).toContain(id);
    expect(formatPlan(p)).toContain(`REFUSED  ${id}`);
    expect(formatPlan(p)).toContain(`- ${JSON.stringify(id)}`);
  });

  it.each(rules)('%s passes with the exact acknowledgement', (_name, mutate, id) => {
    const next = base();
    mutate(next);
    next.acknowledgedChanges = [id];
    const p = plan(base(), next);
    expect(p.danger.refused.map((d) => d.id)).not.toContain(id);
    expect(p.danger.changes.map((d) => d.id)).toContain(id);
    expect(formatPlan(p)).toContain(`acknowledged  ${id}`);
  });

  it('an acknowledgement that matches nothing is reported as stale', () => {
    const next = base();
    next.acknowledgedChanges = ['remove-region:nowhere'];
    const p = plan(base(), next);
    expect(p.danger.unusedAcknowledgements).toEqual(['remove-region:nowhere']);
    expect(formatPlan(p)).toMatch(/acknowledgement "remove-region:nowhere" matches no change/);
  });

  it('growing a DC or upgrading is not dangerous', () => {
    const next = base();
    next.regions[1]!.cassandra.size = 6;
    next.cassandra.serverVersion = '5.1.0';
    expect(plan(base(), next).danger.changes).toEqual([]);
  });
});

function capture(fn: () => number): { code: number; out: string; err: string } {
  const out: string[] = [];
  const err: string[] = [];
  vi.spyOn(console, 'log').mockImplementation((...a) => void out.push(a.join(' ')));
  vi.spyOn(console, 'error').mockImplementation((...a) => void err.push(a.join(' ')));
  const code = fn();
  vi.restoreAllMocks();
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('npm run plan', () => {
  it('prints "no changes" and exits 0 on an unchanged config', () => {
    const out = tempDir();
    const config = join(tempDir(), 'p.yaml');
    writeFileSync(config, stringify(inputWithRegions(2)));
    writeDistAtomically(out, renderDist(configFrom(inputWithRegions(2))));
    const r = capture(() => planMain(['--config', config, '--out', out]));
    expect(r.out).toBe('no changes');
    expect(r.code).toBe(0);
  });

  it('exits 2 on a refused change and prints JSON for bots', () => {
    const out = tempDir();
    writeDistAtomically(out, renderDist(configFrom(inputWithRegions(3))));
    const config = join(tempDir(), 'p.yaml');
    writeFileSync(config, stringify(inputWithRegions(2)));
    const r = capture(() => planMain(['--config', config, '--out', out, '--json']));
    expect(r.code).toBe(2);
    const json = JSON.parse(r.out);
    expect(json.refused.map((d: { id: string }) => d.id)).toEqual(['remove-region:r3', ...(configFrom(inputWithRegions(3)).routing ? ['remove-routing:r3'] : [])]);
    expect(json.changed).toBe(true);
    expect(json.applications.length).toBeGreaterThan(0);
  });

  it('compares with the dist of a Git ref with --base', () => {
    const repo = tempDir();
    const git = (...args: string[]) => execFileSync('git', ['-C', repo, ...args], { encoding: 'utf8' });
    git('init', '-q');
    git('config', 'user.email', 't@example.invalid');
    git('config', 'user.name', 't');
    writeDistAtomically(join(repo, 'dist'), renderDist(configFrom(inputWithRegions(2))));
    git('add', '-A');
    git('commit', '-qm', 'base');
    // The working tree moves on; the plan must still compare with the commit.
    writeDistAtomically(join(repo, 'dist'), renderDist(configFrom(joiningThird())));
    const config = join(repo, 'p.yaml');
    writeFileSync(config, stringify(joiningThird()));
    const against = capture(() => planMain(['--config', config, '--out', join(repo, 'dist'), '--base', 'HEAD']));
    expect(against.code).toBe(0);
    expect(against.out).toMatch(/^astring-r3 {2}\(\+/m);
    const working = capture(() => planMain(['--config', config, '--out', join(repo, 'dist')]));
    expect(working.out).toBe('no changes');
  });
});

describe('a base dist without STATE.json', () => {
  /** A deployed 3-region dist whose STATE.json was lost, and a config that removes a region. */
  function lostState(): { out: string; config: string } {
    const out = tempDir();
    writeDistAtomically(out, renderDist(configFrom(inputWithRegions(3))));
    rmSync(join(out, 'STATE.json'));
    const config = join(tempDir(), 'p.yaml');
    writeFileSync(config, stringify(inputWithRegions(2)));
    return { out, config };
  }

  it('is refused with exit 2 and the fix, never planned as if nothing were deployed', () => {
    const { out, config } = lostState();
    const r = capture(() => planMain(['--config', config, '--out', out]));
    expect(r.code).toBe(2);
    expect(r.out).toContain('REFUSED  missing-base-state');
    expect(r.out).toContain(`${out}/STATE.json is missing while the dist there holds`);
    expect(r.out).toContain(`git checkout HEAD -- ${out}/STATE.json`);
    expect(r.out).toContain('- "missing-base-state"');
  });

  it('--json lists the refusal for bots', () => {
    const { out, config } = lostState();
    const r = capture(() => planMain(['--config', config, '--out', out, '--json']));
    expect(r.code).toBe(2);
    expect(JSON.parse(r.out).refused.map((d: { id: string }) => d.id)).toEqual(['missing-base-state']);
  });

  it('names the ref to restore from with --base', () => {
    const repo = tempDir();
    const git = (...args: string[]) => execFileSync('git', ['-C', repo, ...args], { encoding: 'utf8' });
    git('init', '-q');
    git('config', 'user.email', 't@example.invalid');
    git('config', 'user.name', 't');
    writeDistAtomically(join(repo, 'dist'), renderDist(configFrom(inputWithRegions(3))));
    rmSync(join(repo, 'dist', 'STATE.json'));
    git('add', '-A');
    git('commit', '-qm', 'dist without state');
    const config = join(repo, 'p.yaml');
    writeFileSync(config, stringify(inputWithRegions(3)));
    const r = capture(() => planMain(['--config', config, '--out', join(repo, 'dist'), '--base', 'HEAD']));
    expect(r.code).toBe(2);
    expect(r.out).toContain(`HEAD:${join(repo, 'dist')}/STATE.json is missing`);
  });

  it('passes with the acknowledgement, which then stands in for every rule', () => {
    const { out, config } = lostState();
    const acked = inputWithRegions(2);
    acked.acknowledgedChanges = ['missing-base-state'];
    writeFileSync(config, stringify(acked));
    const r = capture(() => planMain(['--config', config, '--out', out]));
    expect(r.code).toBe(0);
    expect(r.out).toContain('acknowledged  missing-base-state');
  });

  it('an empty base is a first synth: planned, and the plan says no rule applied', () => {
    const out = tempDir();
    const config = join(tempDir(), 'p.yaml');
    writeFileSync(config, stringify(inputWithRegions(2)));
    const r = capture(() => planMain(['--config', config, '--out', out]));
    expect(r.code).toBe(0);
    expect(r.out.split('\n')[0]).toBe(`note: ${out} has no files: nothing deployed to compare with, so no danger rule applies (first synth)`);
  });
});

describe('synth refuses what plan refuses', () => {
  it('leaves dist untouched on an unacknowledged dangerous change, writes it with the acknowledgement', () => {
    const out = tempDir();
    writeDistAtomically(out, renderDist(configFrom(inputWithRegions(3))));
    const before = Object.fromEntries(readDist(out));
    const dir = tempDir();
    mkdirSync(dir, { recursive: true });
    const config = join(dir, 'p.yaml');
    writeFileSync(config, stringify(inputWithRegions(2)));
    const refused = capture(() => main(['--config', config, '--out', out]));
    expect(refused.code).toBe(1);
    const routingIds = configFrom(inputWithRegions(3)).routing ? ['remove-routing:r3'] : [];
    expect(refused.err).toMatch(new RegExp(`refused: ${1 + routingIds.length} dangerous change\\(s\\) not acknowledged:\\n {2}remove-region:r3`));
    expect(Object.fromEntries(readDist(out))).toEqual(before);
    const acked = inputWithRegions(2);
    acked.acknowledgedChanges = ['remove-region:r3', ...routingIds];
    writeFileSync(config, stringify(acked));
    expect(capture(() => main(['--config', config, '--out', out])).code).toBe(0);
    expect([...readDist(out).keys()].some((p) => p.includes('astring-r3'))).toBe(false);
  });

  it('README shows the current plan for regions/examples/add-hel1.yaml (2 -> 3 regions)', () => {
    const r = capture(() => planMain(['--config', join(REPO_ROOT, 'regions/examples/add-hel1.yaml')]));
    expect(r.code).toBe(0);
    // 16 data-layer files + the barman-cloud plugin values, ObjectStore, ScheduledBackup and MedusaBackupSchedule.
    expect(r.out).toMatch(/^astring-hel1 {2}\(\+20 ~0 -0\)$/m);
    expect(readFileSync(join(REPO_ROOT, 'README.md'), 'utf8')).toContain(r.out);
  });

  it('the repository default config plans "no changes" against the committed dist', () => {
    cpSync(join(REPO_ROOT, 'regions/platform.yaml'), join(tempDir(), 'x.yaml'));
    const r = capture(() => planMain([]));
    expect(r.out).toBe('no changes');
    expect(r.code).toBe(0);
  });
});
