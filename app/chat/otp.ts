/**
 * One-time login codes and session tokens.
 *
 * A code is 6 random digits. Only its scrypt hash (per-code 16-byte random salt, N=2^14, r=8,
 * p=1, 32 bytes) is stored, region-local (chat_local.otps, never replicated), with an expiry and
 * an attempt counter: a code is good for OTP_TTL_SECONDS and OTP_MAX_ATTEMPTS guesses, only the
 * newest code of a username counts, it is deleted when used, and at most OTP_MAX_ACTIVE codes
 * per username may be live at once.
 *
 * Session tokens are 32 random bytes (base64url, 43 characters); only their SHA-256 is stored
 * (replicated `sessions` table). A token has 256 bits of entropy, so an unsalted fast hash is
 * enough: the table alone does not let anyone log in.
 */
import { createHash, randomBytes, randomInt, scrypt as scryptCb, timingSafeEqual } from 'node:crypto';

export const OTP_TTL_SECONDS = 300;
export const OTP_MAX_ATTEMPTS = 5;
export const OTP_MAX_ACTIVE = 5;
export const SESSION_TTL_SECONDS = 30 * 24 * 3600;

const SCRYPT = { N: 16_384, r: 8, p: 1, maxmem: 64 * 1024 * 1024 } as const;
const KEY_LEN = 32;

export function generateCode(): string {
  return String(randomInt(0, 1_000_000)).padStart(6, '0');
}

export function newSalt(): Buffer {
  return randomBytes(16);
}

/** scrypt(code, salt): runs on libuv's thread pool, so it does not block the event loop. */
export function hashCode(code: string, salt: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scryptCb(code, salt, KEY_LEN, SCRYPT, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

/** Constant-time comparison of `code` against a stored hash. */
export async function codeMatches(code: string, salt: Buffer, storedHash: Buffer): Promise<boolean> {
  if (storedHash.length !== KEY_LEN) return false;
  const got = await hashCode(code, salt);
  return timingSafeEqual(got, storedHash);
}

export interface IssuedCode {
  readonly code: string;
  readonly salt: Buffer;
  readonly hash: Buffer;
  readonly expiresAt: Date;
}

export async function issueCode(now: Date = new Date(), ttlSeconds = OTP_TTL_SECONDS): Promise<IssuedCode> {
  const code = generateCode();
  const salt = newSalt();
  return { code, salt, hash: await hashCode(code, salt), expiresAt: new Date(now.getTime() + ttlSeconds * 1000) };
}

export interface StoredOtp {
  readonly expiresAt: Date;
  readonly attempts: number;
}

export type OtpVerdict = 'usable' | 'expired' | 'exhausted';

/** Whether a stored code may still be tried (before counting this attempt). */
export function otpVerdict(otp: StoredOtp, now: Date, maxAttempts = OTP_MAX_ATTEMPTS): OtpVerdict {
  if (otp.expiresAt.getTime() <= now.getTime()) return 'expired';
  if (otp.attempts >= maxAttempts) return 'exhausted';
  return 'usable';
}

export function newSessionToken(): string {
  return randomBytes(32).toString('base64url');
}

/** What the sessions table stores for a token: hex SHA-256. */
export function tokenHash(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}
