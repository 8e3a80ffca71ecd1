/** The endpoint config: defaults, and errors that name the path, the offending value and the fix. */
import { describe, expect, it } from 'vitest';
import type { PlatformConfigInput } from '../../regions/schema.js';
import { configErrorOf, configWithRegions } from '../../test/helpers.js';

type Endpoint = NonNullable<PlatformConfigInput['endpoint']>;

const errorOf = (mutate: (e: Endpoint, c: PlatformConfigInput) => void): string => configErrorOf(2, (c) => mutate(c.endpoint!, c));

describe('endpoint config', () => {
  it('fills the defaults the README states', () => {
    const c = configWithRegions(1, (c) => {
      c.endpoint = { domain: 'example.org', className: 'nginx', acme: { email: 'ops@example.org' } };
      delete c.routing;
    });
    expect(c.endpoint).toEqual({
      domain: 'example.org',
      kind: 'gateway',
      className: 'nginx',
      idleTimeoutSeconds: 3600,
      ingressAnnotations: {},
      acme: { server: 'https://acme-v02.api.letsencrypt.org/directory', email: 'ops@example.org', solver: 'http01' },
    });
  });

  it('http01 is fine while one region is active (a second one joining)', () => {
    const c = configWithRegions(2, (c) => {
      delete c.routing;
      c.endpoint = { domain: 'example.org', className: 'eg', acme: { email: 'ops@example.org', solver: 'http01' } };
      c.regions[1] = { ...c.regions[1]!, state: 'joining', syncFrom: 'r1' };
    });
    expect(c.endpoint!.acme.solver).toBe('http01');
  });

  it.each<[string, (e: Endpoint, c: PlatformConfigInput) => void, string[]]>([
    ['idle timeout below two backend pings', (e) => void (e.idleTimeoutSeconds = 10), ['endpoint.idleTimeoutSeconds', '10', '60']],
    ['a domain that is not a DNS name', (e) => void (e.domain = 'Chat_Example.org'), ['endpoint.domain', '"Chat_Example.org"', 'DNS subdomain']],
    ['an unknown kind', (e) => void (e.kind = 'loadbalancer' as never), ['endpoint.kind', '"loadbalancer"', '"gateway", "ingress"']],
    ['an http ACME server', (e) => void (e.acme.server = 'http://acme.example.org/directory'), ['endpoint.acme.server', '"http://acme.example.org/directory"', 'https']],
    ['dns01 without its block', (e) => void delete e.acme.dns01, ['endpoint.acme.dns01', 'solver is dns01', 'add dns01']],
    ['a dns01 block with http01', (e) => void (e.acme.solver = 'http01'), ['endpoint.acme.dns01', 'solver is http01', 'remove it']],
    [
      'http01 with two active regions',
      (e) => void ((e.acme.solver = 'http01'), delete e.acme.dns01),
      ['endpoint.acme.solver', 'http01 with 2 active regions (r1, r2)', 'resolves to all of them', 'use solver: dns01'],
    ],
    [
      'dns01 under the zone delegated to k8gb without a challenge zone',
      (e) => void delete e.acme.dns01!.challengeZone,
      ['endpoint.acme.dns01.challengeZone', 'delegated to k8gb', 'set challengeZone'],
    ],
    [
      'route53 without its region',
      (e) => void ((e.acme.solver = 'dns01'), (e.acme.dns01 = { provider: 'route53', credentialsSecret: 'r53' })),
      ['endpoint.acme.dns01.route53', 'provider route53', 'region'],
    ],
    [
      'a route53 region that is not one',
      (e) => void ((e.acme.solver = 'dns01'), (e.acme.dns01 = { provider: 'route53', credentialsSecret: 'r53', route53: { region: 'frankfurt' } })),
      ['endpoint.acme.dns01.route53.region', '"frankfurt"', 'eu-central-1'],
    ],
    [
      'a challenge zone inside the delegated domain',
      (e) => void ((e.acme.solver = 'dns01'), (e.acme.dns01 = { provider: 'cloudflare', credentialsSecret: 'cf', challengeZone: `acme.${e.domain}` })),
      ['endpoint.acme.dns01.challengeZone', '"acme.astring.example"', 'outside it'],
    ],
    ['an unknown DNS provider', (e) => void ((e.acme.solver = 'dns01'), (e.acme.dns01 = { provider: 'gandi' as never, credentialsSecret: 'x' })), ['endpoint.acme.dns01.provider', '"gandi"', '"route53", "cloudflare"']],
    ['Ingress annotations with kind gateway', (e) => void (e.ingressAnnotations = { 'a.example/b': '1' }), ['endpoint.ingressAnnotations', 'kind is gateway', 'kind: ingress']],
    ['a misspelt key', (e) => void ((e as Record<string, unknown>)['classname'] = 'x'), ['endpoint.classname', 'did you mean "className"']],
    [
      'a domain that makes a region hostname longer than 253 characters',
      (e) => void (e.domain = Array.from({ length: 4 }, () => 'a'.repeat(61)).join('.')),
      ['endpoint.domain', `chat.r1.${'a'.repeat(61)}`, 'shorter domain'],
    ],
  ])('%s: the error has the path, the value and the fix', (_name, mutate, parts) => {
    const message = errorOf(mutate);
    for (const part of parts) expect(message).toContain(part);
  });
});
