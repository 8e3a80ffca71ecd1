/**
 * The K8ssandraCluster for 1..12 regions: one DC per region with unique names, every
 * k8sContext backed by a ClientConfig and an ArgoCD destination, valid against the CRD
 * schema (k8ssandra-operator v1.32.5); and the schema Job receives exactly what it declares.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { renderDist } from '../../charts/render.js';
import { isDnsLabel } from '../../regions/dns.js';
import { cassandraRegionNames, CassandraSecrets } from '../../regions/names.js';
import { configFrom, configWithRegions, inputWithRegions, NO_SHARED_SCHEMAS, SHARED_SCHEMAS, sharedSchemasAvailable } from '../../test/helpers.js';
import { cassandraBootstrapEnv } from './schema-job.js';

type Obj = Record<string, any>;

const schemaValidator = () => {
  if (!sharedSchemasAvailable()) throw new Error(NO_SHARED_SCHEMAS);
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
  const validate = ajv.compile(JSON.parse(readFileSync(join(SHARED_SCHEMAS, 'k8ssandracluster.schema.json'), 'utf8')));
  return (obj: unknown) => (validate(obj) ? '' : ajv.errorsText(validate.errors));
};

describe.each(Array.from({ length: 12 }, (_, i) => i + 1))('K8ssandraCluster with %i region(s)', (n) => {
  const config = configWithRegions(n);
  const files = renderDist(config);
  const mgmt = config.managementCluster.name;
  const k8c = parse(files.get(`clusters/${mgmt}/cassandra/k8ssandracluster-astring.yaml`)!) as Obj;
  const dcs = k8c.spec.cassandra.datacenters as Obj[];

  it('has one datacenter per region, unique DNS-1035 names', () => {
    expect(dcs).toHaveLength(n);
    const names = dcs.map((d) => d.metadata.name);
    expect(new Set(names).size).toBe(n);
    for (const name of names) expect(isDnsLabel(name)).toBe(true);
    expect(names).toEqual(config.regions.map((r) => r.cassandra.datacenter));
  });

  it('backs every k8sContext with a ClientConfig and an ArgoCD destination', () => {
    const clientConfigs = [...files]
      .filter(([p]) => p.startsWith(`clusters/${mgmt}/cassandra/clientconfig-`))
      .map(([, t]) => parse(t) as Obj);
    const contexts = new Set(clientConfigs.map((cc) => cc.spec.contextName ?? cc.metadata.name));
    const operatorSet = parse(files.get('argocd/applicationset-astring-k8ssandra-operator.yaml')!) as Obj;
    const destinations = new Set(operatorSet.spec.generators[0].list.elements.map((e: Obj) => e.cluster));
    for (const dc of dcs) {
      expect(contexts.has(dc.k8sContext), `no ClientConfig for ${dc.k8sContext}`).toBe(true);
      expect(destinations.has(dc.k8sContext), `no data-plane operator for ${dc.k8sContext}`).toBe(true);
    }
    expect(destinations.has(mgmt)).toBe(true);
    for (const cc of clientConfigs) {
      expect(files.get('SECRETS.md')).toMatch(new RegExp(`\\| ${mgmt} \\| k8ssandra-operator \\| \`${cc.spec.kubeConfigSecret.name}\` \\| \`kubeconfig\``));
    }
  });

  it('validates against the K8ssandraCluster CRD schema', () => {
    expect(schemaValidator()(k8c)).toBe('');
  });

  it('is never deleted or pruned by ArgoCD, and syncs after its ClientConfigs', () => {
    expect(k8c.metadata.annotations['argocd.argoproj.io/sync-options']).toMatch(/Delete=false/);
    expect(k8c.metadata.annotations['argocd.argoproj.io/sync-options']).toMatch(/Prune=false/);
    expect(Number(k8c.metadata.annotations['argocd.argoproj.io/sync-wave'])).toBeGreaterThan(0);
  });
});

describe('K8ssandraCluster details', () => {
  const config = configWithRegions(3, (c) => {
    c.regions[0]!.cassandra = { datacenter: 'dc1', size: 3, racks: [{ name: 'r1a', zone: 'z-a' }, { name: 'r1b', zone: 'z-b' }, { name: 'r1c', zone: 'z-c' }] };
    c.backups = {
      objectStore: {
        endpointURL: 'https://minio.backup.example:9000',
        bucket: 'astring-backups',
        pathPrefix: 'prod/astring',
        credentials: { secretName: 'store-credentials' },
      },
      retention: '2w',
      schedule: '0 30 1 * * *',
    };
  });
  const files = renderDist(config);
  const k8c = parse(files.get('clusters/astring-mgmt/cassandra/k8ssandracluster-astring.yaml')!) as Obj;

  it('sets serverVersion at cluster level, a superuser Secret, Reaper, no Stargate', () => {
    expect(k8c.spec.cassandra.serverVersion).toBe('5.0.6');
    expect(k8c.spec.cassandra.superuserSecretRef).toEqual({ name: 'astring-superuser' });
    expect(k8c.spec.reaper.autoScheduling.enabled).toBe(true);
    expect(k8c.spec.stargate).toBeUndefined();
    expect(k8c.spec.cassandra.storageConfig.cassandraDataVolumeClaimSpec.storageClassName).toBe('openebs-hostpath');
    expect(k8c.spec.cassandra.config.jvmOptions).toEqual({ heap_initial_size: '512M', heap_max_size: '512M' });
  });

  it('adds racks with zone affinity when the config gives zones', () => {
    expect(k8c.spec.cassandra.datacenters[0].racks).toEqual([
      { name: 'r1a', nodeAffinityLabels: { 'topology.kubernetes.io/zone': 'z-a' } },
      { name: 'r1b', nodeAffinityLabels: { 'topology.kubernetes.io/zone': 'z-b' } },
      { name: 'r1c', nodeAffinityLabels: { 'topology.kubernetes.io/zone': 'z-c' } },
    ]);
    expect(k8c.spec.cassandra.datacenters[1].racks).toBeUndefined();
  });

  it('configures Medusa from the shared object store, with the bucket Secret listed in every region', () => {
    // Expected from the config above: endpoint host/port/TLS, bucket, <pathPrefix>/cassandra/<cluster>, 2w = 14 days.
    expect(k8c.spec.medusa.storageProperties).toEqual({
      storageProvider: 's3_compatible',
      bucketName: 'astring-backups',
      prefix: 'prod/astring/cassandra/astring',
      host: 'minio.backup.example',
      port: 9000,
      secure: true,
      credentialsType: 'credential-based',
      storageSecretRef: { name: CassandraSecrets.medusaBucket },
      maxBackupAge: 14,
      maxBackupCount: 0,
    });
    expect(k8c.spec.medusa.purgeBackups).toBe(true);
    expect(k8c.spec.medusa.containerResources.limits.memory).toBeDefined();
    for (const r of config.regions) expect(files.get('SECRETS.md')).toMatch(new RegExp(`\\| ${r.cluster} \\| k8ssandra-operator \\| \`medusa-bucket-key\` \\| \`credentials\` \\|`));
    // Fails loudly (NO_SHARED_SCHEMAS) when ../shared/schemas is missing, like every schema check.
    expect(schemaValidator()(k8c)).toBe('');
  });

  it('has no Medusa block and no bucket Secret without backups', () => {
    const input = inputWithRegions(2);
    delete input.backups;
    const plain = renderDist(configFrom(input));
    const cluster = parse(plain.get('clusters/astring-mgmt/cassandra/k8ssandracluster-astring.yaml')!) as Obj;
    expect(cluster.spec.medusa).toBeUndefined();
    expect(plain.get('SECRETS.md')).not.toContain('medusa-bucket-key');
    expect(schemaValidator()(cluster)).toBe('');
  });

  it('runs the operator as control plane on the management cluster and data plane in regions, pinned', () => {
    const control = parse(files.get('values/astring-mgmt/k8ssandra-operator.yaml')!) as Obj;
    const data = parse(files.get('values/astring-r2/k8ssandra-operator.yaml')!) as Obj;
    expect(control.controlPlane).toBe(true);
    expect(data.controlPlane).toBe(false);
    expect(control.image.tag).toBe('v1.32.5');
    expect(control.disableCrdUpgraderJob).toBe(true);
  });

  it('lists the kubeconfig, superuser and app Secrets', () => {
    const doc = files.get('SECRETS.md')!;
    for (const r of config.regions) expect(doc).toContain(`\`${r.cluster}-kubeconfig\``);
    expect(doc).toMatch(/\| astring-mgmt \| k8ssandra-operator \| `astring-superuser` \| `username`, `password`/);
    expect(doc).toMatch(/\| astring-r1 \| k8ssandra-operator \| `cassandra-app-credentials` \| `password`/);
  });
});

describe('the schema Job receives what the K8ssandraCluster declares', () => {
  it.each(Array.from({ length: 6 }, (_, i) => i + 1))('for every region as schema region, with %i region(s)', (n) => {
    for (let leader = 1; leader <= n; leader++) {
      const config = configWithRegions(n, (c) => void (c.cassandra.schemaRegion = `r${leader}`));
      const files = renderDist(config);
      const k8c = parse(files.get('clusters/astring-mgmt/cassandra/k8ssandracluster-astring.yaml')!) as Obj;
      const leaderRegion = config.regions.find((r) => r.name === `r${leader}`)!;
      const job = parse(files.get(`clusters/${leaderRegion.cluster}/cassandra/job-bootstrap-cassandra.yaml`)!) as Obj;
      const env = Object.fromEntries((job.spec.template.spec.containers[0].env as Obj[]).map((e) => [e.name, e]));
      const declared = (k8c.spec.cassandra.datacenters as Obj[]).map((d) => d.metadata.name);

      expect(env.CASSANDRA_DATACENTERS.value.split(',')).toEqual(declared);
      const localDc = declared.find((dc) => dc === leaderRegion.cassandra.datacenter);
      expect(env.CASSANDRA_LOCAL_DC.value).toBe(localDc);
      // cass-operator names the DC Service <cluster>-<dc>-service in the K8ssandraCluster's namespace.
      expect(env.CASSANDRA_CONTACT_POINTS.value).toBe(`${k8c.metadata.name}-${localDc}-service.${k8c.metadata.namespace}.svc:9042`);
      expect(env.CASSANDRA_CONTACT_POINTS.value).toBe(cassandraRegionNames(config, leaderRegion).contactPoint);
      expect(env.CASSANDRA_SUPERUSER_PASSWORD.valueFrom.secretKeyRef.name).toBe(k8c.spec.cassandra.superuserSecretRef.name);
      expect(job.metadata.namespace).toBe(k8c.metadata.namespace);
      expect(Number(env.CASSANDRA_REPLICATION_FACTOR.value)).toBeLessThanOrEqual(Math.min(...(k8c.spec.cassandra.datacenters as Obj[]).map((d) => d.size)));
      // Exactly one region runs the schema Job.
      expect([...files.keys()].filter((p) => p.endsWith('/job-bootstrap-cassandra.yaml'))).toHaveLength(1);
    }
  });

  it('the emitted Job carries exactly the env cassandraBootstrapEnv declares, Secrets by reference', () => {
    const config = configWithRegions(2);
    const declared = cassandraBootstrapEnv(config);
    const files = renderDist(config);
    const job = parse(files.get('clusters/astring-r1/cassandra/job-bootstrap-cassandra.yaml')!) as Obj;
    const emitted = Object.fromEntries(
      (job.spec.template.spec.containers[0].env as Obj[]).map((e) => [
        e.name,
        'value' in e ? e.value : { secret: e.valueFrom.secretKeyRef.name, key: e.valueFrom.secretKeyRef.key },
      ]),
    );
    expect(emitted).toEqual(declared);
    // And what it declares comes from the config.
    expect(declared['CASSANDRA_KEYSPACE']).toBe(config.cassandra.keyspace);
    expect(declared['CASSANDRA_APP_PASSWORD']).toEqual({ secret: 'cassandra-app-credentials', key: 'password' });
  });
});

describe('the schema Job', () => {
  const files = renderDist(configWithRegions(2));
  const job = parse(files.get('clusters/astring-r1/cassandra/job-bootstrap-cassandra.yaml')!) as Obj;
  const pod = job.spec.template.spec;

  it('runs with restricted pod security, pinned image and explicit resources', () => {
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    const container = pod.containers[0];
    expect(container.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
    expect(container.image).toBe('ghcr.io/astring/regionmesh-app:0.1.0');
    expect(container.imagePullPolicy).toBe('IfNotPresent');
    expect(container.resources.limits.memory).toBeDefined();
    expect(container.args).toEqual(['bootstrap-cassandra']);
    expect(pod.automountServiceAccountToken).toBe(false);
  });

  it('reruns on every sync as a hook and never hits "field is immutable"', () => {
    expect(job.metadata.annotations['argocd.argoproj.io/hook']).toBe('PostSync');
    expect(job.metadata.annotations['argocd.argoproj.io/hook-delete-policy']).toBe('BeforeHookCreation');
    expect(job.spec.ttlSecondsAfterFinished).toBeUndefined();
  });

  it('takes credentials only from Secrets', () => {
    for (const e of pod.containers[0].env as Obj[]) {
      if (/PASSWORD/.test(e.name)) expect(e.valueFrom?.secretKeyRef, e.name).toBeDefined();
    }
  });
});
