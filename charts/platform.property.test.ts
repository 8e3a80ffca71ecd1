/**
 * Properties over generated configs with 1..12 regions: every region sees every gateway,
 * every computed name is a unique valid DNS label, every ApplicationSet element targets a
 * cluster of the config, and list order never reaches dist/.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { isDnsLabel } from '../regions/dns.js';
import { applicationName, natsRegionNames } from '../regions/names.js';
import type { PlatformConfig } from '../regions/schema.js';
import { configFrom, defaultConfigInput } from '../test/helpers.js';
import { renderDist } from './render.js';

const label = fc.stringMatching(/^[a-z][a-z0-9]{0,6}$/);

/** A valid config with exactly n regions, random names / ordinals / clusters / order / gateway mode. */
function arbitraryConfig(n: number): fc.Arbitrary<{ config: PlatformConfig; shuffled: PlatformConfig }> {
  return fc
    .record({
      names: fc.uniqueArray(label, { minLength: n, maxLength: n }),
      clusters: fc.uniqueArray(label.map((s) => `k-${s}`), { minLength: n, maxLength: n }),
      ordinals: fc.uniqueArray(fc.integer({ min: 1, max: 1023 }), { minLength: n, maxLength: n }),
      exposure: fc.constantFrom('podNetwork' as const, 'loadBalancer' as const),
      tls: fc.boolean(),
      order: fc.array(fc.nat(), { minLength: n, maxLength: n }),
    })
    .map(({ names, clusters, ordinals, exposure, tls, order }) => {
      const input = defaultConfigInput();
      input.regions = names.map((name, i) => ({
        name,
        ordinal: ordinals[i]!,
        cluster: clusters[i]!,
        cassandra: { datacenter: `dc-${name}`, size: 3 },
      }));
      input.cassandra.schemaRegion = names[0]!;
      input.nats!.gateway = {
        port: 7222,
        exposure,
        tls: tls ? { enabled: true, issuer: { kind: 'ClusterIssuer', name: 'platform-ca' } } : { enabled: false },
      };
      const shuffled = structuredClone(input);
      shuffled.regions = [...input.regions].map((r, i) => ({ r, k: order[i]! })).sort((a, b) => a.k - b.k).map((x) => x.r);
      return { config: configFrom(input), shuffled: configFrom(shuffled) };
    });
}

interface AppSet {
  metadata: { name: string };
  spec: { generators: Array<{ list: { elements: Array<Record<string, string>> } }>; template: { spec: { destination: { namespace: string } } } };
}

describe.each(Array.from({ length: 12 }, (_, i) => i + 1))('with %i region(s)', (n) => {
  it('satisfies the topology properties', () => {
    fc.assert(
      fc.property(arbitraryConfig(n), ({ config, shuffled }) => {
        const files = renderDist(config);
        const gatewayNames = config.regions.map((r) => natsRegionNames(config, r).gatewayName).sort();

        // Each region's values list all N gateways, and the same list everywhere.
        let firstList: string | undefined;
        for (const r of config.regions) {
          const values = parse(files.get(`values/${r.cluster}/nats.yaml`)!) as {
            config: { gateway: { merge: { name: string; gateways: Array<{ name: string; urls: string[] }> } }; cluster: { merge: { name: string } } };
          };
          const gw = values.config.gateway.merge;
          expect(gw.gateways.map((g) => g.name).sort()).toEqual(gatewayNames);
          expect(gw.name).toBe(values.config.cluster.merge.name);
          const list = JSON.stringify(gw.gateways);
          firstList ??= list;
          expect(list).toBe(firstList);
        }

        // Every computed name is a unique valid DNS label.
        const serverNames = config.regions.flatMap((r) => natsRegionNames(config, r).serverNames);
        const appNames = config.regions.map((r) => applicationName(config, 'nats', r.name));
        for (const names of [gatewayNames, serverNames, appNames, config.regions.map((r) => r.cluster)]) {
          expect(new Set(names).size).toBe(names.length);
          for (const name of names) expect(isDnsLabel(name), name).toBe(true);
        }

        // Every ApplicationSet element maps to a cluster of the config, and the project allows it.
        const clusters = new Set([...config.regions.map((r) => r.cluster), config.managementCluster.name]);
        const project = parse(files.get(`argocd/appproject-${config.argocd.project}.yaml`)!) as {
          spec: { destinations: Array<{ name: string; namespace: string }> };
        };
        const allowed = new Set(project.spec.destinations.map((d) => `${d.name}/${d.namespace}`));
        const appSets = [...files].filter(([p]) => p.startsWith('argocd/applicationset-')).map(([, c]) => parse(c) as AppSet);
        expect(appSets.length).toBeGreaterThan(0);
        for (const set of appSets) {
          const elements = set.spec.generators[0]!.list.elements;
          expect(new Set(elements.map((e) => e['name'])).size).toBe(elements.length);
          for (const e of elements) {
            expect(clusters.has(e['cluster']!), `${set.metadata.name} -> ${e['cluster']}`).toBe(true);
            expect(allowed.has(`${e['cluster']}/${set.spec.template.spec.destination.namespace}`)).toBe(true);
            expect(isDnsLabel(e['name']!)).toBe(true);
          }
        }

        // The order of the region list never reaches dist/.
        expect(Object.fromEntries(renderDist(shuffled))).toEqual(Object.fromEntries(files));
      }),
      { numRuns: n <= 3 ? 25 : 8, seed: 20261126 + n },
    );
  });
});
