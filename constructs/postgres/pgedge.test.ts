/**
 * pgEdge values and Spock Jobs for 1..12 regions: one node + N-1 external nodes per region,
 * unique ordinals, hostnames from the names module, N*(N-1) subscriptions in total; values
 * valid against the chart's schema and the clusterSpec against the CNPG Cluster spec.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { renderDist } from '../../charts/render.js';
import { postgresRegionNames, spockNodeDsn, spockSubscriptionName } from '../../regions/names.js';
import { loadConfigFile } from '../platform-config.js';
import { configFrom, configWithRegions, DEFAULT_CONFIG_PATH, DIST, inputWithRegions, NO_SHARED_SCHEMAS, SHARED_SCHEMAS, sharedSchemasAvailable } from '../../test/helpers.js';
import { readDist } from '../../charts/dist-writer.js';
import { replicationCapacity } from './pgedge-values.js';

type Obj = Record<string, any>;

function validators() {
  if (!sharedSchemasAvailable()) throw new Error(NO_SHARED_SCHEMAS);
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
  const values = ajv.compile(JSON.parse(readFileSync(join(SHARED_SCHEMAS, 'pgedge-values.schema.json'), 'utf8')));
  const cnpg = JSON.parse(readFileSync(join(SHARED_SCHEMAS, 'cnpg-cluster.schema.json'), 'utf8'));
  const spec = ajv.compile(cnpg.properties.spec);
  return {
    values: (o: unknown) => (values(o) ? '' : ajv.errorsText(values.errors)),
    clusterSpec: (o: unknown) => (spec(o) ? '' : ajv.errorsText(spec.errors)),
  };
}

function jobEnv(job: Obj): Record<string, string> {
  return Object.fromEntries((job.spec.template.spec.containers[0].env as Obj[]).filter((e) => 'value' in e).map((e) => [e.name, e.value]));
}

describe.each(Array.from({ length: 12 }, (_, i) => i + 1))('pgEdge with %i region(s)', (n) => {
  const config = configWithRegions(n);
  const files = renderDist(config);
  const v = sharedSchemasAvailable() ? validators() : undefined;

  it('gives each region exactly one node and N-1 external nodes, ordinals unique', () => {
    for (const r of config.regions) {
      const values = parse(files.get(`values/${r.cluster}/pgedge.yaml`)!) as Obj;
      const { nodes, externalNodes } = values.pgEdge;
      expect(nodes).toHaveLength(1);
      expect(externalNodes).toHaveLength(n - 1);
      const all = [...nodes, ...externalNodes];
      expect(new Set(all.map((x: Obj) => x.ordinal)).size).toBe(n);
      expect(new Set(all.map((x: Obj) => x.name)).size).toBe(n);
      const me = postgresRegionNames(config, r);
      expect(nodes[0]).toEqual({ name: me.node, ordinal: r.ordinal, hostname: me.hostname, internalHostname: me.internalHostname });
      for (const ext of externalNodes) {
        const peer = config.regions.find((x) => x.ordinal === ext.ordinal)!;
        expect(ext.hostname).toBe(postgresRegionNames(config, peer).hostname);
        expect(ext.name).toBe(`n${peer.ordinal}`);
      }
      expect(values.pgEdge.initSpock).toBe(false);
      expect(values.pgEdge.clusterSpec.postgresql.parameters.max_replication_slots).toBe(String(replicationCapacity(n, 2).max_replication_slots));
    }
  });

  it('has Jobs that create N*(N-1) subscriptions in total, all to real peers', () => {
    const subs: string[] = [];
    for (const r of config.regions) {
      const env = jobEnv(parse(files.get(`clusters/${r.cluster}/postgres/job-bootstrap-spock.yaml`)!) as Obj);
      const nodes = JSON.parse(env['SPOCK_NODES']!) as Array<{ name: string; dsn: string }>;
      expect(nodes.map((x) => x.dsn)).toEqual(config.regions.map((x) => spockNodeDsn(config, x)));
      for (const peer of nodes) if (peer.name !== env['SPOCK_NODE']) subs.push(spockSubscriptionName(peer.name, env['SPOCK_NODE']!));
      expect(env['PGHOST']).toBe(postgresRegionNames(config, r).internalHostname);
    }
    expect(subs).toHaveLength(n * (n - 1));
    expect(new Set(subs).size).toBe(n * (n - 1));
  });

  it('validates against the pgEdge values schema and the CNPG Cluster spec', () => {
    if (!v) throw new Error(NO_SHARED_SCHEMAS);
    for (const r of config.regions) {
      const values = parse(files.get(`values/${r.cluster}/pgedge.yaml`)!) as Obj;
      expect(v.values(values)).toBe('');
      expect(v.clusterSpec(values.pgEdge.clusterSpec)).toBe('');
    }
  });
});

describe('pgEdge values, default config', () => {
  // What synth writes for regions/platform.yaml (the committed dist is kept equal to it by the synth test).
  const defaults = loadConfigFile(DEFAULT_CONFIG_PATH);
  const files = renderDist(defaults);
  const values = parse(files.get('values/astring-mn/pgedge.yaml')!) as Obj;
  const spec = values.pgEdge.clusterSpec;

  it('follows the reference: appName, node n1, instances, storage, WAL archive plugin', () => {
    expect(values.pgEdge.appName).toBe('astring-cluster');
    expect(values.pgEdge.nodes[0].name).toBe('n1');
    expect(values.pgEdge.nodes[0].hostname).toBe('astring-cluster-n1-rw.pgedge.astring-mn.internal');
    expect(values.pgEdge.nodes[0].internalHostname).toBe('astring-cluster-n1-rw');
    expect(spec.instances).toBe(2);
    expect(spec.storage).toEqual({ size: '1Gi', storageClass: 'openebs-hostpath' });
    // The default config archives to the object store (the reference's R2): the plugin reference names
    // this region's ObjectStore and archives under the CNPG Cluster's own name.
    const store = parse(files.get('clusters/astring-mn/postgres-backups/objectstore-astring-cluster-backups.yaml')!) as Obj;
    expect(store.spec.configuration.endpointURL).toBe(defaults.backups!.objectStore.endpointURL);
    expect(spec.plugins).toEqual([
      {
        name: 'barman-cloud.cloudnative-pg.io',
        enabled: true,
        isWALArchiver: true,
        parameters: { barmanObjectName: store.metadata.name, serverName: `${defaults.postgres.appName}-n1` },
      },
    ]);
  });

  it('sets logical WAL, commit timestamps, auto-DDL and last-update-wins', () => {
    expect(spec.postgresql.parameters).toMatchObject({
      wal_level: 'logical',
      track_commit_timestamp: 'on',
      'spock.enable_ddl_replication': 'on',
      'spock.include_ddl_repset': 'on',
      'spock.conflict_resolution': 'last_update_wins',
    });
    expect(spec.postgresql.shared_preload_libraries).toEqual(['pg_stat_statements', 'snowflake', 'spock']);
  });

  it('writes the capacity formula next to the values', () => {
    expect(files.get('values/astring-mn/pgedge.yaml')).toMatch(/^# Replication capacity for 2 region\(s\), 2 instance\(s\): peers = max\(regions, 8\) - 1; max_replication_slots = /m);
    // Sized for at least 8 regions: adding regions 3..8 restarts no database.
    expect(replicationCapacity(2, 2)).toEqual({ max_replication_slots: 23, max_wal_senders: 25, max_worker_processes: 28 });
    expect(replicationCapacity(8, 2)).toEqual(replicationCapacity(2, 2));
    expect(replicationCapacity(12, 3)).toEqual({ max_replication_slots: 32, max_wal_senders: 34, max_worker_processes: 36 });
  });

  it('pins the image and pull policy', () => {
    expect(spec.imageName).toMatch(/:17\.6-spock5\.0\.0-standard-1$/);
    expect(spec.imagePullPolicy).toBe('IfNotPresent');
  });

  it('issues client certificates from one shared CA and lists that CA as identical everywhere', () => {
    const issuer = parse(files.get('clusters/astring-mn/postgres/clusterissuer-astring-postgres-client-ca.yaml')!) as Obj;
    expect(issuer.spec.ca.secretName).toBe('postgres-client-ca');
    const pgedgeCert = parse(files.get('clusters/astring-fsn1/postgres/certificate-pgedge-client-cert.yaml')!) as Obj;
    expect(pgedgeCert.spec.commonName).toBe('pgedge');
    expect(pgedgeCert.spec.usages).toContain('client auth');
    expect(pgedgeCert.spec.issuerRef.name).toBe(issuer.metadata.name);
    // CloudNativePG verifies clients with the CA certificate carried by an issued Secret.
    expect(values.pgEdge.clusterSpec.certificates).toEqual({ clientCASecret: 'streaming-replica-client-cert', replicationTLSSecret: 'streaming-replica-client-cert' });
    expect(files.get('SECRETS.md')).toMatch(/\| astring-fsn1 \| cert-manager \| `postgres-client-ca` \|.*\| every region/);
    expect(files.get('SECRETS.md')).toMatch(/\| astring-mn \| cert-manager \| `postgres-client-ca` \|.*\| every region/);
  });

  it('never prunes the database Application and applies server-side', () => {
    const set = parse(files.get('argocd/applicationset-astring-postgres.yaml')!) as Obj;
    expect(set.spec.template.spec.syncPolicy.automated.prune).toBe(false);
    expect(set.spec.template.spec.syncPolicy.syncOptions).toContain('ServerSideApply=true');
    expect(set.spec.syncPolicy.preserveResourcesOnDeletion).toBe(true);
  });
});

describe('pgEdge values without backups', () => {
  it('carry no plugin reference at all, and after a restore archive to a fresh folder', () => {
    const input = inputWithRegions(3);
    delete input.backups;
    const plain = renderDist(configFrom(input));
    for (const r of ['astring-r1', 'astring-r2', 'astring-r3']) {
      const text = plain.get(`values/${r}/pgedge.yaml`)!;
      expect((parse(text) as Obj).pgEdge.clusterSpec).not.toHaveProperty('plugins');
      expect(text).not.toMatch(/barman|plugins/i);
    }
    // archiveGenerations {r2: 1}: only r2's node archives under <cluster>-g1.
    const restored = inputWithRegions(3);
    restored.backups!.archiveGenerations = { r2: 1 };
    const files = renderDist(configFrom(restored));
    const serverName = (cluster: string) => (parse(files.get(`values/${cluster}/pgedge.yaml`)!) as Obj).pgEdge.clusterSpec.plugins[0].parameters.serverName;
    expect([serverName('astring-r1'), serverName('astring-r2'), serverName('astring-r3')]).toEqual(['astring-cluster-n1', 'astring-cluster-n2-g1', 'astring-cluster-n3']);
  });
});

describe('the Spock Job', () => {
  const files = readDist(DIST);
  const job = parse(files.get('clusters/astring-fsn1/postgres/job-bootstrap-spock.yaml')!) as Obj;
  const env = jobEnv(job);

  it('is a PostSync hook recreated on every sync', () => {
    expect(job.metadata.annotations).toEqual({
      'argocd.argoproj.io/hook': 'PostSync',
      'argocd.argoproj.io/hook-delete-policy': 'BeforeHookCreation',
    });
  });

  it('authenticates with the admin client certificate, never a password', () => {
    expect(env).toMatchObject({ SPOCK_DIALECT: 'spock', SPOCK_NODE: 'n2', PGUSER: 'admin', PGSSLMODE: 'require' });
    expect(JSON.stringify(job)).not.toMatch(/password/i);
    const pod = job.spec.template.spec;
    expect(pod.volumes.find((v: Obj) => v.secret)?.secret.secretName).toBe('admin-client-cert');
    for (const n of JSON.parse(env['SPOCK_NODES']!) as Array<{ dsn: string }>) {
      expect(n.dsn).toMatch(/sslcert=\/projected\/pgedge\/certificates\/tls\.crt/);
      expect(n.dsn).not.toMatch(/password/);
    }
  });

  it('runs with restricted pod security', () => {
    const pod = job.spec.template.spec;
    expect(pod.securityContext.runAsNonRoot).toBe(true);
    expect(pod.containers[0].securityContext.readOnlyRootFilesystem).toBe(true);
  });
});
