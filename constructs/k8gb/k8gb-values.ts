/**
 * Values of the `k8gb` chart (v0.20.0) for one active region, computed from the region list:
 * the delegated zone, this region's geo tag, every OTHER active region's geo tag (k8gb issue 720:
 * by hand, every cluster lists every other), the edge DNS servers, and the bundled external-dns
 * (`extdns`, external-dns chart 1.21.1) that writes the delegation to the parent zone with an owner
 * id and TXT prefix unique per region (the chart's validateGeoTag requires the geo tag in both).
 * Keys as in chart/k8gb/values.yaml and values.schema.json of v0.20.0.
 */
import { k8gbGeoTag, Labels } from '../../regions/names.js';
import type { PlatformConfig, Region } from '../../regions/schema.js';
import type { K8gbConfig } from './config.js';
import { acmeChallengeCnames } from '../chat-endpoint/names.js';
import { geoipVolumeMounts, geoipVolumes, ownCorefile, type CorefileOptions } from './corefile.js';
import { k8gbDnsZone, k8gbTxtOwnerId, k8gbTxtPrefix } from './names.js';

/** Keys of the DNS provider's credentials Secret, per provider. */
export const K8GB_DNS_SECRET_KEYS = {
  route53: { accessKeyId: 'access-key-id', secretAccessKey: 'secret-access-key' },
  cloudflare: { apiToken: 'api-token' },
} as const;

/** Regions whose k8gb takes part in routing: active ones, in ordinal order. */
export function routedRegions(c: Pick<PlatformConfig, 'regions'>): Region[] {
  return c.regions.filter((r) => r.state === 'active');
}

/** The geo tags `region` pairs with: every other active region's, in ordinal order. */
export function otherGeoTags(c: Pick<PlatformConfig, 'regions'>, region: Pick<Region, 'name'>): string[] {
  return routedRegions(c)
    .filter((r) => r.name !== region.name)
    .map((r) => k8gbGeoTag(r));
}

const secretEnv = (name: string, secret: string, key: string) => ({ name, valueFrom: { secretKeyRef: { name: secret, key } } });

/** The bundled external-dns's provider and credentials (env from the Secret; nothing inline). */
function extdnsProvider(k: K8gbConfig): Record<string, unknown> {
  const d = k.dnsProvider;
  if (d.name === 'route53') {
    const keys = K8GB_DNS_SECRET_KEYS.route53;
    return {
      provider: { name: 'aws' },
      env: [
        secretEnv('AWS_ACCESS_KEY_ID', d.credentialsSecret, keys.accessKeyId),
        secretEnv('AWS_SECRET_ACCESS_KEY', d.credentialsSecret, keys.secretAccessKey),
        { name: 'AWS_DEFAULT_REGION', value: d.awsRegion },
      ],
      ...(d.zoneId ? { extraArgs: { 'zone-id-filter': d.zoneId } } : {}),
    };
  }
  return {
    provider: { name: 'cloudflare' },
    env: [secretEnv('CF_API_TOKEN', d.credentialsSecret, K8GB_DNS_SECRET_KEYS.cloudflare.apiToken)],
    ...(d.zoneId ? { extraArgs: { 'zone-id-filter': d.zoneId } } : {}),
  };
}

/** What k8gb's CoreDNS must carry beyond the chart's Corefile: the GeoIP database and the endpoint's ACME CNAMEs. */
export function corefileOptions(c: PlatformConfig, k: K8gbConfig): CorefileOptions {
  const ttl = c.routing!.dnsTtlSeconds;
  return { geoip: k.geoip, cnames: acmeChallengeCnames(c), negTtlSeconds: ttl, cnameTtlSeconds: ttl };
}

/** The values file `values/<cluster>/k8gb.yaml` of an active region. */
export function k8gbValues(c: PlatformConfig, k: K8gbConfig, region: Region): Record<string, unknown> {
  const ttl = c.routing!.dnsTtlSeconds;
  const geoip = k.geoip;
  return {
    k8gb: {
      dnsZones: [{ parentZone: k.parentZone, loadBalancedZone: k8gbDnsZone(c, k), dnsZoneNegTTL: ttl }],
      edgeDNSServers: [...k.edgeDNSServers],
      clusterGeoTag: k8gbGeoTag(region),
      // Comma-separated, as the chart passes it to EXT_GSLB_CLUSTERS_GEO_TAGS. Empty with one
      // active region: k8gb then reads the geo tags from the NS records at the edge DNS.
      extGslbClustersGeoTags: otherGeoTags(c, region).join(','),
      reconcileRequeueSeconds: k.reconcileRequeueSeconds,
      nsRecordTTL: k.nsRecordTTL,
      log: { format: 'json', level: 'info' },
      podLabels: { [Labels.partOf]: c.platform },
    },
    coredns: {
      // Resolvers on the internet query this CoreDNS (the zone is delegated to it); with
      // LoadBalancer, k8gb also reads its exposed IPs from this Service (COREDNS_SERVICE_TYPE).
      serviceType: 'LoadBalancer',
      service: { annotations: { ...k.dnsService.annotations } },
      // chart v0.20.0 never renders dnsZones[].geoDataFilePath / extraServerBlocks into its Corefile
      // (templates/coredns/cm.yaml reads them outside any range): regionmesh writes it (corefile.ts).
      ...(ownCorefile(corefileOptions(c, k)) ? { corefile: { enabled: false } } : {}),
      ...(geoip ? { extraVolumes: geoipVolumes(geoip), extraVolumeMounts: geoipVolumeMounts() } : {}),
    },
    extdns: {
      enabled: true,
      ...extdnsProvider(k),
      txtOwnerId: k8gbTxtOwnerId(c, region),
      txtPrefix: k8gbTxtPrefix(region),
      // The chart's validateDnsZones: exactly the parent zones of dnsZones.
      domainFilters: [k.parentZone],
      podLabels: { [Labels.partOf]: c.platform },
    },
  };
}
