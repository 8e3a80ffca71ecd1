import { ApiObject } from 'cdk8s';
import type { Construct } from 'constructs';
import { acmeClusterIssuerName, ChatEndpointNames } from '../../regions/names.js';
import type { EndpointConfig } from './config.js';
import { acmeAccountKeySecret, HTTP01_LISTENER } from './names.js';

/** Keys of the DNS-01 credentials Secret, per provider (cert-manager reads them by these names). */
export const DNS01_SECRET_KEYS = {
  route53: { accessKeyID: 'access-key-id', secretAccessKey: 'secret-access-key' },
  cloudflare: { apiToken: 'api-token' },
} as const;

export interface AcmeClusterIssuerProps {
  readonly platform: string;
  readonly endpoint: EndpointConfig;
  /** Namespace of the Gateway (the app namespace): the HTTP-01 challenge route attaches to it. */
  readonly gatewayNamespace: string;
  readonly labels: Readonly<Record<string, string>>;
}

/** The one ACME solver of the issuer, from `endpoint.acme` (cert-manager v1 `ACMEChallengeSolver`). */
export function acmeSolver(e: EndpointConfig, gatewayNamespace: string): Record<string, unknown> {
  const a = e.acme;
  if (a.solver === 'http01') {
    return e.kind === 'gateway'
      ? {
          http01: {
            gatewayHTTPRoute: {
              parentRefs: [
                { group: 'gateway.networking.k8s.io', kind: 'Gateway', name: ChatEndpointNames.gateway, namespace: gatewayNamespace, sectionName: HTTP01_LISTENER },
              ],
            },
          },
        }
      : { http01: { ingress: { ingressClassName: e.className } } };
  }
  const d = a.dns01;
  // The config rule endpoint-acme-solver guarantees the block; this is a programming error otherwise.
  if (!d) throw new Error('endpoint.acme.dns01: solver is dns01 but the block is missing (the config rule should have refused this)');
  // With a challenge zone, `_acme-challenge.<name>` is a CNAME into it: cert-manager writes the TXT record there.
  const follow = d.challengeZone !== undefined ? { cnameStrategy: 'Follow' } : {};
  if (d.provider === 'route53') {
    const keys = DNS01_SECRET_KEYS.route53;
    return {
      dns01: {
        ...follow,
        route53: {
          region: d.route53!.region,
          ...(d.route53!.hostedZoneID !== undefined ? { hostedZoneID: d.route53!.hostedZoneID } : {}),
          accessKeyIDSecretRef: { name: d.credentialsSecret, key: keys.accessKeyID },
          secretAccessKeySecretRef: { name: d.credentialsSecret, key: keys.secretAccessKey },
        },
      },
    };
  }
  return { dns01: { ...follow, cloudflare: { apiTokenSecretRef: { name: d.credentialsSecret, key: DNS01_SECRET_KEYS.cloudflare.apiToken } } } };
}

/**
 * The ACME ClusterIssuer of a region cluster. Its account key and the DNS-01 credentials live in
 * cert-manager's namespace (the cluster resource namespace, the chart's default).
 */
export class AcmeClusterIssuer extends ApiObject {
  constructor(scope: Construct, id: string, props: AcmeClusterIssuerProps) {
    const a = props.endpoint.acme;
    super(scope, id, {
      apiVersion: 'cert-manager.io/v1',
      kind: 'ClusterIssuer',
      metadata: { name: acmeClusterIssuerName(props.platform), labels: { ...props.labels } },
      spec: {
        acme: {
          server: a.server,
          email: a.email,
          privateKeySecretRef: { name: acmeAccountKeySecret(props.platform) },
          solvers: [acmeSolver(props.endpoint, props.gatewayNamespace)],
        },
      },
    });
  }
}
