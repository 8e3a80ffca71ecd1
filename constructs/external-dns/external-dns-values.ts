/**
 * Values of the `external-dns` chart (kubernetes-sigs, 1.21.1; external-dns v0.21.0) for one
 * active region: Route53, owner id unique per region, only the endpoint's domain and hosted
 * zone, the source matching the endpoint kind, policy sync (a region's records go when its
 * route goes), credentials by Secret name. The chart's default pod and container security
 * contexts are restricted; they are repeated here so nothing depends on a chart default.
 */
import { Labels } from '../../regions/names.js';
import type { PlatformConfig, Region } from '../../regions/schema.js';
import { helmResources, RESTRICTED_CONTAINER } from '../workload.js';
import type { ExternalDnsConfig } from './config.js';
import { externalDnsOwnerId, ROUTE53_SECRET_KEYS } from './names.js';

const secretEnv = (name: string, secret: string, key: string) => ({ name, valueFrom: { secretKeyRef: { name: secret, key } } });

export function externalDnsValues(c: PlatformConfig, e: ExternalDnsConfig, region: Region): Record<string, unknown> {
  const gateway = c.endpoint?.kind !== 'ingress';
  return {
    provider: { name: 'aws' },
    env: [
      secretEnv('AWS_ACCESS_KEY_ID', e.credentialsSecret, ROUTE53_SECRET_KEYS.accessKeyId),
      secretEnv('AWS_SECRET_ACCESS_KEY', e.credentialsSecret, ROUTE53_SECRET_KEYS.secretAccessKey),
      { name: 'AWS_DEFAULT_REGION', value: e.awsRegion },
    ],
    sources: [gateway ? 'gateway-httproute' : 'ingress'],
    // Only the chat namespace's routes (the Gateway lives there too).
    ...(gateway ? { gatewayNamespace: c.app.namespace } : {}),
    namespaced: false,
    policy: 'sync',
    registry: 'txt',
    txtOwnerId: externalDnsOwnerId(c, region),
    domainFilters: [c.endpoint!.domain],
    extraArgs: { 'zone-id-filter': e.hostedZoneId, 'aws-zone-type': 'public' },
    interval: `${e.intervalSeconds}s`,
    logFormat: 'json',
    podLabels: { [Labels.partOf]: c.platform },
    resources: helmResources('10m', '64Mi'),
    podSecurityContext: { runAsNonRoot: true, fsGroup: 65534, seccompProfile: { type: 'RuntimeDefault' } },
    securityContext: { ...RESTRICTED_CONTAINER, privileged: false, runAsUser: 65532, runAsGroup: 65532 },
  };
}
