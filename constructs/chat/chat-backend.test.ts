/**
 * What each region's chat backend receives is what the other components declare for that
 * region: its own Cassandra DC, its own NATS cluster, its own Postgres primary.
 */
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { renderDist } from '../../charts/render.js';
import { configWithRegions } from '../../test/helpers.js';

type Obj = Record<string, any>;

const envOf = (deployment: Obj): Record<string, Obj> =>
  Object.fromEntries((deployment.spec.template.spec.containers[0].env as Obj[]).map((e) => [e.name, e]));

describe.each([1, 2, 3, 7])('chat backend with %i region(s)', (n) => {
  const config = configWithRegions(n);
  const files = renderDist(config);
  const get = (p: string) => parse(files.get(p)!) as Obj;
  const k8c = get('clusters/astring-mgmt/cassandra/k8ssandracluster-astring.yaml');
  const natsSet = get('argocd/applicationset-astring-nats.yaml');
  const pgSet = get('argocd/applicationset-astring-postgres.yaml');

  it.each(config.regions.map((r) => [r.name, r] as const))('region %s talks only to what its region declares', (_name, region) => {
    const env = envOf(get(`clusters/${region.cluster}/chat/deployment-chat-backend.yaml`));

    // Cassandra: the DC the K8ssandraCluster runs in this region's kube context.
    const dc = (k8c.spec.cassandra.datacenters as Obj[]).find((d) => d.k8sContext === region.cluster)!;
    expect(env.CASSANDRA_LOCAL_DC!.value).toBe(dc.metadata.name);
    expect(env.CASSANDRA_CONTACT_POINTS!.value).toBe(`${k8c.metadata.name}-${dc.metadata.name}-service.${k8c.metadata.namespace}.svc:9042`);

    // NATS: the chart's client Service (fullnameOverride) in the namespace the NATS app deploys to.
    const nats = get(`values/${region.cluster}/nats.yaml`);
    expect(env.NATS_URL!.value).toBe(`nats://${nats.fullnameOverride}.${natsSet.spec.template.spec.destination.namespace}.svc:4222`);

    // Postgres: the rw Service of this region's own pgEdge node.
    const pg = get(`values/${region.cluster}/pgedge.yaml`);
    expect(env.PGHOST!.value).toBe(`${pg.pgEdge.nodes[0].internalHostname}.${pgSet.spec.template.spec.destination.namespace}.svc`);
    expect(env.PGDATABASE!.value).toBe(pg.pgEdge.clusterSpec.bootstrap.initdb.database);
    expect(env.CHAT_REGION!.value).toBe(region.name);
  });

  it.each(config.regions.map((r) => [r.name, r] as const))('region %s: the init container waits for the node its own bootstrap Job creates', (_name, region) => {
    const deployment = get(`clusters/${region.cluster}/chat/deployment-chat-backend.yaml`);
    const [init, ...more] = deployment.spec.template.spec.initContainers as Obj[];
    expect(more).toEqual([]);
    const initEnv = Object.fromEntries((init!.env as Obj[]).map((e) => [e.name, e]));
    const job = get(`clusters/${region.cluster}/postgres/job-bootstrap-spock.yaml`);
    const jobEnv = Object.fromEntries((job.spec.template.spec.containers[0].env as Obj[]).map((e) => [e.name, e.value]));
    // The node name and the bound come from the Job that creates the node; the connection is the backend's own.
    expect(initEnv.SPOCK_NODE!.value).toBe(jobEnv.SPOCK_NODE);
    expect(initEnv.SPOCK_WAIT_SECONDS!.value).toBe(jobEnv.SPOCK_DEADLINE_SECONDS);
    const env = envOf(deployment);
    for (const k of ['PGHOST', 'PGPORT', 'PGDATABASE', 'PGUSER', 'PGSSLMODE', 'PGSSLCERT', 'PGSSLKEY']) expect(initEnv[k], k).toEqual(env[k]);
    expect(Object.keys(initEnv).sort()).toEqual(['PGDATABASE', 'PGHOST', 'PGPORT', 'PGSSLCERT', 'PGSSLKEY', 'PGSSLMODE', 'PGUSER', 'SPOCK_NODE', 'SPOCK_WAIT_SECONDS']);
  });

  it('has one chat Application per region', () => {
    const set = get('argocd/applicationset-astring-chat.yaml');
    expect(set.spec.generators[0].list.elements.map((e: Obj) => e.cluster)).toEqual(config.regions.map((r) => r.cluster));
  });
});

describe('chat backend objects', () => {
  const config = configWithRegions(2);
  const files = renderDist(config);
  const get = (p: string) => parse(files.get(p)!) as Obj;
  const deployment = get('clusters/astring-r1/chat/deployment-chat-backend.yaml');
  const pod = deployment.spec.template.spec;
  const container = pod.containers[0];

  it('selects pods with fixed labels that the pod template carries', () => {
    expect(deployment.spec.selector.matchLabels).toEqual({ 'app.kubernetes.io/name': 'chat-backend', 'regionmesh.io/region': 'r1' });
    expect(deployment.spec.template.metadata.labels).toMatchObject(deployment.spec.selector.matchLabels);
    expect(JSON.stringify(deployment)).not.toMatch(/cdk8s\.io\/metadata\.addr/);
    expect(deployment.spec.replicas).toBeUndefined();
  });

  it('sets probes, resources, pull policy and restricted security explicitly', () => {
    expect(container.readinessProbe.httpGet.path).toBe('/readyz');
    expect(container.livenessProbe.httpGet.path).toBe('/healthz');
    expect(container.startupProbe.httpGet.path).toBe('/healthz');
    expect(container.resources).toEqual({ requests: { cpu: '200m', memory: '256Mi' }, limits: { memory: '256Mi' } });
    expect(container.imagePullPolicy).toBe('IfNotPresent');
    expect(container.securityContext).toMatchObject({ runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
    expect(pod.securityContext.seccompProfile).toEqual({ type: 'RuntimeDefault' });
    expect(pod.terminationGracePeriodSeconds).toBe(30);
  });

  it('runs wait-postgres-node first, with the backend image, restricted security, explicit resources and pull policy', () => {
    const [init] = pod.initContainers as Obj[];
    expect(init!.name).toBe('wait-postgres-node');
    expect(init!.args).toEqual(['wait-postgres-node']);
    expect(init!.image).toBe(container.image);
    expect(init!.imagePullPolicy).toBe('IfNotPresent');
    expect(init!.resources).toEqual({ requests: { cpu: '200m', memory: '256Mi' }, limits: { memory: '256Mi' } });
    expect(init!.securityContext).toEqual(container.securityContext);
    expect(init!.securityContext).toMatchObject({ runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
    // The client certificate the PGSSLCERT/PGSSLKEY paths point into, mounted read-only.
    const certMount = (init!.volumeMounts as Obj[]).find((m) => m.name === 'postgres-client-cert');
    expect(certMount).toEqual({ name: 'postgres-client-cert', mountPath: envOf(deployment).PGSSLCERT!.value.replace(/\/tls\.crt$/, ''), readOnly: true });
    expect(JSON.stringify(init)).not.toMatch(/PASSWORD/);
  });

  it('takes credentials from Secrets only', () => {
    for (const e of container.env as Obj[]) {
      if (/PASSWORD|USER$/.test(e.name) && e.name !== 'PGUSER' && e.name !== 'CASSANDRA_USERNAME') expect(e.valueFrom?.secretKeyRef, e.name).toBeDefined();
    }
  });

  it('has a Service, a PodDisruptionBudget and an HPA on the same selector and Deployment', () => {
    const svc = get('clusters/astring-r1/chat/service-chat-backend.yaml');
    const pdb = get('clusters/astring-r1/chat/poddisruptionbudget-chat-backend.yaml');
    const hpa = get('clusters/astring-r1/chat/horizontalpodautoscaler-chat-backend.yaml');
    expect(svc.spec.selector).toEqual(deployment.spec.selector.matchLabels);
    expect(pdb.spec.selector.matchLabels).toEqual(deployment.spec.selector.matchLabels);
    expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: deployment.metadata.name });
    expect(hpa.spec.minReplicas).toBe(2);
    expect(hpa.spec.maxReplicas).toBe(10);
  });

  it('gets its Postgres client certificate from the shared CA', () => {
    const cert = get('clusters/astring-r1/chat/certificate-chat-postgres-client-cert.yaml');
    expect(cert.spec.commonName).toBe('app');
    expect(cert.spec.issuerRef).toEqual({ group: 'cert-manager.io', kind: 'ClusterIssuer', name: 'astring-postgres-client-ca' });
    expect(files.get('clusters/astring-r1/postgres/clusterissuer-astring-postgres-client-ca.yaml')).toBeDefined();
  });
});
