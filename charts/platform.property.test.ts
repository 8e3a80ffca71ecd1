/**
 * Properties over generated configs with 1..12 regions: every region sees every gateway,
 * every computed name is a unique valid DNS label, the ApplicationSets and the AppProject
 * deploy exactly where the config says (an independent model of the placement, not the
 * ApplicationSets themselves), and list order never reaches dist/.
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

/** A valid config with exactly n regions, random names / ordinals / clusters / states / order / gateway mode. */
function arbitraryConfig(n: number): fc.Arbitrary<{ config: PlatformConfig; shuffled: PlatformConfig }> {
  return fc
    .record({
      names: fc.uniqueArray(label, { minLength: n, maxLength: n }),
      clusters: fc.uniqueArray(label.map((s) => `k-${s}`), { minLength: n, maxLength: n }),
      ordinals: fc.uniqueArray(fc.integer({ min: 1, max: 1023 }), { minLength: n, maxLength: n }),
      // The first region stays active (schema region, sync source); the others may be joining or leaving.
      states: fc.array(fc.constantFrom('active' as const, 'joining' as const, 'leaving' as const), { minLength: n, maxLength: n }),
      exposure: fc.constantFrom('podNetwork' as const, 'loadBalancer' as const),
      tls: fc.boolean(),
      order: fc.array(fc.nat(), { minLength: n, maxLength: n }),
    })
    .map(({ names, clusters, ordinals, states, exposure, tls, order }) => {
      const input = defaultConfigInput();
      input.regions = names.map((name, i) => {
        const state = i === 0 ? 'active' : states[i]!;
        return {
          name,
          ordinal: ordinals[i]!,
          cluster: clusters[i]!,
          state,
          ...(state === 'joining' ? { syncFrom: names[0]! } : {}),
          cassandra: { datacenter: `dc-${name}`, size: 3 },
        };
      });
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

/**
 * Where each component runs, written from the config and README/DESIGN (not from the
 * generator): cert-manager and the k8ssandra operator on the management cluster and in every
 * region; NATS, the CloudNativePG operator and pgEdge in every region; the K8ssandraCluster
 * on the management cluster plus the schema Job in the schema region; the chat backend in
 * every region that is not joining (a leaving region keeps it, scaled to 0); with backups,
 * the backup components in every region. Returns component -> (namespace, clusters).
 */
function expectedPlacement(c: PlatformConfig): Map<string, { namespace: string; clusters: string[] }> {
  const mgmt = c.managementCluster.name;
  const every = c.regions.map((r) => r.cluster);
  const schemaRegion = c.regions.find((r) => r.name === c.cassandra.schemaRegion)!;
  const sorted = (xs: string[]) => [...new Set(xs)].sort();
  return new Map([
    ['cert-manager', { namespace: c.certManager.namespace, clusters: sorted([mgmt, ...every]) }],
    ['nats', { namespace: c.nats.namespace, clusters: sorted(every) }],
    ['k8ssandra-operator', { namespace: c.cassandra.namespace, clusters: sorted([mgmt, ...every]) }],
    ['cassandra', { namespace: c.cassandra.namespace, clusters: sorted([mgmt, schemaRegion.cluster]) }],
    ['cnpg-operator', { namespace: c.postgres.operator.namespace, clusters: sorted(every) }],
    ['postgres', { namespace: c.postgres.namespace, clusters: sorted(every) }],
    ['chat', { namespace: c.app.namespace, clusters: sorted(c.regions.filter((r) => r.state !== 'joining').map((r) => r.cluster)) }],
    // With backups configured: the barman-cloud plugin next to the CNPG operator, the
    // ObjectStore + ScheduledBackup beside each Postgres, Medusa schedules beside each DC.
    ...backupPlacement(c, every),
    ...edgePlacement(c),
  ]);
}

/**
 * README "Public endpoint and TLS" / "Global routing" / "Secrets: manual or from a store": the
 * endpoint in the app namespace of every region that is not joining (a leaving one keeps only
 * its ClusterIssuer); the routing provider's chart in every active region; External Secrets on
 * every cluster when Secrets come from a store.
 */
function edgePlacement(c: PlatformConfig): Array<[string, { namespace: string; clusters: string[] }]> {
  const x = c as {
    endpoint?: unknown;
    routing?: { provider: 'k8gb' | 'externalDns'; k8gb?: { namespace: string }; externalDns?: { namespace: string } };
    secrets?: { provider: string; externalSecrets?: { namespace: string } };
  };
  const clusters = (keep: (r: PlatformConfig['regions'][number]) => boolean) => c.regions.filter(keep).map((r) => r.cluster).sort();
  const active = clusters((r) => r.state === 'active');
  const out: Array<[string, { namespace: string; clusters: string[] }]> = [];
  if (x.endpoint !== undefined) out.push(['chat-endpoint', { namespace: c.app.namespace, clusters: clusters((r) => r.state !== 'joining') }]);
  if (x.routing?.provider === 'k8gb' && active.length > 0) out.push(['k8gb', { namespace: x.routing.k8gb!.namespace, clusters: active }]);
  if (x.routing?.provider === 'externalDns' && active.length > 0) out.push(['external-dns', { namespace: x.routing.externalDns!.namespace, clusters: active }]);
  if (x.secrets?.provider === 'external-secrets') {
    out.push(['external-secrets', { namespace: x.secrets.externalSecrets!.namespace, clusters: [c.managementCluster.name, ...c.regions.map((r) => r.cluster)].sort() }]);
  }
  return out;
}

function backupPlacement(c: PlatformConfig, every: string[]): Array<[string, { namespace: string; clusters: string[] }]> {
  const backups = (c as { backups?: { medusa: { enabled: boolean } } }).backups;
  if (backups === undefined) return [];
  const all = [...every].sort();
  return [
    ['barman-cloud', { namespace: c.postgres.operator.namespace, clusters: all }],
    ['postgres-backups', { namespace: c.postgres.namespace, clusters: all }],
    ...(backups.medusa.enabled ? [['cassandra-backups', { namespace: c.cassandra.namespace, clusters: all }] as [string, { namespace: string; clusters: string[] }]] : []),
  ];
}

interface AppSet {
  metadata: { name: string; labels: Record<string, string> };
  spec: { generators: Array<{ list: { elements: Array<Record<string, string>> } }>; template: { spec: { destination: { namespace: string } } } };
}

describe.each(Array.from({ length: 12 }, (_, i) => i + 1))('with %i region(s)', (n) => {
  it('satisfies the topology properties', () => {
    fc.assert(
      fc.property(arbitraryConfig(n), ({ config, shuffled }) => {
        const files = renderDist(config);
        const gatewayNames = config.regions.map((r) => natsRegionNames(config, r).gatewayName).sort();

        // Each region's values list the gateways of every region that is not leaving (a leaving
        // region also keeps its own), and the regions that stay list the same ones.
        let firstList: string | undefined;
        for (const r of config.regions) {
          const values = parse(files.get(`values/${r.cluster}/nats.yaml`)!) as {
            config: { gateway: { merge: { name: string; gateways: Array<{ name: string; urls: string[] }> } }; cluster: { merge: { name: string } } };
          };
          const gw = values.config.gateway.merge;
          const expected = config.regions.filter((x) => x.state !== 'leaving' || x.name === r.name).map((x) => natsRegionNames(config, x).gatewayName);
          expect(gw.gateways.map((g) => g.name).sort()).toEqual(expected.sort());
          expect(gw.name).toBe(values.config.cluster.merge.name);
          if (r.state === 'leaving') continue;
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

        // The ApplicationSets deploy each component exactly where the config says, and the
        // AppProject allows exactly those (cluster, namespace) pairs: no more, no fewer.
        const placement = expectedPlacement(config);
        const project = parse(files.get(`argocd/appproject-${config.argocd.project}.yaml`)!) as {
          spec: { destinations: Array<{ name: string; namespace: string }> };
        };
        const appSets = [...files].filter(([p]) => p.startsWith('argocd/applicationset-')).map(([, c]) => parse(c) as AppSet);
        const components = appSets.map((set) => set.metadata.labels['regionmesh.io/component']!);
        expect(components.sort(), 'every ApplicationSet is a component of the model above (add a new one there)').toEqual([...placement.keys()].sort());
        for (const set of appSets) {
          const want = placement.get(set.metadata.labels['regionmesh.io/component']!)!;
          const elements = set.spec.generators[0]!.list.elements;
          expect(new Set(elements.map((e) => e['name'])).size).toBe(elements.length);
          expect(elements.map((e) => e['cluster']!).sort(), set.metadata.name).toEqual(want.clusters);
          expect(set.spec.template.spec.destination.namespace, set.metadata.name).toBe(want.namespace);
          for (const e of elements) expect(isDnsLabel(e['name']!)).toBe(true);
        }
        const expectedDestinations = [...placement.values()].flatMap((p) => p.clusters.map((cluster) => `${cluster}/${p.namespace}`));
        expect(project.spec.destinations.map((d) => `${d.name}/${d.namespace}`).sort()).toEqual([...new Set(expectedDestinations)].sort());

        // The order of the region list never reaches dist/.
        expect(Object.fromEntries(renderDist(shuffled))).toEqual(Object.fromEntries(files));
      }),
      { numRuns: n <= 3 ? 25 : 8, seed: 20261126 + n },
    );
  });
});
