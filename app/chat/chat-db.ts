/**
 * The chat backend's Postgres queries (schema and migration: ./postgres.ts). Every key is a
 * UUIDv7 made here or a natural key; rows replicate between regions (Spock), so a membership or
 * a room made in one region is visible in another about a second later.
 *
 * Rooms are `public` (anyone may join) or `private` (members only: the owner adds them with
 * `addMember`). A user's e-mail address is bound on the first successful login that gave one;
 * later codes always go to the bound address.
 */
import type { Pool, PoolClient } from 'pg';
import { v7 as uuidv7 } from 'uuid';
import { OTP_MAX_ACTIVE, OTP_MAX_ATTEMPTS, codeMatches, otpVerdict, type IssuedCode } from './otp.js';
import { LOCAL_SCHEMA } from './postgres.js';

export type RoomVisibility = 'public' | 'private';

/** What a user may do with a room. `none`: no such room, or private and not a member. */
export type RoomAccess =
  | { readonly kind: 'none' }
  | { readonly kind: 'member'; readonly role: 'owner' | 'member'; readonly visibility: RoomVisibility }
  | { readonly kind: 'may_join'; readonly visibility: 'public' };

export type VerifyResult = { ok: true; userId: string; email?: string } | { ok: false; reason: 'no_code' | 'expired' | 'exhausted' | 'mismatch' | 'no_user' };

/** Queries of the chat backend. */
export class ChatDb {
  constructor(
    readonly pool: Pool,
    private readonly region: string,
  ) {}

  async ping(): Promise<void> {
    await this.pool.query('SELECT 1');
  }

  private async tx<T>(fn: (c: PoolClient) => Promise<T>): Promise<T> {
    const c = await this.pool.connect();
    try {
      await c.query('BEGIN');
      const out = await fn(c);
      await c.query('COMMIT');
      return out;
    } catch (e) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw e;
    } finally {
      c.release();
    }
  }

  async userIdByUsername(usernameNorm: string): Promise<string | undefined> {
    const r = await this.pool.query<{ user_id: string }>('SELECT user_id FROM public.username_claims WHERE username_norm = $1', [usernameNorm]);
    return r.rows[0]?.user_id;
  }

  /** The user owning `usernameNorm`, created with a claim (PK = the name) if there is none. */
  async findOrCreateUser(usernameNorm: string, displayName: string): Promise<{ userId: string; created: boolean }> {
    const existing = await this.userIdByUsername(usernameNorm);
    if (existing) return { userId: existing, created: false };
    const userId = uuidv7();
    const claimed = await this.tx(async (c) => {
      await c.query('INSERT INTO public.users (id, display_name, created_at) VALUES ($1, $2, now())', [userId, displayName]);
      const r = await c.query(
        `INSERT INTO public.username_claims (username_norm, user_id, region, claimed_at) VALUES ($1, $2, $3, now())
         ON CONFLICT (username_norm) DO NOTHING RETURNING user_id`,
        [usernameNorm, userId, this.region],
      );
      if (r.rowCount === 0) throw new ClaimTaken();
      return true;
    }).catch((e: unknown) => {
      if (e instanceof ClaimTaken) return false;
      throw e;
    });
    if (claimed) return { userId, created: true };
    const winner = await this.userIdByUsername(usernameNorm);
    if (!winner) throw new Error('username claim vanished while creating the user');
    return { userId: winner, created: false };
  }

  /** Stores a hashed code unless OTP_MAX_ACTIVE codes are live for the name. */
  async storeOtp(usernameNorm: string, issued: IssuedCode, email: string | undefined, maxActive = OTP_MAX_ACTIVE): Promise<boolean> {
    const r = await this.pool.query(
      `INSERT INTO ${LOCAL_SCHEMA}.otps (id, username_norm, code_hash, salt, expires_at, attempts, email)
       SELECT $1, $2, $3, $4, $5, 0, $7
       WHERE (SELECT count(*) FROM ${LOCAL_SCHEMA}.otps WHERE username_norm = $2 AND expires_at > now()) < $6`,
      [uuidv7(), usernameNorm, issued.hash, issued.salt, issued.expiresAt, maxActive, email ?? null],
    );
    return r.rowCount === 1;
  }

  /**
   * Checks `code` against the newest code of the name, counting the attempt first; on success
   * deletes every code of the name (single use) and returns the user.
   */
  async verifyOtp(usernameNorm: string, code: string, now = new Date(), maxAttempts = OTP_MAX_ATTEMPTS): Promise<VerifyResult> {
    const checked = await this.tx(async (c): Promise<VerifyResult> => {
      const r = await c.query<{ id: string; code_hash: Buffer; salt: Buffer; expires_at: Date; attempts: number; email: string | null }>(
        `SELECT id, code_hash, salt, expires_at, attempts, email FROM ${LOCAL_SCHEMA}.otps
         WHERE username_norm = $1 ORDER BY id DESC LIMIT 1 FOR UPDATE`,
        [usernameNorm],
      );
      const row = r.rows[0];
      if (!row) return { ok: false, reason: 'no_code' };
      const verdict = otpVerdict({ expiresAt: row.expires_at, attempts: row.attempts }, now, maxAttempts);
      if (verdict !== 'usable') return { ok: false, reason: verdict };
      await c.query(`UPDATE ${LOCAL_SCHEMA}.otps SET attempts = attempts + 1 WHERE id = $1`, [row.id]);
      if (!(await codeMatches(code, row.salt, row.code_hash))) return { ok: false, reason: 'mismatch' };
      await c.query(`DELETE FROM ${LOCAL_SCHEMA}.otps WHERE username_norm = $1`, [usernameNorm]);
      return { ok: true, userId: '', ...(row.email ? { email: row.email } : {}) };
    });
    if (!checked.ok) return checked;
    const userId = await this.userIdByUsername(usernameNorm);
    return userId ? { ...checked, userId } : { ok: false, reason: 'no_user' };
  }

  async createSession(userId: string, tokenHash: string, expiresAt: Date): Promise<void> {
    await this.pool.query('INSERT INTO public.sessions (token_hash, user_id, expires_at) VALUES ($1, $2, $3)', [tokenHash, userId, expiresAt]);
  }

  async sessionUser(tokenHash: string): Promise<string | undefined> {
    const r = await this.pool.query<{ user_id: string }>('SELECT user_id FROM public.sessions WHERE token_hash = $1 AND expires_at > now()', [tokenHash]);
    return r.rows[0]?.user_id;
  }

  /** The user's bound e-mail address, if any. */
  async userEmail(userId: string): Promise<string | undefined> {
    const r = await this.pool.query<{ email: string | null }>('SELECT email FROM public.users WHERE id = $1', [userId]);
    return r.rows[0]?.email ?? undefined;
  }

  /** Binds `email` to the user unless one is bound already (first login wins). */
  async bindEmail(userId: string, email: string): Promise<void> {
    await this.pool.query('UPDATE public.users SET email = $2 WHERE id = $1 AND email IS NULL', [userId, email]);
  }

  /** The room and its owner's membership, in one transaction. */
  async createRoom(roomId: string, name: string, createdBy: string, visibility: RoomVisibility): Promise<void> {
    await this.tx(async (c) => {
      await c.query('INSERT INTO public.rooms (id, name, created_by, created_at, visibility) VALUES ($1, $2, $3, now(), $4)', [roomId, name, createdBy, visibility]);
      await c.query(`INSERT INTO public.room_members (room_id, user_id, role, joined_at) VALUES ($1, $2, 'owner', now())`, [roomId, createdBy]);
    });
  }

  async roomExists(roomId: string): Promise<boolean> {
    const r = await this.pool.query('SELECT 1 FROM public.rooms WHERE id = $1', [roomId]);
    return (r.rowCount ?? 0) > 0;
  }

  async isMember(roomId: string, userId: string): Promise<boolean> {
    const r = await this.pool.query('SELECT 1 FROM public.room_members WHERE room_id = $1 AND user_id = $2', [roomId, userId]);
    return (r.rowCount ?? 0) > 0;
  }

  /** One query: the room's visibility and the user's role in it. */
  async roomAccess(roomId: string, userId: string): Promise<RoomAccess> {
    const r = await this.pool.query<{ visibility: RoomVisibility; role: 'owner' | 'member' | null }>(
      `SELECT coalesce(r.visibility, 'public') AS visibility, m.role FROM public.rooms r
       LEFT JOIN public.room_members m ON m.room_id = r.id AND m.user_id = $2
       WHERE r.id = $1`,
      [roomId, userId],
    );
    const row = r.rows[0];
    if (!row) return { kind: 'none' };
    if (row.role) return { kind: 'member', role: row.role, visibility: row.visibility };
    return row.visibility === 'public' ? { kind: 'may_join', visibility: 'public' } : { kind: 'none' };
  }

  /** Makes the user a member of a PUBLIC room (idempotent); false when there is no such public room. */
  async joinPublicRoom(roomId: string, userId: string): Promise<boolean> {
    const r = await this.pool.query(
      `INSERT INTO public.room_members (room_id, user_id, role, joined_at)
       SELECT $1, $2, 'member', now() WHERE EXISTS (SELECT 1 FROM public.rooms WHERE id = $1 AND coalesce(visibility, 'public') = 'public')
       ON CONFLICT (room_id, user_id) DO NOTHING`,
      [roomId, userId],
    );
    if ((r.rowCount ?? 0) > 0) return true;
    return this.isMember(roomId, userId);
  }

  /** The owner `by` adds `userId` to the room (idempotent). False when `by` does not own the room. */
  async addMember(roomId: string, by: string, userId: string): Promise<boolean> {
    const r = await this.pool.query(
      `INSERT INTO public.room_members (room_id, user_id, role, joined_at)
       SELECT $1, $3, 'member', now()
       WHERE EXISTS (SELECT 1 FROM public.room_members WHERE room_id = $1 AND user_id = $2 AND role = 'owner')
       ON CONFLICT (room_id, user_id) DO NOTHING`,
      [roomId, by, userId],
    );
    if ((r.rowCount ?? 0) > 0) return true;
    const owner = await this.pool.query(`SELECT 1 FROM public.room_members WHERE room_id = $1 AND user_id = $2 AND role = 'owner'`, [roomId, by]);
    return (owner.rowCount ?? 0) > 0;
  }

  async leaveRoom(roomId: string, userId: string): Promise<void> {
    await this.pool.query('DELETE FROM public.room_members WHERE room_id = $1 AND user_id = $2', [roomId, userId]);
  }

  /**
   * Removes expired codes (region-local). Expired sessions are only filtered on read: deleting
   * them from every region would race replicated deletes against each other (delete_missing
   * conflicts); purge them from one place if needed.
   */
  async cleanupOtps(): Promise<number> {
    const o = await this.pool.query(`DELETE FROM ${LOCAL_SCHEMA}.otps WHERE expires_at < now() - interval '1 hour'`);
    return o.rowCount ?? 0;
  }
}

class ClaimTaken extends Error {}

