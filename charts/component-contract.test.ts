/**
 * "Adding a component" (README) is true: a component defined only here, with its own config
 * slice, appears in dist/, the AppProject, TOPOLOGY.md, SECRETS.md, STATE.json, the plan and
 * the danger rules, and nothing else of the generator names it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Construct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { z } from 'zod';
import { Placement, regionNodeId, type ComponentDefinition, type ComponentProps, type PlatformState } from '../constructs/component.js';
import { COMPONENTS } from '../constructs/components.js';
import { downgradeRule, sectionOf } from '../constructs/danger-rules.js';
import { HelmValuesFile, SecretRequirement } from '../constructs/output.js';
import { platformConfigSchema } from '../constructs/platform-config.js';
import { ConfigError, parseConfigWith } from '../regions/load.js';
import { rule, type PlatformConfig, type PlatformConfigInput } from '../regions/schema.js';
import { inputWithRegions, REPO_ROOT } from '../test/helpers.js';
import { computePlan, formatPlan } from './plan.js';
import { renderDist } from './render.js';

// ---------------------------------------------------------------------------------------
// The throwaway component, as constructs/redis/{config,component}.ts would hold it.

const RedisSchema = z.strictObject({
  namespace: z.string().default('redis'),
  version: z.string().regex(/^[0-9]+\.[0-9]+\.[0-9]+$/).default('7.4.1'),
  replicas: z.int().min(1).max(9).default(1),
});
type RedisConfig = z.output<typeof RedisSchema>;
/** Without the declaration merging a real config.ts does (it would change every test's types). */
const redisOf = (c: PlatformConfig) => (c as unknown as { redis: RedisConfig }).redis;
const REDIS_CHART = { repoURL: 'https://charts.example.com/redis', chart: 'redis', version: '1.2.3', releaseName: 'redis' };

class RedisRegion extends Construct {
  constructor(scope: Construct, id: string, props: ComponentProps) {
    super(scope, id);
    const r = redisOf(props.config);
    new HelmValuesFile(this, 'values', { cluster: props.target.cluster, chart: 'redis', values: { image: { tag: r.version }, replicas: r.replicas } });
    new SecretRequirement(this, 'auth', { cluster: props.target.cluster, namespace: props.namespace, name: 'redis-auth', keys: ['password'], usedBy: 'redis servers' });
  }
}

const redis: ComponentDefinition = {
  name: 'redis',
  config: {
    key: 'redis',
    schema: RedisSchema.prefault({}),
    rules: [
      rule('redis-replicas', ['redis', 'replicas'], (c) =>
        redisOf(c).replicas === 2 ? [{ path: ['redis', 'replicas'], message: 'two replicas cannot elect a primary (use 1 or 3)' }] : [],
      ),
    ],
  },
  placement: (c) => Placement.regions(c),
  namespace: (c) => ({ name: redisOf(c).namespace, podSecurity: 'restricted' }),
  application: () => ({ chart: REDIS_CHART, manifests: true, syncOptions: ['ServerSideApply=true'], syncWave: 5 }),
  construct: RedisRegion,
  clusterScopedKinds: () => [{ group: 'example.com', kind: 'RedisClusterPolicy' }],
  topology: {
    summary: (c) => [`- **Redis**: ${redisOf(c).replicas} server(s) per region.`],
    regionNodes: (c, r) => [`    ${regionNodeId('redis', r.name)}["Redis ${redisOf(c).version}"]`],
    regionColumns: [{ header: 'Redis version', cell: (c) => redisOf(c).version }],
  },
  plan: {
    values: ({ cluster, before, after }) =>
      before && after ? [`Redis in ${cluster} restarts ${before['replicas']} -> ${after['replicas']} server(s)`] : [`Redis in ${cluster} is ${after ? 'installed' : 'let go'}`],
  },
  state: { section: { key: 'redis', of: (c) => ({ version: redisOf(c).version }) } },
  danger: { rules: [downgradeRule('redis', (s: PlatformState) => sectionOf<{ version: string }>(s, 'redis').version)] },
};

const WITH_REDIS = [...COMPONENTS, redis];
const schema = platformConfigSchema(WITH_REDIS);

/** A config with `redis` set as written in YAML, read with the schema that includes the component. */
function configWith(redisInput: Record<string, unknown> | undefined, regions = 2): PlatformConfig {
  const input = inputWithRegions(regions) as PlatformConfigInput & { redis?: unknown };
  if (redisInput) input.redis = redisInput;
  return parseConfigWith(schema, stringify(input), 'with-redis.yaml');
}

const yamlAt = (files: ReadonlyMap<string, string>, path: string) => parse(files.get(path) ?? '') as Record<string, any>;

describe('a component defined only in this test', () => {
  const config = configWith({ version: '7.4.1', replicas: 3 });
  const files = renderDist(config, WITH_REDIS);
  const plain = renderDist(config);
  const regions = config.regions;

  it('writes a Namespace folder and a values file per region, and its ApplicationSet', () => {
    for (const r of regions) {
      const ns = yamlAt(files, `clusters/${r.cluster}/redis/namespace-redis.yaml`);
      expect(ns['metadata']['labels']['pod-security.kubernetes.io/enforce']).toBe('restricted');
      expect(yamlAt(files, `values/${r.cluster}/redis.yaml`)).toEqual({ image: { tag: '7.4.1' }, replicas: 3 });
    }
    const set = yamlAt(files, `argocd/applicationset-${config.platform}-redis.yaml`);
    expect(set['metadata']['annotations']).toEqual({ 'argocd.argoproj.io/sync-wave': '5' });
    expect(set['spec']['generators'][0]['list']['elements'].map((e: { name: string; cluster: string }) => [e.name, e.cluster])).toEqual(
      regions.map((r) => [`${config.platform}-redis-${r.name}`, r.cluster]),
    );
    expect(set['spec']['template']['spec']['sources'][0]).toMatchObject({ repoURL: REDIS_CHART.repoURL, chart: 'redis', targetRevision: '1.2.3' });
  });

  it('is allowed by the AppProject: its chart repository, its (cluster, namespace) pairs, its cluster-scoped kinds', () => {
    const project = yamlAt(files, 'argocd/appproject-' + config.argocd.project + '.yaml')['spec'];
    expect(project['sourceRepos']).toContain(REDIS_CHART.repoURL);
    for (const r of regions) expect(project['destinations']).toContainEqual({ name: r.cluster, namespace: 'redis' });
    expect(project['clusterResourceWhitelist']).toContainEqual({ group: 'example.com', kind: 'RedisClusterPolicy' });
    expect(yamlAt(plain, 'argocd/appproject-' + config.argocd.project + '.yaml')['spec']['sourceRepos']).not.toContain(REDIS_CHART.repoURL);
  });

  it('draws itself in TOPOLOGY.md: summary, node per region, column, Applications', () => {
    const topology = files.get('TOPOLOGY.md')!;
    expect(topology).toContain('- **Redis**: 3 server(s) per region.');
    for (const r of regions) {
      expect(topology).toContain(`    redis_${r.name}["Redis 7.4.1"]`);
      expect(topology).toContain(`| ${config.platform}-redis-${r.name} | redis | ${r.cluster} | redis | chart redis 1.2.3 + \`dist/clusters/${r.cluster}/redis\` |`);
    }
    expect(topology).toMatch(/^\| region \| ordinal \| state \| cluster \|.*\| Redis version \|$/m);
  });

  it('lists its Secret in SECRETS.md and its identity in STATE.json', () => {
    for (const r of regions) expect(files.get('SECRETS.md')).toContain(`| ${r.cluster} | redis | \`redis-auth\` | \`password\` | redis servers | you | - |`);
    expect(JSON.parse(files.get('STATE.json')!).redis).toEqual({ version: '7.4.1' });
  });

  it('changes nothing else in dist/', () => {
    const shared = ['argocd/appproject-' + config.argocd.project + '.yaml', 'TOPOLOGY.md', 'SECRETS.md', 'STATE.json'];
    const own = (p: string) => p.includes('/redis/') || p.endsWith('/redis.yaml') || p.endsWith('-redis.yaml');
    const others = (f: ReadonlyMap<string, string>) => [...f].filter(([p]) => !own(p) && !shared.includes(p));
    expect(others(files)).toEqual(others(plain));
  });

  it('is in the plan: added with its effects, changed with its effects, and its danger rule refuses a downgrade', () => {
    const added = computePlan(plain, files, config, { folder: 'dist' }, WITH_REDIS);
    for (const r of regions) {
      const app = added.applications.find((a) => a.application === `${config.platform}-redis-${r.name}`)!;
      expect(app.added).toEqual([`clusters/${r.cluster}/redis/namespace-redis.yaml`, `values/${r.cluster}/redis.yaml`]);
      expect(app.effects).toEqual([`Redis in ${r.cluster} is installed`]);
    }
    // Added to a deployed platform: its section is new in the base state, so its rules wait.
    expect(added.danger.changes).toEqual([]);

    const scaled = configWith({ version: '7.4.1', replicas: 1 });
    const plan = computePlan(files, renderDist(scaled, WITH_REDIS), scaled, { folder: 'dist' }, WITH_REDIS);
    expect(formatPlan(plan)).toContain(`=> Redis in ${regions[0]!.cluster} restarts 3 -> 1 server(s)`);

    const older = configWith({ version: '6.2.0', replicas: 3 });
    const downgrade = computePlan(files, renderDist(older, WITH_REDIS), older, { folder: 'dist' }, WITH_REDIS);
    expect(downgrade.danger.refused.map((d) => d.id)).toEqual(['downgrade-redis:7.4.1->6.2.0']);
  });

  it('brings its config slice: defaults, strict keys and its own rule with a location', () => {
    expect(redisOf(configWith(undefined))).toEqual({ namespace: 'redis', version: '7.4.1', replicas: 1 });
    const problems = (redisInput: Record<string, unknown>) => {
      try {
        configWith(redisInput);
        return '';
      } catch (e) {
        if (e instanceof ConfigError) return e.message;
        throw e;
      }
    };
    expect(problems({ replicas: 2 })).toMatch(/^with-redis\.yaml:\d+:\d+ redis\.replicas: two replicas cannot elect a primary \(use 1 or 3\)$/m);
    expect(problems({ replica: 3 })).toMatch(/redis\.replica: unknown key "replica" \(did you mean "replicas"\?/);
    // Without the component, its key is unknown.
    const input = { ...inputWithRegions(2), redis: { replicas: 3 } };
    expect(() => parseConfigWith(platformConfigSchema(COMPONENTS), stringify(input), 'x.yaml')).toThrow(/unknown key "redis"/);
  });

  it('needed no other file: nothing outside this test names it', () => {
    const sources = (dir: string): string[] =>
      readdirSync(join(REPO_ROOT, dir), { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [join(dir, e.name)] : [],
      );
    const naming = ['charts', 'constructs', 'regions'].flatMap(sources).filter((f) => /redis/i.test(readFileSync(join(REPO_ROOT, f), 'utf8')));
    expect(naming).toEqual([]);
  });
});

describe('the generator core names no component', () => {
  const CORE = ['charts/platform.ts', 'charts/render.ts', 'charts/plan.ts', 'charts/topology.ts', 'charts/danger.ts', 'charts/state.ts', 'charts/secrets-doc.ts'];
  // Component names and the words their products go by (a name in a message counts as much as in code).
  const words = [...COMPONENTS.map((d) => d.name), 'pgedge', 'spock', 'k8ssandra', 'medusa', 'jetstream'];
  // Reading a component's part of the config (`c.nats`, `config.app`...).
  const keys = COMPONENTS.flatMap((d) => (d.config ? [d.config.key] : []));

  it.each(CORE)('%s', (file) => {
    const text = readFileSync(join(REPO_ROOT, file), 'utf8');
    const found = [
      ...words.filter((w) => new RegExp(`(^|[^a-z-])${w}([^a-z-]|$)`, 'i').test(text)),
      ...keys.filter((k) => new RegExp(`\\b(c|config|input|next|base)\\??\\.${k}\\b`).test(text)).map((k) => `config key ${k}`),
    ];
    expect(found, `${file} names ${found.join(', ')}: move that knowledge into the component's definition`).toEqual([]);
  });
});

