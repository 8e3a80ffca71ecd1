/**
 * k8gb: global routing of the chat names (routing.provider k8gb, the default). Per active region
 * the k8gb chart (values from the region list) and a Gslb per chat name; the zone is delegated
 * to the k8gb CoreDNS of every active region. README "Global routing".
 */
import { chatGlobalHost, chatRegionHost, k8gbGeoTag } from '../../regions/names.js';
import type { PlatformConfig, Region } from '../../regions/schema.js';
import type { ComponentDefinition } from '../component.js';
import { mermaidId, OPERATOR_CHART_KINDS, Placement, regionNodeId } from '../component.js';
import { routingConfig } from './config.js';
import { k8gbOf, K8gbRegion } from './k8gb-region.js';
import { otherGeoTags } from './k8gb-values.js';
import { K8GB_CHART, K8GB_COMPONENT, k8gbDnsZone } from './names.js';
import { corefileEffects, gslbEffects, k8gbValuesEffects } from './plan-effects.js';
import { ROUTING_DANGER_RULES, ROUTING_STATE_KEY, routingState } from './routing-state.js';
import { K8GB_RELEASE } from './corefile.js';
import { externalDnsCell } from '../external-dns/topology.js';

// Off while no region is active (an ApplicationSet needs a target; remove-last-region refuses that change anyway).
const uses = (c: PlatformConfig) => c.routing?.provider === 'k8gb' && c.routing.k8gb !== undefined && c.endpoint !== undefined && c.regions.some((r) => r.state === 'active');
const routed = (r: Region) => r.state === 'active';
const PARENT_NODE = 'k8gb_parent_zone';

function summary(c: PlatformConfig): string[] {
  if (!c.routing) return ['- **Global routing**: none (no `routing` in the config): nothing publishes the chat names in DNS.'];
  if (!uses(c)) return [];
  const k = k8gbOf(c);
  const zone = k8gbDnsZone(c, k);
  const active = c.regions.filter(routed).map((r) => k8gbGeoTag(r));
  return [
    `- **Global routing (k8gb ${k.chart.version})**: \`${zone}\` is delegated from \`${k.parentZone}\` (${k.dnsProvider.name}) to the k8gb CoreDNS of every active region (${active.join(', ') || 'none'}); \`${chatGlobalHost(c.endpoint!.domain)}\` ${k.geoip ? 'by GeoIP (nearest region by client subnet)' : 'round robin'} over the healthy active regions, \`${chatRegionHost(c.endpoint!.domain, '<region>')}\` fails over to the others; TTL ${c.routing.dnsTtlSeconds} s, reconcile every ${k.reconcileRequeueSeconds} s; edge DNS ${k.edgeDNSServers.join(', ')}.`,
  ];
}

export const k8gb: ComponentDefinition = {
  name: K8GB_COMPONENT,
  config: routingConfig,
  enabled: uses,
  // Active regions only: a joining region gets routing when it becomes active, a leaving one loses it first.
  placement: (c) => Placement.regions(c, routed),
  namespace: (c) => ({ name: k8gbOf(c).namespace, podSecurity: 'baseline' }),
  application: (c) => ({
    chart: { repoURL: k8gbOf(c).chart.repoURL, chart: K8GB_CHART, version: k8gbOf(c).chart.version, releaseName: K8GB_RELEASE },
    syncOptions: ['ServerSideApply=true', 'SkipDryRunOnMissingResource=true'],
  }),
  construct: K8gbRegion,
  clusterScopedKinds: () => OPERATOR_CHART_KINDS,
  topology: {
    summary,
    regionNodes: (c, r) => (uses(c) && routed(r) ? [`    ${regionNodeId('k8gb', r.name)}["k8gb geo tag ${k8gbGeoTag(r)}<br/>CoreDNS :53 (UDP/TCP)"]`] : []),
    regionEdges: (c, r) => (uses(c) && routed(r) ? [`    ${regionNodeId('k8gb', r.name)} -.->|Gslb health| ${regionNodeId('endpoint', r.name)}`] : []),
    meshEdges: (c, a, b) => (uses(c) && routed(a) && routed(b) ? [`  ${regionNodeId('k8gb', a.name)} <-.->|localtargets DNS| ${regionNodeId('k8gb', b.name)}`] : []),
    outsideNodes: (c) => (uses(c) ? [`  ${mermaidId(PARENT_NODE)}[("${k8gbOf(c).parentZone} (${k8gbOf(c).dnsProvider.name})<br/>NS ${k8gbDnsZone(c, k8gbOf(c))}")]`] : []),
    outsideEdges: (c, r) => (uses(c) && routed(r) ? [`  ${regionNodeId('k8gb', r.name)} -->|NS + glue| ${mermaidId(PARENT_NODE)}`] : []),
    regionColumns: [
      {
        header: 'Global routing',
        // One column for both providers (external-dns draws no column of its own).
        cell: (c, r) => {
          if (!c.routing || !c.endpoint || !routed(r)) return '-';
          if (uses(c)) return `k8gb \`${k8gbGeoTag(r)}\`, pairs with ${otherGeoTags(c, r).map((t) => `\`${t}\``).join(', ') || 'none'}`;
          return c.routing.provider === 'externalDns' && c.routing.externalDns ? externalDnsCell(c, r) : '-';
        },
      },
    ],
  },
  plan: { values: k8gbValuesEffects, kinds: { Gslb: gslbEffects, ConfigMap: corefileEffects } },
  state: { section: { key: ROUTING_STATE_KEY, of: (c) => ({ ...routingState(c) }) } },
  danger: { rules: ROUTING_DANGER_RULES, renamed: 'its k8gb geo tag, external-dns owner id and NS name change (the old delegation records stay)' },
  secretNotes: [
    'k8gb DNS credentials: route53 keys `access-key-id` / `secret-access-key` (an IAM user allowed route53:ChangeResourceRecordSets,',
    'ListResourceRecordSets and ListHostedZones on the parent zone); cloudflare key `api-token` (Zone:DNS:Edit).',
  ],
};
