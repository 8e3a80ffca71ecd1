/**
 * k8gb in one active region: the chart's values, a Gslb per chat name it serves (failover on a
 * region-pinned name with that region as primary, roundRobin or geoip on the global name), the
 * DNS provider's credentials and the GeoIP database as Secret requirements, and the Corefile
 * when a GeoIP database or the endpoint's ACME challenge CNAMEs need one (corefile.ts).
 */
import { Construct } from 'constructs';
import { Labels } from '../../regions/names.js';
import type { PlatformConfig } from '../../regions/schema.js';
import { regionOf, type ComponentProps } from '../component.js';
import { HelmValuesFile, SecretRequirement } from '../output.js';
import type { K8gbConfig } from './config.js';
import { K8gbCorefile, ownCorefile } from './corefile.js';
import { Gslb } from './gslb.js';
import { corefileOptions, K8GB_DNS_SECRET_KEYS, k8gbValues } from './k8gb-values.js';
import { K8GB_CHART, K8GB_COMPONENT, k8gbDnsZone } from './names.js';
import { routedNames } from './routes.js';

/** The k8gb config; throws when the component runs without it (its `enabled` prevents that). */
export function k8gbOf(c: PlatformConfig): K8gbConfig {
  const k = c.routing?.provider === 'k8gb' ? c.routing.k8gb : undefined;
  if (!k) throw new Error(`${K8GB_COMPONENT}: routing.provider is not k8gb or routing.k8gb is missing (the routing-provider rule should have refused this)`);
  return k;
}

export class K8gbRegion extends Construct {
  /** `scope` is the region's `clusters/<cluster>/k8gb` folder. */
  constructor(scope: Construct, id: string, props: ComponentProps) {
    super(scope, id);
    const c = props.config;
    const k = k8gbOf(c);
    const region = regionOf(props, K8GB_COMPONENT);
    const labels = { [Labels.partOf]: c.platform, [Labels.component]: K8GB_COMPONENT, [Labels.region]: region.name };
    const ttl = c.routing!.dnsTtlSeconds;

    new HelmValuesFile(this, 'values', { cluster: region.cluster, chart: K8GB_CHART, values: k8gbValues(c, k, region) });

    const d = k.dnsProvider;
    new SecretRequirement(this, 'dns-credentials', {
      cluster: region.cluster,
      namespace: props.namespace,
      name: d.credentialsSecret,
      keys: Object.values(K8GB_DNS_SECRET_KEYS[d.name]),
      usedBy: `k8gb's external-dns (${d.name}: NS and glue records delegating ${k8gbDnsZone(c, k)} in ${k.parentZone})`,
    });
    if (k.geoip?.secretName) {
      new SecretRequirement(this, 'geoip', {
        cluster: region.cluster,
        namespace: props.namespace,
        name: k.geoip.secretName,
        keys: [k.geoip.fileName],
        usedBy: `k8gb's CoreDNS (GeoIP database: the global name's geoip strategy)`,
      });
    }
    const corefile = corefileOptions(c, k);
    if (ownCorefile(corefile)) new K8gbCorefile(scope, 'corefile', { namespace: props.namespace, options: corefile, labels });

    for (const { route, ref, strategy } of routedNames(c, region)) {
      new Gslb(scope, `gslb-${route.name}`, { name: route.name, namespace: ref.namespace, route: ref, strategy, dnsTtlSeconds: ttl, labels });
    }
  }
}
