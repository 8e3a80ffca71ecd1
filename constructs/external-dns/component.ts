/**
 * external-dns with Route53: global routing of the chat names when routing.provider is
 * externalDns. Per active region the external-dns chart; the endpoint's routes carry the
 * record settings (annotations.ts). README "Global routing".
 */
import type { PlatformConfig, Region } from '../../regions/schema.js';
import type { ComponentDefinition, EffectsOf } from '../component.js';
import { Placement, regionNodeId } from '../component.js';
import { ROUTING_DANGER_RULES, ROUTING_STATE_KEY, routingState } from '../k8gb/routing-state.js';
import { same } from '../plan-effects.js';
import { ExternalDnsRegion, externalDnsOf } from './external-dns-region.js';
import { EXTERNAL_DNS_CHART, EXTERNAL_DNS_COMPONENT } from './names.js';
import { externalDnsSummary } from './topology.js';

const uses = (c: PlatformConfig) =>
  c.routing?.provider === 'externalDns' && c.routing.externalDns !== undefined && c.endpoint !== undefined && c.regions.some((r) => r.state === 'active');
const routed = (r: Region) => r.state === 'active';

/** values/<cluster>/external-dns.yaml */
const valuesEffects: EffectsOf = ({ cluster, before: b, after: a }) => {
  if (!b) return [`external-dns is installed in ${cluster}: it writes this region's chat records (owner ${a!['txtOwnerId']}) into ${a!['domainFilters']?.join(', ')}`];
  if (!a) return [`external-dns in ${cluster} is no longer managed (its Application element is gone; it keeps running: the region's records stay until it is uninstalled and they are deleted)`];
  if (!same(b['txtOwnerId'], a['txtOwnerId'])) return [`external-dns in ${cluster} writes as ${a['txtOwnerId']} (was ${b['txtOwnerId']}): the old owner's records are orphaned`];
  return [`external-dns in ${cluster} restarts with the new settings`];
};

export const externalDns: ComponentDefinition = {
  name: EXTERNAL_DNS_COMPONENT,
  enabled: uses,
  placement: (c) => Placement.regions(c, routed),
  namespace: (c) => ({ name: externalDnsOf(c).namespace, podSecurity: 'restricted' }),
  application: (c) => ({
    chart: { repoURL: externalDnsOf(c).chart.repoURL, chart: EXTERNAL_DNS_CHART, version: externalDnsOf(c).chart.version, releaseName: 'external-dns' },
    syncOptions: ['ServerSideApply=true'],
  }),
  construct: ExternalDnsRegion,
  clusterScopedKinds: () => [
    { group: 'rbac.authorization.k8s.io', kind: 'ClusterRole' },
    { group: 'rbac.authorization.k8s.io', kind: 'ClusterRoleBinding' },
  ],
  topology: {
    summary: (c) => (uses(c) ? externalDnsSummary(c) : []),
    regionNodes: (c, r) => (uses(c) && routed(r) ? [`    ${regionNodeId('extdns', r.name)}["external-dns<br/>set id ${r.name}"]`] : []),
    regionEdges: (c, r) => (uses(c) && routed(r) ? [`    ${regionNodeId('extdns', r.name)} -.->|reads route| ${regionNodeId('endpoint', r.name)}`] : []),
    outsideNodes: (c) => (uses(c) ? [`  route53[("Route53 ${externalDnsOf(c).hostedZoneId}")]`] : []),
    outsideEdges: (c, r) => (uses(c) && routed(r) ? [`  ${regionNodeId('extdns', r.name)} -->|records| route53`] : []),
  },
  plan: { values: valuesEffects },
  state: { section: { key: ROUTING_STATE_KEY, of: (c) => ({ ...routingState(c) }) } },
  danger: { rules: ROUTING_DANGER_RULES },
  secretNotes: [
    'external-dns Route53 credentials: keys `access-key-id` / `secret-access-key` of an IAM user allowed route53:ChangeResourceRecordSets and',
    'route53:ListResourceRecordSets on the hosted zone and route53:ListHostedZones.',
  ],
};
