/**
 * The client's address, for the per-address cap and for logs.
 *
 * It is the socket's peer, unless the peer is one of settings.trustedProxies (a load balancer or
 * gateway in front of us): then it is the right-most X-Forwarded-For hop that is not a trusted
 * proxy. Walking from the right matters: every proxy APPENDS the address it saw, so only the
 * right end of the header was written by hops we trust; anything to the left of the first
 * untrusted hop was written by the client and may be spoofed. From an untrusted peer the header
 * is ignored entirely.
 *
 * Edge cases: when every hop is trusted, the left-most one is the client (our own proxies
 * talking to us); a hop that is not an IP address (`unknown`, a hostname, garbage) ends the walk
 * and the nearest trusted hop seen so far is used, so garbage never becomes a key. Addresses are
 * normalized: `::ffff:10.1.2.3` (an IPv4 peer on a dual-stack socket) is `10.1.2.3`, IPv6 is
 * lower-case, and an X-Forwarded-For hop may carry a port (`10.1.2.3:5678`, `[2001:db8::1]:443`).
 * The RFC 7239 `Forwarded` header is not read.
 */
import { isIP } from 'node:net';
import { ipMatcher } from './ip-list.js';

/** "Is this (normalized) address one of ours?" */
export type AddressMatcher = (address: string) => boolean;

/** What a socket whose peer address is unknown (already closed) is counted as. */
export const UNKNOWN_ADDRESS = 'unknown';

const MAPPED_IPV4 = /^::ffff:(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})$/i;

/** `::ffff:10.1.2.3` -> `10.1.2.3`, IPv6 lower-cased; undefined when `raw` is not an IP address. */
export function normalizeAddress(raw: string): string | undefined {
  const trimmed = raw.trim();
  const mapped = MAPPED_IPV4.exec(trimmed)?.[1];
  const address = mapped ?? trimmed;
  const version = isIP(address);
  if (version === 0) return undefined;
  return version === 6 ? address.toLowerCase() : address;
}

const IPV4_WITH_PORT = /^(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}):\d{1,5}$/;
const BRACKETED_IPV6 = /^\[([^\]]+)\](?::\d{1,5})?$/;

/** One X-Forwarded-For hop as a normalized address (a port is dropped); undefined when not an IP. */
export function parseForwardedHop(hop: string): string | undefined {
  const t = hop.trim();
  const inner = IPV4_WITH_PORT.exec(t)?.[1] ?? BRACKETED_IPV6.exec(t)?.[1] ?? t;
  return normalizeAddress(inner);
}

/**
 * The client address of a connection from `peer` (the socket's remoteAddress) carrying
 * `forwardedFor` (the X-Forwarded-For header(s); Node joins repeated headers with ", ").
 */
export function clientAddress(peer: string | undefined, forwardedFor: string | readonly string[] | undefined, isTrusted: AddressMatcher): string {
  const peerAddress = peer === undefined ? undefined : normalizeAddress(peer);
  if (peerAddress === undefined) return UNKNOWN_ADDRESS;
  if (!isTrusted(peerAddress) || forwardedFor === undefined) return peerAddress;
  const hops = (typeof forwardedFor === 'string' ? [forwardedFor] : forwardedFor).flatMap((h) => h.split(','));
  let nearest = peerAddress;
  for (let i = hops.length - 1; i >= 0; i--) {
    const raw = hops[i]!.trim();
    if (raw === '') continue;
    const hop = parseForwardedHop(raw);
    if (hop === undefined) return nearest;
    if (!isTrusted(hop)) return hop;
    nearest = hop;
  }
  return nearest;
}

/** `clientAddress` bound to a trusted-proxy list (IPs and CIDRs, validated by settings). */
export function clientAddressResolver(trustedProxies: readonly string[]): (peer: string | undefined, forwardedFor: string | readonly string[] | undefined) => string {
  const isTrusted = ipMatcher(trustedProxies);
  return (peer, forwardedFor) => clientAddress(peer, forwardedFor, isTrusted);
}
