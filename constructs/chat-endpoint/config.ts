/**
 * The `endpoint` part of the config: the public chat endpoint of every active region (Gateway API
 * or Ingress), its hostnames under `domain`, and the ACME ClusterIssuer that gets its certificate.
 * Optional: without `endpoint`, no region is reachable from outside its cluster.
 */
import { z } from 'zod';
import { dnsSubdomain } from '../../regions/fields.js';
import { chatRegionHost } from '../../regions/names.js';
import { DNS_SUBDOMAIN_MAX } from '../../regions/dns.js';
import { rule, type ConfigSlice, type PlatformConfig, type PlatformRuleViolation } from '../../regions/schema.js';

/** The chat backend pings every socket every 30 s (app/chat/http-server.ts HEARTBEAT_MS); a proxy idle timeout must outlast two pings. */
export const MIN_IDLE_TIMEOUT_SECONDS = 60;

const secretName = dnsSubdomain('Secret name');

const httpsUrl = z.string().superRefine((v, ctx) => {
  let u: URL | undefined;
  try {
    u = new URL(v);
  } catch {
    u = undefined;
  }
  if (!u || u.protocol !== 'https:' || u.username || u.password) {
    ctx.addIssue({ code: 'custom', message: 'is not an https URL of an ACME directory (e.g. "https://acme-v02.api.letsencrypt.org/directory")' });
  }
});

const Dns01Schema = z
  .strictObject({
    provider: z.enum(['route53', 'cloudflare']).describe('The DNS provider cert-manager writes the `_acme-challenge` TXT records to.'),
    credentialsSecret: secretName.describe(
      "Secret in cert-manager's namespace of every region cluster: route53 keys `access-key-id` and `secret-access-key`; cloudflare key `api-token` (Zone:DNS:Edit on the domain's zone). SECRETS.md lists it.",
    ),
    route53: z
      .strictObject({
        region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-[0-9]$/, { message: 'is not an AWS region (e.g. "eu-central-1")' }).describe('AWS region of the Route53 API calls.'),
        hostedZoneID: z
          .string()
          .regex(/^Z[A-Z0-9]{1,31}$/, { message: 'is not a Route53 hosted zone id (e.g. "Z0123456789ABCDEFGHIJ")' })
          .optional()
          .describe('The hosted zone of `domain`; omit to let cert-manager find it (needs route53:ListHostedZonesByName).'),
      })
      .optional()
      .describe('Route53 settings (provider route53 only).'),
    challengeZone: dnsSubdomain('DNS zone')
      .optional()
      .describe(
        "A zone at the provider, outside endpoint.domain, that holds the TXT records when endpoint.domain is delegated elsewhere (k8gb's CoreDNS): each `_acme-challenge.<name>` is a CNAME to `<name>.<challengeZone>` (acmeChallengeCnames) and cert-manager follows it (cnameStrategy Follow).",
      ),
  })
  .describe('DNS-01: cert-manager proves control of both hostnames with TXT records at the DNS provider.');

const AcmeSchema = z
  .strictObject({
    server: httpsUrl
      .default('https://acme-v02.api.letsencrypt.org/directory')
      .describe("ACME directory URL. Let's Encrypt production by default; staging: https://acme-staging-v02.api.letsencrypt.org/directory."),
    email: z
      .string()
      .max(254)
      .regex(/^[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+$/, { message: 'is not an e-mail address (e.g. "ops@example.com")' })
      .describe('ACME account contact: expiry and policy notices go there.'),
    solver: z
      .enum(['http01', 'dns01'])
      .default('http01')
      .describe('http01: the CA fetches a token over port 80 through the same Gateway / IngressClass; dns01: TXT records at the DNS provider (dns01 block).'),
    dns01: Dns01Schema.optional(),
  })
  .describe('The ACME ClusterIssuer in every region cluster.');

export const EndpointSchema = z
  .strictObject({
    domain: dnsSubdomain('domain').describe('DNS domain of the public names: `chat.<domain>` (global) and `chat.<region>.<domain>` (region-pinned).'),
    kind: z.enum(['gateway', 'ingress']).default('gateway').describe('gateway: Gateway + HTTPRoute (Gateway API v1); ingress: networking.k8s.io/v1 Ingress.'),
    className: dnsSubdomain('class name').describe('GatewayClass (kind gateway) or IngressClass (kind ingress) present in every region cluster.'),
    idleTimeoutSeconds: z
      .int()
      .min(MIN_IDLE_TIMEOUT_SECONDS, {
        message: `is below ${MIN_IDLE_TIMEOUT_SECONDS} s: the backend pings every socket every 30 s, so the proxy must let a socket idle for at least two pings (use ${MIN_IDLE_TIMEOUT_SECONDS} or more)`,
      })
      .max(86_400)
      .default(3600)
      .describe('Seconds a proxied WebSocket may stay silent before the proxy closes it (ingress classes that need it get annotations; README "Public endpoint and TLS").'),
    ingressAnnotations: z
      .record(z.string().max(253), z.string().max(4096))
      .default({})
      .describe('Extra annotations on the Ingress (kind ingress), e.g. the idle timeouts of an IngressClass regionmesh does not know.'),
    acme: AcmeSchema,
  })
  .describe('The public chat endpoint of every active region, with its TLS certificate from an ACME CA (README "Public endpoint and TLS").');

export type EndpointConfig = z.output<typeof EndpointSchema>;

declare module '../../regions/schema.js' {
  interface ComponentConfigs {
    endpoint: EndpointConfig | undefined;
  }
  interface ComponentConfigInputs {
    endpoint?: z.input<typeof EndpointSchema>;
  }
}

const ACME = ['endpoint', 'acme'] as const;

/** solver <-> its block; route53 settings only with provider route53. */
function solverViolations(c: PlatformConfig): PlatformRuleViolation[] {
  const a = c.endpoint?.acme;
  if (!a || typeof a !== 'object') return [];
  const v: PlatformRuleViolation[] = [];
  if (a.solver === 'dns01' && !a.dns01) {
    v.push({ path: [...ACME, 'dns01'], message: 'solver is dns01 but there is no dns01 block (add dns01: {provider: route53 | cloudflare, credentialsSecret: <Secret name>})' });
  }
  if (a.solver !== 'dns01' && a.dns01) {
    v.push({ path: [...ACME, 'dns01'], message: `solver is ${a.solver}, so this dns01 block is unused (remove it, or set solver: dns01)` });
  }
  const d = a.dns01;
  if (d?.provider === 'route53' && !d.route53) {
    v.push({ path: [...ACME, 'dns01', 'route53'], message: 'provider route53 needs a route53 block (add route53: {region: <AWS region>})' });
  }
  const z = d?.challengeZone;
  const domain = c.endpoint?.domain;
  if (z && typeof domain === 'string' && (z === domain || z.endsWith(`.${domain}`))) {
    v.push({ path: [...ACME, 'dns01', 'challengeZone'], message: `challengeZone "${z}" is endpoint.domain "${domain}" or inside it, where a delegation hides the TXT records (use a zone the DNS provider serves outside it, e.g. "acme.<your parent zone>")` });
  }
  if (d && d.provider !== 'route53' && d.route53) {
    v.push({ path: [...ACME, 'dns01', 'route53'], message: `provider is ${d.provider}, so this route53 block is unused (remove it)` });
  }
  return v;
}

/** Every region-pinned hostname fits a DNS name (253 characters). */
function hostnameViolations(c: PlatformConfig): PlatformRuleViolation[] {
  const e = c.endpoint;
  if (!e || typeof e.domain !== 'string') return [];
  return c.regions.flatMap((r) => {
    const host = chatRegionHost(e.domain, r.name);
    return host.length > DNS_SUBDOMAIN_MAX
      ? [{ path: ['endpoint', 'domain'], message: `hostname "${host}" of region ${r.name} is longer than ${DNS_SUBDOMAIN_MAX} characters (use a shorter domain)` }]
      : [];
  });
}

/** HTTP-01 only while one region is active: the global name resolves to every active region. */
function http01Violations(c: PlatformConfig): PlatformRuleViolation[] {
  const a = c.endpoint?.acme;
  if (!a || a.solver !== 'http01') return [];
  const active = c.regions.filter((r) => r.state === 'active').map((r) => r.name);
  if (active.length < 2) return [];
  return [
    {
      path: [...ACME, 'solver'],
      message: `http01 with ${active.length} active regions (${active.join(', ')}): chat.${c.endpoint!.domain} resolves to all of them, so the CA's validation reaches a region that does not hold the token and fails, and no region can get a certificate for another's pinned name (use solver: dns01 with a dns01 block)`,
    },
  ];
}

/**
 * DNS-01 below k8gb's delegated zone: k8gb's CoreDNS answers only its own records, so a TXT
 * record at the DNS provider under the delegation is never seen; the challenge must go through
 * CNAMEs into `challengeZone`.
 */
function delegatedZoneViolations(c: PlatformConfig): PlatformRuleViolation[] {
  const e = c.endpoint;
  const d = e?.acme.solver === 'dns01' ? e.acme.dns01 : undefined;
  const r = c.routing;
  if (!e || !d || d.challengeZone !== undefined || r?.provider !== 'k8gb') return [];
  const zone = r.k8gb?.dnsZone ?? e.domain;
  if (e.domain !== zone && !e.domain.endsWith(`.${zone}`)) return [];
  return [
    {
      path: [...ACME, 'dns01', 'challengeZone'],
      message: `endpoint.domain "${e.domain}" is in the zone "${zone}" delegated to k8gb, whose DNS never shows the TXT records cert-manager writes at ${d.provider} (set challengeZone to a zone ${d.provider} serves outside it, e.g. "acme.<your parent zone>"; README "Public endpoint and TLS")`,
    },
  ];
}

export const endpointConfig: ConfigSlice = {
  key: 'endpoint',
  schema: EndpointSchema.optional(),
  rules: [
    rule('endpoint-acme-solver', [...ACME], solverViolations),
    rule('endpoint-hostnames', ['endpoint', 'domain'], hostnameViolations),
    rule('endpoint-http01-one-region', [...ACME, 'solver'], http01Violations),
    rule('endpoint-dns01-delegated-zone', [...ACME, 'dns01'], delegatedZoneViolations),
    rule('endpoint-ingress-annotations', ['endpoint', 'ingressAnnotations'], (c) =>
      c.endpoint && c.endpoint.kind !== 'ingress' && Object.keys(c.endpoint.ingressAnnotations ?? {}).length > 0
        ? [{ path: ['endpoint', 'ingressAnnotations'], message: `kind is ${c.endpoint.kind}, so these Ingress annotations are unused (remove them, or set kind: ingress)` }]
        : [],
    ),
  ],
};
