/**
 * The platform config: one strict zod schema. Every object rejects unknown keys; every
 * cross-field rule lives in `platformRules` so an error can point at the exact field.
 *
 * Field docs here are what editors show (through the generated JSON Schema) and what the
 * README's config reference is written from.
 */
import { z } from 'zod';
import { DNS_1035_LABEL, DNS_1123_SUBDOMAIN } from './dns.js';
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
}).refine((t) => t !== 'latest', { message: 'must be pinned, not "latest" (use an exact tag)' });

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
    reloader: z.boolean().default(true).describe('Config reloader sidecar (hot reload of non-gateway settings).'),
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
        .refine((p) => !p.split('/').includes('..'), { message: 'must not contain ".."' })
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
  nats: NatsSchema.prefault({}),
  certManager: CertManagerSchema.prefault({}),
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

/** Every cross-field rule of the config, in one list. */
export function platformRules(c: RawPlatform): PlatformRuleViolation[] {
  const v: PlatformRuleViolation[] = [];
  for (const field of ['name', 'ordinal', 'cluster'] as const) {
    for (const [first, dup] of duplicates(c.regions, (r) => r[field])) {
      v.push({
        path: ['regions', dup, field],
        message: `duplicate region ${field} ${JSON.stringify(c.regions[dup]![field])}, already used by regions[${first}] (every region needs its own ${field})`,
      });
    }
  }
  c.regions.forEach((r, i) => {
    if (r.cluster === c.managementCluster.name) {
      v.push({
        path: ['regions', i, 'cluster'],
        message: `cluster "${r.cluster}" is the management cluster (a region needs its own cluster; the management cluster only runs ArgoCD and operators)`,
      });
    }
  });
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
  const gw = nats.gateway;
  if (gw.exposure !== 'loadBalancer' && gw.loadBalancer !== undefined) {
    v.push({
      path: ['nats', 'gateway', 'loadBalancer'],
      message: `loadBalancer settings are only used with exposure: loadBalancer, got exposure "${gw.exposure}" (remove the block or set exposure: loadBalancer)`,
    });
  }
  if (gw.tls.enabled && gw.tls.issuer === undefined) {
    v.push({
      path: ['nats', 'gateway', 'tls', 'issuer'],
      message: 'gateway TLS needs a cert-manager issuer (add issuer: {kind: ClusterIssuer, name: <issuer backed by the shared CA>})',
    });
  }
  const reserved: Record<string, number> = { client: 4222, cluster: 6222, monitor: nats.monitorPort };
  for (const [what, p] of Object.entries(reserved)) {
    if (gw.port === p) {
      v.push({
        path: ['nats', 'gateway', 'port'],
        message: `gateway port ${gw.port} collides with the NATS ${what} port (pick another, e.g. 7222)`,
      });
    }
  }
  for (const rule of computedNameRules(c)) {
    v.push({ path: rule.path, message: rule.message });
  }
  return v;
}

export const PlatformConfigSchema = PlatformObjectSchema.superRefine((config, ctx) => {
  for (const violation of platformRules(config)) {
    ctx.addIssue({ code: 'custom', path: [...violation.path], message: violation.message, params: { crossField: true } });
  }
});

/** The config as written (defaults optional). */
export type PlatformConfigInput = z.input<typeof PlatformConfigSchema>;
/** The validated config with defaults applied. */
export type PlatformConfig = z.output<typeof PlatformConfigSchema>;
export type Region = PlatformConfig['regions'][number];
export type NatsConfig = PlatformConfig['nats'];
