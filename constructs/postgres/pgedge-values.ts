/**
 * Values for the `pgedge` chart for one region: this region's node in `nodes`, every other
 * region in `externalNodes`, Spock initialisation left to our own Job, certificates issued
 * by our own cert-manager objects from one shared client CA.
 */
import { postgresRegionNames, PostgresSecrets, SPOCK_REPLICATION_ROLE } from '../../regions/names.js';
import type { PlatformConfig, Region } from '../../regions/schema.js';
import { barmanClusterPlugins } from '../postgres-backups/barman-plugin-reference.js';
import { recoveryClusterSpec } from '../postgres-backups/recovery-bootstrap.js';

/** Capacity is sized for at least this many regions, so adding regions up to it restarts no database. */
export const PLANNED_REGIONS_MIN = 8;

/**
 * Replication capacity for `regions` regions and `instances` instances per region. These
 * settings need a Postgres restart, so they are sized for max(regions, 8): adding a region
 * up to the eighth restarts nothing.
 *
 *   peers                 = max(regions, 8) - 1
 *   max_replication_slots = 2 * peers        (one Spock slot per peer subscribing here, plus a
 *                                             temporary sync slot per peer while a region joins)
 *                         + (instances - 1)  (CloudNativePG HA slots for the standbys)
 *                         + 8                (headroom: backups, manual slots)
 *   max_wal_senders       = max_replication_slots + 2   (base backups, pg_basebackup)
 *   max_worker_processes  = 2 * peers        (one apply worker per subscription here, plus a sync
 *                                             worker per subscription during initial copy)
 *                         + 2                (Spock supervisor + per-database manager)
 *                         + 8                (PostgreSQL's parallel-query budget)
 *                         + 4                (headroom)
 */
export function replicationCapacity(regions: number, instances: number): {
  max_replication_slots: number;
  max_wal_senders: number;
  max_worker_processes: number;
} {
  const peers = Math.max(regions, PLANNED_REGIONS_MIN) - 1;
  const slots = 2 * peers + (instances - 1) + 8;
  return {
    max_replication_slots: slots,
    max_wal_senders: slots + 2,
    max_worker_processes: 2 * peers + 2 + 8 + 4,
  };
}

export const REPLICATION_FORMULA =
  'peers = max(regions, 8) - 1; max_replication_slots = 2*peers + (instances-1) + 8; max_wal_senders = slots + 2; max_worker_processes = 2*peers + 14';

/** The CNPG `Cluster.spec` shared by every node of this region (merged over the chart default). */
export function pgedgeClusterSpec(c: PlatformConfig): Record<string, unknown> {
  const pg = c.postgres;
  const capacity = replicationCapacity(c.regions.length, pg.instances);
  const db = pg.database;
  return {
    instances: pg.instances,
    imageName: pg.image,
    imagePullPolicy: 'IfNotPresent',
    // Restricted Pod Security in the namespace: the operator's container defaults (non-root,
    // no escalation, drop ALL) plus this profile on every pod and container. No
    // podSecurityContext/securityContext override: it would replace those defaults wholesale.
    seccompProfile: { type: 'RuntimeDefault' },
    storage: { size: pg.storageSize, storageClass: c.storageClass },
    // Rolling updates restart the primary in place (CloudNativePG's default, set explicitly): a
    // switchover would move the primary to a standby that has none of Spock's logical slots,
    // so every peer's subscription to this region would break.
    primaryUpdateStrategy: 'unsupervised',
    primaryUpdateMethod: 'restart',
    resources: { requests: { cpu: pg.resources.cpu, memory: pg.resources.memory }, limits: { memory: pg.resources.memory } },
    // CloudNativePG needs only the CA certificate (ca.crt) to verify clients; every Secret that
    // cert-manager issues from the shared CA carries it, so no CA key is copied into this namespace.
    certificates: { clientCASecret: PostgresSecrets.streamingReplica, replicationTLSSecret: PostgresSecrets.streamingReplica },
    bootstrap: {
      initdb: {
        database: db,
        owner: 'app',
        encoding: 'UTF8',
        postInitApplicationSQL: ['CREATE EXTENSION IF NOT EXISTS spock;', 'CREATE EXTENSION IF NOT EXISTS snowflake;'],
      },
    },
    postgresql: {
      parameters: {
        wal_level: 'logical',
        track_commit_timestamp: 'on',
        hot_standby_feedback: 'on',
        wal_sender_timeout: '5s',
        'spock.enable_ddl_replication': 'on',
        'spock.include_ddl_repset': 'on',
        'spock.allow_ddl_from_functions': 'on',
        'spock.conflict_resolution': 'last_update_wins',
        'spock.save_resolutions': 'on',
        // The chart's DEBUG hides conflicts at the default log level.
        'spock.conflict_log_level': 'LOG',
        max_replication_slots: String(capacity.max_replication_slots),
        max_wal_senders: String(capacity.max_wal_senders),
        max_worker_processes: String(capacity.max_worker_processes),
      },
      // Lists replace the chart's defaults wholesale: written out in full on purpose.
      shared_preload_libraries: ['pg_stat_statements', 'snowflake', 'spock'],
      pg_hba: [
        `hostssl ${db} ${SPOCK_REPLICATION_ROLE} 0.0.0.0/0 cert`,
        `hostssl ${db} admin 0.0.0.0/0 cert`,
        `hostssl ${db} app 0.0.0.0/0 cert`,
        'hostssl all streaming_replica all cert map=cnpg_streaming_replica',
      ],
      pg_ident: ['local postgres admin', 'local postgres app'],
    },
  };
}

export function pgedgeValues(c: PlatformConfig, region: Region): Record<string, unknown> {
  const me = postgresRegionNames(c, region);
  return {
    pgEdge: {
      appName: c.postgres.appName,
      // Our cert-manager objects issue every certificate from the shared client CA.
      provisionCerts: false,
      // Our bootstrap-spock Job (one per region) wires the mesh.
      initSpock: false,
      nodes: [{ name: me.node, ordinal: region.ordinal, hostname: me.hostname, internalHostname: me.internalHostname }],
      externalNodes: c.regions
        .filter((r) => r.ordinal !== region.ordinal && r.state !== 'leaving' && region.state !== 'leaving')
        .map((r) => {
          const n = postgresRegionNames(c, r);
          return { name: n.node, ordinal: r.ordinal, hostname: n.hostname };
        }),
      // WAL archive + base backups through the barman-cloud plugin (no reference at all without
      // backups); a region being restored bootstraps from its archive instead of initdb.
      clusterSpec: { ...pgedgeClusterSpec(c), ...barmanClusterPlugins(c, region), ...recoveryClusterSpec(c, region) },
    },
  };
}
