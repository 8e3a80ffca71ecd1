import { describe, expect, it } from 'vitest';
import { Admission } from './admission.js';

describe('Admission', () => {
  it('caps sockets per address and frees a slot on release (once)', () => {
    const a = new Admission({ maxConnectionsPerAddress: 2, maxConnectionsPerUser: 8 });
    const r1 = a.admitAddress('10.0.0.7');
    const r2 = a.admitAddress('10.0.0.7');
    expect(r1).toBeTypeOf('function');
    expect(r2).toBeTypeOf('function');
    expect(a.admitAddress('10.0.0.7')).toBeUndefined();
    expect(a.admitAddress('10.0.0.8')).toBeTypeOf('function'); // another address has its own cap
    r1!();
    r1!(); // a second release frees nothing more
    expect(a.addressCount('10.0.0.7')).toBe(1);
    const r3 = a.admitAddress('10.0.0.7');
    expect(r3).toBeTypeOf('function');
    expect(a.admitAddress('10.0.0.7')).toBeUndefined();
    r2!();
    r3!();
    expect(a.addressCount('10.0.0.7')).toBe(0);
    expect((a as unknown as { perAddress: Map<string, number> }).perAddress.has('10.0.0.7')).toBe(false);
  });

  it('caps sockets per user, idempotently per socket key', () => {
    const a = new Admission({ maxConnectionsPerAddress: 64, maxConnectionsPerUser: 2 });
    expect(a.tryUser('u1', 'conn:1')).toBe(true);
    expect(a.tryUser('u1', 'conn:1')).toBe(true); // the same socket again holds one slot
    expect(a.tryUser('u1', 'conn:2')).toBe(true);
    expect(a.tryUser('u1', 'conn:3')).toBe(false);
    expect(a.tryUser('u2', 'conn:3')).toBe(true);
    expect(a.userCount('u1')).toBe(2);
    a.releaseUser('u1', 'conn:1');
    a.releaseUser('u1', 'conn:1');
    a.releaseUser('u1', 'conn:never');
    expect(a.userCount('u1')).toBe(1);
    expect(a.tryUser('u1', 'conn:3')).toBe(true);
    a.releaseUser('u1', 'conn:2');
    a.releaseUser('u1', 'conn:3');
    expect((a as unknown as { perUser: Map<string, Set<string>> }).perUser.has('u1')).toBe(false);
  });

  it('refuses caps below 1', () => {
    expect(() => new Admission({ maxConnectionsPerAddress: 0, maxConnectionsPerUser: 8 })).toThrow(/maxConnectionsPerAddress/);
    expect(() => new Admission({ maxConnectionsPerAddress: 4, maxConnectionsPerUser: 1.5 })).toThrow(/maxConnectionsPerUser/);
  });
});
