/**
 * Postgres side of the chat backend: users, username claims, rooms, memberships and sessions
 * (replicated between regions by Spock / pglogical) and login codes (region-local).
 *
 * Rules for a multi-master schema (../shared/reference/chat-backend.md section 5, pgedge-spock.md):
 * - every key is a UUIDv7 made in the app or a natural key; no sequences, no serial columns;
 * - one unique index per table (its PK); uniqueness of a username is the PK of `username_claims`,
 *   so two regions claiming the same name at once collide on the PK (insert_exists) and
 *   last-update-wins converges both nodes to one claim, instead of an unresolvable apply error;
 * - no foreign keys (not enforced on apply, and rows can arrive out of order between regions);
 * - region-local tables live in schema `chat_local`, which is never replicated: under Spock its
 *   DDL runs with `spock.enable_ddl_replication` and `spock.include_ddl_repset` off, so the DDL
 *   is neither sent to peers nor the tables added to a replication set; and bootstrap-spock (both
 *   dialects) takes any table of SPOCK_LOCAL_SCHEMAS (default `chat_local`, = LOCAL_SCHEMA) out
 *   of every set and puts every table of SPOCK_REPLICATION_SCHEMAS (default `public`) into one.
 */
import pg, { type Pool, type PoolClient, type PoolConfig } from 'pg';
import { v7 as uuidv7 } from 'uuid';
import type { DialectName } from '../spock/dialect.js';
import { OTP_MAX_ACTIVE, OTP_MAX_ATTEMPTS, codeMatches, otpVerdict, type IssuedCode } from './otp.js';

export type PgDialect = DialectName;

/** Replicated tables (schema public). */
export const REPLICATED_DDL: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS public.users (
    id uuid PRIMARY KEY,
    display_name text NOT NULL,
    created_at timestamptz NOT NULL
  )`,
  `CREATE TABLE IF NOT EXISTS public.username_claims (
    username_norm text PRIMARY KEY,
    user_id uuid NOT NULL,
    region text NOT NULL,
    claimed_at timestamptz NOT NULL
  )`,
  `CREATE TABLE IF NOT EXISTS public.rooms (
    id uuid PRIMARY KEY,
    name text NOT NULL,
    created_by uuid NOT NULL,
    created_at timestamptz NOT NULL
  )`,
  `CREATE TABLE IF NOT EXISTS public.room_members (
    room_id uuid NOT NULL,
    user_id uuid NOT NULL,
    role text NOT NULL CHECK (role IN ('owner', 'member')),
    joined_at timestamptz NOT NULL,
    PRIMARY KEY (room_id, user_id)
  )`,
  `CREATE TABLE IF NOT EXISTS public.sessions (
    token_hash text PRIMARY KEY,
    user_id uuid NOT NULL,
    expires_at timestamptz NOT NULL
  )`,
];

export const LOCAL_SCHEMA = 'chat_local';

/** Region-local tables (schema chat_local, never replicated). */
export const LOCAL_DDL: readonly string[] = [
  `CREATE SCHEMA IF NOT EXISTS ${LOCAL_SCHEMA}`,
  `CREATE TABLE IF NOT EXISTS ${LOCAL_SCHEMA}.otps (
    id uuid PRIMARY KEY,
    username_norm text NOT NULL,
    code_hash bytea NOT NULL,
    salt bytea NOT NULL,
    expires_at timestamptz NOT NULL,
    attempts integer NOT NULL CHECK (attempts >= 0)
  )`,
  `CREATE INDEX IF NOT EXISTS otps_username_norm_idx ON ${LOCAL_SCHEMA}.otps (username_norm, id DESC)`,
];

/** Statements that keep the current transaction's DDL out of Spock's auto-DDL and repsets. */
export const SPOCK_LOCAL_DDL_PRELUDE: readonly string[] = [
  'SET LOCAL spock.enable_ddl_replication = off',
  'SET LOCAL spock.include_ddl_repset = off',
];

/** Serializes concurrent migrations of one database (pods of one region starting together). */
const MIGRATE_LOCK_KEY = 0x63686174; // 'chat'

export interface MigrateOptions {
  readonly dialect: PgDialect;
}

export interface MigratePlan {
  /** Transactions, in order; each is a list of statements. */
  readonly transactions: ReadonlyArray<readonly string[]>;
}

/** What `migrate` runs (exported for tests and docs). */
export function migratePlan(opts: MigrateOptions): MigratePlan {
  const lock = `SELECT pg_advisory_xact_lock(${MIGRATE_LOCK_KEY})`;
  return {
    transactions: [
      [lock, ...REPLICATED_DDL],
      [...(opts.dialect === 'spock' ? SPOCK_LOCAL_DDL_PRELUDE : []), lock, ...LOCAL_DDL],
    ],
  };
}

/**
 * Creates the chat tables if missing (idempotent). Run it on every region's node AFTER
 * bootstrap-spock has created the node (in Kubernetes the init container `wait-postgres-node`
 * orders it): with Spock, auto-DDL then puts the public tables into `default` and replicates the
 * DDL (IF NOT EXISTS makes the copies from peers no-ops), and a joining region's structure sync
 * has already restored the schema. Tables that exist before the node are registered by
 * bootstrap-spock itself. With pglogical (no auto-DDL) tables created after a bootstrap run are
 * registered by the next run.
 */
export async function migrate(pool: Pool, opts: MigrateOptions): Promise<void> {
  const client = await pool.connect();
  try {
    for (const tx of migratePlan(opts).transactions) {
      await client.query('BEGIN');
      try {
        for (const sql of tx) await client.query(sql);
        await client.query('COMMIT');
      } catch (e) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw e;
      }
    }
  } finally {
    client.release();
  }
}

/** A pool with client-side bounds; idle-client errors are reported, never thrown. */
export function createPool(config: PoolConfig, onError: (e: Error) => void): Pool {
  const pool = new pg.Pool({
    max: 10,
    idleTimeoutMillis: 30_000,
    connectionTimeoutMillis: 5_000,
    query_timeout: 10_000,
    ...config,
  });
  pool.on('error', onError);
  return pool;
}

export type VerifyResult = { ok: true; userId: string } | { ok: false; reason: 'no_code' | 'expired' | 'exhausted' | 'mismatch' | 'no_user' };

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
  async storeOtp(usernameNorm: string, issued: IssuedCode, maxActive = OTP_MAX_ACTIVE): Promise<boolean> {
    const r = await this.pool.query(
      `INSERT INTO ${LOCAL_SCHEMA}.otps (id, username_norm, code_hash, salt, expires_at, attempts)
       SELECT $1, $2, $3, $4, $5, 0
       WHERE (SELECT count(*) FROM ${LOCAL_SCHEMA}.otps WHERE username_norm = $2 AND expires_at > now()) < $6`,
      [uuidv7(), usernameNorm, issued.hash, issued.salt, issued.expiresAt, maxActive],
    );
    return r.rowCount === 1;
  }

  /**
   * Checks `code` against the newest code of the name, counting the attempt first; on success
   * deletes every code of the name (single use) and returns the user.
   */
  async verifyOtp(usernameNorm: string, code: string, now = new Date(), maxAttempts = OTP_MAX_ATTEMPTS): Promise<VerifyResult> {
    const checked = await this.tx(async (c): Promise<VerifyResult> => {
      const r = await c.query<{ id: string; code_hash: Buffer; salt: Buffer; expires_at: Date; attempts: number }>(
        `SELECT id, code_hash, salt, expires_at, attempts FROM ${LOCAL_SCHEMA}.otps
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
      return { ok: true, userId: '' };
    });
    if (!checked.ok) return checked;
    const userId = await this.userIdByUsername(usernameNorm);
    return userId ? { ok: true, userId } : { ok: false, reason: 'no_user' };
  }

  async createSession(userId: string, tokenHash: string, expiresAt: Date): Promise<void> {
    await this.pool.query('INSERT INTO public.sessions (token_hash, user_id, expires_at) VALUES ($1, $2, $3)', [tokenHash, userId, expiresAt]);
  }

  async sessionUser(tokenHash: string): Promise<string | undefined> {
    const r = await this.pool.query<{ user_id: string }>('SELECT user_id FROM public.sessions WHERE token_hash = $1 AND expires_at > now()', [tokenHash]);
    return r.rows[0]?.user_id;
  }

  /** The room and its owner's membership, in one transaction. */
  async createRoom(roomId: string, name: string, createdBy: string): Promise<void> {
    await this.tx(async (c) => {
      await c.query('INSERT INTO public.rooms (id, name, created_by, created_at) VALUES ($1, $2, $3, now())', [roomId, name, createdBy]);
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

  /** Makes the user a member (idempotent); false when the room does not exist. */
  async joinRoom(roomId: string, userId: string): Promise<boolean> {
    const r = await this.pool.query(
      `INSERT INTO public.room_members (room_id, user_id, role, joined_at)
       SELECT $1, $2, 'member', now() WHERE EXISTS (SELECT 1 FROM public.rooms WHERE id = $1)
       ON CONFLICT (room_id, user_id) DO NOTHING`,
      [roomId, userId],
    );
    if ((r.rowCount ?? 0) > 0) return true;
    return this.isMember(roomId, userId);
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
