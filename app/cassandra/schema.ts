/**
 * The chat keyspace in CQL, as functions of validated names.
 *
 * Keyspace, role and DC names end up inside CQL text (DDL takes no bind markers for them), so
 * every builder validates its names strictly first and then quotes them: identifiers in double
 * quotes, DC names as string literals. Nothing here talks to a server.
 *
 * Messages are partitioned by (room_id, bucket) and clustered by message_id DESC (newest first,
 * Discord's layout). Message ids are UUIDv7, whose first 48 bits are Unix milliseconds, and the
 * bucket is a fixed 10-day window of that time: `bucketOf(id) = floor(ms(id) / BUCKET_MS)`.
 *
 * Retried sends are de-duplicated through `message_client_ids`, which has exactly the partition
 * key of `messages` (room_id uuid, bucket int, in that order): a batch writing a message and its
 * de-duplication row is then ONE Cassandra mutation (see app/chat/message-writer.ts).
 */

/** 10 days: the width of one history partition. */
export const BUCKET_MS = 10 * 24 * 60 * 60 * 1000;

/** Retry de-duplication window: time-to-live of a message_client_ids (and client_messages) row, seconds (1 day). */
export const CLIENT_MESSAGE_TTL_SECONDS = 86_400;

export const DEFAULT_KEYSPACE = 'chat';

const UUID = /^([0-9a-f]{8})-([0-9a-f]{4})-([0-9a-f])([0-9a-f]{3})-([0-9a-f])([0-9a-f]{3})-([0-9a-f]{12})$/i;

/** Unix milliseconds stored in a UUIDv7 (throws for anything else). */
export function uuidV7Millis(id: string): number {
  const m = UUID.exec(id);
  if (!m) throw new Error(`not a UUID: ${JSON.stringify(id)}`);
  if (m[3] !== '7') throw new Error(`not a UUIDv7 (version ${m[3]}): ${id}`);
  if (!/[89ab]/i.test(m[5]!)) throw new Error(`not an RFC 9562 UUID (variant nibble ${m[5]}): ${id}`);
  return parseInt(`${m[1]}${m[2]}`, 16);
}

/** The history bucket of a time in Unix milliseconds. */
export function bucketOfTime(ms: number): number {
  if (!Number.isFinite(ms) || ms < 0) throw new Error(`invalid time for a bucket: ${ms}`);
  return Math.floor(ms / BUCKET_MS);
}

/** The history bucket of a message id (UUIDv7). */
export function bucketOf(messageId: string): number {
  return bucketOfTime(uuidV7Millis(messageId));
}

// ---------------------------------------------------------------------------------------------
// Names

/** Keyspace (and table) names: lower-case, as Cassandra folds unquoted names, max 48 chars. */
export const KEYSPACE_NAME = /^[a-z][a-z0-9_]{0,47}$/;
/** Role names: letters, digits, `_`, `-`, `.`; starts with a letter; max 64 chars. */
export const ROLE_NAME = /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/;
/** Cassandra DC names (k8ssandra DC names are DNS-1035 labels; this is a safe superset). */
export const DC_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

export function validateKeyspaceName(name: string): string {
  if (!KEYSPACE_NAME.test(name)) {
    throw new Error(`invalid keyspace name ${JSON.stringify(name)}: use a lower-case letter, then lower-case letters, digits or _ (at most 48 chars)`);
  }
  if (name.startsWith('system')) throw new Error(`invalid keyspace name ${JSON.stringify(name)}: names starting with "system" are Cassandra's`);
  return name;
}

export function validateRoleName(name: string): string {
  if (!ROLE_NAME.test(name)) {
    throw new Error(`invalid role name ${JSON.stringify(name)}: use a letter, then letters, digits, _ . or - (at most 64 chars)`);
  }
  return name;
}

export function validateDcName(name: string): string {
  if (!DC_NAME.test(name)) {
    throw new Error(`invalid datacenter name ${JSON.stringify(name)}: use letters, digits, _ . or - (at most 63 chars, not starting with a symbol)`);
  }
  return name;
}

/** `"name"` with embedded double quotes doubled (names are validated before they get here). */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** `'text'` with embedded single quotes doubled: a CQL string literal for any text. */
export function cqlString(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

// ---------------------------------------------------------------------------------------------
// Keyspace

/** Desired replication: DC name -> RF. */
export type Replication = Readonly<Record<string, number>>;

/** `{dc: rf}` for every DC, validated (unique DCs, RF >= 1). */
export function replicationFor(dataCenters: readonly string[], rf: number): Replication {
  if (dataCenters.length === 0) throw new Error('at least one datacenter is needed');
  if (!Number.isInteger(rf) || rf < 1) throw new Error(`invalid replication factor ${rf}: must be a whole number >= 1`);
  const out: Record<string, number> = {};
  for (const dc of dataCenters) {
    validateDcName(dc);
    if (dc in out) throw new Error(`datacenter ${dc} is listed twice`);
    out[dc] = rf;
  }
  return out;
}

/** `{'class': 'NetworkTopologyStrategy', 'dc1': 3, ...}` (DCs sorted, so the text is stable). */
export function replicationMap(replication: Replication): string {
  const entries = Object.keys(replication)
    .sort()
    .map((dc) => {
      const rf = replication[dc]!;
      if (!Number.isInteger(rf) || rf < 0) throw new Error(`invalid replication factor ${rf} for ${dc}`);
      return `${cqlString(validateDcName(dc))}: ${rf}`;
    });
  if (entries.length === 0) throw new Error('a replication map needs at least one datacenter');
  return `{'class': 'NetworkTopologyStrategy', ${entries.join(', ')}}`;
}

export function createKeyspaceCql(keyspace: string, replication: Replication): string {
  return `CREATE KEYSPACE IF NOT EXISTS ${quoteIdentifier(validateKeyspaceName(keyspace))} WITH replication = ${replicationMap(replication)} AND durable_writes = true`;
}

export function alterKeyspaceCql(keyspace: string, replication: Replication): string {
  return `ALTER KEYSPACE ${quoteIdentifier(validateKeyspaceName(keyspace))} WITH replication = ${replicationMap(replication)} AND durable_writes = true`;
}

// ---------------------------------------------------------------------------------------------
// Tables

export interface ColumnSpec {
  readonly name: string;
  /** CQL type as system_schema.columns reports it. */
  readonly type: string;
  readonly kind: 'partition_key' | 'clustering' | 'regular';
}

export interface TableSpec {
  readonly name: string;
  readonly columns: readonly ColumnSpec[];
  readonly clusteringOrder?: Readonly<Record<string, 'ASC' | 'DESC'>>;
  readonly defaultTtlSeconds?: number;
}

/** Chat history: one partition per room and 10-day bucket, newest message first. */
export const MESSAGES_TABLE: TableSpec = {
  name: 'messages',
  columns: [
    { name: 'room_id', type: 'uuid', kind: 'partition_key' },
    { name: 'bucket', type: 'int', kind: 'partition_key' },
    { name: 'message_id', type: 'uuid', kind: 'clustering' },
    { name: 'author_id', type: 'uuid', kind: 'regular' },
    { name: 'client_message_id', type: 'text', kind: 'regular' },
    { name: 'origin_region', type: 'text', kind: 'regular' },
    { name: 'body', type: 'text', kind: 'regular' },
    { name: 'created_at', type: 'timestamp', kind: 'regular' },
  ],
  clusteringOrder: { message_id: 'DESC' },
};

/**
 * LEGACY, no longer written or read: the lightweight-transaction claim table of the write path
 * before issue 11 (`INSERT ... IF NOT EXISTS` per message). Kept so existing clusters keep a
 * schema the bootstrap accepts and a backend of the previous release still works during a rolling
 * update or a rollback; its rows expire within a day. New code uses MESSAGE_CLIENT_IDS_TABLE.
 */
export const CLIENT_MESSAGES_TABLE: TableSpec = {
  name: 'client_messages',
  columns: [
    { name: 'author_id', type: 'uuid', kind: 'partition_key' },
    { name: 'client_message_id', type: 'text', kind: 'partition_key' },
    { name: 'room_id', type: 'uuid', kind: 'regular' },
    { name: 'message_id', type: 'uuid', kind: 'regular' },
  ],
  defaultTtlSeconds: CLIENT_MESSAGE_TTL_SECONDS,
};

/**
 * Retry de-duplication, co-partitioned with `messages`: (room, bucket of the message id, author,
 * client message id) -> the message id, for CLIENT_MESSAGE_TTL_SECONDS. The partition key must
 * stay identical to MESSAGES_TABLE's (same columns, types and order) so that a message and its
 * row share one mutation.
 */
export const MESSAGE_CLIENT_IDS_TABLE: TableSpec = {
  name: 'message_client_ids',
  columns: [
    { name: 'room_id', type: 'uuid', kind: 'partition_key' },
    { name: 'bucket', type: 'int', kind: 'partition_key' },
    { name: 'author_id', type: 'uuid', kind: 'clustering' },
    { name: 'client_message_id', type: 'text', kind: 'clustering' },
    { name: 'message_id', type: 'uuid', kind: 'regular' },
  ],
  clusteringOrder: { author_id: 'ASC', client_message_id: 'ASC' },
  defaultTtlSeconds: CLIENT_MESSAGE_TTL_SECONDS,
};

export const TABLES: readonly TableSpec[] = [MESSAGES_TABLE, CLIENT_MESSAGES_TABLE, MESSAGE_CLIENT_IDS_TABLE];

/**
 * CREATE TABLE IF NOT EXISTS for `table`. `id` pins the table id (deterministic ids let
 * concurrent creators on different nodes end with the same table).
 */
export function createTableCql(keyspace: string, table: TableSpec, opts: { readonly id?: string } = {}): string {
  validateKeyspaceName(keyspace);
  if (!KEYSPACE_NAME.test(table.name)) throw new Error(`invalid table name ${table.name}`);
  const cols = table.columns.map((c) => `${c.name} ${c.type}`);
  const pk = table.columns.filter((c) => c.kind === 'partition_key').map((c) => c.name);
  const ck = table.columns.filter((c) => c.kind === 'clustering').map((c) => c.name);
  if (pk.length === 0) throw new Error(`table ${table.name} has no partition key`);
  const key = `PRIMARY KEY ((${pk.join(', ')})${ck.map((c) => `, ${c}`).join('')})`;
  const options: string[] = [];
  if (table.clusteringOrder && Object.keys(table.clusteringOrder).length > 0) {
    options.push(`CLUSTERING ORDER BY (${ck.map((c) => `${c} ${table.clusteringOrder?.[c] ?? 'ASC'}`).join(', ')})`);
  }
  if (table.defaultTtlSeconds !== undefined) options.push(`default_time_to_live = ${table.defaultTtlSeconds}`);
  if (opts.id !== undefined) {
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(opts.id)) throw new Error(`invalid table id ${opts.id}`);
    options.push(`id = ${opts.id}`);
  }
  return `CREATE TABLE IF NOT EXISTS ${quoteIdentifier(keyspace)}.${table.name} (${[...cols, key].join(', ')})${options.length ? ` WITH ${options.join(' AND ')}` : ''}`;
}

export function alterTableAddColumnCql(keyspace: string, table: TableSpec, column: ColumnSpec): string {
  return `ALTER TABLE ${quoteIdentifier(validateKeyspaceName(keyspace))}.${table.name} ADD ${column.name} ${column.type}`;
}

export function alterTableTtlCql(keyspace: string, table: TableSpec, ttlSeconds: number): string {
  if (!Number.isInteger(ttlSeconds) || ttlSeconds < 0) throw new Error(`invalid TTL ${ttlSeconds}`);
  return `ALTER TABLE ${quoteIdentifier(validateKeyspaceName(keyspace))}.${table.name} WITH default_time_to_live = ${ttlSeconds}`;
}

// ---------------------------------------------------------------------------------------------
// Role and permissions

/**
 * CREATE ROLE for a login role. Cassandra takes no bind marker for a password in role DDL, so the
 * password is a string literal with CQL escaping. The returned text contains the password: never
 * log it.
 */
export function createLoginRoleCql(role: string, password: string): string {
  if (password.length === 0) throw new Error('the role password is empty');
  return `CREATE ROLE IF NOT EXISTS ${quoteIdentifier(validateRoleName(role))} WITH LOGIN = true AND SUPERUSER = false AND PASSWORD = ${cqlString(password)}`;
}

/** ALTER ROLE setting LOGIN and the password (contains the password: never log it). */
export function alterLoginRoleCql(role: string, password: string): string {
  if (password.length === 0) throw new Error('the role password is empty');
  return `ALTER ROLE ${quoteIdentifier(validateRoleName(role))} WITH LOGIN = true AND PASSWORD = ${cqlString(password)}`;
}

/** Permissions the app role gets on the keyspace: read and write data, nothing else. */
export const APP_PERMISSIONS = ['SELECT', 'MODIFY'] as const;
export type AppPermission = (typeof APP_PERMISSIONS)[number];

export function grantOnKeyspaceCql(permission: AppPermission, keyspace: string, role: string): string {
  if (!APP_PERMISSIONS.includes(permission)) throw new Error(`unexpected permission ${permission}`);
  return `GRANT ${permission} ON KEYSPACE ${quoteIdentifier(validateKeyspaceName(keyspace))} TO ${quoteIdentifier(validateRoleName(role))}`;
}

/** The resource name system_auth.role_permissions uses for a keyspace. */
export function keyspaceResource(keyspace: string): string {
  return `data/${validateKeyspaceName(keyspace)}`;
}
