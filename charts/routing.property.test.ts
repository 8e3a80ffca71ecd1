/**
 * Global routing over generated configs with 1..12 regions in random states (issue 12, first
 * "Done when" line): each active region's k8gb values list exactly the other active regions' geo
 * tags, owner ids and TXT prefixes are unique, every Gslb references a route object that exists
 * in the same cluster's output and serves exactly the one hostname the Gslb is meant for, and
 * every Gslb, Gateway, HTTPRoute, Certificate and ClusterIssuer validates against
 * ../shared/schemas; k8gb's own Corefile answers the ACME challenge CNAMEs of every active
 * region's names. Expected values come from the config (an independent model), never from
 * the generator's own helpers.
 */
import type { ValidateFunction } from 'ajv';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { PlatformConfig, PlatformConfigInput } from '../regions/schema.js';
import { configFrom, inputWithRegions, NO_SHARED_SCHEMAS, sharedSchemasAvailable } from '../test/helpers.js';
import { schemaValidators } from '../test/schema-validators.js';
import { renderDist } from './render.js';

type Obj = Record<string, any>;

const SCHEMAS: Record<string, string> = {
  Gslb: 'gslb.schema.json',
  Gateway: 'gateway.schema.json',
  HTTPRoute: 'httproute.schema.json',
  Certificate: 'certificate.schema.json',
  ClusterIssuer: 'clusterissuer.schema.json',
};

/** n regions r1..rn, r1 active, the others in `states`; endpoint of `kind` with DNS-01; routing k8gb. */
function routingInput(n: number, states: ReadonlyArray<'active' | 'joining' | 'leaving'>, kind: 'gateway' | 'ingress'): PlatformConfigInput {
  const input = inputWithRegions(n);
  input.regions = input.regions.map((r, i) => {
    const state = i === 0 ? 'active' : states[i]!;
    return { ...r, state, ...(state === 'joining' ? { syncFrom: 'r1' } : {}) };
  });
  input.endpoint = {
    domain: 'chat-test.example.org',
    kind,
    className: kind === 'gateway' ? 'eg' : 'nginx',
    acme: { email: 'ops@example.org', solver: 'dns01', dns01: { provider: 'cloudflare', credentialsSecret: 'acme-dns01', challengeZone: 'acme.example.org' } },
  };
  input.routing = {
    provider: 'k8gb',
    dnsTtlSeconds: 30,
    k8gb: {
      dnsZone: 'chat-test.example.org',
      parentZone: 'example.org',
      edgeDNSServers: ['192.0.2.53'],
      dnsProvider: { name: 'cloudflare', credentialsSecret: 'k8gb-dns' },
    },
  };
  return input;
}

/** Every parsed object of the dist under `clusters/<cluster>/`, by cluster. */
function objectsByCluster(files: ReadonlyMap<string, string>): Map<string, Array<{ path: string; obj: Obj }>> {
  const out = new Map<string, Array<{ path: string; obj: Obj }>>();
  for (const [path, text] of files) {
    const m = /^clusters\/([^/]+)\/.+\.yaml$/.exec(path);
    if (!m) continue;
    const list = out.get(m[1]!) ?? [];
    list.push({ path, obj: parse(text) as Obj });
    out.set(m[1]!, list);
  }
  return out;
}

const hostsOf = (route: Obj): string[] => (route['kind'] === 'Ingress' ? (route['spec']?.rules ?? []).map((r: Obj) => r['host']) : (route['spec']?.hostnames ?? []));

/** What the config says each active region publishes: hostname -> expected strategy. */
function expectedNames(c: PlatformConfig, region: string): Map<string, Obj> {
  const domain = c.endpoint!.domain;
  const active = c.regions.filter((r) => r.state === 'active').map((r) => r.name);
  // With DNS-01 every active region serves every active region's pinned name (failover target).
  const pinned = c.endpoint!.acme.solver === 'dns01' ? active : [region];
  return new Map<string, Obj>([
    [`chat.${domain}`, { type: 'roundRobin', dnsTtlSeconds: c.routing!.dnsTtlSeconds }],
    ...pinned.map((p): [string, Obj] => [`chat.${p}.${domain}`, { type: 'failover', primaryGeoTag: p, dnsTtlSeconds: c.routing!.dnsTtlSeconds }]),
  ]);
}

function checkRouting(c: PlatformConfig, validators: ReadonlyMap<string, ValidateFunction>): void {
  const files = renderDist(c);
  const byCluster = objectsByCluster(files);
  const active = c.regions.filter((r) => r.state === 'active');
  const owners: string[] = [];
  const prefixes: string[] = [];

  for (const r of c.regions) {
    const valuesText = files.get(`values/${r.cluster}/k8gb.yaml`);
    const objects = byCluster.get(r.cluster) ?? [];
    const gslbs = objects.filter((o) => o.obj['kind'] === 'Gslb');
    if (r.state !== 'active') {
      // A joining region gets routing once active; a leaving one has lost it.
      expect(valuesText, `${r.name} (${r.state}) has no k8gb values`).toBeUndefined();
      expect(gslbs.map((g) => g.path), `${r.name} (${r.state}) has no Gslb`).toEqual([]);
      continue;
    }
    expect(valuesText, `${r.name} has k8gb values`).toBeDefined();
    const values = parse(valuesText!) as Obj;
    const others = active.filter((x) => x.name !== r.name).map((x) => x.name);
    expect(values['k8gb'].clusterGeoTag).toBe(r.name);
    expect(String(values['k8gb'].extGslbClustersGeoTags).split(',').filter(Boolean).sort()).toEqual([...others].sort());
    expect(values['k8gb'].dnsZones).toEqual([expect.objectContaining({ parentZone: 'example.org', loadBalancedZone: 'chat-test.example.org' })]);
    const ext = values['extdns'];
    // The chart's validateGeoTag: both contain the cluster's geo tag; validateDnsZones: filters = parent zones.
    expect(ext.txtOwnerId).toContain(r.name);
    expect(ext.txtPrefix).toContain(r.name);
    expect(ext.domainFilters).toEqual(['example.org']);
    owners.push(ext.txtOwnerId);
    prefixes.push(ext.txtPrefix);

    // Every Gslb references a route of this cluster that serves exactly its one hostname.
    const expected = expectedNames(c, r.name);
    const published = new Map<string, Obj>();
    for (const { path, obj: g } of gslbs) {
      const ref = g['spec'].resourceRef;
      const route = objects.find(
        (o) => o.obj['kind'] === ref.kind && o.obj['apiVersion'] === ref.apiVersion && o.obj['metadata']?.name === ref.name && o.obj['metadata']?.namespace === ref.namespace,
      );
      expect(route, `${path}: route ${ref.kind} ${ref.namespace}/${ref.name} exists in ${r.cluster}`).toBeDefined();
      expect(g['metadata'].namespace, `${path}: Gslb in the route's namespace`).toBe(ref.namespace);
      const hosts = hostsOf(route!.obj);
      expect(hosts, `${path}: the route serves one hostname`).toHaveLength(1);
      published.set(hosts[0]!, g['spec'].strategy);
    }
    expect(Object.fromEntries(published)).toEqual(Object.fromEntries(expected));

    // k8gb's CoreDNS answers the ACME challenge CNAMEs of every active region's names (DNS-01 + challengeZone).
    const corefile = objects.find((o) => o.obj['kind'] === 'ConfigMap' && o.obj['metadata']?.name === 'k8gb-coredns');
    const cnames = [...String(corefile?.obj['data']?.Corefile ?? '').matchAll(/answer "\{\{ \.Name \}\} \d+ IN CNAME (\S+)\."/g)].map((m) => m[1]);
    const domain = c.endpoint!.domain;
    const names = [`chat.${domain}`, ...active.map((x) => `chat.${x.name}.${domain}`)];
    expect(cnames.sort()).toEqual(names.map((h) => `${h}.acme.example.org`).sort());
    expect(values['coredns'].corefile).toEqual({ enabled: false });
  }
  expect(new Set(owners).size, 'owner ids unique').toBe(owners.length);
  expect(new Set(prefixes).size, 'TXT prefixes unique').toBe(prefixes.length);

  // Every new object of issue 12 against ../shared/schemas.
  for (const list of byCluster.values()) {
    for (const { path, obj } of list) {
      const validate = validators.get(obj['kind']);
      if (!validate) continue;
      expect(validate(obj), `${path}: ${JSON.stringify(validate.errors)}`).toBe(true);
    }
  }
}

describe('global routing (k8gb) for 1..12 regions', () => {
  if (!sharedSchemasAvailable()) {
    it('needs ../shared/schemas', () => {
      throw new Error(NO_SHARED_SCHEMAS);
    });
    return;
  }
  const validators = schemaValidators(SCHEMAS).byKind;

  for (let n = 1; n <= 12; n++) {
    it(`${n} region(s): geo tag lists, unique owners, Gslb -> route, schemas`, () => {
      fc.assert(
        fc.property(
          fc.array(fc.constantFrom('active' as const, 'joining' as const, 'leaving' as const), { minLength: n, maxLength: n }),
          fc.constantFrom('gateway' as const, 'ingress' as const),
          (states, kind) => checkRouting(configFrom(routingInput(n, states, kind)), validators),
        ),
        { numRuns: n <= 4 ? 4 : 2 },
      );
    }, 120_000);
  }

  it('all 12 active: every region pairs with the 11 others', () => {
    checkRouting(configFrom(routingInput(12, Array(12).fill('active'), 'gateway')), validators);
  }, 60_000);
});
