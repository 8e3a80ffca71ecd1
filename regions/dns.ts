/**
 * DNS naming primitives. Every name that regionmesh computes ends up in a Kubernetes object
 * name, a DNS record or a NATS server name, so the rules live here once.
 */

/** RFC 1035 label as Kubernetes validates it (Service names, DC names, gateway names). */
export const DNS_1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

/** Kubernetes' maximum length of a DNS label. */
export const DNS_LABEL_MAX = 63;

/** RFC 1123 subdomain (dot-separated labels), e.g. a DNS suffix such as `internal` or `example.com`. */
export const DNS_1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Kubernetes' maximum length of a DNS subdomain (object names of most kinds). */
export const DNS_SUBDOMAIN_MAX = 253;

/** True when `value` is a valid DNS-1035 label of at most `max` characters. */
export function isDnsLabel(value: string, max: number = DNS_LABEL_MAX): boolean {
  return value.length <= max && DNS_1035_LABEL.test(value);
}

/** True when `value` is a valid DNS-1123 subdomain of at most 253 characters. */
export function isDnsSubdomain(value: string): boolean {
  return value.length <= DNS_SUBDOMAIN_MAX && DNS_1123_SUBDOMAIN.test(value);
}
