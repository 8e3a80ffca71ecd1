/**
 * The chat backend in one region: Deployment (explicit stable selector, restricted security,
 * resources, probes), Service, PodDisruptionBudget, HorizontalPodAutoscaler, the Postgres
 * client certificate, and the Secrets it reads. Every address it receives comes from the
 * names module, so it always matches what NATS, Cassandra and Postgres declare.
 */
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import {
  CassandraSecrets,
  cassandraRegionNames,
  CHAT_BACKEND,
  CHAT_PG_CERT_DIR,
  CHAT_PORT,
  CHAT_SERVICE_PORT,
  inClusterServiceHost,
  Labels,
  natsRegionNames,
  postgresRegionNames,
  PostgresSecrets,
  SecretNames,
} from '../../regions/names.js';
import type { PlatformConfig, Region } from '../../regions/schema.js';
import { regionOf, type ComponentProps } from '../component.js';
import { SMTP_DEFAULT_PORT } from './config.js';
import { healthEnv, readinessProbe } from './health.js';
import { SecretRequirement } from '../output.js';
import { PostgresClientCertificate } from '../postgres/client-certificates.js';
import { envVars, resourceRequirements, restrictedContainerSecurity, restrictedPodSecurity, type EnvSource } from '../workload.js';

/** The environment of `serve` (app/chat) in `region`. */
export function chatBackendEnv(c: PlatformConfig, region: Region): Record<string, EnvSource> {
  const nats = natsRegionNames(c, region);
  const cassandra = cassandraRegionNames(c, region);
  const pg = postgresRegionNames(c, region);
  return {
    CHAT_REGION: region.name,
    CHAT_PORT: String(CHAT_PORT),
    CHAT_SHUTDOWN_GRACE_SECONDS: String(c.app.shutdownGraceSeconds),
    CHAT_WRITE_MIN_INTERVAL_MS: String(c.app.writeMinIntervalMs),
    ...loginCodeEnv(c),
    ...limitsEnv(c),
    ...healthEnv(c),
    NATS_URL: nats.clientUrl,
    NATS_USER: { secret: SecretNames.natsClientAuth, key: 'user' },
    NATS_PASSWORD: { secret: SecretNames.natsClientAuth, key: 'password' },
    CASSANDRA_CONTACT_POINTS: cassandra.contactPoint,
    CASSANDRA_LOCAL_DC: cassandra.datacenter,
    CASSANDRA_KEYSPACE: c.cassandra.keyspace,
    CASSANDRA_USERNAME: c.cassandra.appRole,
    CASSANDRA_PASSWORD: { secret: CassandraSecrets.appCredentials, key: 'password' },
    PGHOST: inClusterServiceHost(c.postgres.namespace, pg.rwService),
    PGPORT: '5432',
    PGDATABASE: c.postgres.database,
    PGUSER: 'app',
    PGSSLMODE: 'require',
    PGSSLCERT: `${CHAT_PG_CERT_DIR}/tls.crt`,
    PGSSLKEY: `${CHAT_PG_CERT_DIR}/tls.key`,
  };
}

/** The chosen login-code sender's variables (app/chat/senders/settings.ts); credentials by Secret reference only. */
export function loginCodeEnv(c: PlatformConfig): Record<string, EnvSource> {
  const lc = c.app.loginCodes;
  if (lc.sender === 'smtp' && lc.smtp) {
    const smtp = lc.smtp;
    return {
      CHAT_CODE_SENDER: 'smtp',
      CHAT_SMTP_HOST: smtp.host,
      CHAT_SMTP_PORT: String(smtp.port ?? SMTP_DEFAULT_PORT[smtp.tls]),
      CHAT_SMTP_TLS: smtp.tls,
      CHAT_SMTP_FROM: smtp.from,
      ...(smtp.credentialsSecret !== undefined
        ? { CHAT_SMTP_USER: { secret: smtp.credentialsSecret, key: 'user' }, CHAT_SMTP_PASSWORD: { secret: smtp.credentialsSecret, key: 'password' } }
        : {}),
    };
  }
  if (lc.sender === 'webhook' && lc.webhook) {
    return {
      CHAT_CODE_SENDER: 'webhook',
      CHAT_WEBHOOK_URL: { secret: lc.webhook.secret, key: 'url' },
      CHAT_WEBHOOK_KEY: { secret: lc.webhook.secret, key: 'key' },
      CHAT_WEBHOOK_TIMEOUT_MS: String(lc.webhook.timeoutSeconds * 1000),
    };
  }
  // log: a lab platform only (the config rule app-login-codes refuses it elsewhere).
  return { CHAT_CODE_SENDER: 'log' };
}

/** The connection limits (app/chat/settings.ts). */
export function limitsEnv(c: PlatformConfig): Record<string, EnvSource> {
  const l = c.app.limits;
  return {
    CHAT_AUTH_TIMEOUT_SECONDS: String(l.authTimeoutSeconds),
    CHAT_HANDSHAKE_TIMEOUT_SECONDS: String(l.handshakeTimeoutSeconds),
    CHAT_MAX_CONNECTIONS_PER_ADDRESS: String(l.maxConnectionsPerAddress),
    CHAT_MAX_CONNECTIONS_PER_USER: String(l.maxConnectionsPerUser),
    CHAT_RATE_PER_SECOND: String(l.ratePerSecond),
    CHAT_RATE_BURST: String(l.rateBurst),
    ...(l.trustedProxies.length > 0 ? { CHAT_TRUSTED_PROXIES: l.trustedProxies.join(',') } : {}),
  };
}

/** The Postgres connection variables `serve` and its init container share. */
const POSTGRES_ENV_KEYS = ['PGHOST', 'PGPORT', 'PGDATABASE', 'PGUSER', 'PGSSLMODE', 'PGSSLCERT', 'PGSSLKEY'] as const;

/**
 * The environment of the init container `wait-postgres-node` (app/spock): the backend's own
 * Postgres connection and the node name bootstrap-spock creates in this region. It waits (at most
 * the bootstrap's deadline, then Kubernetes restarts it with backoff) until that Job has marked
 * the database ready, so the backend's migration never runs before the region's node exists.
 */
export function chatWaitForPostgresEnv(c: PlatformConfig, region: Region): Record<string, EnvSource> {
  const env = chatBackendEnv(c, region);
  return {
    SPOCK_NODE: postgresRegionNames(c, region).node,
    SPOCK_WAIT_SECONDS: String(c.postgres.bootstrapDeadlineSeconds),
    ...Object.fromEntries(POSTGRES_ENV_KEYS.map((k) => [k, env[k]!])),
  };
}

export class ChatBackend extends Construct {
  /** The pod selector: fixed labels, never derived from the construct path. */
  public readonly selector: Record<string, string>;

  /** `scope` is the region's `clusters/<cluster>/chat` folder. */
  constructor(scope: Construct, id: string, props: ComponentProps) {
    super(scope, id);
    const c = props.config;
    const region = regionOf(props, 'chat');
    const ns = props.namespace;
    const chart = scope;
    this.selector = { 'app.kubernetes.io/name': CHAT_BACKEND, [Labels.region]: region.name };
    const labels = { ...this.selector, [Labels.partOf]: c.platform, [Labels.component]: 'chat' };
    const probe = (path: string, periodSeconds: number, failureThreshold: number): k8s.Probe => ({
      httpGet: { path, port: k8s.IntOrString.fromString('http'), scheme: 'HTTP' },
      periodSeconds,
      timeoutSeconds: 2,
      failureThreshold,
      successThreshold: 1,
    });

    new PostgresClientCertificate(chart, 'postgres-client-cert', {
      platform: c.platform,
      namespace: ns,
      secret: PostgresSecrets.chatClient,
      commonName: 'app',
      labels,
    });

    const leaving = region.state === 'leaving';
    new k8s.KubeDeployment(chart, 'deployment', {
      metadata: { name: CHAT_BACKEND, namespace: ns, labels },
      spec: {
        // Normally no replicas: the HorizontalPodAutoscaler owns the count. A leaving region
        // stops its app first (0 pods, no autoscaler) before its data layer goes.
        ...(leaving ? { replicas: 0 } : {}),
        selector: { matchLabels: this.selector },
        revisionHistoryLimit: 5,
        minReadySeconds: 5,
        progressDeadlineSeconds: 600,
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: k8s.IntOrString.fromNumber(0), maxSurge: k8s.IntOrString.fromNumber(1) } },
        template: {
          metadata: { labels },
          spec: {
            automountServiceAccountToken: false,
            enableServiceLinks: false,
            securityContext: restrictedPodSecurity,
            // Drain (stop accepting, close sockets with a reconnect code, drain NATS) + margin.
            terminationGracePeriodSeconds: c.app.shutdownGraceSeconds + 10,
            topologySpreadConstraints: [
              {
                maxSkew: 1,
                topologyKey: 'kubernetes.io/hostname',
                whenUnsatisfiable: 'ScheduleAnyway',
                labelSelector: { matchLabels: this.selector },
              },
            ],
            // Rollout order: the migration in `serve` must not run before this region's
            // Spock node exists (README, "Spock replication sets and rollout order").
            initContainers: [
              {
                name: 'wait-postgres-node',
                image: `${c.app.image.repository}:${c.app.image.tag}`,
                imagePullPolicy: 'IfNotPresent',
                args: ['wait-postgres-node'],
                env: envVars(chatWaitForPostgresEnv(c, region)),
                // The same as the backend: an init container then adds nothing to the pod's requests.
                resources: resourceRequirements(c.app.resources),
                securityContext: restrictedContainerSecurity,
                volumeMounts: [
                  { name: 'postgres-client-cert', mountPath: CHAT_PG_CERT_DIR, readOnly: true },
                  { name: 'tmp', mountPath: '/tmp' },
                ],
              },
            ],
            containers: [
              {
                name: CHAT_BACKEND,
                image: `${c.app.image.repository}:${c.app.image.tag}`,
                imagePullPolicy: 'IfNotPresent',
                args: ['serve'],
                ports: [{ name: 'http', containerPort: CHAT_PORT, protocol: 'TCP' }],
                env: envVars(chatBackendEnv(c, region)),
                resources: resourceRequirements(c.app.resources),
                securityContext: restrictedContainerSecurity,
                startupProbe: probe('/healthz', 2, 30),
                livenessProbe: probe('/healthz', 10, 3),
                // Derived from app.health, the backend's own hysteresis (./health.ts explains why).
                readinessProbe: readinessProbe(c, k8s.IntOrString.fromString('http')),
                volumeMounts: [
                  { name: 'postgres-client-cert', mountPath: CHAT_PG_CERT_DIR, readOnly: true },
                  { name: 'tmp', mountPath: '/tmp' },
                ],
              },
            ],
            volumes: [
              { name: 'postgres-client-cert', secret: { secretName: PostgresSecrets.chatClient, defaultMode: 0o440 } },
              { name: 'tmp', emptyDir: { sizeLimit: k8s.Quantity.fromString('64Mi') } },
            ],
          },
        },
      },
    });

    new k8s.KubeService(chart, 'service', {
      metadata: { name: CHAT_BACKEND, namespace: ns, labels },
      spec: {
        type: 'ClusterIP',
        selector: this.selector,
        ports: [{ name: 'http', port: CHAT_SERVICE_PORT, targetPort: k8s.IntOrString.fromString('http'), protocol: 'TCP' }],
      },
    });

    new SecretRequirement(this, 'nats-client-auth', {
      cluster: region.cluster,
      namespace: ns,
      name: SecretNames.natsClientAuth,
      keys: ['user', 'password'],
      usedBy: 'chat backend (NATS client)',
      sameAcross: `nats/${SecretNames.natsClientAuth} of the same cluster`,
      sameWithin: 'cluster',
    });
    new SecretRequirement(this, 'cassandra-app', {
      cluster: region.cluster,
      namespace: ns,
      name: CassandraSecrets.appCredentials,
      keys: ['password'],
      usedBy: `chat backend (Cassandra role ${c.cassandra.appRole})`,
      sameAcross: 'every copy of cassandra-app-credentials',
    });
    const lc = c.app.loginCodes;
    if (lc.sender === 'smtp' && lc.smtp?.credentialsSecret !== undefined) {
      new SecretRequirement(this, 'smtp-credentials', {
        cluster: region.cluster,
        namespace: ns,
        name: lc.smtp.credentialsSecret,
        keys: ['user', 'password'],
        usedBy: `chat backend (SMTP AUTH at ${lc.smtp.host} for login-code mails)`,
      });
    }
    if (lc.sender === 'webhook' && lc.webhook) {
      new SecretRequirement(this, 'login-code-webhook', {
        cluster: region.cluster,
        namespace: ns,
        name: lc.webhook.secret,
        keys: ['url', 'key'],
        usedBy: 'chat backend (login-code webhook: url to POST to, key = HMAC-SHA256 signing key, at least 32 characters)',
      });
    }
    new SecretRequirement(this, 'postgres-client-cert', {
      cluster: region.cluster,
      namespace: ns,
      name: PostgresSecrets.chatClient,
      keys: ['tls.crt', 'tls.key', 'ca.crt'],
      usedBy: 'chat backend (Postgres role app)',
      createdBy: `cert-manager (ClusterIssuer ${c.platform}-postgres-client-ca)`,
    });

    if (leaving) return;
    new k8s.KubePodDisruptionBudget(chart, 'pdb', {
      metadata: { name: CHAT_BACKEND, namespace: ns, labels },
      spec: { maxUnavailable: k8s.IntOrString.fromNumber(1), selector: { matchLabels: this.selector } },
    });

    new k8s.KubeHorizontalPodAutoscalerV2(chart, 'hpa', {
      metadata: { name: CHAT_BACKEND, namespace: ns, labels },
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: CHAT_BACKEND },
        minReplicas: c.app.minReplicas,
        maxReplicas: c.app.maxReplicas,
        metrics: [
          { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: c.app.targetCpuUtilization } } },
        ],
        behavior: {
          // Sockets are long-lived: scale down slowly.
          scaleDown: { stabilizationWindowSeconds: 300, policies: [{ type: 'Pods', value: 1, periodSeconds: 60 }] },
          scaleUp: { stabilizationWindowSeconds: 0, policies: [{ type: 'Percent', value: 100, periodSeconds: 30 }] },
        },
      },
    });

  }
}
