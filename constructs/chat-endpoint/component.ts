/**
 * The public chat endpoint of every active region: Gateway API (Gateway + HTTPRoute) or an
 * Ingress, TLS from an ACME ClusterIssuer (HTTP-01 or DNS-01) for `chat.<region>.<domain>` and
 * `chat.<domain>`. README "Public endpoint and TLS".
 */
import { acmeClusterIssuerName, chatGlobalHost, chatRegionHost } from '../../regions/names.js';
import type { PlatformConfig, Region } from '../../regions/schema.js';
import type { ComponentDefinition } from '../component.js';
import { Placement, regionNodeId } from '../component.js';
import { endpointConfig } from './config.js';
import { COMPONENT, EndpointRegion } from './endpoint-region.js';
import { KNOWN_INGRESS_CLASSES } from './ingress-classes.js';
import { certificateEffects, clusterIssuerEffects, gatewayEffects, routeEffects } from './plan-effects.js';

/** Regions that serve the public endpoint: active ones only. */
const serves = (r: Region) => r.state === 'active';

function summary(c: PlatformConfig): string[] {
  const e = c.endpoint;
  if (!e) return ['- **Public endpoint**: none (no `endpoint` in the config): users cannot reach the chat from outside the clusters.'];
  const how = e.kind === 'gateway' ? `Gateway API, GatewayClass \`${e.className}\`` : `Ingress, IngressClass \`${e.className}\`${KNOWN_INGRESS_CLASSES[e.className] ? '' : ' (no known idle-timeout annotations)'}`;
  const solver = e.acme.solver === 'dns01' ? `DNS-01 at ${e.acme.dns01?.provider}` : 'HTTP-01';
  return [
    `- **Public endpoint**: \`${chatGlobalHost(e.domain)}\` and \`${chatRegionHost(e.domain, '<region>')}\` in every active region (${how}), one route per name${e.acme.solver === 'dns01' ? "; every active region also serves the others' pinned names (failover)" : ''}; TLS from ClusterIssuer \`${acmeClusterIssuerName(c.platform)}\` (${new URL(e.acme.server).host}, ${solver}).`,
  ];
}

export const chatEndpoint: ComponentDefinition = {
  name: COMPONENT,
  config: endpointConfig,
  enabled: (c) => c.endpoint !== undefined,
  // Active and leaving regions: a leaving region keeps only its ClusterIssuer, so ArgoCD prunes
  // its Gateway, route and Certificate (dropping the Application would preserve them). A
  // joining region gets nothing until it is active.
  placement: (c) => Placement.regions(c, (r) => r.state !== 'joining'),
  // The chat component creates the namespace.
  namespace: (c) => ({ name: c.app.namespace }),
  application: () => ({ syncOptions: ['ServerSideApply=true', 'SkipDryRunOnMissingResource=true'] }),
  construct: EndpointRegion,
  clusterScopedKinds: () => [{ group: 'cert-manager.io', kind: 'ClusterIssuer' }],
  topology: {
    summary,
    regionNodes: (c, r) =>
      c.endpoint && serves(r) ? [`    ${regionNodeId('endpoint', r.name)}["${chatRegionHost(c.endpoint.domain, r.name)}<br/>${chatGlobalHost(c.endpoint.domain)}"]`] : [],
    regionEdges: (c, r) => (c.endpoint && serves(r) ? [`    ${regionNodeId('endpoint', r.name)} -->|wss| ${regionNodeId('chat', r.name)}`] : []),
    regionColumns: [
      {
        header: 'Public endpoint',
        cell: (c, r) => (c.endpoint && serves(r) ? `\`${chatRegionHost(c.endpoint.domain, r.name)}\`, \`${chatGlobalHost(c.endpoint.domain)}\`` : '-'),
      },
    ],
  },
  plan: {
    kinds: {
      Gateway: gatewayEffects,
      HTTPRoute: routeEffects,
      Ingress: routeEffects,
      Certificate: certificateEffects,
      ClusterIssuer: clusterIssuerEffects,
    },
  },
};
