/**
 * `npm run plan` for global routing (issue 12, second "Done when" line): adding a third region
 * (joining, then active) changes the two old regions' k8gb values only in their geo tag lists,
 * and the new region gets routing only once it is active; a region leaving routing is a
 * dangerous change to acknowledge (`remove-routing:<region>`).
 */
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { PlatformConfigInput } from '../regions/schema.js';
import { configFrom, inputWithRegions } from '../test/helpers.js';
import { computePlan, formatPlan, type Plan } from './plan.js';
import { renderDist } from './render.js';

type Obj = Record<string, any>;

/** n regions r1..rn with a DNS-01 endpoint and k8gb routing; `mutate` adjusts the regions. */
function input(n: number, mutate: (c: PlatformConfigInput) => void = () => {}): PlatformConfigInput {
  const c = inputWithRegions(n);
  c.endpoint = {
    domain: 'chat-test.example.org',
    kind: 'gateway',
    className: 'eg',
    acme: { email: 'ops@example.org', solver: 'dns01', dns01: { provider: 'cloudflare', credentialsSecret: 'acme-dns01', challengeZone: 'acme.example.org' } },
  };
  c.routing = {
    provider: 'k8gb',
    k8gb: { parentZone: 'example.org', edgeDNSServers: ['192.0.2.53'], dnsProvider: { name: 'cloudflare', credentialsSecret: 'k8gb-dns' } },
  };
  mutate(c);
  return c;
}

const joining = (c: PlatformConfigInput) => void (c.regions[2] = { ...c.regions[2]!, state: 'joining', syncFrom: 'r1' });
const leaving = (c: PlatformConfigInput) => void (c.regions[2] = { ...c.regions[2]!, state: 'leaving' });

function plan(base: PlatformConfigInput, next: PlatformConfigInput): { p: Plan; before: ReadonlyMap<string, string>; after: ReadonlyMap<string, string> } {
  const before = renderDist(configFrom(base));
  const after = renderDist(configFrom(next));
  return { p: computePlan(before, after, configFrom(next)), before, after };
}

const app = (p: Plan, name: string) => p.applications.find((a) => a.application === name);
const values = (files: ReadonlyMap<string, string>, cluster: string) => parse(files.get(`values/${cluster}/k8gb.yaml`)!) as Obj;
/** The values with the geo tag list taken out. */
const withoutTags = (v: Obj) => ({ ...v, k8gb: { ...v['k8gb'], extGslbClustersGeoTags: '(list)' } });

describe('adding a third region: routing follows the region state', () => {
  it('joining: no routing for r3, nothing of the old regions\' routing changes', () => {
    const { p, after } = plan(input(2), input(3, joining));
    expect(app(p, 'astring-k8gb-r3')).toBeUndefined();
    expect(app(p, 'astring-k8gb-r1')).toBeUndefined();
    expect(app(p, 'astring-k8gb-r2')).toBeUndefined();
    expect([...after.keys()].filter((f) => f.includes('k8gb') && f.includes('astring-r3'))).toEqual([]);
    expect(p.danger.changes).toEqual([]);
  });

  it('active: the old regions\' k8gb values change only in their geo tag lists; r3 gets its k8gb and Gslbs', () => {
    const { p, before, after } = plan(input(3, joining), input(3));
    for (const [r, tagsBefore, tagsAfter] of [
      ['r1', 'r2', 'r2,r3'],
      ['r2', 'r1', 'r1,r3'],
    ] as const) {
      const [b, a] = [values(before, `astring-${r}`), values(after, `astring-${r}`)];
      expect(b['k8gb'].extGslbClustersGeoTags).toBe(tagsBefore);
      expect(a['k8gb'].extGslbClustersGeoTags).toBe(tagsAfter);
      expect(withoutTags(a)).toEqual(withoutTags(b));
      const k = app(p, `astring-k8gb-${r}`)!;
      // Its CoreDNS also answers the ACME challenge CNAME of r3's pinned name.
      expect([...k.changed].sort()).toEqual([`clusters/astring-${r}/k8gb/configmap-k8gb-coredns.yaml`, `values/astring-${r}/k8gb.yaml`]);
      expect(k.effects).toContain(`k8gb's CoreDNS in astring-${r} reloads its Corefile within 30 s (4 ACME challenge CNAME(s), was 3)`);
      // With DNS-01 each old region also serves r3's pinned name, so it can fail over there.
      expect(k.added).toEqual([`clusters/astring-${r}/k8gb/gslb-chat-r3.yaml`]);
      expect(k.effects).toContain(`k8gb in astring-${r} pairs with ${tagsAfter.replace(',', ', ')} (was ${tagsBefore}; adds r3): the operator restarts with the new list, CoreDNS keeps answering`);
      expect(k.effects).toContain(`k8gb in astring-${r} publishes the pinned name of Gslb chat-r3 (failover (primary r3), TTL 30 s) with this region's addresses while its chat backend has ready pods`);
    }
    const r3 = app(p, 'astring-k8gb-r3')!;
    expect([...r3.added].sort()).toEqual(
      [
        'clusters/astring-r3/k8gb/gslb-chat-r1.yaml',
        'clusters/astring-r3/k8gb/gslb-chat-r2.yaml',
        'clusters/astring-r3/k8gb/gslb-chat-r3.yaml',
        'clusters/astring-r3/k8gb/gslb-chat.yaml',
        'clusters/astring-r3/k8gb/configmap-k8gb-coredns.yaml',
        'clusters/astring-r3/k8gb/namespace-k8gb.yaml',
        'values/astring-r3/k8gb.yaml',
      ].sort(),
    );
    expect(values(after, 'astring-r3')['k8gb'].extGslbClustersGeoTags).toBe('r1,r2');
    expect(p.danger.changes).toEqual([]);
    expect(formatPlan(p)).toMatch(/^ {4}=> k8gb is installed in astring-r3 \(geo tag r3, pairs with r1, r2\)/m);
  });
});

describe('a region leaving routing', () => {
  it('active -> leaving is refused without remove-routing:<region>, accepted with it', () => {
    const refused = plan(input(3), input(3, leaving)).p;
    expect(refused.danger.refused.map((d) => d.id)).toEqual(['remove-routing:r3']);
    const acked = plan(input(3), input(3, (c) => (leaving(c), (c.acknowledgedChanges = ['remove-routing:r3'])))).p;
    expect(acked.danger.refused).toEqual([]);
    expect(acked.danger.changes.map((d) => d.id)).toEqual(['remove-routing:r3']);
    // The others drop r3 from their lists.
    expect(app(acked, 'astring-k8gb-r1')!.effects).toContain('k8gb in astring-r1 pairs with r2 (was r2, r3; drops r3): the operator restarts with the new list, CoreDNS keeps answering');
  });

  it('the leaving region, once deleted, needs no second acknowledgement for routing', () => {
    const p = plan(input(3, leaving), input(2)).p;
    expect(p.danger.changes.map((d) => d.id)).toEqual([]);
  });
});
