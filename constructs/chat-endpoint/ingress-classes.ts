/**
 * What each known IngressClass needs so a proxied WebSocket survives `idleTimeoutSeconds` of
 * silence. A class not listed here gets no annotations: add its entry here (or put them in
 * `endpoint.ingressAnnotations`) after checking its controller's documentation.
 */

/** Annotations an Ingress of a known class needs for WebSockets, by IngressClass name. */
export const KNOWN_INGRESS_CLASSES: Readonly<Record<string, { readonly controller: string; readonly annotations: (idleTimeoutSeconds: number) => Record<string, string> }>> = {
  // ingress-nginx (its chart's default IngressClass is `nginx`): WebSockets need no switch, but
  // proxy-read-timeout / proxy-send-timeout (default 60 s, unitless seconds) close a silent
  // socket; its docs ("Miscellaneous", "Websockets") suggest more than an hour.
  nginx: {
    controller: 'ingress-nginx (k8s.io/ingress-nginx)',
    annotations: (s) => ({
      'nginx.ingress.kubernetes.io/proxy-read-timeout': String(s),
      'nginx.ingress.kubernetes.io/proxy-send-timeout': String(s),
    }),
  },
};

/** The idle-timeout annotations of `className`, or `{}` for a class regionmesh does not know. */
export function idleTimeoutAnnotations(className: string, idleTimeoutSeconds: number): Record<string, string> {
  return KNOWN_INGRESS_CLASSES[className]?.annotations(idleTimeoutSeconds) ?? {};
}
