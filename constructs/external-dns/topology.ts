/** What TOPOLOGY.md says about external-dns routing (the Regions column is shared with k8gb). */
import { chatGlobalHost } from '../../regions/names.js';
import type { PlatformConfig, Region } from '../../regions/schema.js';
import { externalDnsOwnerId } from './names.js';
import { geolocationKey } from './rules.js';

/** The Regions cell of an active region with provider externalDns. */
export function externalDnsCell(c: PlatformConfig, r: Region): string {
  const e = c.routing!.externalDns!;
  const rr = r.routing;
  const where = e.policy === 'latency' ? `latency ${rr?.awsRegion ?? '?'}` : rr?.geolocation ? `geolocation ${geolocationKey(rr.geolocation)}` : 'geolocation ?';
  return `external-dns owner \`${externalDnsOwnerId(c, r)}\`, ${where}${rr?.healthCheckId ? `, health check \`${rr.healthCheckId}\`` : ', no health check'}`;
}

export function externalDnsSummary(c: PlatformConfig): string[] {
  const e = c.routing!.externalDns!;
  return [
    `- **Global routing (external-dns ${e.chart.version}, Route53)**: every active region's external-dns writes \`${chatGlobalHost(c.endpoint!.domain)}\` as a ${e.policy} record with its own set identifier (+ its region-pinned name) into hosted zone \`${e.hostedZoneId}\`; TTL ${c.routing!.dnsTtlSeconds} s, sync every ${e.intervalSeconds} s, policy sync.`,
  ];
}
