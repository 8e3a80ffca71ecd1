import { describe, expect, it } from 'vitest';
import { DEFAULT_LOCAL_SCHEMAS, DEFAULT_REPLICATION_SCHEMAS } from '../spock/settings.js';
import { LOCAL_DDL, LOCAL_SCHEMA, REPLICATED_DDL, SPOCK_LOCAL_DDL_PRELUDE, migratePlan } from './postgres.js';

describe('Postgres schema for a multi-master mesh', () => {
  const all = [...REPLICATED_DDL, ...LOCAL_DDL].join('\n');

  it('has the tables of the contract, every one with a primary key', () => {
    const tables = [...all.matchAll(/CREATE TABLE IF NOT EXISTS ([a-z_]+\.[a-z_]+)/g)].map((m) => m[1]);
    expect(tables).toEqual(['public.users', 'public.username_claims', 'public.rooms', 'public.room_members', 'public.sessions', 'chat_local.otps']);
    for (const ddl of [...REPLICATED_DDL, ...LOCAL_DDL].filter((d) => d.startsWith('CREATE TABLE'))) expect(ddl).toMatch(/PRIMARY KEY/);
    expect(REPLICATED_DDL.find((d) => d.includes('username_claims'))).toMatch(/username_norm text PRIMARY KEY/);
    expect(REPLICATED_DDL.find((d) => d.includes('room_members'))).toMatch(/PRIMARY KEY \(room_id, user_id\)/);
  });

  it('uses no sequences, serial columns, secondary unique keys or foreign keys', () => {
    expect(all).not.toMatch(/serial|sequence|nextval|identity|UNIQUE|REFERENCES|DEFAULT/i);
  });

  it('keeps region-local tables in chat_local and replicated ones out of it', () => {
    expect(REPLICATED_DDL.join('\n')).not.toContain(LOCAL_SCHEMA);
    for (const d of LOCAL_DDL) expect(d).toContain(LOCAL_SCHEMA);
  });

  it("is what bootstrap-spock's defaults replicate and keep region-local (SPOCK_REPLICATION_SCHEMAS, SPOCK_LOCAL_SCHEMAS)", () => {
    const schemasOf = (ddl: readonly string[]) => [...new Set([...ddl.join('\n').matchAll(/CREATE TABLE IF NOT EXISTS ([a-z_]+)\./g)].map((m) => m[1]))];
    expect(schemasOf(REPLICATED_DDL)).toEqual([...DEFAULT_REPLICATION_SCHEMAS]);
    expect(schemasOf(LOCAL_DDL)).toEqual([LOCAL_SCHEMA]);
    expect(DEFAULT_LOCAL_SCHEMAS).toEqual([LOCAL_SCHEMA]);
  });

  it('under spock, runs only the chat_local transaction with DDL replication and repset inclusion off', () => {
    const [pub, local] = migratePlan({ dialect: 'spock' }).transactions;
    expect(local!.slice(0, 2)).toEqual([...SPOCK_LOCAL_DDL_PRELUDE]);
    expect(SPOCK_LOCAL_DDL_PRELUDE).toEqual(['SET LOCAL spock.enable_ddl_replication = off', 'SET LOCAL spock.include_ddl_repset = off']);
    expect(pub!.join('\n')).not.toContain('spock');
    expect(local!.filter((s) => s.startsWith('CREATE') || s.startsWith('ALTER'))).toEqual([...LOCAL_DDL]);
    // pglogical has no auto-DDL: nothing to switch off.
    expect(migratePlan({ dialect: 'pglogical' }).transactions.flat().join('\n')).not.toContain('spock');
  });

  it('serializes concurrent migrations with a transaction-scoped advisory lock', () => {
    for (const tx of migratePlan({ dialect: 'spock' }).transactions) expect(tx.some((s) => /pg_advisory_xact_lock/.test(s))).toBe(true);
  });
});
