/**
 * Names only the public endpoint uses (the shared ones are in regions/names.ts), and the
 * reference other components (k8gb's Gslb, external-dns) take to the route.
 */
import { chatGlobalHost, chatRegionHost, chatRegionRouteName, ChatEndpointNames } from '../../regions/names.js';
import type { PlatformConfig } from '../../regions/schema.js';

/** The Gateway's plain-HTTP listener, for cert-manager's HTTP-01 route only (each HTTPS listener is named after its route). */
export const HTTP01_LISTENER = 'http';

/**
 * Paths the public endpoint routes to the chat backend, each matched exactly: the WebSocket
 * (app/chat/http-server.ts WS_PATH) and /readyz for health checks from outside the cluster
 * (a Route53 health check). /metrics and /healthz stay inside the cluster.
 */
export const PUBLIC_PATHS = { websocket: '/ws', readiness: '/readyz' } as const;

/** The ACME account key Secret of the ClusterIssuer, in cert-manager's namespace (cert-manager creates it). */
export function acmeAccountKeySecret(platform: string): string {
  return `${platform}-acme-account-key`;
}

/** One route of the public endpoint: one hostname each (k8gb makes records for every host of a referenced route). */
export interface ChatRoute {
  /** HTTPRoute / Ingress name, and the Gateway listener's name. */
  readonly name: string;
  readonly host: string;
  /** `global`: `chat.<domain>`; `region`: `chat.<pinnedTo>.<domain>`. */
  readonly scope: 'global' | 'region';
  /** The region a `region` route's name is pinned to (this region, or a peer it serves on failover). */
  readonly pinnedTo?: string;
  /** Secret of the certificate that covers `host`. */
  readonly tlsSecret: string;
}

/** Active regions in ordinal order: their pinned names are served. */
const activeRegions = (c: Pick<PlatformConfig, 'regions'>) => c.regions.filter((r) => r.state === 'active').sort((a, b) => a.ordinal - b.ordinal);

/**
 * Whether active regions also serve each other's pinned names: only with DNS-01 (HTTP-01 cannot
 * validate a name that resolves to another region) and a routing that fails pinned names over
 * (k8gb `failover`; external-dns publishes a pinned name as its own region's plain record, so a
 * second region publishing it would fight over the record).
 */
export function servesPeerNames(c: Pick<PlatformConfig, 'endpoint' | 'routing'>): boolean {
  return c.endpoint?.acme.solver === 'dns01' && c.routing?.provider !== 'externalDns';
}

/**
 * The routes `regionName` serves when it is active: the global name, its own pinned name and,
 * when servesPeerNames, every other active region's pinned name (so a failed-over pinned name
 * lands on a listener with a valid certificate). Empty without `endpoint`.
 */
export function chatRoutes(c: Pick<PlatformConfig, 'endpoint' | 'regions' | 'routing'>, regionName: string): ChatRoute[] {
  const e = c.endpoint;
  if (!e) return [];
  const pinned = (name: string, tlsSecret: string): ChatRoute => ({
    name: chatRegionRouteName(name),
    host: chatRegionHost(e.domain, name),
    scope: 'region',
    pinnedTo: name,
    tlsSecret,
  });
  const peers = servesPeerNames(c) ? activeRegions(c).filter((r) => r.name !== regionName) : [];
  return [
    { name: ChatEndpointNames.route, host: chatGlobalHost(e.domain), scope: 'global', tlsSecret: ChatEndpointNames.tlsSecret },
    pinned(regionName, ChatEndpointNames.tlsSecret),
    ...peers.map((r) => pinned(r.name, ChatEndpointNames.peersTlsSecret)),
  ];
}

/** What a route of the public endpoint is, for objects that point at it (k8gb `Gslb.spec.resourceRef`). */
export interface ChatRouteRef {
  readonly apiVersion: 'gateway.networking.k8s.io/v1' | 'networking.k8s.io/v1';
  readonly kind: 'HTTPRoute' | 'Ingress';
  readonly name: string;
  readonly namespace: string;
}

/**
 * The route object of one hostname in every region that serves it: the global name's
 * (`scope: 'global'`) or `chat.<regionName>.<domain>`'s (`scope: 'region'`). Undefined without `endpoint`.
 */
export function chatRouteRefFor(c: Pick<PlatformConfig, 'endpoint' | 'app'>, scope: 'global' | 'region', regionName?: string): ChatRouteRef | undefined {
  if (!c.endpoint) return undefined;
  if (scope === 'region' && regionName === undefined) throw new Error("chatRouteRefFor: scope 'region' needs the region name the host is pinned to");
  const name = scope === 'global' ? ChatEndpointNames.route : chatRegionRouteName(regionName!);
  const namespace = c.app.namespace;
  return c.endpoint.kind === 'gateway'
    ? { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', name, namespace }
    : { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', name, namespace };
}

/** The global name's route (chatRouteRefFor(c, 'global')). */
export function chatRouteRef(c: Pick<PlatformConfig, 'endpoint' | 'app'>): ChatRouteRef | undefined {
  return chatRouteRefFor(c, 'global');
}

/**
 * The CNAMEs that must exist when `endpoint.acme.dns01.challengeZone` is set: for every name the
 * active regions serve, `_acme-challenge.<name>` -> `<name>.<challengeZone>`, answered by whatever
 * serves endpoint.domain (with k8gb: its CoreDNS, in every region). Empty otherwise.
 */
export function acmeChallengeCnames(c: Pick<PlatformConfig, 'endpoint' | 'regions'>): Array<{ readonly name: string; readonly target: string }> {
  const e = c.endpoint;
  const zone = e?.acme.solver === 'dns01' ? e.acme.dns01?.challengeZone : undefined;
  if (!e || !zone) return [];
  const hosts = [chatGlobalHost(e.domain), ...activeRegions(c).map((r) => chatRegionHost(e.domain, r.name))];
  return hosts.map((host) => ({ name: `_acme-challenge.${host}`, target: `${host}.${zone}` }));
}
