/**
 * Names only the public endpoint uses (the shared ones are in regions/names.ts), and the
 * reference other components (k8gb's Gslb, external-dns) take to the route.
 */
import { ChatEndpointNames } from '../../regions/names.js';
import type { PlatformConfig } from '../../regions/schema.js';

/** The Gateway's listener names: the HTTPRoute attaches to `https`, cert-manager's HTTP-01 route to `http`. */
export const LISTENERS = { https: 'https', http: 'http' } as const;

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

/** What the route of the public endpoint is, for objects that point at it (k8gb `Gslb.spec.resourceRef`). */
export interface ChatRouteRef {
  readonly apiVersion: 'gateway.networking.k8s.io/v1' | 'networking.k8s.io/v1';
  readonly kind: 'HTTPRoute' | 'Ingress';
  readonly name: string;
  readonly namespace: string;
}

/** The route of the public endpoint in every active region: an HTTPRoute (kind gateway) or an Ingress; undefined without `endpoint`. */
export function chatRouteRef(c: Pick<PlatformConfig, 'endpoint' | 'app'>): ChatRouteRef | undefined {
  if (!c.endpoint) return undefined;
  const namespace = c.app.namespace;
  return c.endpoint.kind === 'gateway'
    ? { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', name: ChatEndpointNames.route, namespace }
    : { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', name: ChatEndpointNames.route, namespace };
}
