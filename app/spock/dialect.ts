/**
 * The two SQL dialects behind one bootstrap flow:
 *
 * - `spock` (production, pgEdge images): Spock 5.0 functions with named arguments exactly as in
 *   ../shared/reference/pgedge-spock.md section 2; every administrative transaction starts with
 *   `SELECT spock.repair_mode(true)` so that nothing the bootstrap does is replicated by auto-DDL.
 * - `pglogical` (vanilla PostgreSQL, the lab): pglogical 2.x, Spock's upstream ancestor. Its
 *   defaults differ (`synchronize_data = true`, `forward_origins = '{all}'`), so both are always
 *   passed explicitly; it has no repair_mode and no auto-DDL.
 *
 * Both register tables in replication sets through the bootstrap (`repset`): Spock's auto-DDL
 * (`spock.include_ddl_repset`) only covers tables created after the node exists, and it also
 * adds region-local tables restored by a structure sync, which the bootstrap takes out again.
 *
 * Catalog reads use the same column names in both (spock kept pglogical's catalogs).
 */
import { quoteIdent, statement, type FnCall, type Statement } from './sql.js';

export type DialectName = 'spock' | 'pglogical';
export const DIALECTS: readonly DialectName[] = ['spock', 'pglogical'];

/** The built-in replication sets every subscription uses (Spock's default; pglogical has them too). */
export const REPLICATION_SETS: readonly string[] = ['default', 'default_insert_only', 'ddl_sql'];

/**
 * `sub_<provider>_<subscriber>`, created on the subscriber (the pgEdge chart's naming). The
 * generator's regions/names.ts `spockSubscriptionName` is the same rule (the image ships app/
 * only, so it cannot import it): test/spock-names.test.ts keeps the two equal.
 */
export function subscriptionName(provider: string, subscriber: string): string {
  return `sub_${provider}_${subscriber}`;
}

export interface SubCreateOptions {
  readonly name: string;
  readonly providerDsn: string;
  /** Structure + data sync from this provider (only for the one SPOCK_SYNC_FROM subscription). */
  readonly synchronize: boolean;
}

/** Rows returned by the catalog reads (column aliases are part of the contract). */
export interface LocalNodeRow {
  readonly node_name: string;
  readonly dsn: string;
}
export interface SubscriptionRow {
  readonly id: string;
  readonly name: string;
  readonly enabled: boolean;
  readonly provider: string;
  readonly provider_dsn: string;
  readonly forward_origins: readonly string[] | null;
  readonly replication_sets: readonly string[] | null;
}
export interface SubStatusRow {
  readonly name: string;
  readonly status: string;
  readonly provider: string | null;
}
/** A row of the node catalog (local and remote nodes) with the subscriptions that reference it. */
export interface NodeRow {
  readonly name: string;
  readonly local: boolean;
  /** Subscriptions whose provider (origin) or subscriber (target) the node is. */
  readonly subscriptions: readonly string[] | null;
}
/** A logical replication slot of this database that the dialect's output plugin serves. */
export interface SlotRow {
  readonly name: string;
  readonly active: boolean;
  readonly active_pid: number | null;
}
/**
 * The slot that serves one subscription (on its provider): `<prefix><db>_<provider>_<subscription>`
 * (gen_slot_name: each part shortened with a hash to at most 16 characters; the db part is the
 * SUBSCRIBER's database, so it is matched as any).
 */
export interface SlotOf {
  readonly provider: string;
  readonly subscription: string;
}
export interface MissingTableRow {
  readonly relation: string;
  /** Has a primary key or a replica identity index (needed to replicate UPDATE/DELETE). */
  readonly has_identity: boolean;
  /** A permanent (WAL-logged) table; UNLOGGED tables cannot be put into a replication set. */
  readonly logged: boolean;
}
/** A table of a region-local schema that is in a replication set of the local node. */
export interface SetMemberRow {
  readonly relation: string;
  readonly set_name: string;
}
/** A `role IN DATABASE` setting of the current database (`name=value`, as pg_db_role_setting stores it). */
export interface DbSettingRow {
  readonly database: string;
  readonly setting: string | null;
}

export interface Dialect {
  readonly name: DialectName;
  /** Extension (and schema) name. */
  readonly extension: string;
  /** Statements that open every administrative transaction. */
  readonly txPrelude: readonly Statement[];
  localNode(): Statement;
  nodeCreate(name: string, dsn: string): Statement;
  subscriptions(): Statement;
  subCreate(o: SubCreateOptions): Statement;
  subEnable(name: string): Statement;
  subStatus(): Statement;
  /** Drops a subscription (and, inside the function, its slot on the provider when reachable); rows only when it existed. */
  subDrop(name: string): Statement;
  /** Every node row (this node and the remote providers a subscriber keeps), with the subscriptions referencing it. */
  nodes(): Statement;
  /** Forgets a REMOTE node row, only when no subscription references it; rows only when dropped. Never the local node. */
  nodeDrop(name: string): Statement;
  /** Drops the LOCAL node (with its interfaces, replication-set memberships and slots), only when no subscription is left. */
  localNodeDrop(name: string): Statement;
  /** The mesh's replication slots in this database (every one, or only the one serving `of`), with their walsender. */
  meshSlots(of?: SlotOf): Statement;
  /** Slot name prefix and the output plugin names of this dialect (as its own node_drop selects them). */
  readonly slots: { readonly prefix: string; readonly plugins: readonly string[] };
  /**
   * Replication-set membership of this node's tables (both dialects: Spock's auto-DDL only
   * covers tables created after the node exists, and a structure sync adds region-local ones).
   */
  readonly repset: {
    /** Tables (permanent or UNLOGGED, not partitions) of `schemas` that are in no replication set of the local node. */
    missingTables(schemas: readonly string[]): Statement;
    addTable(set: string, relation: string): Statement;
    /** Tables of `schemas` that are in a replication set of the local node, with the set. */
    members(schemas: readonly string[]): Statement;
    removeTable(set: string, relation: string): Statement;
  };
  /**
   * Session settings (all USERSET) that make a session's DDL replicate and its new tables join
   * replication sets automatically; turned off for the node DSN's role while a structure sync
   * restores the schema here. Empty for dialects without auto-DDL.
   */
  readonly autoDdlSettings: readonly string[];
  /** How to fix a DSN that changed (for error messages). */
  readonly dsnFixHint: string;
}

const call = (schema: string, fn: string, args: FnCall['args'] = []): FnCall => ({ schema, fn, args, style: 'named' });

function catalogReads(s: string, statusFn: string): Pick<Dialect, 'localNode' | 'subscriptions' | 'subStatus'> {
  return {
    localNode: () =>
      statement(
        'node.local',
        `SELECT n.node_name::text AS node_name, i.if_dsn AS dsn
   FROM ${s}.local_node l
   JOIN ${s}.node n ON n.node_id = l.node_id
   JOIN ${s}.node_interface i ON i.if_id = l.node_local_interface`,
      ),
    subscriptions: () =>
      statement(
        'sub.list',
        `SELECT s.sub_id::text AS id, s.sub_name::text AS name, s.sub_enabled AS enabled,
        o.node_name::text AS provider, i.if_dsn AS provider_dsn,
        s.sub_forward_origins AS forward_origins, s.sub_replication_sets AS replication_sets
   FROM ${s}.subscription s
   JOIN ${s}.node o ON o.node_id = s.sub_origin
   JOIN ${s}.node_interface i ON i.if_id = s.sub_origin_if
  ORDER BY s.sub_name`,
      ),
    subStatus: () =>
      statement('sub.status', `SELECT subscription_name::text AS name, status, provider_node::text AS provider FROM {0}`, [call(s, statusFn)]),
  };
}

/**
 * Removal statements; spock kept pglogical's catalogs and slot naming, only the function names,
 * the slot prefix and the plugin names differ.
 */
function removal(
  s: string,
  fns: { subDrop: string; nodeDrop: string; genSlotName: string },
  slots: Dialect['slots'],
): Pick<Dialect, 'subDrop' | 'nodes' | 'nodeDrop' | 'localNodeDrop' | 'meshSlots' | 'slots'> {
  const dropNode = (name: string) =>
    call(s, fns.nodeDrop, [
      { name: 'node_name', type: 'name', value: name },
      { name: 'ifexists', type: 'boolean', value: true },
    ]);
  const unreferenced = `NOT EXISTS (SELECT 1 FROM ${s}.subscription x WHERE n.node_id IN (x.sub_origin, x.sub_target))`;
  const slotFilter = `s.database = current_database() AND s.slot_type = 'logical'
    AND s.plugin = ANY({p1}::text[]) AND starts_with(s.slot_name::text, {p2})`;
  return {
    slots,
    subDrop: (name) =>
      statement('sub.drop', `SELECT {0} FROM ${s}.subscription WHERE sub_name = {p1}::name`, [
        call(s, fns.subDrop, [
          { name: 'subscription_name', type: 'name', value: name },
          { name: 'ifexists', type: 'boolean', value: true },
        ]),
      ], [name]),
    nodes: () =>
      statement(
        'node.list',
        `SELECT n.node_name::text AS name,
        EXISTS (SELECT 1 FROM ${s}.local_node l WHERE l.node_id = n.node_id) AS local,
        ARRAY(SELECT x.sub_name::text FROM ${s}.subscription x WHERE n.node_id IN (x.sub_origin, x.sub_target) ORDER BY 1) AS subscriptions
   FROM ${s}.node n
  ORDER BY 1`,
      ),
    nodeDrop: (name) =>
      statement(
        'node.drop',
        `SELECT {0} FROM ${s}.node n
  WHERE n.node_name = {p1}::name
    AND NOT EXISTS (SELECT 1 FROM ${s}.local_node l WHERE l.node_id = n.node_id)
    AND ${unreferenced}`,
        [dropNode(name)],
        [name],
      ),
    localNodeDrop: (name) =>
      statement(
        'node.drop',
        `SELECT {0} FROM ${s}.node n
   JOIN ${s}.local_node l ON l.node_id = n.node_id
  WHERE n.node_name = {p1}::name
    AND ${unreferenced}`,
        [dropNode(name)],
        [name],
      ),
    meshSlots: (of) =>
      of === undefined
        ? statement(
            'slot.list',
            `SELECT s.slot_name::text AS name, s.active, s.active_pid
   FROM pg_replication_slots s
  WHERE ${slotFilter}
  ORDER BY 1`,
            [],
            [[...slots.plugins], slots.prefix],
          )
        : statement(
            'slot.list',
            // gen_slot_name with a one-letter database: what follows "<prefix>x" is the
            // "_<provider>_<subscription>" suffix every database's slot for it ends with.
            `SELECT s.slot_name::text AS name, s.active, s.active_pid
   FROM pg_replication_slots s,
        (SELECT substr({0}::text, ${slots.prefix.length + 2}) AS suffix) g
  WHERE ${slotFilter}
    AND right(s.slot_name::text, length(g.suffix)) = g.suffix
  ORDER BY 1`,
            [
              {
                schema: s,
                fn: fns.genSlotName,
                args: [
                  { name: 'dbname', type: 'name', value: 'x' },
                  { name: 'provider_node', type: 'name', value: of.provider },
                  { name: 'subscription_name', type: 'name', value: of.subscription },
                ],
                style: 'positional',
              },
            ],
            [[...slots.plugins], slots.prefix],
          ),
  };
}

/** Replication-set statements; spock kept pglogical's catalogs, only the function names differ. */
function repsetStatements(s: string, fns: { add: string; remove: string }): Dialect['repset'] {
  const inLocalSet = `SELECT 1 FROM ${s}.replication_set_table t
        JOIN ${s}.replication_set rs ON rs.set_id = t.set_id
        JOIN ${s}.local_node l ON l.node_id = rs.set_nodeid
       WHERE t.set_reloid = c.oid`;
  return {
    missingTables: (schemas) =>
      statement(
        'repset.missing',
        `SELECT c.oid::regclass::text AS relation,
        EXISTS (SELECT 1 FROM pg_index x WHERE x.indrelid = c.oid AND (x.indisprimary OR x.indisreplident)) AS has_identity,
        c.relpersistence = 'p' AS logged
   FROM pg_class c
   JOIN pg_namespace ns ON ns.oid = c.relnamespace
  WHERE c.relkind = 'r' AND c.relpersistence IN ('p', 'u') AND NOT c.relispartition
    AND ns.nspname = ANY({p1}::text[])
    AND NOT EXISTS (${inLocalSet})
  ORDER BY 1`,
        [],
        [[...schemas]],
      ),
    addTable: (set, relation) =>
      statement('repset.add', 'SELECT {0}', [
        call(s, fns.add, [
          { name: 'set_name', type: 'name', value: set },
          { name: 'relation', type: 'regclass', value: relation },
          { name: 'synchronize_data', type: 'boolean', value: false },
        ]),
      ]),
    members: (schemas) =>
      statement(
        'repset.members',
        `SELECT t.set_reloid::regclass::text AS relation, rs.set_name::text AS set_name
   FROM ${s}.replication_set_table t
   JOIN ${s}.replication_set rs ON rs.set_id = t.set_id
   JOIN ${s}.local_node l ON l.node_id = rs.set_nodeid
   JOIN pg_class c ON c.oid = t.set_reloid
   JOIN pg_namespace ns ON ns.oid = c.relnamespace
  WHERE ns.nspname = ANY({p1}::text[])
  ORDER BY 1, 2`,
        [],
        [[...schemas]],
      ),
    removeTable: (set, relation) =>
      statement('repset.remove', 'SELECT {0}', [
        call(s, fns.remove, [
          { name: 'set_name', type: 'name', value: set },
          { name: 'relation', type: 'regclass', value: relation },
        ]),
      ]),
  };
}

export const spockDialect: Dialect = {
  name: 'spock',
  extension: 'spock',
  txPrelude: [statement('repair_mode', 'SELECT {0}', [{ schema: 'spock', fn: 'repair_mode', args: [{ name: 'enabled', type: 'boolean', value: true }], style: 'literal' }])],
  ...catalogReads('spock', 'sub_show_status'),
  ...removal('spock', { subDrop: 'sub_drop', nodeDrop: 'node_drop', genSlotName: 'spock_gen_slot_name' }, { prefix: 'spk_', plugins: ['spock_output', 'spock'] }),
  nodeCreate: (name, dsn) =>
    statement('node.create', 'SELECT {0} WHERE NOT EXISTS (SELECT 1 FROM spock.local_node)', [
      call('spock', 'node_create', [
        { name: 'node_name', type: 'name', value: name },
        { name: 'dsn', type: 'text', value: dsn },
      ]),
    ]),
  subCreate: (o) =>
    statement(
      'sub.create',
      'SELECT {0} WHERE NOT EXISTS (SELECT 1 FROM spock.subscription WHERE sub_name = {p1}::name)',
      [
        call('spock', 'sub_create', [
          { name: 'subscription_name', type: 'name', value: o.name },
          { name: 'provider_dsn', type: 'text', value: o.providerDsn },
          { name: 'replication_sets', type: 'text[]', value: REPLICATION_SETS },
          { name: 'synchronize_structure', type: 'boolean', value: o.synchronize },
          { name: 'synchronize_data', type: 'boolean', value: o.synchronize },
          { name: 'forward_origins', type: 'text[]', value: [] },
          { name: 'apply_delay', type: 'interval', value: '0' },
          { name: 'enabled', type: 'boolean', value: true },
        ]),
      ],
      [o.name],
    ),
  subEnable: (name) =>
    statement('sub.enable', 'SELECT {0} FROM spock.subscription WHERE sub_name = {p1}::name AND NOT sub_enabled', [
      call('spock', 'sub_enable', [
        { name: 'subscription_name', type: 'name', value: name },
        { name: 'immediate', type: 'boolean', value: true },
      ]),
    ], [name]),
  // spock.repset_add_table(set_name, relation, synchronize_data, columns, row_filter, include_partitions)
  // and spock.repset_remove_table(set_name, relation, include_partitions) of sql/spock--5.0.0.sql.
  repset: repsetStatements('spock', { add: 'repset_add_table', remove: 'repset_remove_table' }),
  autoDdlSettings: ['spock.enable_ddl_replication', 'spock.include_ddl_repset'],
  dsnFixHint:
    'a node DSN is never changed by bootstrap: add the new DSN as an interface with spock.node_add_interface(node_name, interface_name, dsn) and switch each subscription to it with spock.sub_alter_interface(subscription_name, interface_name) (see pgedge-spock reference, "DSN drift"), or put the registered DSN back into SPOCK_NODES',
};

export const pglogicalDialect: Dialect = {
  name: 'pglogical',
  extension: 'pglogical',
  txPrelude: [],
  ...catalogReads('pglogical', 'show_subscription_status'),
  ...removal('pglogical', { subDrop: 'drop_subscription', nodeDrop: 'drop_node', genSlotName: 'pglogical_gen_slot_name' }, { prefix: 'pgl_', plugins: ['pglogical_output', 'pglogical'] }),
  nodeCreate: (name, dsn) =>
    statement('node.create', 'SELECT {0} WHERE NOT EXISTS (SELECT 1 FROM pglogical.local_node)', [
      call('pglogical', 'create_node', [
        { name: 'node_name', type: 'name', value: name },
        { name: 'dsn', type: 'text', value: dsn },
      ]),
    ]),
  subCreate: (o) =>
    statement(
      'sub.create',
      'SELECT {0} WHERE NOT EXISTS (SELECT 1 FROM pglogical.subscription WHERE sub_name = {p1}::name)',
      [
        call('pglogical', 'create_subscription', [
          { name: 'subscription_name', type: 'name', value: o.name },
          { name: 'provider_dsn', type: 'text', value: o.providerDsn },
          { name: 'replication_sets', type: 'text[]', value: REPLICATION_SETS },
          { name: 'synchronize_structure', type: 'boolean', value: o.synchronize },
          // pglogical's defaults are synchronize_data = true and forward_origins = '{all}':
          // wrong for a mesh, so always explicit.
          { name: 'synchronize_data', type: 'boolean', value: o.synchronize },
          { name: 'forward_origins', type: 'text[]', value: [] },
          { name: 'apply_delay', type: 'interval', value: '0' },
          { name: 'force_text_transfer', type: 'boolean', value: false },
        ]),
      ],
      [o.name],
    ),
  subEnable: (name) =>
    statement('sub.enable', 'SELECT {0} FROM pglogical.subscription WHERE sub_name = {p1}::name AND NOT sub_enabled', [
      call('pglogical', 'alter_subscription_enable', [
        { name: 'subscription_name', type: 'name', value: name },
        { name: 'immediate', type: 'boolean', value: true },
      ]),
    ], [name]),
  repset: repsetStatements('pglogical', { add: 'replication_set_add_table', remove: 'replication_set_remove_table' }),
  // No auto-DDL in pglogical: nothing to turn off during a structure sync.
  autoDdlSettings: [],
  dsnFixHint:
    'a node DSN is never changed by bootstrap: add the new DSN as an interface with pglogical.alter_node_add_interface(node_name, interface_name, dsn) and switch each subscription to it with pglogical.alter_subscription_interface(subscription_name, interface_name), or put the registered DSN back into SPOCK_NODES',
};

export function dialectFor(name: DialectName): Dialect {
  return name === 'spock' ? spockDialect : pglogicalDialect;
}

// ---------------------------------------------------------------------------------------------
// Dialect-independent statements

export const serverInfo = (): Statement =>
  statement(
    'server.info',
    `SELECT pg_is_in_recovery() AS in_recovery,
        current_setting('wal_level') AS wal_level,
        current_setting('track_commit_timestamp') AS track_commit_timestamp,
        current_setting('shared_preload_libraries') AS shared_preload_libraries,
        current_setting('server_version') AS server_version`,
  );

/** Session lock so that two runs against the same database do not interleave. */
export const tryLock = (): Statement => statement('lock.try', `SELECT pg_try_advisory_lock(hashtext('regionmesh:bootstrap-spock')::bigint) AS locked`);

export const extensionGet = (ext: string): Statement =>
  statement('extension.get', 'SELECT extversion AS version FROM pg_extension WHERE extname = {p1}', [], [ext]);

export const extensionCreate = (ext: string): Statement => {
  if (!/^[a-z_]+$/.test(ext)) throw new Error(`bad extension name ${ext}`);
  return statement('extension.create', `CREATE EXTENSION IF NOT EXISTS ${ext}`);
};

export const roleGet = (role: string): Statement =>
  statement('role.get', 'SELECT rolsuper AS superuser, rolreplication AS replication, rolcanlogin AS login FROM pg_roles WHERE rolname = {p1}', [], [role]);

/** Ends the walsender holding a slot (its subscriber reconnects later, finding the slot gone). */
export const slotTerminate = (slot: string): Statement =>
  statement('slot.terminate', 'SELECT pg_terminate_backend(active_pid) AS terminated FROM pg_replication_slots WHERE slot_name = {p1}::name AND active_pid IS NOT NULL', [], [slot]);

/** Drops a slot if it exists and no walsender holds it; rows only when dropped. Not transactional (runs alone). */
export const slotDrop = (slot: string): Statement =>
  statement('slot.drop', 'SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = {p1}::name AND NOT active', [], [slot]);

/** The database setting that tells the chat backend's init container this region's node is ready (`wait-postgres-node`). */
export const NODE_READY_SETTING = 'regionmesh.node_ready';

/**
 * Settings of the current database: the database-wide one `name` (`role` undefined) or those of
 * `role` in this database whose names are in `names`; one row per setting (`name=value`), or a
 * single row with `setting` NULL when there is none. Always returns the database name.
 */
export const dbSettingsGet = (names: readonly string[], role?: string): Statement =>
  statement(
    'dbsetting.get',
    `SELECT current_database()::text AS database, found.setting
   FROM (SELECT 1) one
   LEFT JOIN (
     SELECT cfg AS setting
       FROM pg_db_role_setting s
       JOIN pg_database d ON d.oid = s.setdatabase AND d.datname = current_database()
       LEFT JOIN pg_roles r ON r.oid = s.setrole
      CROSS JOIN LATERAL unnest(s.setconfig) cfg
      WHERE (CASE WHEN {p2}::text IS NULL THEN s.setrole = 0 ELSE r.rolname = {p2}::text END)
        AND split_part(cfg, '=', 1) = ANY({p1}::text[])
   ) found ON true
  ORDER BY 2`,
    [],
    [[...names], role ?? null],
  );

const settingName = (name: string): string => {
  if (!/^[a-z_]+(\.[a-z_]+)?$/.test(name)) throw new Error(`bad setting name ${name}`);
  return name;
};
const settingLiteral = (value: string): string => `'${value.replace(/'/g, "''")}'`;

/** `ALTER DATABASE <db> SET name = 'value'` (database-wide default for new sessions). */
export const dbSettingSet = (database: string, name: string, value: string): Statement =>
  statement('dbsetting.set', `ALTER DATABASE ${quoteIdent(database)} SET ${settingName(name)} = ${settingLiteral(value)}`);

/** `ALTER DATABASE <db> RESET name`. */
export const dbSettingReset = (database: string, name: string): Statement =>
  statement('dbsetting.set', `ALTER DATABASE ${quoteIdent(database)} RESET ${settingName(name)}`);

/** `ALTER ROLE <role> IN DATABASE <db> SET name = value` (new sessions of that role in this database). */
export const roleSettingSet = (role: string, database: string, name: string, value: string): Statement =>
  statement('dbsetting.set', `ALTER ROLE ${quoteIdent(role)} IN DATABASE ${quoteIdent(database)} SET ${settingName(name)} = ${settingLiteral(value)}`);

/** `ALTER ROLE <role> IN DATABASE <db> RESET name`. */
export const roleSettingReset = (role: string, database: string, name: string): Statement =>
  statement('dbsetting.set', `ALTER ROLE ${quoteIdent(role)} IN DATABASE ${quoteIdent(database)} RESET ${settingName(name)}`);

/** The replication role the node DSNs name (as the pgEdge chart's init job creates `pgedge`); no password. */
export const roleCreate = (role: string): Statement => statement('role.create', `CREATE ROLE ${quoteIdent(role)} LOGIN SUPERUSER REPLICATION`);
