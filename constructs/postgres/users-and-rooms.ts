import { Construct } from 'constructs';
import { Labels, PostgresSecrets } from '../../regions/names.js';
import type { PlatformConfig, Region } from '../../regions/schema.js';
import { HelmValuesFile, SecretRequirement, type OutputChart } from '../output.js';
import { PostgresClientCertificates, PostgresClientIssuer } from './client-certificates.js';
import { pgedgeValues, REPLICATION_FORMULA } from './pgedge-values.js';
import { SpockBootstrapJob } from './spock-job.js';

export interface PostgresRegionProps {
  readonly config: PlatformConfig;
  readonly region: Region;
  /** `clusters/<cluster>/postgres`. */
  readonly manifests: OutputChart;
}

/**
 * One region's Postgres: pgEdge chart values (this node + every other region as external
 * node), the client certificates, and the Job that wires this node into the Spock mesh.
 */
export class PostgresRegion extends Construct {
  public readonly values: HelmValuesFile;
  public readonly job: SpockBootstrapJob;

  constructor(scope: Construct, id: string, props: PostgresRegionProps) {
    super(scope, id);
    const { config: c, region } = props;
    const ns = c.postgres.namespace;
    const labels = { [Labels.partOf]: c.platform, [Labels.component]: 'postgres', [Labels.region]: region.name };
    this.values = new HelmValuesFile(this, 'values', {
      cluster: region.cluster,
      chart: 'pgedge',
      values: pgedgeValues(c, region),
      comment: `Replication capacity for ${c.regions.length} region(s), ${c.postgres.instances} instance(s): ${REPLICATION_FORMULA}`,
    });
    new PostgresClientIssuer(props.manifests, 'client-ca-issuer', { platform: c.platform, labels });
    new PostgresClientCertificates(props.manifests, { platform: c.platform, namespace: ns, labels });
    this.job = new SpockBootstrapJob(props.manifests, 'bootstrap-spock', c, region);

    new SecretRequirement(this, 'client-ca', {
      cluster: region.cluster,
      namespace: c.certManager.namespace,
      name: PostgresSecrets.clientCa,
      keys: ['tls.crt', 'tls.key'],
      usedBy: `cert-manager ClusterIssuer ${c.platform}-postgres-client-ca (signs every Postgres client certificate)`,
      sameAcross: 'every region (one client CA, or certificate auth between regions fails)',
    });
    for (const [name, reader] of [
      [PostgresSecrets.streamingReplica, 'CloudNativePG streaming replication'],
      [PostgresSecrets.pgedge, 'postgres pods (Spock subscriptions to peers, projected into every pod)'],
      [PostgresSecrets.admin, 'bootstrap-spock Job'],
      [PostgresSecrets.app, 'application role app'],
    ] as const) {
      new SecretRequirement(this, `cert-${name}`, {
        cluster: region.cluster,
        namespace: ns,
        name,
        keys: ['tls.crt', 'tls.key', 'ca.crt'],
        usedBy: reader,
        createdBy: `cert-manager (ClusterIssuer ${c.platform}-postgres-client-ca)`,
      });
    }
  }
}
