/** Names only the external-dns routing uses. */
import type { PlatformConfig, Region } from '../../regions/schema.js';

export const EXTERNAL_DNS_COMPONENT = 'external-dns';
export const EXTERNAL_DNS_CHART = 'external-dns';

/**
 * external-dns owner id in `region` (`txtOwnerId`): every record it writes is marked with it, and
 * it never touches a record of another owner id. Unique per region; must never change.
 */
export function externalDnsOwnerId(c: Pick<PlatformConfig, 'platform'>, region: Pick<Region, 'name'>): string {
  return `${c.platform}-${region.name}`;
}

/** Keys of the Route53 credentials Secret (the same keys cert-manager's DNS-01 Secret uses). */
export const ROUTE53_SECRET_KEYS = { accessKeyId: 'access-key-id', secretAccessKey: 'secret-access-key' } as const;
