/**
 * The routing config: defaults, every cross-field rule failing with its path and fix, and the
 * external-dns route annotations (keys as external-dns v0.21.0 reads them: source/annotations,
 * provider/aws).
 */
import { describe, expect, it } from 'vitest';
import type { PlatformConfigInput } from '../../regions/schema.js';
import { configErrorOf, configWithRegions } from '../../test/helpers.js';
import { routeAnnotations } from '../external-dns/annotations.js';

type Input = PlatformConfigInput;

const EXTERNAL_DNS = (c: Input) => {
  c.routing = { provider: 'externalDns', externalDns: { hostedZoneId: 'Z0123456789ABCDEFGHIJ', awsRegion: 'us-east-1', credentialsSecret: 'r53' } };
  c.regions = c.regions.map((r, i) => ({ ...r, routing: { awsRegion: i === 0 ? 'ap-east-1' : 'eu-central-1' } }));
  delete c.endpoint!.acme.dns01!.challengeZone;
};

const errorOf = (mutate: (c: Input) => void): string => configErrorOf(2, mutate);

describe('routing config', () => {
  it('fills the defaults the README states', () => {
    const c = configWithRegions(2, (c) => {
      c.routing = { k8gb: { parentZone: 'example', edgeDNSServers: ['192.0.2.1'], dnsProvider: { name: 'cloudflare', credentialsSecret: 'cf' } } };
    });
    expect(c.routing).toEqual({
      provider: 'k8gb',
      dnsTtlSeconds: 30,
      k8gb: {
        chart: { repoURL: 'https://www.k8gb.io', version: 'v0.20.0' },
        namespace: 'k8gb',
        parentZone: 'example',
        edgeDNSServers: ['192.0.2.1'],
        reconcileRequeueSeconds: 30,
        nsRecordTTL: 30,
        dnsProvider: { name: 'cloudflare', credentialsSecret: 'cf' },
        dnsService: { annotations: {} },
      },
    });
    const e = configWithRegions(2, EXTERNAL_DNS).routing!.externalDns!;
    expect(e.chart).toEqual({ repoURL: 'https://kubernetes-sigs.github.io/external-dns/', version: '1.21.1' });
    expect([e.namespace, e.policy, e.intervalSeconds]).toEqual(['external-dns', 'latency', 60]);
  });

  it.each<[string, (c: Input) => void, string[]]>([
    ['routing without an endpoint', (c) => void delete c.endpoint, ['routing:', 'no endpoint block']],
    ['k8gb without its block', (c) => void delete c.routing!.k8gb, ['routing.k8gb', 'add k8gb']],
    ['an externalDns block with k8gb', (c) => void (c.routing!.externalDns = { hostedZoneId: 'Z1', awsRegion: 'us-east-1', credentialsSecret: 'x' }), ['routing.externalDns', 'unused']],
    ['a zone outside its parent', (c) => void (c.routing!.k8gb!.parentZone = 'example.net'), ['routing.k8gb.dnsZone', 'subdomain of parentZone "example.net"']],
    ['chat names outside the delegated zone', (c) => void (c.routing!.k8gb!.dnsZone = 'other.example'), ['routing.k8gb.dnsZone', 'chat.astring.example', 'set dnsZone']],
    ['route53 without its AWS region', (c) => void (c.routing!.k8gb!.dnsProvider = { name: 'route53', credentialsSecret: 'r53' }), ['routing.k8gb.dnsProvider.awsRegion', 'needs awsRegion']],
    ['a GeoIP database from two sources', (c) => void (c.routing!.k8gb!.geoip = { secretName: 'a', claimName: 'b', field: 'datacenter' }), ['routing.k8gb.geoip', 'got both']],
    ['k8gb, 2 active regions, DNS-01 without a challenge zone', (c) => void delete c.endpoint!.acme.dns01!.challengeZone, ['challengeZone']],
    ['an NS name label over 63 characters', (c) => void (c.regions[1]!.name = 'a'.repeat(20), (c.routing!.k8gb!.dnsZone = `${'z'.repeat(40)}.astring.example`), (c.endpoint!.domain = `${'z'.repeat(40)}.astring.example`)), ['k8gb NS name', 'longer than 63']],
    ['latency without the region\'s AWS region', (c) => (EXTERNAL_DNS(c), void delete c.regions[1]!.routing), ['regions[1].routing.awsRegion', 'latency routing needs']],
    ['regions[].routing with k8gb', (c) => void (c.regions[0]!.routing = { awsRegion: 'eu-central-1' }), ['regions[0].routing', 'only used with routing.provider externalDns']],
    [
      'geolocation without a default location',
      (c) => {
        EXTERNAL_DNS(c);
        c.routing!.externalDns!.policy = 'geolocation';
        c.regions = c.regions.map((r, i) => ({ ...r, routing: { geolocation: { continentCode: i === 0 ? 'AS' : 'EU' } } }));
      },
      ['routing.externalDns.policy', 'exactly one active region with countryCode "*"', 'got 0'],
    ],
  ])('refuses %s', (_name, mutate, parts) => {
    const message = errorOf(mutate);
    for (const part of parts) expect(message).toContain(part);
  });
});

describe('external-dns route annotations', () => {
  const c = configWithRegions(2, (c) => {
    EXTERNAL_DNS(c);
    c.regions[0]!.routing = { awsRegion: 'ap-east-1', healthCheckId: '0b5e8c44-1c1a-4d3e-9a55-1f0f8f3e2a11' };
  });
  const [r1, r2] = c.regions as [(typeof c.regions)[0], (typeof c.regions)[0]];
  const k = (s: string) => `external-dns.alpha.kubernetes.io/${s}`;

  it('the global name: a latency record per region with its set identifier, health check and TTL', () => {
    expect(routeAnnotations(c, r1, 'global')).toEqual({
      [k('ttl')]: '30',
      [k('set-identifier')]: 'r1',
      [k('aws-region')]: 'ap-east-1',
      [k('aws-health-check-id')]: '0b5e8c44-1c1a-4d3e-9a55-1f0f8f3e2a11',
    });
    expect(routeAnnotations(c, r2, 'global')).toEqual({ [k('ttl')]: '30', [k('set-identifier')]: 'r2', [k('aws-region')]: 'eu-central-1' });
  });

  it('the own pinned name: a plain record; another region\'s: not published here', () => {
    expect(routeAnnotations(c, r1, 'region', { pinnedTo: 'r1' })).toEqual({ [k('ttl')]: '30' });
    expect(routeAnnotations(c, r1, 'region', { pinnedTo: 'r2' })).toEqual({ [k('controller')]: 'regionmesh-not-published' });
  });

  it('nothing with k8gb', () => {
    const k8gb = configWithRegions(2);
    expect(routeAnnotations(k8gb, k8gb.regions[0]!, 'global')).toEqual({});
  });
});
