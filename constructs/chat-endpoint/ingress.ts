import { k8s } from 'cdk8s-plus-28';
import type { Construct } from 'constructs';
import { CHAT_BACKEND, CHAT_SERVICE_PORT, ChatEndpointNames } from '../../regions/names.js';
import { idleTimeoutAnnotations } from './ingress-classes.js';
import { PUBLIC_PATHS } from './names.js';

export interface ChatIngressProps {
  readonly namespace: string;
  readonly className: string;
  /** Region-pinned hostname first, then the global one. */
  readonly hosts: readonly string[];
  readonly idleTimeoutSeconds: number;
  /** `endpoint.ingressAnnotations`, added after (and so over) the known class's own. */
  readonly extraAnnotations: Readonly<Record<string, string>>;
  readonly labels: Readonly<Record<string, string>>;
}

/**
 * Ingress `chat` (networking.k8s.io/v1): TLS with `chat-tls` for both hostnames, the WebSocket
 * path and /readyz to the chat backend's Service, and the idle-timeout annotations its class
 * needs (ingress-classes.ts). No `cert-manager.io/*` annotation: the Certificate is explicit.
 * Typed by cdk8s-plus' Kubernetes API (KubeIngress), so a wrong shape does not compile.
 */
export class ChatIngress extends k8s.KubeIngress {
  constructor(scope: Construct, id: string, props: ChatIngressProps) {
    const annotations = { ...idleTimeoutAnnotations(props.className, props.idleTimeoutSeconds), ...props.extraAnnotations };
    const paths = [PUBLIC_PATHS.websocket, PUBLIC_PATHS.readiness].map((path) => ({
      path,
      pathType: 'Exact',
      backend: { service: { name: CHAT_BACKEND, port: { number: CHAT_SERVICE_PORT } } },
    }));
    super(scope, id, {
      metadata: {
        name: ChatEndpointNames.route,
        namespace: props.namespace,
        labels: { ...props.labels },
        ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
      },
      spec: {
        ingressClassName: props.className,
        tls: [{ hosts: [...props.hosts], secretName: ChatEndpointNames.tlsSecret }],
        rules: props.hosts.map((host) => ({ host, http: { paths } })),
      },
    });
  }
}
