/**
 * The platform config: one strict zod schema. Every object rejects unknown keys; every
 * cross-field rule is a named entry of `PLATFORM_RULES` so an error can point at the exact field.
 *
 * Field docs here are what editors show (through the generated JSON Schema) and what the
 * README's config reference is written from.
 */
import { z } from 'zod';
import { DNS_1035_LABEL, DNS_1123_SUBDOMAIN } from './dns.js';
import { CNPG_CRON, cronProblem, STANDARD_CRON } from './cron.js';
import { computedNameRules } from './names.js';

const dnsLabel = (what: string, max = 63) =>
  z
    .string()
    .max(max, { message: `${what} is longer than ${max} characters (shorten it)` })
    .regex(DNS_1035_LABEL, {
      message: `${what} is not a DNS-1035 label (use lowercase letters, digits and '-', start with a letter, end with a letter or digit)`,
    });

const dnsSubdomain = (what: string) =>
  z.string().max(253).regex(DNS_1123_SUBDOMAIN, {
    message: `${what} is not a DNS subdomain (use dot-separated lowercase labels such as "internal" or "example.com")`,
  });

const port = z.int().min(1).max(65535);

/** Kubernetes resource quantity (e.g. `250m`, `512Mi`, `10Gi`). */
const quantity = z.string().regex(/^[0-9]+(\.[0-9]+)?(m|k|Ki|M|Mi|G|Gi|T|Ti)?$/, {
  message: 'is not a Kubernetes quantity (write e.g. "500m", "256Mi" or "10Gi")',
});

const exactVersion = z.string().regex(/^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$/, {
  message: 'is not an exact chart version (pin one, e.g. "2.14.2"; ranges are not allowed)',
});

const helmRepoUrl = z.string().regex(/^(https:\/\/|oci:\/\/)\S+$/, {
  message: 'is not a Helm repository URL (use https://... or oci://...)',
});

const imageTag = z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/, {
  message: 'is not an image tag (e.g. "2.14.2-alpine")',
}).refine((t) => t !== 'latest', { message: 'is not pinned (use an exact tag such as "2.14.2-alpine")' });

export const ResourcesSchema = z
  .strictObject({
    /** CPU request, e.g. `100m`. */
    cpu: quantity.describe('CPU request, e.g. "100m". No CPU limit is set (throttling hurts latency).'),
    /** Memory request and limit (equal: the pod is never OOM-killed for using what it asked for). */
    memory: quantity.describe('Memory request and limit, e.g. "256Mi".'),
  })
  .describe('Container resources: CPU request; memory request = limit.');

export const RegionSchema = z
  .strictObject({
    name: dnsLabel('region name', 20).describe(
      'Region identity (DNS-1035 label, at most 20 characters). Never rename: names of gateways, servers and apps derive from it.',
    ),
    ordinal: z
      .int()
      .min(1)
      .max(1023)
      .describe('Explicit region number 1..1023, never reused (pgEdge node n<ordinal>, snowflake.node).'),
    cluster: dnsLabel('cluster name').describe(
      'ArgoCD destination name and kube context of this region\'s Kubernetes cluster.',
    ),
    state: z
      .enum(['active', 'joining', 'leaving'])
      .default('active')
      .describe(
        'active: serves users. joining: data layer is added (Cassandra DC rebuilt from the others, Spock data copied from syncFrom), no app yet. leaving: app stopped, subscriptions and keyspace replication removed, DC kept until the region is deleted from the list.',
      ),
    syncFrom: dnsLabel('region name', 20)
      .optional()
      .describe('joining only: the one active region whose Postgres the new region copies structure and data from.'),
    cassandra: z
      .strictObject({
        datacenter: dnsLabel('datacenter name').describe(
          'Cassandra DC name (DNS-1035 label, immutable): the K8ssandraCluster DC, the NetworkTopologyStrategy key and the driver\'s local DC.',
        ),
        size: z.int().min(1).max(100).default(3).describe('Cassandra nodes in this DC (at least the replication factor).'),
        racks: z
          .array(
            z.strictObject({
              name: dnsLabel('rack name').refine((n) => n.length >= 2, { message: 'must be at least 2 characters (operator rule)' }),
              zone: z.string().min(1).describe('Value of topology.kubernetes.io/zone for this rack.'),
            }),
          )
          .default([])
          .describe('One rack per zone; empty means one rack named "default". Never reorder; add only at the end.'),
      })
      .describe('This region\'s Cassandra datacenter.'),
  })
  .describe('One region: a Kubernetes cluster that serves users on its own.');

const NatsGatewayLoadBalancerSchema = z.strictObject({
  hostnameSuffix: dnsSubdomain('hostname suffix')
    .optional()
    .describe(
      'When set, each region advertises nats-gateway.<region>.<suffix> and the Service carries an external-dns hostname annotation. When unset, the cross-cluster DNS name of the gateway Service is used.',
    ),
  sourceRanges: z
    .array(z.string().regex(/^[0-9a-fA-F:.]+\/[0-9]{1,3}$/, { message: 'is not a CIDR (e.g. "203.0.113.0/24")' }))
    .default([])
    .describe('loadBalancerSourceRanges: the only networks allowed to reach the gateway port.'),
  annotations: z
    .record(z.string(), z.string())
    .default({})
    .describe('Extra annotations for the gateway LoadBalancer Service (cloud-specific settings).'),
});

const NatsGatewayTlsSchema = z.strictObject({
  enabled: z.boolean().default(false).describe('Mutual TLS on gateway connections, certificates from cert-manager.'),
  issuer: z
    .strictObject({
      kind: z.enum(['ClusterIssuer', 'Issuer']).default('ClusterIssuer'),
      name: dnsSubdomain('issuer name'),
    })
    .optional()
    .describe('cert-manager issuer in every region, backed by the same CA (gateway TLS is always mutual).'),
  duration: z.string().regex(/^[0-9]+h$/, { message: 'is not a duration in hours (e.g. "2160h")' }).default('2160h'),
  renewBefore: z.string().regex(/^[0-9]+h$/, { message: 'is not a duration in hours (e.g. "360h")' }).default('360h'),
});

export const NatsSchema = z
  .strictObject({
    chart: z
      .strictObject({
        repoURL: helmRepoUrl.default('https://nats-io.github.io/k8s/helm/charts/'),
        version: exactVersion.default('2.14.2'),
      })
      .prefault({})
      .describe('The official `nats` Helm chart, pinned.'),
    namespace: dnsLabel('namespace').default('nats'),
    image: z
      .strictObject({
        repository: z.string().min(1).default('nats'),
        tag: imageTag.default('2.14.2-alpine'),
      })
      .prefault({})
      .describe('NATS server image, pinned explicitly (not left to the chart default).'),
    replicas: z.int().min(1).max(9).default(3).describe('NATS servers per region (StatefulSet replicas).'),
    resources: ResourcesSchema.default({ cpu: '100m', memory: '256Mi' }),
    gateway: z
      .strictObject({
        port: port.default(7222).describe('Gateway port: listen port, Service port and the port in every URL.'),
        exposure: z
          .enum(['podNetwork', 'loadBalancer'])
          .default('podNetwork')
          .describe(
            'podNetwork: pods are routable across clusters, peers dial the headless Service. loadBalancer: a gateway-only LoadBalancer Service per region and `advertise`.',
          ),
        loadBalancer: NatsGatewayLoadBalancerSchema.optional(),
        tls: NatsGatewayTlsSchema.prefault({}),
      })
      .prefault({}),
    jetstream: z
      .strictObject({
        enabled: z.boolean().default(false).describe('JetStream across the super-cluster; needs at least 3 regions.'),
        fileStoreSize: quantity.default('10Gi').describe('PVC size of each server\'s file store.'),
        memoryStoreSize: quantity.default('1Gi').describe('Memory store cap per server.'),
      })
      .prefault({}),
    monitorPort: port.default(8222).describe('HTTP monitoring port; probes use /healthz on it, so it is always on.'),
    promExporter: z
      .strictObject({
        enabled: z.boolean().default(true),
        podMonitor: z.boolean().default(false).describe('Needs the Prometheus Operator CRDs in every region.'),
      })
      .prefault({}),
    reloader: z
      .boolean()
      .default(true)
      .describe(
        'Reloader sidecar for rotated gateway certificates (runs only with gateway TLS). It never watches nats.conf: config changes roll the pods, because nats-server refuses gateway reloads and logs the gateway credentials when it does.',
      ),
    natsBox: z.boolean().default(true).describe('nats-box Deployment for operators.'),
  })
  .describe('NATS: one cluster per region, all joined in a super-cluster by gateways.');

export const CertManagerSchema = z
  .strictObject({
    chart: z
      .strictObject({
        repoURL: helmRepoUrl.default('https://charts.jetstack.io'),
        version: z.string().regex(/^v[0-9]+\.[0-9]+\.[0-9]+$/, { message: 'is not an exact cert-manager version (e.g. "v1.19.1")' }).default('v1.19.1'),
      })
      .prefault({}),
    namespace: dnsLabel('namespace').default('cert-manager'),
  })
  .describe('cert-manager, installed in every cluster that needs certificates (gateway TLS).');

const imageRef = z.strictObject({
  repository: z.string().min(1),
  tag: imageTag,
});

export const AppSchema = z
  .strictObject({
    image: imageRef.describe('The regionmesh app image (chat backend and bootstrap jobs), pinned.'),
    namespace: dnsLabel('namespace').default('chat').describe('Namespace of the chat backend in every region.'),
    minReplicas: z.int().min(1).max(100).default(2).describe('Chat backend pods per region at least (HPA minimum).'),
    maxReplicas: z.int().min(1).max(500).default(10).describe('Chat backend pods per region at most (HPA maximum).'),
    targetCpuUtilization: z.int().min(10).max(100).default(70).describe('HPA target: average CPU, percent of the request.'),
    resources: ResourcesSchema.default({ cpu: '200m', memory: '256Mi' }),
    shutdownGraceSeconds: z.int().min(5).max(300).default(20).describe('Time to drain sockets and NATS on shutdown.'),
  })
  .describe('The regionmesh runtime image built from app/Dockerfile.');

// ---------------------------------------------------------------------------------------
// Backups slice: one S3-compatible object store for Postgres (barman-cloud plugin) and
// Cassandra (Medusa). Replaces postgres.walArchive and cassandra.medusa.

/** A key that moved under `backups`: rejected with a pointer to its replacement. */
function movedToBackups(key: string, why: string) {
  return z
    .unknown()
    .superRefine((_v, ctx) => {
      ctx.addIssue({ code: 'custom', message: `is not accepted here any more: ${why} (remove ${key}; see README "Backups and restore")` });
    })
    .optional()
    .describe(`Removed: ${why}.`);
}

const cnpgSchedule = z.string().superRefine((v, ctx) => {
  const problem = cronProblem(v, CNPG_CRON);
  if (!problem) return;
  const five = v.trim().split(/\s+/).length === 5 && !cronProblem(v, STANDARD_CRON);
  ctx.addIssue({
    code: 'custom',
    message: five
      ? `is a 5-field cron; CloudNativePG's ScheduledBackup takes 6 fields with seconds first (write "0 ${v.trim()}")`
      : `is not a CloudNativePG schedule: ${problem} (write 6 fields, seconds first: "<second> <minute> <hour> <day of month> <month> <day of week>", e.g. "0 0 2 * * *" for 02:00 every day)`,
  });
});

const standardSchedule = z.string().superRefine((v, ctx) => {
  const problem = cronProblem(v, STANDARD_CRON);
  if (problem) {
    ctx.addIssue({
      code: 'custom',
      message: `is not a 5-field cron schedule: ${problem} (write "<minute> <hour> <day of month> <month> <day of week>", e.g. "0 3 * * *")`,
    });
  }
});

/** Endpoint of an S3-compatible store: scheme, host, optional port; nothing else. */
const s3EndpointUrl = z.string().superRefine((v, ctx) => {
  const fix = 'write https://<host>[:port] only, e.g. "https://<account-id>.r2.cloudflarestorage.com"; bucket and pathPrefix are separate fields';
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    ctx.addIssue({ code: 'custom', message: `is not a URL (${fix})` });
    return;
  }
  // User-info is reported by the backups rule, which never echoes the value.
  if (u.username || u.password) return;
  if (u.protocol !== 'https:' && u.protocol !== 'http:') ctx.addIssue({ code: 'custom', message: `uses scheme "${u.protocol}" (${fix})` });
  else if (u.pathname !== '/' || u.search || u.hash || v.endsWith('/')) ctx.addIssue({ code: 'custom', message: `has a path, query or trailing "/" (${fix})` });
});

const secretKeyName = z.string().max(253).regex(/^[-._a-zA-Z0-9]+$/, { message: 'is not a Secret key name (letters, digits, "-", "_", ".")' });

export const BackupsSchema = z
  .strictObject({
    objectStore: z
      .strictObject({
        endpointURL: s3EndpointUrl.describe(
          'S3-compatible endpoint, scheme + host (+ port), e.g. https://<account-id>.r2.cloudflarestorage.com (Cloudflare R2), https://s3.eu-central-1.amazonaws.com, http://minio.minio.svc:9000.',
        ),
        bucket: z
          .string()
          .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, {
            message: 'is not an S3 bucket name (3-63 lowercase letters, digits, "." and "-", starting and ending with a letter or digit)',
          })
          .describe('Bucket that holds every backup of the platform (it must exist).'),
        pathPrefix: z
          .string()
          .max(200)
          .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9._-]*)*$/, {
            message: 'is not a path prefix (segments of letters, digits, ".", "_", "-" joined by "/", no leading or trailing "/", e.g. "astring/prod")',
          })
          .optional()
          .describe('Folder inside the bucket: Postgres archives go to <prefix>/postgres/<region>, Medusa to <prefix>/cassandra/<clusterName>.'),
        region: z
          .string()
          .regex(/^[a-z0-9][a-z0-9-]{0,31}$/, { message: 'is not a storage region (e.g. "auto" for Cloudflare R2, "eu-central-1" for AWS)' })
          .optional()
          .describe('Signing region (AWS_DEFAULT_REGION for barman-cloud, Medusa region). R2 uses "auto"; omit for stores that ignore it.'),
        credentials: z
          .strictObject({
            secretName: dnsSubdomain('Secret name').describe(
              'Secret with the access key, in the Postgres namespace of every region (you create it; SECRETS.md lists it).',
            ),
            accessKeyIdKey: secretKeyName.default('ACCESS_KEY_ID').describe('Key of the access key id in that Secret.'),
            secretAccessKeyKey: secretKeyName.default('ACCESS_SECRET_KEY').describe('Key of the secret access key in that Secret.'),
          })
          .describe('Access key of the object store, by Secret name (never a value).'),
      })
      .describe('The one S3-compatible object store every backup goes to.'),
    retention: z
      .string()
      .regex(/^[1-9][0-9]*[dwm]$/, { message: 'is not a retention period (a number then d, w or m, e.g. "30d", "4w", "3m")' })
      .default('30d')
      .describe('Keep backups this long: the ObjectStore recovery window (d days, w weeks, m months); Medusa purges backups older than it (a month counts 31 days).'),
    schedule: cnpgSchedule
      .default('0 0 2 * * *')
      .describe('Postgres base backups, CloudNativePG cron with 6 fields, seconds first (default 02:00 every day, in the operator\'s time zone). WAL is archived continuously.'),
    plugin: z
      .strictObject({
        chart: z
          .strictObject({ repoURL: helmRepoUrl.default('https://pgedge.github.io/charts'), version: exactVersion.default('0.5.0') })
          .prefault({})
          .describe('pgEdge\'s build of the `plugin-barman-cloud` chart (0.5.0 = plugin v0.11.0).'),
        imageTag: imageTag.default('v0.11.0').describe('Plugin and sidecar image tag, pinned (= the chart\'s appVersion).'),
        resources: ResourcesSchema.default({ cpu: '50m', memory: '128Mi' }).describe('The plugin Deployment in the CloudNativePG namespace.'),
        sidecarResources: ResourcesSchema.default({ cpu: '100m', memory: '256Mi' }).describe('The barman-cloud sidecar in every Postgres pod.'),
      })
      .prefault({})
      .describe('The barman-cloud CNPG-I plugin, installed next to the CloudNativePG operator in every region.'),
    archiveGenerations: z
      .record(dnsLabel('region name', 20), z.int().min(1).max(999))
      .default({})
      .describe(
        'Per region, the archive generation of its Postgres: after restoring a region from its archive, bump it (e.g. {mn: 1}) so the restored node archives to a fresh folder <cluster>-g<N>; barman refuses to archive where another timeline of the cluster already wrote.',
      ),
    restore: z
      .strictObject({
        region: dnsLabel('region name', 20).describe('The region whose Postgres node is re-created from its own archive.'),
        targetTime: z
          .string()
          .regex(/^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:?[0-9]{2})$/, {
            message: 'is not a timestamp with a time zone (e.g. "2026-11-27T21:30:00Z")',
          })
          .optional()
          .describe('Point in time to recover to (RFC 3339 with zone); default: the end of the archive.'),
      })
      .optional()
      .describe(
        'Restore: the region\'s CNPG Cluster bootstraps from its archive (bootstrap.recovery + externalClusters through the plugin) instead of initdb. Needs archiveGenerations.<region> >= 1 (the restored node writes to a fresh folder and reads the previous one). Takes effect when the Cluster is (re)created: README "Backups and restore".',
      ),
    medusa: z
      .strictObject({
        enabled: z.boolean().default(true).describe('Medusa backups of every Cassandra DC to the same object store.'),
        schedule: standardSchedule
          .optional()
          .describe('5-field cron of the MedusaBackupSchedule per DC; default: the Postgres schedule without its seconds field.'),
        backupType: z.enum(['differential', 'full']).default('differential'),
        resources: ResourcesSchema.default({ cpu: '100m', memory: '1Gi' }).describe('The Medusa container next to every Cassandra node.'),
      })
      .prefault({})
      .describe('Cassandra backups (Medusa), derived from objectStore and retention.'),
  })
  .describe('Backups to one S3-compatible object store: Postgres WAL archive + scheduled base backups (barman-cloud plugin), Cassandra (Medusa). Omit to run without backups.');

export type BackupsConfig = z.output<typeof BackupsSchema>;

/** Cross-field rules of the backups slice. */
export function backupsRules(c: { readonly regions: ReadonlyArray<{ readonly name: string }>; readonly backups?: BackupsConfig | undefined }): PlatformRuleViolation[] {
  const b = c.backups;
  if (!b) return [];
  const v: PlatformRuleViolation[] = [];
  let url: URL | undefined;
  try {
    url = new URL(b.objectStore.endpointURL);
  } catch {
    url = undefined; // reported by the field
  }
  if (url && (url.username || url.password)) {
    v.push({
      path: ['backups', 'objectStore', 'endpointURL'],
      message: `endpoint URL ${url.protocol}//***@${url.host} carries credentials (remove "user:password@"; the access key belongs in the Secret named by backups.objectStore.credentials.secretName)`,
    });
  }
  const regions = c.regions.map((r) => r.name);
  if (b.restore) {
    const { region } = b.restore;
    if (!regions.includes(region)) {
      v.push({ path: ['backups', 'restore', 'region'], message: `"${region}" is not a region (use one of ${regions.join(', ')})` });
    } else if ((b.archiveGenerations[region] ?? 0) < 1) {
      v.push({
        path: ['backups', 'restore', 'region'],
        message: `restoring "${region}" needs a fresh archive folder for the restored node, got archiveGenerations.${region} = ${b.archiveGenerations[region] ?? 0} (set backups.archiveGenerations.${region}: ${(b.archiveGenerations[region] ?? 0) + 1}; the restore reads the previous generation)`,
      });
    }
  }
  for (const name of Object.keys(b.archiveGenerations)) {
    if (!regions.includes(name)) {
      v.push({ path: ['backups', 'archiveGenerations', name], message: `"${name}" is not a region (use one of ${regions.join(', ')})` });
    }
  }
  // An invalid schedule is reported by its field; derive only from a valid one.
  if (b.medusa.enabled && b.medusa.schedule === undefined && !cronProblem(b.schedule, CNPG_CRON)) {
    const seconds = b.schedule.trim().split(/\s+/)[0] ?? '';
    if (!/^[0-9]+$/.test(seconds)) {
      v.push({
        path: ['backups', 'medusa', 'schedule'],
        message: `Medusa's schedule is derived from backups.schedule "${b.schedule}" by dropping its seconds field, which only works when that field is one number, got "${seconds}" (set backups.medusa.schedule, e.g. "0 3 * * *")`,
      });
    }
  }
  return v;
}

const semverDefault = (v: string) => exactVersion.default(v);

export const CassandraSchema = z
  .strictObject({
    clusterName: dnsLabel('Cassandra cluster name', 30).describe(
      'K8ssandraCluster name = Cassandra cluster name (immutable). Prefixes StatefulSets and Services.',
    ),
    namespace: dnsLabel('namespace').default('k8ssandra-operator').describe(
      'Namespace of the operator, the K8ssandraCluster and every DC (the same name in every cluster).',
    ),
    serverVersion: exactVersion.default('5.0.6').describe('Cassandra version, exact (cluster level).'),
    replicationFactor: z.int().min(1).max(9).default(3).describe('Replicas of the chat keyspace in every DC.'),
    keyspace: z
      .string()
      .regex(/^[a-z][a-z0-9_]{0,47}$/, { message: 'is not a CQL keyspace name (lowercase letters, digits, _; start with a letter)' })
      .default('chat'),
    appRole: z
      .string()
      .regex(/^[a-z][a-z0-9_]{0,47}$/, { message: 'is not a role name (lowercase letters, digits, _)' })
      .default('chat_app')
      .describe('The role the chat backend uses (never the superuser).'),
    schemaRegion: dnsLabel('region name', 20).describe('The one region whose Job creates the keyspace, role and tables.'),
    storageSize: quantity.default('10Gi').describe('PVC size per Cassandra node.'),
    heapSize: quantity.default('1Gi').describe('JVM heap (initial = max).'),
    resources: ResourcesSchema.default({ cpu: '1', memory: '4Gi' }),
    reaper: z
      .strictObject({ autoScheduling: z.boolean().default(true).describe('Scheduled repairs for every keyspace.') })
      .prefault({})
      .describe('Reaper (repairs) is always on: one per DC.'),
    medusa: movedToBackups('cassandra.medusa', 'Medusa backups are configured under backups.medusa and use backups.objectStore'),
    operator: z
      .strictObject({
        chart: z
          .strictObject({
            repoURL: helmRepoUrl.default('https://helm.k8ssandra.io/stable'),
            version: semverDefault('1.32.5'),
          })
          .prefault({}),
        imageTag: imageTag.default('v1.32.5').describe('Operator image tag (the chart defaults to "latest").'),
      })
      .prefault({}),
    bootstrapDeadlineSeconds: z.int().min(30).max(7200).default(900),
  })
  .describe('Chat history: one Cassandra cluster, one DC per region, run by k8ssandra-operator on the management cluster.');

export const PostgresSchema = z
  .strictObject({
    appName: dnsLabel('pgEdge appName', 26).describe('pgEdge appName (at most 26 characters): CNPG Clusters are <appName>-n<ordinal>.'),
    namespace: dnsLabel('namespace').default('pgedge'),
    database: z
      .string()
      .regex(/^[a-z][a-z0-9_]{0,62}$/, { message: 'is not a database name' })
      .default('app')
      .describe('Application database (the chart creates it, owned by role app).'),
    chart: z
      .strictObject({ repoURL: helmRepoUrl.default('https://pgedge.github.io/charts'), version: semverDefault('0.2.0') })
      .prefault({}),
    operator: z
      .strictObject({
        chart: z
          .strictObject({ repoURL: helmRepoUrl.default('https://pgedge.github.io/charts'), version: semverDefault('0.27.1') })
          .prefault({}),
        namespace: dnsLabel('namespace').default('cnpg-system'),
      })
      .prefault({})
      .describe('pgEdge\'s build of the CloudNativePG operator chart.'),
    image: z
      .string()
      .regex(/^[^\s:]+:[A-Za-z0-9_.-]+$/, { message: 'is not a pinned image (registry/name:tag)' })
      .refine((i) => !i.endsWith(':latest'), { message: 'is not pinned (use an exact tag, not "latest")' })
      .default('ghcr.io/pgedge/pgedge-postgres:17.6-spock5.0.0-standard-1'),
    instances: z.int().min(1).max(9).default(2).describe('Postgres instances per region (1 primary + standbys).'),
    storageSize: quantity.default('10Gi'),
    resources: ResourcesSchema.default({ cpu: '500m', memory: '1Gi' }),
    walArchive: movedToBackups('postgres.walArchive', 'WAL archiving is configured under backups (the ObjectStore, its name and the plugin reference are generated)'),
    bootstrapDeadlineSeconds: z.int().min(30).max(7200).default(900),
  })
  .describe('Users and rooms: one pgEdge Postgres per region, joined by Spock subscriptions in a full mesh.');

const PlatformObjectSchema = z.strictObject({
  $schema: z.string().optional().describe('Path of the JSON Schema, for editors.'),
  platform: dnsLabel('platform name', 20).describe(
    'Platform name (DNS-1035 label, at most 20 characters); prefixes gateway, server and ArgoCD names.',
  ),
  gitops: z
    .strictObject({
      repoURL: z
        .string()
        .regex(/^(https:\/\/|ssh:\/\/|git@)\S+$/, { message: 'is not a Git URL (use https://..., ssh://... or git@...)' })
        .describe('The Git repository ArgoCD reads dist/ from.'),
      revision: z.string().min(1).default('main').describe('Branch, tag or commit ArgoCD tracks.'),
      path: z
        .string()
        .regex(/^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/, {
          message: 'is not a relative path inside the repository (e.g. "dist" or "envs/prod/dist")',
        })
        .refine((p) => !p.split('/').includes('..'), { message: 'leaves the repository (remove "..": use a path inside it, e.g. "dist")' })
        .default('dist')
        .describe('Path of dist/ inside the repository.'),
    })
    .describe('Where ArgoCD finds the committed output.'),
  argocd: z
    .strictObject({
      namespace: dnsLabel('namespace').default('argocd'),
      project: dnsLabel('project name').describe('AppProject that scopes every generated Application.'),
    })
    .describe('The ArgoCD instance on the management cluster.'),
  dns: z
    .strictObject({
      clusterSuffix: dnsSubdomain('DNS suffix').describe(
        'Cross-cluster DNS suffix: a Service is reachable from every cluster as <service>.<namespace>.<cluster>.<suffix>.',
      ),
    })
    .describe('Cross-cluster service discovery.'),
  managementCluster: z
    .strictObject({
      name: dnsLabel('cluster name').describe('ArgoCD destination name of the management cluster (runs ArgoCD).'),
    })
    .describe('The cluster that runs ArgoCD and the multi-cluster operators.'),
  storageClass: z.string().min(1).describe('StorageClass for every PVC the platform creates.'),
  regions: z.array(RegionSchema).min(1, { message: 'needs at least one region' }).max(64),
  acknowledgedChanges: z
    .array(z.string().min(3))
    .default([])
    .describe(
      'Dangerous changes you accept, each exactly as `npm run plan` prints it (e.g. "remove-region:fsn1"). Without it, plan and synth refuse the change.',
    ),
  nats: NatsSchema.prefault({}),
  certManager: CertManagerSchema.prefault({}),
  app: AppSchema,
  cassandra: CassandraSchema,
  postgres: PostgresSchema,
  backups: BackupsSchema.optional(),
});

type RawPlatform = z.output<typeof PlatformObjectSchema>;

/** A declarative cross-field rule: aws-cdk style `{condition, message}` evaluated on the whole config. */
export interface PlatformRuleViolation {
  readonly path: ReadonlyArray<string | number>;
  readonly message: string;
}

function duplicates<T>(items: readonly T[], key: (t: T) => string | number): Array<[number, number]> {
  const seen = new Map<string | number, number>();
  const pairs: Array<[number, number]> = [];
  items.forEach((item, i) => {
    const k = key(item);
    const first = seen.get(k);
    if (first === undefined) seen.set(k, i);
    else pairs.push([first, i]);
  });
  return pairs;
}

/**
 * One named cross-field rule. `path` is where a failure of the rule itself is reported: the
 * part of the config the rule reads.
 */
export interface PlatformRule {
  readonly name: string;
  readonly path: ReadonlyArray<string | number>;
  readonly check: (c: RawPlatform) => PlatformRuleViolation[];
}

const rule = (name: string, path: ReadonlyArray<string | number>, check: (c: RawPlatform) => PlatformRuleViolation[]): PlatformRule => ({
  name,
  path,
  check,
});

/** Every cross-field rule of the config, in one list. */
export const PLATFORM_RULES: readonly PlatformRule[] = [
  rule('unique-region-identities', ['regions'], (c) => {
    const v: PlatformRuleViolation[] = [];
    for (const field of ['name', 'ordinal', 'cluster'] as const) {
      for (const [first, dup] of duplicates(c.regions, (r) => r[field])) {
        v.push({
          path: ['regions', dup, field],
          message: `duplicate region ${field} ${JSON.stringify(c.regions[dup]![field])}, already used by regions[${first}] (every region needs its own ${field})`,
        });
      }
    }
    return v;
  }),
  rule('region-not-management-cluster', ['regions'], (c) =>
    c.regions.flatMap((r, i) =>
      r.cluster === c.managementCluster.name
        ? [
            {
              path: ['regions', i, 'cluster'],
              message: `cluster "${r.cluster}" is the management cluster (a region needs its own cluster; the management cluster only runs ArgoCD and operators)`,
            },
          ]
        : [],
    ),
  ),
  rule('jetstream-quorum', ['nats', 'jetstream'], (c) => {
    const v: PlatformRuleViolation[] = [];
    const nats = c.nats;
    if (nats.jetstream.enabled && c.regions.length < 3) {
      v.push({
        path: ['nats', 'jetstream', 'enabled'],
        message: `JetStream needs at least 3 regions, got ${c.regions.length} (one JetStream meta group spans the super-cluster and loses quorum when one of 2 regions is down; set enabled: false or add regions)`,
      });
    }
    if (nats.jetstream.enabled && nats.replicas < 3) {
      v.push({
        path: ['nats', 'replicas'],
        message: `JetStream needs at least 3 servers per region, got ${nats.replicas} (set replicas: 3)`,
      });
    }
    if (nats.jetstream.enabled && c.regions.filter((r) => r.state !== 'leaving').length < 3) {
      v.push({ path: ['nats', 'jetstream', 'enabled'], message: 'JetStream needs at least 3 regions that are not leaving (add a region before removing one)' });
    }
    return v;
  }),
  rule('gateway-exposure-settings', ['nats', 'gateway'], (c) => {
    const gw = c.nats.gateway;
    if (gw.exposure !== 'loadBalancer' && gw.loadBalancer !== undefined) {
      return [
        {
          path: ['nats', 'gateway', 'loadBalancer'],
          message: `loadBalancer settings are only used with exposure: loadBalancer, got exposure "${gw.exposure}" (remove the block or set exposure: loadBalancer)`,
        },
      ];
    }
    return [];
  }),
  rule('gateway-tls-issuer', ['nats', 'gateway', 'tls'], (c) => {
    const tls = c.nats.gateway.tls;
    if (tls.enabled && tls.issuer === undefined) {
      return [
        {
          path: ['nats', 'gateway', 'tls', 'issuer'],
          message: 'gateway TLS needs a cert-manager issuer (add issuer: {kind: ClusterIssuer, name: <issuer backed by the shared CA>})',
        },
      ];
    }
    return [];
  }),
  rule('gateway-port-collisions', ['nats', 'gateway', 'port'], (c) => {
    const gw = c.nats.gateway;
    const reserved: Record<string, number> = { client: 4222, cluster: 6222, monitor: c.nats.monitorPort };
    return Object.entries(reserved)
      .filter(([, p]) => gw.port === p)
      .map(([what]) => ({
        path: ['nats', 'gateway', 'port'],
        message: `gateway port ${gw.port} collides with the NATS ${what} port (pick another, e.g. 7222)`,
      }));
  }),
  rule('unique-datacenters', ['regions'], (c) =>
    duplicates(c.regions, (r) => r.cassandra.datacenter).map(([first, dup]) => ({
      path: ['regions', dup, 'cassandra', 'datacenter'],
      message: `duplicate Cassandra datacenter "${c.regions[dup]!.cassandra.datacenter}", already used by regions[${first}] (every region is its own DC)`,
    })),
  ),
  rule('datacenter-sizes-and-racks', ['regions'], (c) => {
    const v: PlatformRuleViolation[] = [];
    c.regions.forEach((r, i) => {
      const rf = c.cassandra.replicationFactor;
      if (r.cassandra.size < rf) {
        v.push({
          path: ['regions', i, 'cassandra', 'size'],
          message: `DC size ${r.cassandra.size} is below the replication factor ${rf} (LOCAL_QUORUM needs ${rf} replicas in the DC; set size >= ${rf} or lower cassandra.replicationFactor)`,
        });
      }
      const racks = r.cassandra.racks.length;
      if (racks > 0 && r.cassandra.size % racks !== 0) {
        v.push({
          path: ['regions', i, 'cassandra', 'size'],
          message: `DC size ${r.cassandra.size} is not a multiple of its ${racks} racks (use a multiple so every rack holds the same number of nodes)`,
        });
      }
      for (const [first, dup] of duplicates(r.cassandra.racks, (x) => x.name)) {
        v.push({ path: ['regions', i, 'cassandra', 'racks', dup, 'name'], message: `duplicate rack name, already used by racks[${first}] (rename it)` });
      }
    });
    return v;
  }),
  rule('joining-sync-source', ['regions'], (c) => {
    const v: PlatformRuleViolation[] = [];
    c.regions.forEach((r, i) => {
      if (r.state === 'joining') {
        const source = c.regions.find((x) => x.name === r.syncFrom);
        if (r.syncFrom === undefined) {
          v.push({ path: ['regions', i, 'syncFrom'], message: `a joining region needs syncFrom: the active region to copy Postgres data from (add syncFrom: ${c.regions.find((x) => x.state === 'active')?.name ?? '<region>'})` });
        } else if (!source || source.state !== 'active') {
          v.push({ path: ['regions', i, 'syncFrom'], message: `syncFrom "${r.syncFrom}" is not an active region (use one of ${c.regions.filter((x) => x.state === 'active').map((x) => x.name).join(', ') || 'none'})` });
        }
      } else if (r.syncFrom !== undefined) {
        v.push({ path: ['regions', i, 'syncFrom'], message: `syncFrom only applies to a joining region, got state "${r.state}" (remove syncFrom)` });
      }
    });
    return v;
  }),
  rule('cassandra-schema-region', ['cassandra', 'schemaRegion'], (c) => {
    const schemaLeader = c.regions.find((r) => r.name === c.cassandra.schemaRegion);
    if (!schemaLeader) {
      return [
        {
          path: ['cassandra', 'schemaRegion'],
          message: `"${c.cassandra.schemaRegion}" is not a region (use one of ${c.regions.map((r) => r.name).join(', ')})`,
        },
      ];
    }
    if (schemaLeader.state !== 'active' && c.regions.some((r) => r.state === 'active')) {
      return [{ path: ['cassandra', 'schemaRegion'], message: `schema region "${schemaLeader.name}" is ${schemaLeader.state} (pick an active region)` }];
    }
    return [];
  }),
  rule('app-replicas', ['app'], (c) =>
    c.app.maxReplicas < c.app.minReplicas
      ? [{ path: ['app', 'maxReplicas'], message: `maxReplicas ${c.app.maxReplicas} is below minReplicas ${c.app.minReplicas} (raise maxReplicas)` }]
      : [],
  ),
  rule('computed-name-lengths', ['regions'], (c) => computedNameRules(c).map((r) => ({ path: r.path, message: r.message }))),
  rule('backups', ['backups'], backupsRules),
];

/**
 * Runs every rule on its own: a rule that throws is reported as a problem at its path (with
 * its name), never skipped, and the other rules still run. A shape error elsewhere can make a
 * rule throw (the rules also run on a config whose fields failed, so one run lists every
 * problem); the message then says to fix the other problems first.
 */
export function platformRules(c: RawPlatform, rules: readonly PlatformRule[] = PLATFORM_RULES): PlatformRuleViolation[] {
  return rules.flatMap((r): PlatformRuleViolation[] => {
    try {
      return r.check(c);
    } catch (e) {
      const why = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
      return [
        {
          path: [...r.path],
          message: `cross-field rule "${r.name}" could not check this part of the config (${why}); fix the other problems reported for it first, and if there are none, this is a bug in regionmesh: report it with this message`,
        },
      ];
    }
  });
}

export const PlatformConfigSchema = PlatformObjectSchema.superRefine(
  (config, ctx) => {
    // No try/catch here: platformRules reports a rule that throws as a problem of its own.
    for (const violation of platformRules(config)) {
      ctx.addIssue({ code: 'custom', path: [...violation.path], message: violation.message, params: { crossField: true } });
    }
  },
  // Run the cross-field rules even when a field failed, so one run lists every problem.
  { when: (payload) => payload.value !== null && typeof payload.value === 'object' },
);

/** The config as written (defaults optional). */
export type PlatformConfigInput = z.input<typeof PlatformConfigSchema>;
/** The validated config with defaults applied. */
export type PlatformConfig = z.output<typeof PlatformConfigSchema>;
export type Region = PlatformConfig['regions'][number];
export type NatsConfig = PlatformConfig['nats'];
