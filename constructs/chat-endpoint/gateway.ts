import { ApiObject } from 'cdk8s';
import type { Construct } from 'constructs';
import { CHAT_BACKEND, CHAT_SERVICE_PORT, ChatEndpointNames } from '../../regions/names.js';
import { HTTP01_LISTENER, PUBLIC_PATHS, type ChatRoute } from './names.js';

const GATEWAY_API = 'gateway.networking.k8s.io';

/** Only HTTPRoutes from the Gateway's own namespace (the app namespace) may attach. */
const ALLOWED_ROUTES = { namespaces: { from: 'Same' }, kinds: [{ group: GATEWAY_API, kind: 'HTTPRoute' }] } as const;

export interface ChatGatewayProps {
  readonly namespace: string;
  readonly className: string;
  /** One HTTPS listener per route (its hostname, its certificate). */
  readonly routes: readonly ChatRoute[];
  /** Add the plain-HTTP listener on port 80 that cert-manager's HTTP-01 challenge route attaches to. */
  readonly http01Listener: boolean;
  readonly labels: Readonly<Record<string, string>>;
}

/**
 * The region's Gateway: per hostname an HTTPS listener on 443 named after its route,
 * terminating TLS with the certificate that covers it (one certificate per listener: several
 * on one listener is implementation-specific), plus port 80 only for HTTP-01 challenges.
 */
export class ChatGateway extends ApiObject {
  constructor(scope: Construct, id: string, props: ChatGatewayProps) {
    super(scope, id, {
      apiVersion: `${GATEWAY_API}/v1`,
      kind: 'Gateway',
      metadata: { name: ChatEndpointNames.gateway, namespace: props.namespace, labels: { ...props.labels } },
      spec: {
        gatewayClassName: props.className,
        listeners: [
          ...props.routes.map((r) => ({
            name: r.name,
            hostname: r.host,
            protocol: 'HTTPS',
            port: 443,
            tls: { mode: 'Terminate', certificateRefs: [{ group: '', kind: 'Secret', name: r.tlsSecret }] },
            allowedRoutes: ALLOWED_ROUTES,
          })),
          ...(props.http01Listener ? [{ name: HTTP01_LISTENER, protocol: 'HTTP', port: 80, allowedRoutes: ALLOWED_ROUTES }] : []),
        ],
      },
    });
  }
}

export interface ChatHttpRouteProps {
  readonly namespace: string;
  readonly route: ChatRoute;
  /** external-dns record settings (constructs/external-dns/annotations.ts); none when empty. */
  readonly annotations: Readonly<Record<string, string>>;
  readonly labels: Readonly<Record<string, string>>;
}

/**
 * The HTTPRoute of one hostname: the WebSocket path and /readyz to the chat backend's Service,
 * attached to its own listener. The WebSocket rule sets `timeouts.request: 0s` (the spec: zero
 * SHOULD disable the timeout; an unset one is implementation-specific, and an implementation may
 * count the whole upgraded connection as the request). The standard channel has no idle
 * timeout: the backend's 30 s pings keep a socket from looking idle (README "Public endpoint and TLS").
 */
export class ChatHttpRoute extends ApiObject {
  constructor(scope: Construct, id: string, props: ChatHttpRouteProps) {
    const backendRefs = [{ group: '', kind: 'Service', name: CHAT_BACKEND, port: CHAT_SERVICE_PORT }];
    super(scope, id, {
      apiVersion: `${GATEWAY_API}/v1`,
      kind: 'HTTPRoute',
      metadata: {
        name: props.route.name,
        namespace: props.namespace,
        labels: { ...props.labels },
        ...(Object.keys(props.annotations).length > 0 ? { annotations: { ...props.annotations } } : {}),
      },
      spec: {
        parentRefs: [{ group: GATEWAY_API, kind: 'Gateway', name: ChatEndpointNames.gateway, sectionName: props.route.name }],
        hostnames: [props.route.host],
        rules: [
          {
            name: 'websocket',
            matches: [{ path: { type: 'Exact', value: PUBLIC_PATHS.websocket } }],
            backendRefs,
            timeouts: { request: '0s' },
          },
          {
            name: 'readiness',
            matches: [{ path: { type: 'Exact', value: PUBLIC_PATHS.readiness } }],
            backendRefs,
            timeouts: { request: '10s' },
          },
        ],
      },
    });
  }
}
