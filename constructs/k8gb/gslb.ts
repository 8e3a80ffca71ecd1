/**
 * `Gslb` (k8gb.io/v1beta1, CRD of chart v0.20.0): k8gb publishes the hostnames of the referenced
 * route with this strategy, healthy while the route's backend Service has ready endpoints.
 * k8gb takes EVERY hostname of the referenced route (controllers/refresolver/gatewayapi
 * GetServersFromRoute, refresolver/ingress), so each Gslb must reference a route that carries
 * only its own hostname. Supported references in v0.20.0: Ingress networking.k8s.io/v1,
 * HTTPRoute/GRPCRoute gateway.networking.k8s.io/v1, TCPRoute/UDPRoute v1alpha2, TLSRoute,
 * Istio VirtualService, Service v1 (controllers/refresolver/refresolver.go).
 */
import { ApiObject } from 'cdk8s';
import type { Construct } from 'constructs';
import type { ChatRouteRef } from '../chat-endpoint/names.js';

export type GslbStrategy =
  | { readonly type: 'failover'; readonly primaryGeoTag: string }
  | { readonly type: 'roundRobin' }
  | { readonly type: 'geoip' };

export interface GslbProps {
  readonly name: string;
  /** The route's namespace (k8gb resolves the reference there). */
  readonly namespace: string;
  readonly route: ChatRouteRef;
  readonly strategy: GslbStrategy;
  /** TTL (s) of the published A records. */
  readonly dnsTtlSeconds: number;
  readonly labels: Readonly<Record<string, string>>;
}

export class Gslb extends ApiObject {
  constructor(scope: Construct, id: string, props: GslbProps) {
    super(scope, id, {
      apiVersion: 'k8gb.io/v1beta1',
      kind: 'Gslb',
      metadata: { name: props.name, namespace: props.namespace, labels: { ...props.labels } },
      spec: {
        resourceRef: { apiVersion: props.route.apiVersion, kind: props.route.kind, name: props.route.name, namespace: props.route.namespace },
        strategy: { ...props.strategy, dnsTtlSeconds: props.dnsTtlSeconds },
      },
    });
  }
}
