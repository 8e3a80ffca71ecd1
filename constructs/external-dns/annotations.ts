/**
 * The external-dns annotations of the public endpoint's route in one region (provider
 * externalDns). external-dns reads the record settings (set identifier, aws-*, ttl) from the
 * route itself: the HTTPRoute for the gateway-httproute source (source/gateway.go, v0.21.0),
 * or the Ingress. The global name gets a Route53 routing policy record per region (set
 * identifier = region), the region-pinned name a plain record. Keys as in
 * source/annotations/annotations.go and provider/aws/aws.go (external-dns v0.21.0).
 */
import type { PlatformConfig, Region } from '../../regions/schema.js';

export const EXTERNAL_DNS_ANNOTATION = 'external-dns.alpha.kubernetes.io';

const key = (k: string) => `${EXTERNAL_DNS_ANNOTATION}/${k}`;

/** external-dns skips an object whose controller annotation is not its own ("dns-controller"). */
export const NOT_PUBLISHED = 'regionmesh-not-published';

/**
 * Annotations for `route` (one entry of chatRoutes(c, region.name)) in `region`: `{}` unless
 * routing.provider is externalDns. The endpoint merges them into that route's metadata.annotations.
 * The global name: a Route53 routing-policy record per region (set identifier = region name,
 * latency region or geolocation, health check). The region's own pinned name: a plain record.
 * Another region's pinned name (served here for failover with DNS-01): external-dns here must not
 * publish it (it would overwrite that region's record), so it carries a controller annotation
 * external-dns skips (source IsControllerMismatch: any value but "dns-controller").
 */
export function routeAnnotations(c: Pick<PlatformConfig, 'routing'>, region: Region, scope: 'global' | 'region', route?: { readonly pinnedTo?: string | undefined }): Record<string, string> {
  const r = c.routing;
  const e = r?.provider === 'externalDns' ? r.externalDns : undefined;
  if (!r || !e || region.state !== 'active') return {};
  if (scope === 'region' && route?.pinnedTo !== undefined && route.pinnedTo !== region.name) return { [key('controller')]: NOT_PUBLISHED };
  const ttl = { [key('ttl')]: String(r.dnsTtlSeconds) };
  if (scope === 'region') return ttl;
  const rr = region.routing;
  const out: Record<string, string> = { ...ttl, [key('set-identifier')]: region.name };
  if (e.policy === 'latency') {
    if (rr?.awsRegion) out[key('aws-region')] = rr.awsRegion;
  } else {
    const g = rr?.geolocation;
    if (g?.continentCode) out[key('aws-geolocation-continent-code')] = g.continentCode;
    if (g?.countryCode) out[key('aws-geolocation-country-code')] = g.countryCode;
    if (g?.subdivisionCode) out[key('aws-geolocation-subdivision-code')] = g.subdivisionCode;
  }
  if (rr?.healthCheckId) out[key('aws-health-check-id')] = rr.healthCheckId;
  return out;
}
