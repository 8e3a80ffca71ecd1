import { Construct } from 'constructs';
import { Labels, PostgresSecrets } from '../../regions/names.js';
import { regionOf, type ComponentProps } from '../component.js';
import { HelmValuesFile, SecretRequirement } from '../output.js';
import { PostgresClientCertificates, PostgresClientIssuer } from './client-certificates.js';
import { pgedgeValues, REPLICATION_FORMULA } from './pgedge-values.js';
import { SpockBootstrapJob } from './spock-job.js';

/**
 * One region's Postgres: pgEdge chart values (this node + every other region as external
 * node), the client certificates, and the Job that wires this node into the Spock mesh.
 * `scope` is the region's `clusters/<cluster>/postgres` folder.
 */
export class PostgresRegion extends Construct {
  public readonly values: HelmValuesFile;
  public readonly job: SpockBootstrapJob;

  constructor(scope: Construct, id: string, props: ComponentProps) {
    super(scope, id);
    const c = props.config;
    const region = regionOf(props, 'postgres');
    const ns = props.namespace;
    const labels = { [Labels.partOf]: c.platform, [Labels.component]: 'postgres', [Labels.region]: region.name };
    this.values = new HelmValuesFile(this, 'values', {
      cluster: region.cluster,
      chart: 'pgedge',
      values: pgedgeValues(c, region),
      comment: `Replication capacity for ${c.regions.length} region(s), ${c.postgres.instances} instance(s): ${REPLICATION_FORMULA}`,
    });
    new PostgresClientIssuer(scope, 'client-ca-issuer', { platform: c.platform, labels });
    new PostgresClientCertificates(scope, 'client-certificates', { platform: c.platform, namespace: ns, labels });
    this.job = new SpockBootstrapJob(scope, 'bootstrap-spock', { config: c, region });

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
