/**
 * Postgres schema of the chat backend (the queries are in ./chat-db.ts): users, username claims, rooms,
 * memberships and sessions
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
import pg, { type Pool, type PoolConfig } from 'pg';
import type { DialectName } from '../spock/dialect.js';

export type PgDialect = DialectName;

/** Replicated tables (schema public). */
export const REPLICATED_DDL: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS public.users (
    id uuid PRIMARY KEY,
    display_name text NOT NULL,
    created_at timestamptz NOT NULL,
    email text
  )`,
  // Columns added after the first release: ADD COLUMN IF NOT EXISTS is a no-op on a fresh table and on a peer
  // that received the DDL already (Spock auto-DDL replicates it; pglogical nodes run it themselves).
  `ALTER TABLE public.users ADD COLUMN IF NOT EXISTS email text`,
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
    created_at timestamptz NOT NULL,
    visibility text CHECK (visibility IN ('public', 'private'))
  )`,
  // Rooms created before visibility existed were joinable by anyone: NULL reads as public (no
  // DEFAULT: the app always writes the value, so every node stores the same row).
  `ALTER TABLE public.rooms ADD COLUMN IF NOT EXISTS visibility text CHECK (visibility IN ('public', 'private'))`,
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
  // The address the code went to: bound to the user when the code is verified (it proved the address).
  `ALTER TABLE ${LOCAL_SCHEMA}.otps ADD COLUMN IF NOT EXISTS email text`,
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
