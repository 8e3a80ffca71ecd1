/** The `nats` part of the config: the super-cluster's chart, image, size, gateways and JetStream. */
import { z } from 'zod';
import { DNS_LABEL_MAX, isDnsLabel } from '../../regions/dns.js';
import { dnsLabel, dnsSubdomain, exactVersion, helmRepoUrl, imageTag, port, quantity, ResourcesSchema } from '../../regions/fields.js';
import { natsRegionNames } from '../../regions/names.js';
import { rule, type ConfigSlice, type PlatformRuleViolation } from '../../regions/schema.js';

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

export type NatsConfig = z.output<typeof NatsSchema>;

declare module '../../regions/schema.js' {
  interface ComponentConfigs {
    nats: NatsConfig;
  }
  interface ComponentConfigInputs {
    nats?: z.input<typeof NatsSchema>;
  }
}

export const natsConfig: ConfigSlice = {
  key: 'nats',
  schema: NatsSchema.prefault({}),
  rules: [
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
    rule('nats-names', ['regions'], (c) =>
      c.regions.flatMap((region, i) => {
        const gatewayName = natsRegionNames(c, region).gatewayName;
        if (!isDnsLabel(c.platform) || !isDnsLabel(region.name) || isDnsLabel(gatewayName, DNS_LABEL_MAX)) return [];
        return [
          {
            path: ['regions', i, 'name'],
            message: `NATS gateway name "${gatewayName}" is not a DNS label of at most ${DNS_LABEL_MAX} characters (shorten the platform or region name)`,
          },
        ];
      }),
    ),
  ],
};
