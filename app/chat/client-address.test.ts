import { describe, expect, it } from 'vitest';
import { UNKNOWN_ADDRESS, clientAddress, clientAddressResolver, normalizeAddress, parseForwardedHop } from './client-address.js';

describe('normalizeAddress', () => {
  it('keeps IPv4, unwraps IPv4-mapped IPv6, lower-cases IPv6, refuses non-addresses', () => {
    expect(normalizeAddress('10.1.2.3')).toBe('10.1.2.3');
    expect(normalizeAddress('::ffff:10.1.2.3')).toBe('10.1.2.3');
    expect(normalizeAddress('::FFFF:10.1.2.3')).toBe('10.1.2.3');
    expect(normalizeAddress('2001:DB8::1')).toBe('2001:db8::1');
    expect(normalizeAddress(' 192.168.0.1 ')).toBe('192.168.0.1');
    for (const bad of ['', 'unknown', 'example.com', '10.1.2', '10.1.2.3.4', '999.1.1.1', '_hidden']) expect(normalizeAddress(bad), bad).toBeUndefined();
  });
});

describe('parseForwardedHop', () => {
  it('accepts an address with or without a port, IPv6 bracketed or bare', () => {
    expect(parseForwardedHop('203.0.113.9')).toBe('203.0.113.9');
    expect(parseForwardedHop('203.0.113.9:51234')).toBe('203.0.113.9');
    expect(parseForwardedHop('[2001:db8::7]:443')).toBe('2001:db8::7');
    expect(parseForwardedHop('[2001:db8::7]')).toBe('2001:db8::7');
    expect(parseForwardedHop('2001:DB8::7')).toBe('2001:db8::7');
    expect(parseForwardedHop('unknown')).toBeUndefined();
    expect(parseForwardedHop('[nonsense]:1')).toBeUndefined();
  });
});

describe('clientAddress', () => {
  // Our load balancers: one IPv4 host, an IPv4 CIDR and an IPv6 CIDR.
  const resolve = clientAddressResolver(['10.0.0.1', '172.16.0.0/12', 'fd00::/8']);

  it('is the peer when the peer is not a trusted proxy, whatever the header says (spoofing)', () => {
    expect(resolve('198.51.100.7', undefined)).toBe('198.51.100.7');
    expect(resolve('198.51.100.7', '1.2.3.4')).toBe('198.51.100.7');
    expect(resolve('198.51.100.7', '10.0.0.1, 1.2.3.4')).toBe('198.51.100.7');
    expect(resolve('::ffff:198.51.100.7', '1.2.3.4')).toBe('198.51.100.7');
    expect(resolve('2001:db8::9', '1.2.3.4')).toBe('2001:db8::9');
  });

  it('is the right-most untrusted hop behind trusted proxies (IPv4, CIDRs, IPv6)', () => {
    expect(resolve('10.0.0.1', '203.0.113.9')).toBe('203.0.113.9');
    expect(resolve('::ffff:10.0.0.1', '203.0.113.9')).toBe('203.0.113.9');
    expect(resolve('172.20.3.4', '203.0.113.9, 10.0.0.1')).toBe('203.0.113.9');
    expect(resolve('fd12::1', '2001:db8::5, fd00::2')).toBe('2001:db8::5');
    expect(resolve('fd12::1', '[2001:db8::5]:4711')).toBe('2001:db8::5');
  });

  it('ignores what the client wrote to the left of the first untrusted hop', () => {
    // The client sent "X-Forwarded-For: 10.0.0.1, 6.6.6.6"; our proxy appended the real peer.
    expect(resolve('10.0.0.1', '10.0.0.1, 6.6.6.6, 203.0.113.9')).toBe('203.0.113.9');
    // Repeated headers (Node joins them with ", ", or hands an array) read the same.
    expect(resolve('10.0.0.1', ['6.6.6.6', '203.0.113.9'])).toBe('203.0.113.9');
  });

  it('uses the left-most hop when every hop is trusted, and the peer when the header is empty', () => {
    expect(resolve('10.0.0.1', '172.16.0.5, 10.0.0.1')).toBe('172.16.0.5');
    expect(resolve('10.0.0.1', '')).toBe('10.0.0.1');
    expect(resolve('10.0.0.1', ' , ')).toBe('10.0.0.1');
  });

  it('stops at a hop that is not an address and uses the nearest trusted hop (garbage never becomes a key)', () => {
    expect(resolve('10.0.0.1', 'unknown')).toBe('10.0.0.1');
    expect(resolve('10.0.0.1', '203.0.113.9, garbage, 172.16.0.5')).toBe('172.16.0.5');
  });

  it('trusts nobody with an empty list, and answers "unknown" for a socket without a peer', () => {
    const none = clientAddressResolver([]);
    expect(none('10.0.0.1', '203.0.113.9')).toBe('10.0.0.1');
    expect(none(undefined, '203.0.113.9')).toBe(UNKNOWN_ADDRESS);
    expect(clientAddress('not-an-ip', undefined, () => true)).toBe(UNKNOWN_ADDRESS);
  });
});
