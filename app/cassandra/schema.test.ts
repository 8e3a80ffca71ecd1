/** The chat CQL builders and the bucket rule: pure, no server. */
import { v4 as uuidV4, v7 as uuidV7 } from 'uuid';
import { describe, expect, it } from 'vitest';
import {
  alterKeyspaceCql,
  alterLoginRoleCql,
  BUCKET_MS,
  bucketOf,
  bucketOfTime,
  CLIENT_MESSAGES_TABLE,
  createKeyspaceCql,
  createLoginRoleCql,
  createTableCql,
  cqlString,
  grantOnKeyspaceCql,
  keyspaceResource,
  MESSAGE_CLIENT_IDS_TABLE,
  MESSAGES_TABLE,
  quoteIdentifier,
  TABLES,
  replicationFor,
  replicationMap,
  uuidV7Millis,
  validateDcName,
  validateKeyspaceName,
  validateRoleName,
} from './schema.js';

describe('bucketOf', () => {
  it('is 10 days wide', () => {
    expect(BUCKET_MS).toBe(864_000_000);
  });

  it('reads the 48-bit millisecond timestamp of a UUIDv7', () => {
    const ms = Date.UTC(2026, 10, 26, 9, 30, 0, 123);
    const id = uuidV7({ msecs: ms });
    expect(uuidV7Millis(id)).toBe(ms);
    expect(bucketOf(id)).toBe(Math.floor(ms / BUCKET_MS));
    expect(bucketOf(id.toUpperCase())).toBe(bucketOf(id));
  });

  it('puts the last millisecond of a window and the first of the next in adjacent buckets', () => {
    const edge = 2048 * BUCKET_MS;
    expect(bucketOf(uuidV7({ msecs: edge - 1 }))).toBe(2047);
    expect(bucketOf(uuidV7({ msecs: edge }))).toBe(2048);
    expect(bucketOfTime(0)).toBe(0);
    expect(bucketOf('00000000-0000-7000-8000-000000000000')).toBe(0);
  });

  it('handles the largest 48-bit time', () => {
    expect(bucketOf('ffffffff-ffff-7fff-bfff-ffffffffffff')).toBe(Math.floor((2 ** 48 - 1) / BUCKET_MS));
  });

  it('orders like the ids: a later id never has a smaller bucket', () => {
    let prev = -1;
    for (let ms = Date.UTC(2025, 0, 1); ms < Date.UTC(2026, 0, 1); ms += 3 * 24 * 3600 * 1000 + 12345) {
      const b = bucketOf(uuidV7({ msecs: ms }));
      expect(b).toBeGreaterThanOrEqual(prev);
      prev = b;
    }
  });

  it('rejects ids that are not UUIDv7', () => {
    expect(() => bucketOf(uuidV4())).toThrow(/not a UUIDv7/);
    expect(() => bucketOf('not-a-uuid')).toThrow(/not a UUID/);
    expect(() => bucketOf('017f22e2-79b0-7cc3-0000-000000000000')).toThrow(/variant/);
    expect(() => bucketOfTime(-1)).toThrow();
    expect(() => bucketOfTime(Number.NaN)).toThrow();
  });
});

describe('names', () => {
  it('accepts plain names', () => {
    expect(validateKeyspaceName('chat')).toBe('chat');
    expect(validateKeyspaceName('chat_2')).toBe('chat_2');
    expect(validateRoleName('chat_app')).toBe('chat_app');
    expect(validateRoleName('Chat-App.v2')).toBe('Chat-App.v2');
    expect(validateDcName('us-east-1')).toBe('us-east-1');
    expect(validateDcName('DC1')).toBe('DC1');
  });

  it.each([
    ['', 'empty'],
    ['Chat', 'upper case'],
    ['1chat', 'leading digit'],
    ['chat-x', 'hyphen'],
    ['chat"; DROP KEYSPACE x; --', 'injection'],
    ['a'.repeat(49), 'too long'],
    ['system_auth', 'system prefix'],
  ])('rejects keyspace %j (%s)', (name) => {
    expect(() => validateKeyspaceName(name)).toThrow(/invalid keyspace name/);
  });

  it.each(["app'; DROP ROLE x; --", 'app"x', 'app x', '', '-app', 'a'.repeat(65)])('rejects role %j', (name) => {
    expect(() => validateRoleName(name)).toThrow(/invalid role name/);
  });

  it.each(["dc1': 3, 'x", 'dc 1', '', '-dc', 'dc/1', 'a'.repeat(64)])('rejects DC %j', (name) => {
    expect(() => validateDcName(name)).toThrow(/invalid datacenter name/);
  });

  it('quotes identifiers and string literals', () => {
    expect(quoteIdentifier('chat')).toBe('"chat"');
    expect(quoteIdentifier('a"b')).toBe('"a""b"');
    expect(cqlString("it's")).toBe("'it''s'");
    expect(cqlString("''")).toBe("''''''");
    expect(cqlString('')).toBe("''");
  });
});

describe('keyspace CQL', () => {
  it('lists exactly the given DCs at the given RF, durable', () => {
    expect(createKeyspaceCql('chat', replicationFor(['us-east-1', 'eu-west-1'], 3))).toBe(
      `CREATE KEYSPACE IF NOT EXISTS "chat" WITH replication = {'class': 'NetworkTopologyStrategy', 'eu-west-1': 3, 'us-east-1': 3} AND durable_writes = true`,
    );
    expect(alterKeyspaceCql('chat', { dc1: 1 })).toBe(
      `ALTER KEYSPACE "chat" WITH replication = {'class': 'NetworkTopologyStrategy', 'dc1': 1} AND durable_writes = true`,
    );
  });

  it('gives the same text whatever the order of the DCs', () => {
    expect(replicationMap(replicationFor(['b', 'a', 'c'], 2))).toBe(replicationMap(replicationFor(['c', 'a', 'b'], 2)));
  });

  it('handles N DCs', () => {
    const dcs = Array.from({ length: 12 }, (_, i) => `r${i + 1}`);
    const text = createKeyspaceCql('chat', replicationFor(dcs, 3));
    for (const dc of dcs) expect(text).toContain(`'${dc}': 3`);
    expect(text.match(/': 3/g)).toHaveLength(12);
  });

  it('rejects bad replication input', () => {
    expect(() => replicationFor([], 3)).toThrow(/at least one/);
    expect(() => replicationFor(['dc1', 'dc1'], 3)).toThrow(/twice/);
    expect(() => replicationFor(['dc1'], 0)).toThrow(/replication factor/);
    expect(() => replicationFor(['dc1'], 1.5)).toThrow(/replication factor/);
    expect(() => replicationFor(["dc1','x':'1"], 1)).toThrow(/invalid datacenter/);
    expect(() => createKeyspaceCql('bad-name', { dc1: 1 })).toThrow(/invalid keyspace/);
    expect(() => replicationMap({})).toThrow(/at least one/);
  });
});

describe('table CQL', () => {
  it('messages: (room_id, bucket) partitions, newest message first', () => {
    expect(createTableCql('chat', MESSAGES_TABLE)).toBe(
      'CREATE TABLE IF NOT EXISTS "chat".messages (room_id uuid, bucket int, message_id uuid, author_id uuid, client_message_id text, ' +
        'origin_region text, body text, created_at timestamp, PRIMARY KEY ((room_id, bucket), message_id)) WITH CLUSTERING ORDER BY (message_id DESC)',
    );
  });

  it('client_messages: one row per (author, client message id), expiring after a day', () => {
    expect(createTableCql('chat', CLIENT_MESSAGES_TABLE)).toBe(
      'CREATE TABLE IF NOT EXISTS "chat".client_messages (author_id uuid, client_message_id text, room_id uuid, message_id uuid, ' +
        'PRIMARY KEY ((author_id, client_message_id))) WITH default_time_to_live = 86400',
    );
  });

  it('message_client_ids: de-duplication rows in the partition of their message, expiring after a day', () => {
    expect(createTableCql('chat', MESSAGE_CLIENT_IDS_TABLE)).toBe(
      'CREATE TABLE IF NOT EXISTS "chat".message_client_ids (room_id uuid, bucket int, author_id uuid, client_message_id text, message_id uuid, ' +
        'PRIMARY KEY ((room_id, bucket), author_id, client_message_id)) WITH CLUSTERING ORDER BY (author_id ASC, client_message_id ASC) AND default_time_to_live = 86400',
    );
    // One mutation per batch needs byte-identical partition keys: same columns, types, order.
    const partitionKey = (t: typeof MESSAGES_TABLE) => t.columns.filter((c) => c.kind === 'partition_key').map((c) => `${c.name} ${c.type}`);
    expect(partitionKey(MESSAGE_CLIENT_IDS_TABLE)).toEqual(['room_id uuid', 'bucket int']);
    expect(partitionKey(MESSAGES_TABLE)).toEqual(['room_id uuid', 'bucket int']);
  });

  it('keeps the legacy client_messages table (rolling updates, rollback) next to the new one', () => {
    expect(TABLES.map((t) => t.name)).toEqual(['messages', 'client_messages', 'message_client_ids']);
  });

  it('can pin the table id', () => {
    const id = '5a1c395e-b41f-51e5-9f22-ba0be0483c18';
    expect(createTableCql('chat', MESSAGES_TABLE, { id })).toMatch(/WITH CLUSTERING ORDER BY \(message_id DESC\) AND id = 5a1c395e-b41f-51e5-9f22-ba0be0483c18$/);
    expect(() => createTableCql('chat', MESSAGES_TABLE, { id: 'x; DROP TABLE y' })).toThrow(/invalid table id/);
  });
});

describe('role CQL', () => {
  it('puts the password in an escaped string literal and the role in a quoted identifier', () => {
    expect(createLoginRoleCql('chat_app', "p'ss\"w0rd")).toBe(
      `CREATE ROLE IF NOT EXISTS "chat_app" WITH LOGIN = true AND SUPERUSER = false AND PASSWORD = 'p''ss"w0rd'`,
    );
    expect(alterLoginRoleCql('chat_app', "'; DROP ROLE cassandra; --")).toBe(
      `ALTER ROLE "chat_app" WITH LOGIN = true AND PASSWORD = '''; DROP ROLE cassandra; --'`,
    );
  });

  it('rejects empty passwords and bad role names', () => {
    expect(() => createLoginRoleCql('chat_app', '')).toThrow(/empty/);
    expect(() => createLoginRoleCql('x"; --', 'pw')).toThrow(/invalid role/);
  });

  it('grants only SELECT and MODIFY on one keyspace', () => {
    expect(grantOnKeyspaceCql('SELECT', 'chat', 'chat_app')).toBe('GRANT SELECT ON KEYSPACE "chat" TO "chat_app"');
    expect(grantOnKeyspaceCql('MODIFY', 'chat', 'chat_app')).toBe('GRANT MODIFY ON KEYSPACE "chat" TO "chat_app"');
    expect(() => grantOnKeyspaceCql('ALL' as 'SELECT', 'chat', 'chat_app')).toThrow(/unexpected permission/);
    expect(keyspaceResource('chat')).toBe('data/chat');
  });
});
