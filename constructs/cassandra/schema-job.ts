import type { Construct } from 'constructs';
import { cassandraRegionNames, CassandraSecrets, Labels, regionByName } from '../../regions/names.js';
import type { PlatformConfig } from '../../regions/schema.js';
import { BootstrapJob } from '../bootstrap-job.js';
import type { EnvSource } from '../workload.js';

/**
 * The environment of `bootstrap-cassandra` (app/cassandra): every value comes from the names
 * module, so the Job always agrees with the K8ssandraCluster it waits for.
 */
export function cassandraBootstrapEnv(c: PlatformConfig): Record<string, EnvSource> {
  const leader = regionByName(c, c.cassandra.schemaRegion);
  const local = cassandraRegionNames(c, leader);
  const superuser = CassandraSecrets.superuser(c);
  return {
    CASSANDRA_CONTACT_POINTS: local.contactPoint,
    CASSANDRA_LOCAL_DC: local.datacenter,
    // Joining DCs are replicated by the operator (dc-replication annotation + rebuild);
    // leaving DCs are removed from the keyspace before the DC itself goes.
    CASSANDRA_DATACENTERS: c.regions
      .filter((r) => r.state === 'active')
      .map((r) => cassandraRegionNames(c, r).datacenter)
      .join(','),
    ...(c.regions.some((r) => r.state === 'leaving')
      ? {
          CASSANDRA_DECOMMISSION_DATACENTERS: c.regions
            .filter((r) => r.state === 'leaving')
            .map((r) => cassandraRegionNames(c, r).datacenter)
            .join(','),
        }
      : {}),
    CASSANDRA_REPLICATION_FACTOR: String(c.cassandra.replicationFactor),
    CASSANDRA_KEYSPACE: c.cassandra.keyspace,
    CASSANDRA_SUPERUSER_USERNAME: { secret: superuser, key: 'username' },
    CASSANDRA_SUPERUSER_PASSWORD: { secret: superuser, key: 'password' },
    CASSANDRA_APP_USERNAME: c.cassandra.appRole,
    CASSANDRA_APP_PASSWORD: { secret: CassandraSecrets.appCredentials, key: 'password' },
    BOOTSTRAP_DEADLINE_SECONDS: String(c.cassandra.bootstrapDeadlineSeconds),
  };
}

export interface CassandraSchemaJobProps {
  /** The platform config: DCs, keyspace, roles and the deadline come from it. */
  readonly config: PlatformConfig;
}

/** The Job that creates the chat keyspace (one replica set per DC), the app role and the tables. */
export class CassandraSchemaJob extends BootstrapJob {
  constructor(scope: Construct, id: string, props: CassandraSchemaJobProps) {
    const c = props.config;
    super(scope, id, {
      name: 'bootstrap-cassandra',
      namespace: c.cassandra.namespace,
      image: `${c.app.image.repository}:${c.app.image.tag}`,
      command: 'bootstrap-cassandra',
      env: cassandraBootstrapEnv(c),
      deadlineSeconds: c.cassandra.bootstrapDeadlineSeconds,
      labels: { [Labels.partOf]: c.platform, [Labels.component]: 'cassandra', [Labels.region]: c.cassandra.schemaRegion },
    });
  }
}
