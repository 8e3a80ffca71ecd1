/**
 * The public chat endpoint of one region: ACME ClusterIssuer, Certificates, and a Gateway with
 * one HTTPRoute per hostname or one Ingress per hostname (names.ts chatRoutes) to the chat
 * backend. A leaving region keeps only the ClusterIssuer, so ArgoCD prunes its Gateway, routes
 * and Certificates before the region goes.
 */
import { Construct } from 'constructs';
import { ChatEndpointNames, Labels, acmeClusterIssuerName } from '../../regions/names.js';
import type { PlatformConfig } from '../../regions/schema.js';
import { regionOf, type ComponentProps } from '../component.js';
import { routeAnnotations } from '../external-dns/annotations.js';
import { SecretRequirement } from '../output.js';
import { AcmeClusterIssuer, DNS01_SECRET_KEYS } from './acme-issuer.js';
import { ChatCertificate } from './certificate.js';
import type { EndpointConfig } from './config.js';
import { ChatGateway, ChatHttpRoute } from './gateway.js';
import { ChatIngress } from './ingress.js';
import { acmeAccountKeySecret, chatRoutes } from './names.js';

export const COMPONENT = 'chat-endpoint';

/** The endpoint config; throws when the component runs without it (its `enabled` prevents that). */
export function endpointOf(c: PlatformConfig): EndpointConfig {
  if (!c.endpoint) throw new Error(`${COMPONENT}: endpoint is not configured (add an endpoint block to the config)`);
  return c.endpoint;
}

export class EndpointRegion extends Construct {
  /** `scope` is the region's `clusters/<cluster>/chat-endpoint` folder. */
  constructor(scope: Construct, id: string, props: ComponentProps) {
    super(scope, id);
    const c = props.config;
    const e = endpointOf(c);
    const region = regionOf(props, COMPONENT);
    const ns = props.namespace;
    const labels = { [Labels.partOf]: c.platform, [Labels.component]: COMPONENT, [Labels.region]: region.name };
    const issuer = acmeClusterIssuerName(c.platform);

    new AcmeClusterIssuer(scope, 'cluster-issuer', { platform: c.platform, endpoint: e, gatewayNamespace: ns, labels });
    new SecretRequirement(this, 'acme-account-key', {
      cluster: region.cluster,
      namespace: c.certManager.namespace,
      name: acmeAccountKeySecret(c.platform),
      keys: ['tls.key'],
      usedBy: `cert-manager (ACME account of ClusterIssuer ${issuer} at ${e.acme.server})`,
      createdBy: `cert-manager (registers the account on first use)`,
    });
    const d = e.acme.solver === 'dns01' ? e.acme.dns01 : undefined;
    if (d) {
      new SecretRequirement(this, 'dns01-credentials', {
        cluster: region.cluster,
        namespace: c.certManager.namespace,
        name: d.credentialsSecret,
        keys: Object.values(DNS01_SECRET_KEYS[d.provider]),
        usedBy: `cert-manager (ClusterIssuer ${issuer}: DNS-01 TXT records at ${d.provider} in ${d.challengeZone ?? e.domain})`,
      });
    }
    if (region.state !== 'active') return;

    const routes = chatRoutes(c, region.name);
    const certificates = [
      { name: ChatEndpointNames.certificate, secretName: ChatEndpointNames.tlsSecret },
      { name: ChatEndpointNames.peersCertificate, secretName: ChatEndpointNames.peersTlsSecret },
    ];
    for (const cert of certificates) {
      const hosts = routes.filter((r) => r.tlsSecret === cert.secretName).map((r) => r.host);
      if (hosts.length === 0) continue;
      new ChatCertificate(scope, `certificate-${cert.name}`, { platform: c.platform, name: cert.name, secretName: cert.secretName, namespace: ns, hosts, labels });
      new SecretRequirement(this, `tls-${cert.name}`, {
        cluster: region.cluster,
        namespace: ns,
        name: cert.secretName,
        keys: ['tls.crt', 'tls.key'],
        usedBy: `the public endpoint (${e.kind === 'gateway' ? `Gateway ${ChatEndpointNames.gateway}` : 'Ingress'}: ${hosts.join(', ')})`,
        createdBy: `cert-manager (Certificate ${cert.name}, ClusterIssuer ${issuer})`,
      });
    }
    if (e.kind === 'gateway') {
      new ChatGateway(scope, 'gateway', { namespace: ns, className: e.className, routes, http01Listener: e.acme.solver === 'http01', labels });
      for (const route of routes) new ChatHttpRoute(scope, `route-${route.name}`, { namespace: ns, route, annotations: routeAnnotations(c, region, route.scope), labels });
    } else {
      for (const route of routes) {
        new ChatIngress(scope, `ingress-${route.name}`, {
          namespace: ns,
          className: e.className,
          route,
          idleTimeoutSeconds: e.idleTimeoutSeconds,
          routingAnnotations: routeAnnotations(c, region, route.scope),
          extraAnnotations: e.ingressAnnotations,
          labels,
        });
      }
    }
  }
}
