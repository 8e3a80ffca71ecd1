/** Users and rooms: one pgEdge Postgres node per region, Spock subscriptions in a full mesh. */
import { postgresRegionNames, spockSubscriptionName } from '../../regions/names.js';
import type { PlatformConfig } from '../../regions/schema.js';
import type { ComponentDefinition } from '../component.js';
import { Placement, regionNodeId } from '../component.js';
import { POSTGRES_DANGER_RULES } from './danger.js';
import { pgEdgeValuesEffects } from './plan-effects.js';
import { PostgresRegion } from './postgres-region.js';
import { postgresConfig } from './config.js';

/** Regions in the Spock mesh: every region that is not leaving. */
const meshOf = (c: PlatformConfig) => c.regions.filter((r) => r.state !== 'leaving');

/** The Spock subscriptions table of TOPOLOGY.md. */
function subscriptionsSection(c: PlatformConfig): string[] {
  const lines = ['', '## Spock subscriptions', '', '| subscription | on (subscriber) | from (provider) | initial sync |', '|---|---|---|---|'];
  const mesh = meshOf(c);
  for (const s of mesh) {
    for (const p of mesh) {
      if (p === s) continue;
      const [sn, pn] = [postgresRegionNames(c, s).node, postgresRegionNames(c, p).node];
      const sync = s.state === 'joining' && s.syncFrom === p.name ? 'structure + data' : 'none';
      lines.push(`| ${spockSubscriptionName(pn, sn)} | ${s.name} (${sn}) | ${p.name} (${pn}) | ${sync} |`);
    }
  }
  return lines;
}

export const postgres: ComponentDefinition = {
  name: 'postgres',
  config: postgresConfig,
  placement: (c) => Placement.regions(c),
  namespace: (c) => ({ name: c.postgres.namespace, podSecurity: 'restricted' }),
  application: (c) => ({
    chart: { repoURL: c.postgres.chart.repoURL, chart: 'pgedge', version: c.postgres.chart.version, releaseName: 'pgedge' },
    syncOptions: ['ServerSideApply=true', 'SkipDryRunOnMissingResource=true'],
    // Never prune a database: a renamed node would otherwise delete its CNPG Cluster.
    prune: false,
  }),
  construct: PostgresRegion,
  // The ClusterIssuer of the shared client CA.
  clusterScopedKinds: () => [{ group: 'cert-manager.io', kind: 'ClusterIssuer' }],
  topology: {
    summary: (c) => {
      const n = meshOf(c).length;
      return [`- **Postgres**: pgEdge \`${c.postgres.appName}\`, one node per region, Spock subscriptions in a full mesh (${n * (n - 1)} subscriptions).`];
    },
    regionNodes: (c, r) => [`    ${regionNodeId('pg', r.name)}["Postgres ${postgresRegionNames(c, r).node}<br/>${c.postgres.instances} instance(s)"]`],
    meshEdges: (_c, a, b) => [`  ${regionNodeId('pg', a.name)} <-.->|Spock| ${regionNodeId('pg', b.name)}`],
    regionColumns: [
      { header: 'Postgres node', cell: (c, r) => postgresRegionNames(c, r).node },
      { header: 'Postgres host peers dial', cell: (c, r) => `\`${postgresRegionNames(c, r).hostname}\`` },
    ],
    sections: subscriptionsSection,
  },
  plan: { values: pgEdgeValuesEffects },
  state: { section: { key: 'postgres', of: (c) => ({ appName: c.postgres.appName, image: c.postgres.image }) } },
  danger: { rules: POSTGRES_DANGER_RULES, regionData: (r) => `database n${r.ordinal}` },
};
