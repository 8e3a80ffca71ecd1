import { k8s } from 'cdk8s-plus-28';
import type { Construct } from 'constructs';
import { CHAT_BACKEND, CHAT_SERVICE_PORT } from '../../regions/names.js';
import { idleTimeoutAnnotations } from './ingress-classes.js';
import { PUBLIC_PATHS, type ChatRoute } from './names.js';

export interface ChatIngressProps {
  readonly namespace: string;
  readonly className: string;
  /** The one hostname of this Ingress, and its certificate's Secret. */
  readonly route: ChatRoute;
  readonly idleTimeoutSeconds: number;
  /** external-dns record settings (constructs/external-dns/annotations.ts), after the class's own. */
  readonly routingAnnotations: Readonly<Record<string, string>>;
  /** `endpoint.ingressAnnotations`, added last (and so over the others). */
  readonly extraAnnotations: Readonly<Record<string, string>>;
  readonly labels: Readonly<Record<string, string>>;
}

/**
 * The Ingress of one hostname (networking.k8s.io/v1): TLS with the certificate that covers it,
 * the WebSocket path and /readyz to the chat backend's Service, and the idle-timeout annotations its class
 * needs (ingress-classes.ts). No `cert-manager.io/*` annotation: the Certificate is explicit.
 * Typed by cdk8s-plus' Kubernetes API (KubeIngress), so a wrong shape does not compile.
 */
export class ChatIngress extends k8s.KubeIngress {
  constructor(scope: Construct, id: string, props: ChatIngressProps) {
    const annotations = { ...idleTimeoutAnnotations(props.className, props.idleTimeoutSeconds), ...props.routingAnnotations, ...props.extraAnnotations };
    const paths = [PUBLIC_PATHS.websocket, PUBLIC_PATHS.readiness].map((path) => ({
      path,
      pathType: 'Exact',
      backend: { service: { name: CHAT_BACKEND, port: { number: CHAT_SERVICE_PORT } } },
    }));
    super(scope, id, {
      metadata: {
        name: props.route.name,
        namespace: props.namespace,
        labels: { ...props.labels },
        ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
      },
      spec: {
        ingressClassName: props.className,
        tls: [{ hosts: [props.route.host], secretName: props.route.tlsSecret }],
        rules: [{ host: props.route.host, http: { paths } }],
      },
    });
  }
}
