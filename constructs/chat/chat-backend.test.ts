/**
 * What each region's chat backend receives is what the other components declare for that
 * region: its own Cassandra DC, its own NATS cluster, its own Postgres primary.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { renderDist } from '../../charts/render.js';
import { settingsFromEnv } from '../../app/chat/settings.js';
import { configWithRegions, tempDir } from '../../test/helpers.js';

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
      const notCredentials = ['PGUSER', 'CASSANDRA_USERNAME', 'CHAT_MAX_CONNECTIONS_PER_USER'];
      if (/PASSWORD|USER$|WEBHOOK_(URL|KEY)$/.test(e.name) && !notCredentials.includes(e.name)) expect(e.valueFrom?.secretKeyRef, e.name).toBeDefined();
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

describe('login codes and limits in the Deployment', () => {
  /** The backend container's env of region r1, for a 2-region config changed by `mutate`. */
  function render(mutate?: Parameters<typeof configWithRegions>[1]) {
    const files = renderDist(configWithRegions(2, mutate));
    const deployment = parse(files.get('clusters/astring-r1/chat/deployment-chat-backend.yaml')!) as Obj;
    return { env: envOf(deployment), secrets: files.get('SECRETS.md')! };
  }
  const ref = (secret: string, key: string) => ({ secretKeyRef: { name: secret, key, optional: false } });

  /** The env as the pod would see it: Secret references resolved to stand-in values, the client certificate's files mounted. */
  const mounted = tempDir('regionmesh-chat-env-');
  writeFileSync(join(mounted, 'tls.crt'), 'stand-in certificate');
  writeFileSync(join(mounted, 'tls.key'), 'stand-in key');
  afterAll(() => rmSync(mounted, { recursive: true, force: true }));
  function resolved(env: Record<string, Obj>): Record<string, string> {
    const out = Object.fromEntries(
      Object.entries(env).map(([k, e]) => [k, e.valueFrom ? (e.valueFrom.secretKeyRef.key === 'url' ? 'https://sms.example.com/hook' : `stand-in-${'x'.repeat(32)}`) : e.value]),
    );
    return { ...out, PGSSLCERT: join(mounted, 'tls.crt'), PGSSLKEY: join(mounted, 'tls.key') };
  }

  it('sends by SMTP as the bundled config says, credentials by Secret reference', () => {
    const { env, secrets } = render();
    expect(env.CHAT_CODE_SENDER).toEqual({ name: 'CHAT_CODE_SENDER', value: 'smtp' });
    expect(env.CHAT_SMTP_HOST!.value).toBe('smtp.example.com');
    expect(env.CHAT_SMTP_PORT!.value).toBe('587');
    expect(env.CHAT_SMTP_TLS!.value).toBe('starttls');
    expect(env.CHAT_SMTP_FROM!.value).toBe('Chat <no-reply@example.com>');
    expect(env.CHAT_SMTP_USER!.valueFrom).toEqual(ref('chat-smtp-credentials', 'user'));
    expect(env.CHAT_SMTP_PASSWORD!.valueFrom).toEqual(ref('chat-smtp-credentials', 'password'));
    expect(env.CHAT_WEBHOOK_URL).toBeUndefined();
    for (const cluster of ['astring-r1', 'astring-r2']) {
      expect(secrets).toMatch(new RegExp(`\\| ${cluster} \\| chat \\| \`chat-smtp-credentials\` \\| \`user\`, \`password\` \\| chat backend \\(SMTP AUTH at smtp\\.example\\.com`));
    }
  });

  it('uses the TLS mode\'s port when none is given, and no credentials when no Secret is named', () => {
    const { env, secrets } = render((c) => void (c.app.loginCodes = { sender: 'smtp', smtp: { host: 'relay.mail.svc', tls: 'implicit', from: 'a@example.com' } }));
    expect(env.CHAT_SMTP_PORT!.value).toBe('465');
    expect(env.CHAT_SMTP_USER).toBeUndefined();
    expect(env.CHAT_SMTP_PASSWORD).toBeUndefined();
    expect(secrets).not.toContain('chat-smtp-credentials');
  });

  it('posts to a webhook whose URL and key come from its Secret, listed in SECRETS.md', () => {
    const { env, secrets } = render((c) => void (c.app.loginCodes = { sender: 'webhook', webhook: { secret: 'chat-login-webhook', timeoutSeconds: 3 } }));
    expect(env.CHAT_CODE_SENDER!.value).toBe('webhook');
    expect(env.CHAT_WEBHOOK_URL!.valueFrom).toEqual(ref('chat-login-webhook', 'url'));
    expect(env.CHAT_WEBHOOK_KEY!.valueFrom).toEqual(ref('chat-login-webhook', 'key'));
    expect(env.CHAT_WEBHOOK_TIMEOUT_MS!.value).toBe('3000');
    expect(env.CHAT_SMTP_HOST).toBeUndefined();
    expect(secrets).toMatch(/\| astring-r1 \| chat \| `chat-login-webhook` \| `url`, `key` \| chat backend \(login-code webhook/);
  });

  it('gives the limits to the backend', () => {
    const { env } = render((c) => void (c.app.limits = { authTimeoutSeconds: 7, maxConnectionsPerAddress: 32, trustedProxies: ['10.0.0.0/8', 'fd00::/8'], ratePerSecond: 60, rateBurst: 120 }));
    expect(Object.fromEntries(Object.entries(env).filter(([k]) => /TIMEOUT_SECONDS|MAX_CONNECTIONS|TRUSTED|RATE_/.test(k) && !k.startsWith('CHAT_HEALTH_')).map(([k, e]) => [k, e.value]))).toEqual({
      CHAT_AUTH_TIMEOUT_SECONDS: '7',
      CHAT_HANDSHAKE_TIMEOUT_SECONDS: '10',
      CHAT_MAX_CONNECTIONS_PER_ADDRESS: '32',
      CHAT_MAX_CONNECTIONS_PER_USER: '8',
      CHAT_TRUSTED_PROXIES: '10.0.0.0/8,fd00::/8',
      CHAT_RATE_PER_SECOND: '60',
      CHAT_RATE_BURST: '120',
    });
    expect(render().env.CHAT_TRUSTED_PROXIES).toBeUndefined();
  });

  it("spaces a room's writes as app.writeMinIntervalMs says (default 5 ms; 0 turns it off)", () => {
    expect(render().env.CHAT_WRITE_MIN_INTERVAL_MS!.value).toBe('5');
    expect(render((c) => void (c.app.writeMinIntervalMs = 0)).env.CHAT_WRITE_MIN_INTERVAL_MS!.value).toBe('0');
  });

  it('gives the health knobs to the backend, which reads them back', () => {
    const health = { intervalSeconds: 5, timeoutSeconds: 3, failuresBeforeUnready: 4, successesBeforeReady: 6 };
    const { env } = render((c) => void (c.app.health = health));
    expect(Object.fromEntries(Object.entries(env).filter(([k]) => k.startsWith('CHAT_HEALTH_')).map(([k, e]) => [k, e.value]))).toEqual({
      CHAT_HEALTH_INTERVAL_SECONDS: '5',
      CHAT_HEALTH_TIMEOUT_SECONDS: '3',
      CHAT_HEALTH_FAILURES_BEFORE_UNREADY: '4',
      CHAT_HEALTH_SUCCESSES_BEFORE_READY: '6',
    });
    expect(settingsFromEnv(resolved(env)).health).toEqual({ intervalMs: 5_000, timeoutMs: 3_000, failuresBeforeUnready: 4, successesBeforeReady: 6 });
  });

  it.each([
    { intervalSeconds: 2, timeoutSeconds: 2, failuresBeforeUnready: 3, successesBeforeReady: 2 },
    { intervalSeconds: 5, timeoutSeconds: 3, failuresBeforeUnready: 4, successesBeforeReady: 6 },
    { intervalSeconds: 1, timeoutSeconds: 1, failuresBeforeUnready: 1, successesBeforeReady: 1 },
  ])('readinessProbe follows app.health %o without a hysteresis of its own', (health) => {
    const files = renderDist(configWithRegions(2, (c) => void (c.app.health = health)));
    const probe = (parse(files.get('clusters/astring-r2/chat/deployment-chat-backend.yaml')!) as Obj).spec.template.spec.containers[0].readinessProbe;
    expect(probe.httpGet).toEqual({ path: '/readyz', port: 'http', scheme: 'HTTP' });
    // One probe per check round, bounded like one check; the backend's verdict passes through unchanged.
    expect(probe).toMatchObject({ periodSeconds: health.intervalSeconds, timeoutSeconds: health.timeoutSeconds, failureThreshold: 1, successThreshold: 1 });
    // Independent model of the kubelet: it marks the pod unready failureThreshold x periodSeconds after
    // /readyz turns 503 at most; the backend turned 503 after failuresBeforeUnready rounds. The kubelet
    // adds at most one round and needs no more failing rounds than the backend did.
    const kubeletLagSeconds = probe.failureThreshold * probe.periodSeconds;
    expect(kubeletLagSeconds).toBeLessThanOrEqual(health.intervalSeconds);
    expect(probe.successThreshold * probe.periodSeconds).toBeLessThanOrEqual(health.intervalSeconds);
  });

  it.each<[string, Parameters<typeof configWithRegions>[1]]>([
    ['smtp', undefined],
    ['webhook', (c) => void (c.app.loginCodes = { sender: 'webhook', webhook: { secret: 'chat-login-webhook' } })],
    ['log (lab)', (c) => {
      (c as { lab?: boolean }).lab = true;
      c.app.loginCodes = { sender: 'log' };
    }],
  ])('%s: serve accepts the env it is given and reads the config\'s values from it', (_name, mutate) => {
    const config = configWithRegions(2, mutate);
    const s = settingsFromEnv(resolved(render(mutate).env));
    expect(s.codeSender.kind).toBe(config.app.loginCodes.sender);
    expect(s).toMatchObject({
      authTimeoutMs: config.app.limits.authTimeoutSeconds * 1000,
      handshakeTimeoutMs: config.app.limits.handshakeTimeoutSeconds * 1000,
      maxConnectionsPerAddress: config.app.limits.maxConnectionsPerAddress,
      maxConnectionsPerUser: config.app.limits.maxConnectionsPerUser,
      ratePerSecond: config.app.limits.ratePerSecond,
      rateBurst: config.app.limits.rateBurst,
      trustedProxies: config.app.limits.trustedProxies,
      writeMinIntervalMs: config.app.writeMinIntervalMs,
    });
    if (s.codeSender.kind === 'smtp') expect(s.codeSender).toMatchObject({ host: config.app.loginCodes.smtp!.host, tls: config.app.loginCodes.smtp!.tls, from: config.app.loginCodes.smtp!.from });
    if (s.codeSender.kind === 'webhook') expect(s.codeSender.timeoutMs).toBe(config.app.loginCodes.webhook!.timeoutSeconds * 1000);
  });
});
