import type { Construct } from 'constructs';
import { Labels, postgresRegionNames, PostgresSecrets, regionByName, spockNodeDsn } from '../../regions/names.js';
import type { PlatformConfig, Region } from '../../regions/schema.js';
import { BootstrapJob } from '../bootstrap-job.js';
import type { EnvSource } from '../workload.js';

/** Where the Job mounts the admin client certificate. */
export const ADMIN_CERT_DIR = '/etc/regionmesh/postgres-admin';

/** Every node of the mesh (not leaving) with the DSN it is advertised with, sorted by ordinal: identical in every region. */
export function spockNodes(c: PlatformConfig): Array<{ name: string; dsn: string }> {
  return c.regions
    .filter((r) => r.state !== 'leaving')
    .map((r) => ({ name: postgresRegionNames(c, r).node, dsn: spockNodeDsn(c, r) }));
}

/** The environment of `bootstrap-spock` (app/spock) for one region. */
export function spockBootstrapEnv(c: PlatformConfig, region: Region): Record<string, EnvSource> {
  const me = postgresRegionNames(c, region);
  const leaving = c.regions.filter((r) => r.state === 'leaving').map((r) => postgresRegionNames(c, r).node);
  const source = region.state === 'joining' && region.syncFrom ? regionByName(c, region.syncFrom) : undefined;
  return {
    SPOCK_DIALECT: 'spock',
    SPOCK_NODE: me.node,
    SPOCK_NODES: JSON.stringify(region.state === 'leaving' ? [{ name: me.node, dsn: spockNodeDsn(c, region) }] : spockNodes(c)),
    // A joining region copies structure and data from exactly one source; all others start without sync.
    ...(source ? { SPOCK_SYNC_FROM: postgresRegionNames(c, source).node } : {}),
    // Leaving: this node drops its subscriptions and itself; the others drop theirs from it.
    ...(region.state === 'leaving' ? { SPOCK_LEAVE: 'true' } : leaving.length > 0 ? { SPOCK_REMOVED_NODES: leaving.join(',') } : {}),
    SPOCK_DEADLINE_SECONDS: String(c.postgres.bootstrapDeadlineSeconds),
    PGHOST: me.internalHostname,
    PGPORT: '5432',
    PGDATABASE: c.postgres.database,
    PGUSER: 'admin',
    PGSSLMODE: 'require',
    PGSSLCERT: `${ADMIN_CERT_DIR}/tls.crt`,
    PGSSLKEY: `${ADMIN_CERT_DIR}/tls.key`,
  };
}

export interface SpockBootstrapJobProps {
  readonly config: PlatformConfig;
  /** The region whose node the Job creates and wires into the mesh. */
  readonly region: Region;
}

/** This region's Spock node and its subscriptions to every peer. */
export class SpockBootstrapJob extends BootstrapJob {
  constructor(scope: Construct, id: string, props: SpockBootstrapJobProps) {
    const { config: c, region } = props;
    super(scope, id, {
      name: 'bootstrap-spock',
      namespace: c.postgres.namespace,
      image: `${c.app.image.repository}:${c.app.image.tag}`,
      command: 'bootstrap-spock',
      env: spockBootstrapEnv(c, region),
      secretMounts: { [ADMIN_CERT_DIR]: PostgresSecrets.admin },
      deadlineSeconds: c.postgres.bootstrapDeadlineSeconds,
      labels: { [Labels.partOf]: c.platform, [Labels.component]: 'postgres', [Labels.region]: region.name },
    });
  }
}
