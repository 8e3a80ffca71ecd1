/**
 * Lists of IP addresses and CIDR ranges (CHAT_TRUSTED_PROXIES, app.limits.trustedProxies):
 * `10.0.0.0/8`, `192.168.1.7`, `fd00::/8`, `::1`. A bare address is a /32 (IPv4) or /128 (IPv6).
 * An IPv4 peer seen by an IPv6 socket (`::ffff:10.1.2.3`) matches IPv4 entries.
 */
import { BlockList, isIP } from 'node:net';

export interface IpRange {
  readonly address: string;
  readonly prefix: number;
  readonly family: 'ipv4' | 'ipv6';
}

/** `entry` as a range, or the reason it is not one (the reason never repeats the entry). */
export function parseIpRange(entry: string): IpRange | { problem: string } {
  const [address = '', prefixText, extra] = entry.trim().split('/');
  if (extra !== undefined) return { problem: 'has more than one /' };
  const version = isIP(address);
  if (version === 0) return { problem: 'is not an IPv4 or IPv6 address' };
  const max = version === 4 ? 32 : 128;
  if (prefixText === undefined) return { address, prefix: max, family: version === 4 ? 'ipv4' : 'ipv6' };
  if (!/^[0-9]{1,3}$/.test(prefixText) || Number(prefixText) > max) return { problem: `has a prefix length outside 0..${max}` };
  return { address, prefix: Number(prefixText), family: version === 4 ? 'ipv4' : 'ipv6' };
}

/** Problems of a list, one per bad entry, naming its position (1-based), never its text. */
export function ipListProblems(entries: readonly string[]): string[] {
  const problems: string[] = [];
  entries.forEach((e, i) => {
    const r = parseIpRange(e);
    if ('problem' in r) problems.push(`entry ${i + 1} ${r.problem} (write an IP like 10.0.0.7 or a CIDR like 10.0.0.0/8)`);
  });
  return problems;
}

/** A predicate "is `address` in one of `entries`" (entries must be valid: see ipListProblems). */
export function ipMatcher(entries: readonly string[]): (address: string) => boolean {
  if (entries.length === 0) return () => false;
  const list = new BlockList();
  for (const e of entries) {
    const r = parseIpRange(e);
    if ('problem' in r) throw new Error(`ipMatcher: invalid entry (${r.problem})`);
    list.addSubnet(r.address, r.prefix, r.family);
  }
  return (address) => {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
    const plain = mapped ?? address;
    const version = isIP(plain);
    if (version === 0) return false;
    return list.check(plain, version === 4 ? 'ipv4' : 'ipv6');
  };
}
