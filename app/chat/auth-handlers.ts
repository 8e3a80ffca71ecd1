/**
 * login.request, login.verify and auth. A login code is stored hashed (region-local table) and
 * sent by the configured sender; an e-mail given with the request is bound to the user only when
 * that code is verified (receiving it proved the address), and once bound, codes always go there.
 */
import { NoContactAddress } from './code-sender.js';
import type { Connection } from './connection.js';
import { Refusal } from './errors.js';
import type { HandlerContext } from './handler-context.js';
import { OTP_TTL_SECONDS, SESSION_TTL_SECONDS, issueCode, newSessionToken, tokenHash } from './otp.js';
import { normalizeUsername, type ClientFrame } from './protocol.js';

const EMAIL_REQUIRED = new Refusal('email_required', 'this account has no e-mail address yet: send login.request with email');

type Frame<T extends ClientFrame['type']> = Extract<ClientFrame, { type: T }>;

export async function loginRequest(ctx: HandlerContext, c: Connection, f: Frame<'login.request'>): Promise<void> {
  const norm = normalizeUsername(f.username);
  if (!norm) throw new Refusal('invalid_username', 'usernames are 3-32 characters: letters, digits, _ . - (starting with a letter or digit)');
  const display = f.username.normalize('NFC').trim();
  const db = ctx.deps.db;
  const { userId } = await db.findOrCreateUser(norm, display);
  const bound = await db.userEmail(userId);
  const email = bound ?? f.email;
  // Refuse before a code is issued: a code nobody can receive would count toward the limit.
  if (!email && ctx.codeSender.needsEmail) throw EMAIL_REQUIRED;
  const issued = await issueCode();
  if (!(await db.storeOtp(norm, issued, bound ? undefined : f.email))) {
    throw new Refusal('too_many_codes', 'too many login codes requested for this user; wait a few minutes');
  }
  try {
    await ctx.codeSender.send({ username: display, usernameNorm: norm, userId, ...(email ? { email } : {}), code: issued.code, expiresAt: issued.expiresAt });
  } catch (e) {
    if (e instanceof NoContactAddress) throw EMAIL_REQUIRED;
    throw e;
  }
  c.reply(f.ref, { type: 'login.code_sent', username: norm, expiresInSeconds: OTP_TTL_SECONDS });
}

export async function loginVerify(ctx: HandlerContext, c: Connection, f: Frame<'login.verify'>): Promise<void> {
  if (c.userId !== undefined) throw new Refusal('already_authenticated', 'this connection is already authenticated');
  const norm = normalizeUsername(f.username);
  const db = ctx.deps.db;
  const result = norm ? await db.verifyOtp(norm, f.code) : ({ ok: false, reason: 'no_code' } as const);
  if (!result.ok) {
    ctx.failedAuth(c);
    throw new Refusal('invalid_code', 'the code is wrong, expired or used up; request a new one');
  }
  if (result.email) await db.bindEmail(result.userId, result.email);
  ctx.authenticate(c, result.userId);
  const token = newSessionToken();
  const expiresAt = new Date(Date.now() + SESSION_TTL_SECONDS * 1000);
  await db.createSession(result.userId, tokenHash(token), expiresAt);
  ctx.log.info('login', { userId: result.userId, conn: c.id });
  c.reply(f.ref, { type: 'login.ok', token, userId: result.userId, expiresAt: expiresAt.toISOString() });
}

export async function auth(ctx: HandlerContext, c: Connection, f: Frame<'auth'>): Promise<void> {
  if (c.userId !== undefined) throw new Refusal('already_authenticated', 'this connection is already authenticated');
  const uid = await ctx.deps.db.sessionUser(tokenHash(f.token));
  if (!uid) {
    ctx.failedAuth(c);
    throw new Refusal('auth_failed', 'unknown or expired session');
  }
  ctx.authenticate(c, uid);
  c.reply(f.ref, { type: 'auth.ok', userId: uid });
}
