/** Cross-field rules of `routing.k8gb` (composed into the routing slice, constructs/k8gb/config.ts). */
import { DNS_LABEL_MAX } from '../../regions/dns.js';
import { chatGlobalHost, chatRegionHost, k8gbGeoTag } from '../../regions/names.js';
import { rule, type PlatformConfig, type PlatformRule, type PlatformRuleViolation } from '../../regions/schema.js';
import { k8gbDnsZone, k8gbNsName } from './names.js';

const K8GB = ['routing', 'k8gb'] as const;

const within = (name: string, zone: string) => name === zone || name.endsWith(`.${zone}`);

/** parentZone contains dnsZone; dnsZone contains both chat names of every region. */
function zoneViolations(c: PlatformConfig): PlatformRuleViolation[] {
  const k = c.routing?.provider === 'k8gb' ? c.routing.k8gb : undefined;
  if (!k || !c.endpoint || typeof k.parentZone !== 'string') return [];
  const zone = k8gbDnsZone(c, k);
  const v: PlatformRuleViolation[] = [];
  if (zone === k.parentZone || !within(zone, k.parentZone)) {
    v.push({
      path: [...K8GB, k.dnsZone ? 'dnsZone' : 'parentZone'],
      message: `the delegated zone "${zone}" must be a subdomain of parentZone "${k.parentZone}" (e.g. dnsZone "chat.${k.parentZone}" with endpoint.domain inside it)`,
    });
  }
  const hosts = [chatGlobalHost(c.endpoint.domain), ...c.regions.map((r) => chatRegionHost(c.endpoint!.domain, r.name))];
  const outside = hosts.filter((h) => h === zone || !within(h, zone));
  if (outside.length > 0) {
    v.push({
      path: [...K8GB, 'dnsZone'],
      message: `k8gb answers only for names inside its zone "${zone}", but ${outside.join(', ')} ${outside.length > 1 ? 'are' : 'is'} not (set dnsZone to endpoint.domain "${c.endpoint.domain}" or a parent of it)`,
    });
  }
  return v;
}

/** k8gb refuses an NS name with a label over 63 characters (controllers/zones/wrapper.go validateRFC1035). */
function nsNameViolations(c: PlatformConfig): PlatformRuleViolation[] {
  const k = c.routing?.provider === 'k8gb' ? c.routing.k8gb : undefined;
  if (!k || !c.endpoint || typeof k.parentZone !== 'string') return [];
  const zone = k8gbDnsZone(c, k);
  return c.regions.flatMap((r, i) => {
    const ns = k8gbNsName(k8gbGeoTag(r), zone, k.parentZone);
    const long = ns.split('.').find((l) => l.length > DNS_LABEL_MAX);
    return long
      ? [{ path: ['regions', i, 'name'], message: `k8gb NS name "${ns}" has a label longer than ${DNS_LABEL_MAX} characters ("${long}"): shorten the region name or the zone` }]
      : [];
  });
}

function providerViolations(c: PlatformConfig): PlatformRuleViolation[] {
  const d = c.routing?.k8gb?.dnsProvider;
  if (!d || typeof d !== 'object') return [];
  const path = [...K8GB, 'dnsProvider', 'awsRegion'];
  if (d.name === 'route53' && !d.awsRegion) return [{ path, message: 'dnsProvider route53 needs awsRegion (the AWS region of the API calls, e.g. "eu-central-1")' }];
  if (d.name !== 'route53' && d.awsRegion) return [{ path, message: `dnsProvider is ${d.name}, so awsRegion is unused (remove it)` }];
  return [];
}

function geoipViolations(c: PlatformConfig): PlatformRuleViolation[] {
  const g = c.routing?.k8gb?.geoip;
  if (!g || typeof g !== 'object') return [];
  const sources = [g.secretName, g.claimName].filter((x) => x !== undefined).length;
  return sources === 1
    ? []
    : [{ path: [...K8GB, 'geoip'], message: `give the GeoIP database as exactly one of secretName or claimName, got ${sources === 0 ? 'neither' : 'both'}` }];
}

/**
 * With k8gb, the chat names live in a zone only k8gb's CoreDNS serves (A and TXT from its own
 * DNSEndpoints): with 2+ active regions HTTP-01 reaches the wrong region and DNS-01 TXT records
 * at the provider are hidden by the delegation, unless they are moved out by CNAMEs
 * (endpoint.acme.dns01.challengeZone, answered by k8gb's CoreDNS: corefile.ts).
 */
function acmeViolations(c: PlatformConfig): PlatformRuleViolation[] {
  const a = c.endpoint?.acme;
  if (c.routing?.provider !== 'k8gb' || !a || typeof a !== 'object') return [];
  const active = c.regions.filter((r) => r.state === 'active').length;
  if (active < 2 || (a.solver === 'dns01' && a.dns01?.challengeZone !== undefined)) return [];
  return [
    {
      path: ['endpoint', 'acme', 'solver'],
      message: `with routing.provider k8gb and ${active} active regions, certificates need solver dns01 with a challengeZone: k8gb's CoreDNS answers the delegated zone, so an HTTP-01 check reaches any region and DNS-01 TXT records at the provider are hidden by the delegation (set solver: dns01 and dns01.challengeZone to a zone your provider serves outside the delegated zone, e.g. "acme.<parent zone>")`,
    },
  ];
}

export const k8gbRules: readonly PlatformRule[] = [
  rule('k8gb-acme-challenges', ['endpoint', 'acme'], acmeViolations),
  rule('k8gb-zones', [...K8GB], zoneViolations),
  rule('k8gb-ns-names', ['regions'], nsNameViolations),
  rule('k8gb-dns-provider', [...K8GB, 'dnsProvider'], providerViolations),
  rule('k8gb-geoip-source', [...K8GB, 'geoip'], geoipViolations),
];
