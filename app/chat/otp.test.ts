import { describe, expect, it } from 'vitest';
import { OTP_MAX_ATTEMPTS, codeMatches, generateCode, hashCode, issueCode, newSalt, newSessionToken, otpVerdict, tokenHash } from './otp.js';

describe('login codes', () => {
  it('are 6 digits, spread over the whole range', () => {
    const codes = Array.from({ length: 2_000 }, generateCode);
    for (const c of codes) expect(c).toMatch(/^[0-9]{6}$/);
    expect(new Set(codes).size).toBeGreaterThan(1_990);
    expect(codes.some((c) => c.startsWith('0'))).toBe(true);
  });

  it('are stored only as a salted scrypt hash that verifies the right code alone', async () => {
    const issued = await issueCode(new Date('2030-01-01T00:00:00Z'), 300);
    expect(issued.hash).toHaveLength(32);
    expect(issued.salt).toHaveLength(16);
    expect(issued.hash.toString('hex')).not.toContain(Buffer.from(issued.code).toString('hex'));
    expect(issued.expiresAt.toISOString()).toBe('2030-01-01T00:05:00.000Z');
    expect(await codeMatches(issued.code, issued.salt, issued.hash)).toBe(true);
    const wrong = issued.code === '000000' ? '000001' : '000000';
    expect(await codeMatches(wrong, issued.salt, issued.hash)).toBe(false);
    expect(await codeMatches(issued.code, newSalt(), issued.hash)).toBe(false);
    expect(await codeMatches(issued.code, issued.salt, Buffer.alloc(5))).toBe(false);
  });

  it('get a fresh salt each time, so equal codes hash differently', async () => {
    const [a, b] = [newSalt(), newSalt()];
    expect(a.equals(b)).toBe(false);
    expect((await hashCode('123456', a)).equals(await hashCode('123456', b))).toBe(false);
    expect((await hashCode('123456', a)).equals(await hashCode('123456', a))).toBe(true);
  });

  it('expire and run out of attempts', () => {
    const now = new Date('2030-01-01T00:00:00Z');
    const later = (s: number) => new Date(now.getTime() + s * 1000);
    expect(otpVerdict({ expiresAt: later(1), attempts: 0 }, now)).toBe('usable');
    expect(otpVerdict({ expiresAt: now, attempts: 0 }, now)).toBe('expired');
    expect(otpVerdict({ expiresAt: later(-1), attempts: 0 }, now)).toBe('expired');
    expect(otpVerdict({ expiresAt: later(60), attempts: OTP_MAX_ATTEMPTS - 1 }, now)).toBe('usable');
    expect(otpVerdict({ expiresAt: later(60), attempts: OTP_MAX_ATTEMPTS }, now)).toBe('exhausted');
    expect(otpVerdict({ expiresAt: later(60), attempts: 2 }, now, 2)).toBe('exhausted');
  });
});

describe('session tokens', () => {
  it('are 32 random bytes (base64url) stored as a SHA-256', () => {
    const t = newSessionToken();
    expect(t).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(t, 'base64url')).toHaveLength(32);
    expect(newSessionToken()).not.toBe(t);
    expect(tokenHash(t)).toMatch(/^[0-9a-f]{64}$/);
    expect(tokenHash(t)).toBe(tokenHash(t));
    expect(tokenHash(t)).not.toContain(t);
  });
});
