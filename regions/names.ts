/**
 * Every name regionmesh computes: DNS names, Secret names, NATS identities, ArgoCD names.
 * Constructs, charts, docs and tests all call these functions, so a name is decided in
 * exactly one place. Functions take the smallest slice of config they need.
 */
import { DNS_LABEL_MAX, isDnsLabel } from './dns.js';
import type { PlatformConfig, Region } from './schema.js';

/** The slice of config that naming depends on. */
export interface NamingConfig {
  readonly platform: string;
  readonly dns: { readonly clusterSuffix: string };
  readonly regions: ReadonlyArray<Pick<Region, 'name' | 'cluster'>>;
  readonly nats: {
    readonly namespace: string;
    readonly replicas: number;
    readonly gateway: {
      readonly port: number;
      readonly exposure: 'podNetwork' | 'loadBalancer';
      readonly loadBalancer?: { readonly hostnameSuffix?: string | undefined } | undefined;
    };
  };
}

/**
 * Name of `service` in `namespace` of `cluster` as every other cluster resolves it:
 * `<service>.<namespace>.<cluster>.<suffix>` (the cross-cluster DNS of the reference setup).
 */
export function crossClusterServiceHost(
  c: Pick<NamingConfig, 'dns'>,
  cluster: string,
  namespace: string,
  service: string,
): string {
  return `${service}.${namespace}.${cluster}.${c.dns.clusterSuffix}`;
}

/** Name of `service` in `namespace` from inside its own cluster. */
export function inClusterServiceHost(namespace: string, service: string): string {
  return `${service}.${namespace}.svc`;
}

/** Secrets the platform reads. Names are fixed so runbooks and SECRETS.md never drift. */
export const SecretNames = {
  /** NATS client credentials (keys `user`, `password`), one per region. */
  natsClientAuth: 'nats-client-auth',
  /** NATS gateway credentials (keys `user`, `password`), identical in every region. */
  natsGatewayAuth: 'nats-gateway-auth',
  /** Gateway TLS key pair issued by cert-manager (keys `tls.crt`, `tls.key`, `ca.crt`). */
  natsGatewayTls: 'nats-gateway-tls',
} as const;

/** Environment variables the NATS server expands in its config (`<< $VAR >>`). */
export const NatsEnv = {
  clientUser: 'NATS_USER',
  clientPassword: 'NATS_PASSWORD',
  gatewayUser: 'GATEWAY_USER',
  gatewayPassword: 'GATEWAY_PASSWORD',
} as const;

/** The chart's fullname (fixed with `fullnameOverride`, whatever the release or app name). */
export const NATS_FULLNAME = 'nats';

/** Everything named for one region's NATS cluster. */
export interface NatsRegionNames {
  /** Cluster name = gateway name (NATS requires them equal): `<platform>-<region>`. */
  readonly gatewayName: string;
  /** `server_name` prefix, unique across the super-cluster: `<platform>-<region>-`. */
  readonly serverNamePrefix: string;
  /** Server names of this region's pods. */
  readonly serverNames: readonly string[];
  readonly statefulSet: string;
  readonly headlessService: string;
  readonly clientService: string;
  /** The gateway-only LoadBalancer Service (loadBalancer exposure). */
  readonly gatewayService: string;
  /** Host other regions dial for this region's gateway. */
  readonly gatewayHost: string;
  /** `nats://<gatewayHost>:<port>`. */
  readonly gatewayUrl: string;
  /** What this region advertises to peers (loadBalancer exposure only). */
  readonly gatewayAdvertise: string | undefined;
  /** URL that workloads in the same cluster use. */
  readonly clientUrl: string;
}

export function natsRegionNames(c: NamingConfig, region: Pick<Region, 'name' | 'cluster'>): NatsRegionNames {
  const ns = c.nats.namespace;
  const gatewayName = `${c.platform}-${region.name}`;
  const serverNamePrefix = `${gatewayName}-`;
  const headlessService = `${NATS_FULLNAME}-headless`;
  const gatewayService = `${NATS_FULLNAME}-gateway`;
  const gw = c.nats.gateway;
  let gatewayHost: string;
  if (gw.exposure === 'loadBalancer') {
    const suffix = gw.loadBalancer?.hostnameSuffix;
    gatewayHost = suffix
      ? `${gatewayService}.${region.name}.${suffix}`
      : crossClusterServiceHost(c, region.cluster, ns, gatewayService);
  } else {
    gatewayHost = crossClusterServiceHost(c, region.cluster, ns, headlessService);
  }
  const serverNames = Array.from({ length: c.nats.replicas }, (_, i) => `${serverNamePrefix}${NATS_FULLNAME}-${i}`);
  return {
    gatewayName,
    serverNamePrefix,
    serverNames,
    statefulSet: NATS_FULLNAME,
    headlessService,
    clientService: NATS_FULLNAME,
    gatewayService,
    gatewayHost,
    gatewayUrl: `nats://${gatewayHost}:${gw.port}`,
    gatewayAdvertise: gw.exposure === 'loadBalancer' ? `${gatewayHost}:${gw.port}` : undefined,
    clientUrl: `nats://${inClusterServiceHost(ns, NATS_FULLNAME)}:4222`,
  };
}

/** Target name of the management cluster in Application names and labels. */
export const MANAGEMENT_TARGET = 'management';

// ---------------------------------------------------------------------------------------
// Cassandra (k8ssandra-operator + cass-operator naming rules)

/** The slice of config Cassandra names depend on. */
export interface CassandraNamingConfig {
  readonly cassandra: { readonly clusterName: string; readonly namespace: string };
}

/** Rack names of a DC: the configured racks, else cass-operator's single rack `default`. */
export function cassandraRacks(region: { readonly cassandra: { readonly racks: ReadonlyArray<{ readonly name: string }> } }): string[] {
  return region.cassandra.racks.length > 0 ? region.cassandra.racks.map((r) => r.name) : ['default'];
}

export interface CassandraRegionNames {
  /** Cassandra DC name = CassandraDatacenter metadata.name (no datacenterName override). */
  readonly datacenter: string;
  /** cass-operator's per-DC Service: `<cluster>-<dc>-service`. */
  readonly service: string;
  /** `host:9042` of the local DC, from inside the region's cluster. */
  readonly contactPoint: string;
  /** StatefulSets, one per rack: `<cluster>-<dc>-<rack>-sts` (the webhook allows 60 characters). */
  readonly statefulSets: readonly string[];
  /** ClientConfig on the management cluster (its contextName is the region's cluster). */
  readonly clientConfig: string;
  /** Secret (key `kubeconfig`) on the management cluster that the ClientConfig points at. */
  readonly kubeconfigSecret: string;
}

export function cassandraRegionNames(
  c: CassandraNamingConfig,
  region: Pick<Region, 'cluster'> & { readonly cassandra: { readonly datacenter: string; readonly racks: ReadonlyArray<{ readonly name: string }> } },
): CassandraRegionNames {
  const cluster = c.cassandra.clusterName;
  const dc = region.cassandra.datacenter;
  const service = `${cluster}-${dc}-service`;
  return {
    datacenter: dc,
    service,
    contactPoint: `${inClusterServiceHost(c.cassandra.namespace, service)}:9042`,
    statefulSets: cassandraRacks(region).map((rack) => `${cluster}-${dc}-${rack}-sts`),
    clientConfig: region.cluster,
    kubeconfigSecret: `${region.cluster}-kubeconfig`,
  };
}

/** Cassandra Secrets. */
export const CassandraSecrets = {
  /** Superuser (keys `username`, `password`) on the management cluster; the operator replicates it to every DC. */
  superuser: (c: CassandraNamingConfig) => `${c.cassandra.clusterName}-superuser`,
  /** Password of the chat app role (key `password`). */
  appCredentials: 'cassandra-app-credentials',
  /** Medusa bucket credentials (key `credentials`), in every region. */
  medusaBucket: 'medusa-bucket-key',
} as const;

// ---------------------------------------------------------------------------------------
// Postgres (pgEdge chart + CloudNativePG naming rules)

export interface PostgresNamingConfig {
  readonly postgres: { readonly appName: string; readonly namespace: string; readonly database: string };
}

export interface PostgresRegionNames {
  /** Spock node name `n<ordinal>` (the chart derives snowflake.node from it). */
  readonly node: string;
  /** CNPG Cluster `<appName>-n<ordinal>`. */
  readonly cnpgCluster: string;
  /** Read-write Service of the primary: `<cnpgCluster>-rw`. */
  readonly rwService: string;
  /** The rw Service as every cluster resolves it (the node's advertised host). */
  readonly hostname: string;
  /** The rw Service from inside the region's own cluster. */
  readonly internalHostname: string;
}

export function postgresRegionNames(
  c: PostgresNamingConfig & Pick<NamingConfig, 'dns'>,
  region: Pick<Region, 'cluster' | 'ordinal'>,
): PostgresRegionNames {
  const node = `n${region.ordinal}`;
  const cnpgCluster = `${c.postgres.appName}-${node}`;
  const rwService = `${cnpgCluster}-rw`;
  return {
    node,
    cnpgCluster,
    rwService,
    hostname: crossClusterServiceHost(c, region.cluster, c.postgres.namespace, rwService),
    internalHostname: rwService,
  };
}

// ---------------------------------------------------------------------------------------
// Backups (barman-cloud plugin for Postgres, Medusa for Cassandra), one object store

/** The barman-cloud CNPG-I plugin's name (Cluster `plugins[].name`, Backup `pluginConfiguration.name`). */
export const BARMAN_CLOUD_PLUGIN = 'barman-cloud.cloudnative-pg.io';

/** The slice of config backup names depend on. */
export interface BackupNamingConfig extends PostgresNamingConfig, CassandraNamingConfig {
  readonly backups?:
    | {
        readonly objectStore: { readonly bucket: string; readonly pathPrefix?: string | undefined };
        readonly archiveGenerations: Readonly<Record<string, number>>;
      }
    | undefined;
}

/** `<pathPrefix>/<rest>`, or `<rest>` without a prefix. */
function underPrefix(prefix: string | undefined, rest: string): string {
  return prefix ? `${prefix}/${rest}` : rest;
}

export interface PostgresBackupNames {
  /** barman-cloud `ObjectStore` in the Postgres namespace (same name in every region, its own folder per region). */
  readonly objectStore: string;
  /** `s3://<bucket>/<prefix>/postgres/<region>`: this region's folder. */
  readonly destinationPath: string;
  /** Folder of this cluster's WAL and base backups under destinationPath: `<cnpgCluster>`, or `<cnpgCluster>-g<N>` after a restore. */
  readonly serverName: string;
  /** The ScheduledBackup of this region's CNPG Cluster: `<cnpgCluster>-scheduled`. */
  readonly scheduledBackup: string;
  /** The folder a restore reads: the previous generation's serverName (undefined at generation 0). */
  readonly previousServerName: string | undefined;
  /** Name of the archive in a recovering Cluster's `externalClusters`. */
  readonly recoverySource: string;
}

/** Names of one region's Postgres backups; throws when backups are not configured. */
export function postgresBackupNames(
  c: BackupNamingConfig & Pick<NamingConfig, 'dns'>,
  region: Pick<Region, 'name' | 'cluster' | 'ordinal'>,
): PostgresBackupNames {
  const b = c.backups;
  if (!b) throw new Error('postgresBackupNames: backups are not configured (set backups in the config)');
  const cluster = postgresRegionNames(c, region).cnpgCluster;
  const generation = b.archiveGenerations[region.name] ?? 0;
  const serverName = (g: number) => (g > 0 ? `${cluster}-g${g}` : cluster);
  return {
    objectStore: `${c.postgres.appName}-backups`,
    destinationPath: `s3://${b.objectStore.bucket}/${underPrefix(b.objectStore.pathPrefix, `postgres/${region.name}`)}`,
    serverName: serverName(generation),
    scheduledBackup: `${cluster}-scheduled`,
    previousServerName: generation > 0 ? serverName(generation - 1) : undefined,
    recoverySource: 'archive',
  };
}

/** Medusa's `prefix` inside the bucket: `<pathPrefix>/cassandra/<clusterName>`. */
export function medusaPrefix(c: BackupNamingConfig): string {
  if (!c.backups) throw new Error('medusaPrefix: backups are not configured (set backups in the config)');
  return underPrefix(c.backups.objectStore.pathPrefix, `cassandra/${c.cassandra.clusterName}`);
}

/** The MedusaBackupSchedule of one DC: `<clusterName>-<dc>-backup`, next to the CassandraDatacenter. */
export function medusaBackupScheduleName(c: CassandraNamingConfig, region: { readonly cassandra: { readonly datacenter: string } }): string {
  return `${c.cassandra.clusterName}-${region.cassandra.datacenter}-backup`;
}

// ---------------------------------------------------------------------------------------
// Chat backend

/** Name of the chat backend's Deployment, Service, PDB and HPA in every region. */
export const CHAT_BACKEND = 'chat-backend';

/** Port the chat backend listens on (HTTP + WebSocket). */
export const CHAT_PORT = 8080;

/** Where the chat backend mounts its Postgres client certificate. */
export const CHAT_PG_CERT_DIR = '/etc/regionmesh/postgres-client';

/** Where the pgEdge chart projects the `pgedge` client certificate inside every postgres pod. */
export const PGEDGE_PROJECTED_CERT_DIR = '/projected/pgedge/certificates';

/** The role Spock subscriptions connect as (client-certificate auth, never a password). */
export const SPOCK_REPLICATION_ROLE = 'pgedge';

/**
 * The DSN a node is advertised with. Stored in Spock's catalogs, so it is byte-identical
 * everywhere and carries no password: the postgres server authenticates with the projected
 * client certificate.
 */
export function spockNodeDsn(c: PostgresNamingConfig & Pick<NamingConfig, 'dns'>, region: Pick<Region, 'cluster' | 'ordinal'>): string {
  const n = postgresRegionNames(c, region);
  return [
    `host=${n.hostname}`,
    'port=5432',
    `dbname=${c.postgres.database}`,
    `user=${SPOCK_REPLICATION_ROLE}`,
    `sslcert=${PGEDGE_PROJECTED_CERT_DIR}/tls.crt`,
    `sslkey=${PGEDGE_PROJECTED_CERT_DIR}/tls.key`,
    'sslmode=require',
    // A silently unreachable peer must not block sub_create for the OS TCP timeout.
    'connect_timeout=10',
  ].join(' ');
}

/** `sub_<provider>_<subscriber>`, created on the subscriber. */
export function spockSubscriptionName(provider: string, subscriber: string): string {
  return `sub_${provider}_${subscriber}`;
}

/** ClusterIssuer that signs every Postgres client certificate in a cluster. */
export function postgresClientIssuer(c: { readonly platform: string }): string {
  return `${c.platform}-postgres-client-ca`;
}

/** Client-certificate Secrets of the pgEdge chart, issued in every region from one shared CA. */
export const PostgresSecrets = {
  /** The shared client CA key pair (keys `tls.crt`, `tls.key`), in cert-manager's namespace: identical in every region. */
  clientCa: 'postgres-client-ca',
  /** The chat backend's client certificate (CN app), in the chat namespace. */
  chatClient: 'chat-postgres-client-cert',
  streamingReplica: 'streaming-replica-client-cert',
  pgedge: 'pgedge-client-cert',
  admin: 'admin-client-cert',
  app: 'app-client-cert',
} as const;

/** ArgoCD Application generated for `component` in `cluster`: `<platform>-<component>-<cluster-or-region>`. */
export function applicationName(c: Pick<NamingConfig, 'platform'>, component: string, target: string): string {
  return `${c.platform}-${component}-${target}`;
}

/** ApplicationSet of a component: `<platform>-<component>`. */
export function applicationSetName(c: Pick<NamingConfig, 'platform'>, component: string): string {
  return `${c.platform}-${component}`;
}

/** The app-of-apps Application applied by hand: `<platform>-root`. */
export function rootApplicationName(c: Pick<NamingConfig, 'platform'>): string {
  return `${c.platform}-root`;
}

/** Paths inside dist/ (relative to the dist root); ArgoCD sees them under `gitops.path`. */
export const DistPaths = {
  bootstrap: 'bootstrap',
  argocd: 'argocd',
  clusterComponent: (cluster: string, component: string) => `clusters/${cluster}/${component}`,
  values: (cluster: string, chart: string) => `values/${cluster}/${chart}.yaml`,
} as const;

/** Label keys regionmesh puts on what it generates. */
export const Labels = {
  partOf: 'app.kubernetes.io/part-of',
  managedBy: 'app.kubernetes.io/managed-by',
  component: 'regionmesh.io/component',
  region: 'regionmesh.io/region',
} as const;

/**
 * Length rule on the names every component shares: the ArgoCD Application
 * `<platform>-<component>-<region>` of every component must be a DNS label. Each component's
 * own computed names are checked by its config slice's rules.
 */
export function computedNameRules(
  c: Pick<NamingConfig, 'platform' | 'regions'>,
  componentNames: readonly string[],
): Array<{ path: Array<string | number>; message: string }> {
  const out: Array<{ path: Array<string | number>; message: string }> = [];
  if (!isDnsLabel(c.platform) || componentNames.length === 0) return out; // reported by the field's own rule
  const longest = componentNames.reduce((a, b) => (b.length > a.length ? b : a));
  c.regions.forEach((region, i) => {
    if (!isDnsLabel(region.name)) return; // reported by the field's own rule
    const value = applicationName(c, longest, region.name);
    if (!isDnsLabel(value, DNS_LABEL_MAX)) {
      out.push({
        path: ['regions', i, 'name'],
        message: `ArgoCD application name "${value}" is not a DNS label of at most ${DNS_LABEL_MAX} characters (shorten the platform or region name)`,
      });
    }
  });
  return out;
}

/** Convenience for code that holds the whole validated config. */
export function regionByName(c: PlatformConfig, name: string): Region {
  const r = c.regions.find((x) => x.name === name);
  if (!r) throw new Error(`no region named "${name}" (known: ${c.regions.map((x) => x.name).join(', ')})`);
  return r;
}

// ---------------------------------------------------------------------------------------
// Public chat endpoint (issue 12): hostnames, route, TLS, ACME issuer

/** The global chat hostname users connect to: `chat.<domain>` (DNS answers with the nearest healthy region). */
export function chatGlobalHost(domain: string): string {
  return `chat.${domain}`;
}

/** The region-pinned chat hostname: `chat.<region.name>.<domain>` (always that region's endpoint). */
export function chatRegionHost(domain: string, regionName: string): string {
  return `chat.${regionName}.${domain}`;
}

/** Names of the public chat endpoint's objects, the same in every active region (app namespace). */
export const ChatEndpointNames = {
  /** The HTTPRoute (kind gateway) or Ingress (kind ingress) of the global name `chat.<domain>`; pinned names have chatRegionRouteName. */
  route: 'chat',
  /** The Gateway (kind gateway). */
  gateway: 'chat',
  /** cert-manager Certificate for the global name and this region's pinned name. */
  certificate: 'chat',
  /** The Certificate's secretName (keys `tls.crt`, `tls.key`), written by cert-manager. */
  tlsSecret: 'chat-tls',
  /** Certificate for the other active regions' pinned names (served here when they fail over; DNS-01 only). */
  peersCertificate: 'chat-peers',
  /** Its secretName. */
  peersTlsSecret: 'chat-peers-tls',
} as const;

/** The route (HTTPRoute or Ingress) of the pinned name `chat.<regionName>.<domain>`: `chat-<regionName>`, in every region that serves it. */
export function chatRegionRouteName(regionName: string): string {
  return `chat-${regionName}`;
}

/** The ACME ClusterIssuer in every region cluster: `<platform>-acme`. */
export function acmeClusterIssuerName(platform: string): string {
  return `${platform}-acme`;
}

/** Port of the chat backend's Service (`CHAT_BACKEND`, port name `http`, target port `CHAT_PORT`). */
export const CHAT_SERVICE_PORT = 80;

// ---------------------------------------------------------------------------------------
// Global routing (issue 12): k8gb geo tags

/** A region's k8gb geo tag (`clusterGeoTag`, `primaryGeoTag`, `extGslbClustersGeoTags`): its name. */
export function k8gbGeoTag(region: Pick<Region, 'name'>): string {
  return region.name;
}
