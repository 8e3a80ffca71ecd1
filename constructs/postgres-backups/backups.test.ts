/**
 * Backups from config: with an object store, dist/ has the barman-cloud plugin Application
 * (pinned, in the CNPG operator's namespace), an ObjectStore and a ScheduledBackup per region,
 * the Cluster's plugin reference, Medusa in the K8ssandraCluster and a MedusaBackupSchedule per
 * DC, all valid against ../shared/schemas, the credentials in SECRETS.md and the AppProject
 * allowing all of it. Without one: no plugin reference and no backup object at all. Expected
 * values are written from the config here, never taken from the code under test.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { renderDist } from '../../charts/render.js';
import { ConfigError } from '../../regions/load.js';
import { parseConfig } from '../platform-config.js';
import type { PlatformConfigInput } from '../../regions/schema.js';
import { configFrom, DEFAULT_CONFIG_PATH, inputWithRegions, NO_SHARED_SCHEMAS, SHARED_SCHEMAS, sharedSchemasAvailable } from '../../test/helpers.js';
import { restrictedViolations } from '../../test/pod-security.js';

type Obj = Record<string, any>;

const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
const compiled = new Map<string, ValidateFunction>();
/** Validates `obj` against `../shared/schemas/<file>` (at `pointer` inside it); '' when valid. Throws when the schemas are missing. */
function validate(file: string, obj: unknown, pointer: (s: Obj) => Obj = (s) => s): string {
  if (!sharedSchemasAvailable()) throw new Error(NO_SHARED_SCHEMAS);
  const key = `${file}#${pointer.toString()}`;
  let fn = compiled.get(key);
  if (!fn) {
    fn = ajv.compile(pointer(JSON.parse(readFileSync(join(SHARED_SCHEMAS, file), 'utf8')) as Obj));
    compiled.set(key, fn);
  }
  return fn(obj) ? '' : `${file}: ${ajv.errorsText(fn.errors)}`;
}

const yamlAt = (files: ReadonlyMap<string, string>, path: string): Obj => {
  const text = files.get(path);
  if (text === undefined) throw new Error(`dist has no ${path} (has: ${[...files.keys()].filter((p) => p.includes('backup') || p.includes('barman')).join(', ')})`);
  return parse(text) as Obj;
};

/** The object store of these tests, written out in full (nothing left to defaults). */
const STORE = {
  endpointURL: 'https://0123456789abcdef0123456789abcdef.r2.cloudflarestorage.com',
  bucket: 'chat-backups',
  pathPrefix: 'prod/astring',
  region: 'auto',
  credentials: { secretName: 'store-credentials', accessKeyIdKey: 'AWS_KEY', secretAccessKeyKey: 'AWS_SECRET' },
};

function withBackups(n: number, extra: Partial<NonNullable<PlatformConfigInput['backups']>> = {}): PlatformConfigInput {
  const input = inputWithRegions(n);
  input.backups = {
    objectStore: STORE,
    retention: '3w',
    schedule: '0 15 3 * * *',
    plugin: { chart: { repoURL: 'https://pgedge.github.io/charts', version: '0.5.0' }, imageTag: 'v0.11.0' },
    ...extra,
  };
  return input;
}

describe.each([1, 2, 3])('backups with an object store, %i region(s)', (n) => {
  const input = withBackups(n);
  const config = configFrom(input);
  const files = renderDist(config);
  const regions = config.regions;
  const cnpgNs = config.postgres.operator.namespace;
  const pgNs = config.postgres.namespace;
  const casNs = config.cassandra.namespace;

  it('installs the barman-cloud plugin in every region: pinned chart, CNPG operator namespace, valid Application(Set)', () => {
    const set = yamlAt(files, 'argocd/applicationset-astring-barman-cloud.yaml');
    expect(validate('applicationset.schema.json', set)).toBe('');
    const spec = set.spec.template.spec;
    expect(spec.destination.namespace).toBe(cnpgNs);
    const chart = spec.sources.find((s: Obj) => s.chart);
    expect(chart).toMatchObject({ repoURL: 'https://pgedge.github.io/charts', chart: 'plugin-barman-cloud', targetRevision: '0.5.0' });
    // No directory source: the chart is the whole Application.
    expect(spec.sources.some((s: Obj) => 'path' in s)).toBe(false);
    const elements = set.spec.generators[0].list.elements as Obj[];
    expect(elements.map((e) => e.cluster)).toEqual(regions.map((r) => r.cluster));
    for (const e of elements) expect(files.has(e.valueFile.replace(/^\$values\/dist\//, ''))).toBe(true);
    expect(spec.syncPolicy.syncOptions).toEqual(expect.arrayContaining(['ServerSideApply=true', 'SkipDryRunOnMissingResource=true']));
  });

  it('runs the plugin restricted, with pinned images and resources set explicitly', () => {
    for (const r of regions) {
      const v = yamlAt(files, `values/${r.cluster}/plugin-barman-cloud.yaml`);
      expect(restrictedViolations(v.podSecurityContext, v.containerSecurityContext)).toEqual([]);
      // The chart templates no imagePullPolicy: a pinned tag (never latest) makes Kubernetes pull IfNotPresent.
      expect(v.image).toMatchObject({ registry: 'ghcr.io', repository: 'pgedge/plugin-barman-cloud-sidecar', tag: 'v0.11.0' });
      expect(v.sidecarImage.tag).toBe('v0.11.0');
      expect(v.resources.requests.cpu).toBeDefined();
      expect(v.resources.limits.memory).toBe(v.resources.requests.memory);
    }
  });

  it('emits one ObjectStore per region: its own folder, the retention, the credentials Secret by name; valid', () => {
    for (const r of regions) {
      const dir = `clusters/${r.cluster}/postgres-backups`;
      const stores = [...files.keys()].filter((p) => p.startsWith(`${dir}/objectstore-`));
      expect(stores).toHaveLength(1);
      const store = yamlAt(files, stores[0]!);
      expect(validate('barman-objectstore.schema.json', store)).toBe('');
      expect(store.metadata.namespace).toBe(pgNs);
      expect(store.spec.retentionPolicy).toBe('3w');
      expect(store.spec.configuration).toMatchObject({
        destinationPath: `s3://chat-backups/prod/astring/postgres/${r.name}`,
        endpointURL: STORE.endpointURL,
        s3Credentials: {
          accessKeyId: { name: 'store-credentials', key: 'AWS_KEY' },
          secretAccessKey: { name: 'store-credentials', key: 'AWS_SECRET' },
        },
      });
      expect(store.spec.instanceSidecarConfiguration.env).toEqual([{ name: 'AWS_DEFAULT_REGION', value: 'auto' }]);
      expect(store.spec.instanceSidecarConfiguration.resources.limits.memory).toBeDefined();
    }
  });

  it('emits one ScheduledBackup per region: method plugin, barman-cloud, the schedule, this region\'s Cluster; valid', () => {
    for (const r of regions) {
      const dir = `clusters/${r.cluster}/postgres-backups`;
      const paths = [...files.keys()].filter((p) => p.startsWith(`${dir}/scheduledbackup-`));
      expect(paths).toHaveLength(1);
      const sb = yamlAt(files, paths[0]!);
      expect(validate('cnpg-scheduledbackup.schema.json', sb)).toBe('');
      expect(sb.metadata.namespace).toBe(pgNs);
      expect(sb.spec).toMatchObject({
        schedule: '0 15 3 * * *',
        cluster: { name: `astring-cluster-n${r.ordinal}` },
        method: 'plugin',
        pluginConfiguration: { name: 'barman-cloud.cloudnative-pg.io' },
      });
    }
  });

  it('references the plugin from every Cluster: WAL archiver, this region\'s ObjectStore, its own server name; valid for CNPG 1.28 and 1.30', () => {
    for (const r of regions) {
      const spec = yamlAt(files, `values/${r.cluster}/pgedge.yaml`).pgEdge.clusterSpec as Obj;
      const store = [...files.keys()].find((p) => p.startsWith(`clusters/${r.cluster}/postgres-backups/objectstore-`))!;
      expect(spec.plugins).toEqual([
        {
          name: 'barman-cloud.cloudnative-pg.io',
          enabled: true,
          isWALArchiver: true,
          parameters: { barmanObjectName: yamlAt(files, store).metadata.name, serverName: `astring-cluster-n${r.ordinal}` },
        },
      ]);
      expect(validate('cnpg-cluster.schema.json', spec, (s) => s.properties.spec)).toBe('');
      expect(validate('cnpg-cluster-1.28.1.schema.json', spec, (s) => s.properties.spec)).toBe('');
    }
  });

  it('configures Medusa from the same store and schedules it per DC; valid', () => {
    const k8c = yamlAt(files, 'clusters/astring-mgmt/cassandra/k8ssandracluster-astring.yaml');
    expect(validate('k8ssandracluster.schema.json', k8c)).toBe('');
    expect(k8c.spec.medusa.storageProperties).toMatchObject({
      storageProvider: 's3_compatible',
      bucketName: 'chat-backups',
      prefix: 'prod/astring/cassandra/astring',
      host: '0123456789abcdef0123456789abcdef.r2.cloudflarestorage.com',
      region: 'auto',
      secure: true,
      storageSecretRef: { name: 'medusa-bucket-key' },
      maxBackupAge: 21,
    });
    expect(k8c.spec.medusa.storageProperties.port).toBeUndefined();
    for (const r of regions) {
      const paths = [...files.keys()].filter((p) => p.startsWith(`clusters/${r.cluster}/cassandra-backups/medusabackupschedule-`));
      expect(paths).toHaveLength(1);
      const schedule = yamlAt(files, paths[0]!);
      expect(validate('medusabackupschedule.schema.json', schedule)).toBe('');
      expect(schedule.metadata.namespace).toBe(casNs);
      // The Postgres schedule without its seconds field.
      expect(schedule.spec).toMatchObject({ cronSchedule: '15 3 * * *', backupSpec: { cassandraDatacenter: r.cassandra.datacenter } });
    }
  });

  it('lists every credentials Secret in SECRETS.md: cluster, namespace, name, keys', () => {
    const doc = files.get('SECRETS.md')!;
    for (const r of regions) {
      expect(doc).toMatch(new RegExp(`^\\| ${r.cluster} \\| ${pgNs} \\| \`store-credentials\` \\| \`AWS_KEY\`, \`AWS_SECRET\` \\| barman-cloud`, 'm'));
      expect(doc).toMatch(new RegExp(`^\\| ${r.cluster} \\| ${casNs} \\| \`medusa-bucket-key\` \\| \`credentials\` \\| Medusa`, 'm'));
    }
  });

  it('lets the AppProject deploy all of it: repos, (cluster, namespace) pairs, cluster-scoped kinds', () => {
    const project = yamlAt(files, 'argocd/appproject-astring.yaml');
    expect(validate('appproject.schema.json', project)).toBe('');
    expect(project.spec.sourceRepos).toContain('https://pgedge.github.io/charts');
    for (const r of regions) {
      for (const ns of [cnpgNs, pgNs, casNs]) expect(project.spec.destinations).toContainEqual({ name: r.cluster, namespace: ns });
    }
    for (const kind of ['CustomResourceDefinition', 'ClusterRole', 'ClusterRoleBinding']) {
      expect(project.spec.clusterResourceWhitelist.map((k: Obj) => k.kind)).toContain(kind);
    }
  });
});

describe('backups off', () => {
  const input = inputWithRegions(3);
  delete input.backups;
  const files = renderDist(configFrom(input));

  it('emits no plugin reference, no plugin, no backup object and no backup Secret at all', () => {
    const manifests = [...files].filter(([p]) => p.endsWith('.yaml'));
    expect(manifests.length).toBeGreaterThan(20);
    for (const [path, text] of manifests) {
      expect(path).not.toMatch(/backup|barman|medusa/i);
      expect(text, path).not.toMatch(/barman|ObjectStore|ScheduledBackup|medusa|plugins:/i);
    }
    expect(files.get('SECRETS.md')).not.toMatch(/medusa|barman|store-credentials|r2-credentials/i);
    for (const r of input.regions) expect((parse(files.get(`values/${r.cluster}/pgedge.yaml`)!) as Obj).pgEdge.clusterSpec).not.toHaveProperty('plugins');
  });

  it('drops only Medusa when backups.medusa.enabled is false', () => {
    const noMedusa = renderDist(configFrom(withBackups(2, { medusa: { enabled: false } })));
    expect([...noMedusa.keys()].filter((p) => /medusa|cassandra-backups/.test(p))).toEqual([]);
    expect(yamlAt(noMedusa, 'clusters/astring-mgmt/cassandra/k8ssandracluster-astring.yaml').spec.medusa).toBeUndefined();
    expect(noMedusa.get('SECRETS.md')).not.toContain('medusa-bucket-key');
    expect([...noMedusa.keys()].filter((p) => p.includes('/postgres-backups/'))).toHaveLength(4);
  });
});

describe('backups config errors name the value and the fix', () => {
  const base = readFileSync(DEFAULT_CONFIG_PATH, 'utf8');
  const problems = (input: unknown): string[] => {
    try {
      parseConfig(JSON.stringify(input), 'p.yaml');
    } catch (e) {
      if (e instanceof ConfigError) return e.problems.map((p) => `${p.path}: ${p.message}`);
      throw e;
    }
    return [];
  };

  it('the default config turns backups on, archiving to an R2-style endpoint', () => {
    const config = parseConfig(base, 'platform.yaml');
    expect(config.backups?.objectStore.endpointURL).toMatch(/^https:\/\/[a-z0-9-]+\.r2\.cloudflarestorage\.com$/);
    expect(config.backups?.objectStore.region).toBe('auto');
  });

  it('rejects a 5-field cron with the 6-field form to write', () => {
    const [p] = problems(withBackups(2, { schedule: '0 2 * * *' }));
    expect(p).toBe('backups.schedule: "0 2 * * *" is a 5-field cron; CloudNativePG\'s ScheduledBackup takes 6 fields with seconds first (write "0 0 2 * * *")');
  });

  it.each([
    ['0 0 25 * * *', /"0 0 25 \* \* \*" is not a CloudNativePG schedule: hour 25 is outside 0-23/],
    ['0 0 2 * * MON-SUNDAY', /day of week "MON-SUNDAY" is not a number, range, list or \*/],
    ['0 */0 * * * *', /minute "\*\/0" has a bad step/],
    ['@daily', /has 1 field\(s\), needs 6/],
  ])('rejects the schedule %s', (schedule, message) => {
    expect(problems(withBackups(1, { schedule }))).toEqual([expect.stringMatching(message)]);
  });

  it('accepts lists, ranges, steps, names and ?', () => {
    expect(problems(withBackups(1, { schedule: '30 0,30 1-5/2 ? JAN-DEC MON-FRI' }))).toEqual([]);
  });

  it('rejects a bad retention, bucket and path prefix with the value', () => {
    expect(problems(withBackups(1, { retention: '30 days' }))).toEqual([
      'backups.retention: "30 days" is not a retention period (a number then d, w or m, e.g. "30d", "4w", "3m")',
    ]);
    const bad = withBackups(1, { objectStore: { ...STORE, bucket: 'Chat_Backups', pathPrefix: '/prod/' } });
    expect(problems(bad)).toEqual([
      expect.stringMatching(/^backups\.objectStore\.bucket: "Chat_Backups" is not an S3 bucket name/),
      expect.stringMatching(/^backups\.objectStore\.pathPrefix: "\/prod\/" is not a path prefix/),
    ]);
  });

  it('rejects credentials in the endpoint URL without echoing them', () => {
    const out = problems(withBackups(1, { objectStore: { ...STORE, endpointURL: 'https://AKIDEXAMPLE:hunter2secret@r2.example.com' } }));
    expect(out).toEqual([expect.stringMatching(/^backups\.objectStore\.endpointURL: endpoint URL https:\/\/\*\*\*@r2\.example\.com carries credentials \(remove "user:password@"/)]);
    expect(out.join('\n')).not.toMatch(/hunter2|AKIDEXAMPLE/);
  });

  it('rejects an endpoint with a path or another scheme', () => {
    expect(problems(withBackups(1, { objectStore: { ...STORE, endpointURL: 'https://r2.example.com/chat-backups' } }))).toEqual([
      expect.stringMatching(/^backups\.objectStore\.endpointURL: "https:\/\/r2\.example\.com\/chat-backups" has a path, query or trailing "\/" \(write https:\/\/<host>\[:port\] only/),
    ]);
    expect(problems(withBackups(1, { objectStore: { ...STORE, endpointURL: 's3://chat-backups' } }))).toEqual([expect.stringMatching(/uses scheme "s3:"/)]);
  });

  it('needs an explicit Medusa schedule when the Postgres one has no single seconds value', () => {
    expect(problems(withBackups(1, { schedule: '*/30 0 2 * * *' }))).toEqual([
      expect.stringMatching(/^backups\.medusa\.schedule: Medusa's schedule is derived from backups\.schedule "\*\/30 0 2 \* \* \*".*got "\*\/30" \(set backups\.medusa\.schedule, e\.g\. "0 3 \* \* \*"\)$/),
    ]);
    expect(problems(withBackups(1, { schedule: '*/30 0 2 * * *', medusa: { schedule: '0 3 * * *' } }))).toEqual([]);
    expect(problems(withBackups(1, { medusa: { schedule: '0 0 3 * * *' } }))).toEqual([expect.stringMatching(/^backups\.medusa\.schedule: "0 0 3 \* \* \*" is not a 5-field cron schedule: has 6 field\(s\)/)]);
  });

  it('rejects an archive generation for a region that does not exist', () => {
    expect(problems(withBackups(2, { archiveGenerations: { r9: 1 } }))).toEqual(['backups.archiveGenerations.r9: "r9" is not a region (use one of r1, r2)']);
  });

  it('points the old keys at backups', () => {
    const old = withBackups(1);
    (old.postgres as Obj)['walArchive'] = { barmanObjectName: 'r2-storage' };
    (old.cassandra as Obj)['medusa'] = { storageProvider: 's3', bucketName: 'x-backups' };
    expect(problems(old)).toEqual([
      'cassandra.medusa: a mapping is not accepted here any more: Medusa backups are configured under backups.medusa and use backups.objectStore (remove cassandra.medusa; see README "Backups and restore")',
      expect.stringMatching(/^postgres\.walArchive: a mapping is not accepted here any more: WAL archiving is configured under backups .*\(remove postgres\.walArchive; see README "Backups and restore"\)$/),
    ]);
  });
});
