/**
 * The `routing` part of the config: how users reach the nearest healthy region's public endpoint
 * (`endpoint:`). Provider `k8gb` (default: a k8gb per active region, zone delegated to their
 * CoreDNS) or `externalDns` (external-dns writing Route53 latency / geolocation records).
 * Per-region settings (Route53 health check, location) live in `regions[].routing`.
 * Optional: without `routing`, nothing publishes the chat names in DNS. README "Global routing".
 */
import { z } from 'zod';
import { dnsSubdomain, helmRepoUrl } from '../../regions/fields.js';
import { rule, type ConfigSlice, type PlatformConfig, type PlatformRuleViolation } from '../../regions/schema.js';
import { ExternalDnsSchema, RegionRoutingSchema, type RegionRoutingConfig } from '../external-dns/config.js';
import { externalDnsRules } from '../external-dns/rules.js';
import { k8gbRules } from './rules.js';

const secretName = dnsSubdomain('Secret name');

/** `host`, `host:port`, `ip` or `ip:port` (k8gb EDGE_DNS_SERVERS entries; the port defaults to 53). */
const dnsServer = z
  .string()
  .regex(/^(\[[0-9a-fA-F:]+\]|[0-9a-fA-F:]*:[0-9a-fA-F:]*|[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?)(:[0-9]{1,5})?$/, {
    message: 'is not a DNS server (host, IP, or either with :port, e.g. "1.1.1.1" or "ns1.example.com:53")',
  });

const K8gbDnsProviderSchema = z
  .strictObject({
    name: z
      .enum(['route53', 'cloudflare'])
      .describe("Where the parent zone lives: k8gb's bundled external-dns writes the zone delegation (NS + glue A records) there."),
    credentialsSecret: secretName.describe(
      'Secret in the k8gb namespace of every region: route53 keys `access-key-id`, `secret-access-key`; cloudflare key `api-token` (Zone:DNS:Edit on the parent zone). SECRETS.md lists it.',
    ),
    awsRegion: z
      .string()
      .regex(/^[a-z]{2}(-[a-z]+)+-[0-9]$/, { message: 'is not an AWS region (e.g. "eu-central-1")' })
      .optional()
      .describe('route53 only: AWS region of the API calls (AWS_DEFAULT_REGION).'),
    zoneId: z
      .string()
      .regex(/^[A-Za-z0-9]{1,64}$/, { message: 'is not a zone id (Route53 "Z0123..." or a Cloudflare zone id)' })
      .optional()
      .describe('Only touch this hosted zone (external-dns --zone-id-filter); omit to match by name.'),
  })
  .describe("The DNS provider of the parent zone and its credentials (k8gb chart's `extdns` subchart, external-dns 1.21.1).");

const GeoipSchema = z
  .strictObject({
    secretName: secretName.optional().describe('Secret holding the GeoIP database (MaxMind DB format) in the k8gb namespace of every region.'),
    claimName: dnsSubdomain('PersistentVolumeClaim name').optional().describe('Or a PersistentVolumeClaim with the database, in the k8gb namespace of every region.'),
    fileName: z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,253}$/, { message: 'is not a file name (e.g. "geoip.mmdb")' })
      .default('geoip.mmdb')
      .describe('The database file: the Secret key, or the file in the volume.'),
    field: z
      .string()
      .regex(/^[A-Za-z0-9_.]{1,128}$/, { message: 'is not a GeoIP field path (e.g. "datacenter")' })
      .describe("Field of the database record whose value is a region's geo tag (k8s_crd `geodatafield`), e.g. `datacenter`."),
  })
  .describe(
    'A GeoIP database that maps client subnets to geo tags: the global name uses strategy `geoip` (nearest region by the resolver\'s EDNS client subnet) instead of `roundRobin`.',
  );

export const K8gbSchema = z
  .strictObject({
    chart: z
      .strictObject({
        repoURL: helmRepoUrl.default('https://www.k8gb.io'),
        version: z.string().regex(/^v[0-9]+\.[0-9]+\.[0-9]+$/, { message: 'is not an exact k8gb chart version (e.g. "v0.20.0")' }).default('v0.20.0'),
      })
      .prefault({})
      .describe('The `k8gb` Helm chart, pinned.'),
    namespace: dnsSubdomain('namespace').default('k8gb'),
    dnsZone: dnsSubdomain('DNS zone')
      .optional()
      .describe('The zone k8gb answers for (`loadBalancedZone`), delegated to the k8gb CoreDNS of every active region; both chat names must be in it. Default: `endpoint.domain`.'),
    parentZone: dnsSubdomain('DNS zone').describe('The zone at the DNS provider that delegates `dnsZone` (`parentZone`).'),
    edgeDNSServers: z
      .array(dnsServer)
      .min(1)
      .describe('Resolvers k8gb asks for the other regions\' NS and glue records (`edgeDNSServers`): the parent zone\'s authoritative servers or a resolver that reaches them.'),
    reconcileRequeueSeconds: z.int().min(5).max(300).default(30).describe('Seconds between k8gb reconciliations (how soon a region\'s health reaches DNS).'),
    nsRecordTTL: z.int().min(5).max(86_400).default(30).describe('TTL (s) of the NS and glue records of the delegation.'),
    dnsProvider: K8gbDnsProviderSchema,
    dnsService: z
      .strictObject({
        annotations: z.record(z.string().max(253), z.string().max(4096)).default({}).describe('Annotations of the CoreDNS LoadBalancer Service (cloud LB settings, e.g. an NLB).'),
      })
      .prefault({})
      .describe("k8gb's CoreDNS is a LoadBalancer Service on port 53 (UDP and TCP): the internet's resolvers query it."),
    geoip: GeoipSchema.optional(),
  })
  .describe('k8gb: a global load balancer per active region; the zone is delegated to the k8gb CoreDNS of every active region.');

export const RoutingSchema = z
  .strictObject({
    provider: z
      .enum(['k8gb', 'externalDns'])
      .default('k8gb')
      .describe('k8gb: zone delegated to k8gb in every active region (health = ready chat backends). externalDns: external-dns writes Route53 records with latency or geolocation routing.'),
    dnsTtlSeconds: z.int().min(5).max(3600).default(30).describe('TTL (s) of the chat names\' records: with the reconcile interval, how long a dead region still receives new users.'),
    k8gb: K8gbSchema.optional(),
    externalDns: ExternalDnsSchema.optional(),
  })
  .describe('Global routing of the chat names to the nearest healthy active region (README "Global routing").');

export type RoutingConfig = z.output<typeof RoutingSchema>;
export type K8gbConfig = z.output<typeof K8gbSchema>;

declare module '../../regions/schema.js' {
  interface ComponentConfigs {
    routing: RoutingConfig | undefined;
  }
  interface ComponentConfigInputs {
    routing?: z.input<typeof RoutingSchema>;
  }
  interface RegionComponentConfigs {
    routing: RegionRoutingConfig | undefined;
  }
  interface RegionComponentConfigInputs {
    routing?: z.input<typeof RegionRoutingSchema>;
  }
}

/** routing needs an endpoint; each provider needs its block and only its block. */
function providerViolations(c: PlatformConfig): PlatformRuleViolation[] {
  const r = c.routing;
  if (!r || typeof r !== 'object') return [];
  const v: PlatformRuleViolation[] = [];
  if (!c.endpoint) v.push({ path: ['routing'], message: 'routing publishes the public endpoint\'s names, but there is no endpoint block (add endpoint: {domain, className, acme}, or remove routing)' });
  if (r.provider === 'k8gb' && !r.k8gb) v.push({ path: ['routing', 'k8gb'], message: 'provider is k8gb but there is no k8gb block (add k8gb: {parentZone, edgeDNSServers, dnsProvider})' });
  if (r.provider === 'externalDns' && !r.externalDns) {
    v.push({ path: ['routing', 'externalDns'], message: 'provider is externalDns but there is no externalDns block (add externalDns: {hostedZoneId, awsRegion, credentialsSecret})' });
  }
  if (r.provider !== 'k8gb' && r.k8gb) v.push({ path: ['routing', 'k8gb'], message: `provider is ${r.provider}, so this k8gb block is unused (remove it, or set provider: k8gb)` });
  if (r.provider !== 'externalDns' && r.externalDns) {
    v.push({ path: ['routing', 'externalDns'], message: `provider is ${r.provider}, so this externalDns block is unused (remove it, or set provider: externalDns)` });
  }
  return v;
}

export const routingConfig: ConfigSlice = {
  key: 'routing',
  schema: RoutingSchema.optional(),
  region: { key: 'routing', schema: RegionRoutingSchema.optional() },
  rules: [rule('routing-provider', ['routing'], providerViolations), ...k8gbRules, ...externalDnsRules],
};
