/** NATS: one cluster per region, joined by gateways into one super-cluster. */
import { natsRegionNames } from '../../regions/names.js';
import type { ComponentDefinition, EffectsOf } from '../component.js';
import { Placement, regionNodeId } from '../component.js';
import { downgradeRule, sectionOf } from '../danger-rules.js';
import { same } from '../plan-effects.js';
import { NatsRegion } from './nats-region.js';
import { natsConfig } from './config.js';

/** STATE.json section of NATS. */
interface NatsState {
  readonly image: string;
}

/** A changed NATS values file: the StatefulSet rolls (config checksum); a new gateway list needs that roll. */
const natsValuesEffects: EffectsOf = ({ cluster, before: b, after: a }) => {
  const replicas = (a ?? b)?.['config']?.cluster?.replicas ?? '?';
  if (!b) return [`NATS StatefulSet nats is created in ${cluster} (${replicas} servers)`];
  if (!a) return [`NATS in ${cluster} is no longer managed (its Application element is gone; workloads are preserved)`];
  const gatewaysChanged = !same(b['config']?.gateway?.merge?.gateways, a['config']?.gateway?.merge?.gateways);
  return [
    `NATS StatefulSet nats in ${cluster} rolls its ${replicas} pods one at a time (config checksum${gatewaysChanged ? '; the gateway list changed and is never hot-reloaded' : ''})`,
  ];
};

export const nats: ComponentDefinition = {
  name: 'nats',
  config: natsConfig,
  placement: (c) => Placement.regions(c),
  namespace: (c) => ({ name: c.nats.namespace, podSecurity: 'restricted', regionLabel: true }),
  application: (c) => ({
    chart: { repoURL: c.nats.chart.repoURL, chart: 'nats', version: c.nats.chart.version, releaseName: 'nats' },
    syncOptions: ['ServerSideApply=true', 'SkipDryRunOnMissingResource=true'],
  }),
  construct: NatsRegion,
  topology: {
    summary: (c) => {
      const gw = c.nats.gateway;
      return [
        `- **NATS**: one cluster per region, joined in a super-cluster; every region lists every region's gateway (port ${gw.port}, ${gw.exposure === 'podNetwork' ? 'routable pod network, peers dial the headless Service' : 'gateway LoadBalancer per region'}${gw.tls.enabled ? ', mutual TLS' : ''}, gateway credentials required).`,
      ];
    },
    regionNodes: (c, r) => [`    ${regionNodeId('nats', r.name)}["NATS ${natsRegionNames(c, r).gatewayName}<br/>${c.nats.replicas} server(s)"]`],
    meshEdges: (c, a, b) => [`  ${regionNodeId('nats', a.name)} <-->|gateway :${c.nats.gateway.port}| ${regionNodeId('nats', b.name)}`],
    regionColumns: [
      { header: 'NATS cluster = gateway', cell: (c, r) => natsRegionNames(c, r).gatewayName },
      { header: 'gateway URL peers dial', cell: (c, r) => `\`${natsRegionNames(c, r).gatewayUrl}\`` },
    ],
  },
  plan: { values: natsValuesEffects },
  state: {
    // After cassandra and postgres: where STATE.json files written before the component contract have it.
    section: { key: 'nats', of: (c) => ({ image: `${c.nats.image.repository}:${c.nats.image.tag}` }), order: 1 },
  },
  secretNotes: [
    'NATS expands these values as config tokens: use letter-first alphanumeric values',
    '(a value that starts with a digit is read as a number).',
  ],
  danger: {
    renamed: 'its NATS cluster and servers are replaced and JetStream loses its RAFT identity',
    rules: [downgradeRule('nats', (s) => sectionOf<NatsState>(s, 'nats').image)],
  },
};
