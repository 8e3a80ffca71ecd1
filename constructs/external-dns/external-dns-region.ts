/** external-dns in one active region (provider externalDns): its values and the Route53 credentials it reads. */
import { Construct } from 'constructs';
import type { PlatformConfig } from '../../regions/schema.js';
import { regionOf, type ComponentProps } from '../component.js';
import { HelmValuesFile, SecretRequirement } from '../output.js';
import type { ExternalDnsConfig } from './config.js';
import { externalDnsValues } from './external-dns-values.js';
import { EXTERNAL_DNS_CHART, EXTERNAL_DNS_COMPONENT, ROUTE53_SECRET_KEYS } from './names.js';

/** The externalDns config; throws when the component runs without it (its `enabled` prevents that). */
export function externalDnsOf(c: PlatformConfig): ExternalDnsConfig {
  const e = c.routing?.provider === 'externalDns' ? c.routing.externalDns : undefined;
  if (!e) throw new Error(`${EXTERNAL_DNS_COMPONENT}: routing.provider is not externalDns or routing.externalDns is missing (the routing-provider rule should have refused this)`);
  return e;
}

export class ExternalDnsRegion extends Construct {
  constructor(scope: Construct, id: string, props: ComponentProps) {
    super(scope, id);
    const c = props.config;
    const e = externalDnsOf(c);
    const region = regionOf(props, EXTERNAL_DNS_COMPONENT);
    new HelmValuesFile(this, 'values', { cluster: region.cluster, chart: EXTERNAL_DNS_CHART, values: externalDnsValues(c, e, region) });
    new SecretRequirement(this, 'route53-credentials', {
      cluster: region.cluster,
      namespace: props.namespace,
      name: e.credentialsSecret,
      keys: Object.values(ROUTE53_SECRET_KEYS),
      usedBy: `external-dns (Route53 hosted zone ${e.hostedZoneId}: the chat records of ${region.name})`,
    });
  }
}
