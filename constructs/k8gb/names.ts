/**
 * Names only global routing uses: the zone k8gb answers for, the external-dns owner ids (which
 * must never change by accident: records of another owner id are never touched again), the
 * NS names of the delegation and the Gslb objects. The geo tag itself is regions/names.ts k8gbGeoTag.
 */
import { k8gbGeoTag } from '../../regions/names.js';
import type { PlatformConfig, Region } from '../../regions/schema.js';
import type { K8gbConfig } from './config.js';

export const K8GB_COMPONENT = 'k8gb';
export const K8GB_CHART = 'k8gb';

/** The zone k8gb answers for (`loadBalancedZone`): `routing.k8gb.dnsZone`, else `endpoint.domain`. */
export function k8gbDnsZone(c: Pick<PlatformConfig, 'endpoint'>, k: Pick<K8gbConfig, 'dnsZone'>): string {
  const zone = k.dnsZone ?? c.endpoint?.domain;
  if (!zone) throw new Error('routing.k8gb.dnsZone: no zone (set dnsZone or endpoint.domain)');
  return zone;
}

/** external-dns owner id of k8gb's delegation records in `region` (the chart requires the geo tag in it). */
export function k8gbTxtOwnerId(c: Pick<PlatformConfig, 'platform'>, region: Pick<Region, 'name'>): string {
  return `k8gb-${c.platform}-${k8gbGeoTag(region)}`;
}

/** external-dns TXT prefix of k8gb's delegation records in `region` (the chart requires the geo tag in it). */
export function k8gbTxtPrefix(region: Pick<Region, 'name'>): string {
  return `k8gb-${k8gbGeoTag(region)}-`;
}

/** The NS name k8gb publishes for `geoTag` (controllers/zones/wrapper.go getNsName, v0.20.0). */
export function k8gbNsName(geoTag: string, zone: string, parentZone: string): string {
  const prefix = zone.endsWith(`.${parentZone}`) ? zone.slice(0, -(parentZone.length + 1)) : zone;
  return `gslb-ns-${geoTag}-${prefix.replaceAll('.', '-')}.${parentZone}`;
}

