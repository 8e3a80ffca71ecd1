import { Construct } from 'constructs';
import { cassandraRegionNames, CassandraSecrets, Labels, regionByName } from '../../regions/names.js';
import type { PlatformConfig } from '../../regions/schema.js';
import { SecretRequirement, type OutputChart } from '../output.js';
import { ChatK8ssandraCluster, ClientConfig } from './k8ssandra-cluster.js';
import { CassandraSchemaJob } from './schema-job.js';

export interface ChatHistoryProps {
  readonly config: PlatformConfig;
  /** `clusters/<management>/cassandra`. */
  readonly management: OutputChart;
  /** `clusters/<schema region>/cassandra`. */
  readonly schemaRegion: OutputChart;
}

/**
 * Chat history: the K8ssandraCluster and one ClientConfig per region on the management
 * cluster, the schema Job in the schema region, and the Secrets they all need.
 */
export class ChatHistory extends Construct {
  public readonly cluster: ChatK8ssandraCluster;
  public readonly schemaJob: CassandraSchemaJob;

  constructor(scope: Construct, id: string, props: ChatHistoryProps) {
    super(scope, id);
    const c = props.config;
    const ns = c.cassandra.namespace;
    const mgmt = c.managementCluster.name;
    const labels = { [Labels.partOf]: c.platform, [Labels.component]: 'cassandra' };

    for (const r of c.regions) {
      const names = cassandraRegionNames(c, r);
      new ClientConfig(props.management, `client-config-${r.name}`, {
        namespace: ns,
        contextName: names.clientConfig,
        kubeconfigSecret: names.kubeconfigSecret,
        labels: { ...labels, [Labels.region]: r.name },
      });
      new SecretRequirement(this, `kubeconfig-${r.name}`, {
        cluster: mgmt,
        namespace: ns,
        name: names.kubeconfigSecret,
        keys: ['kubeconfig'],
        usedBy: `k8ssandra-operator control plane (ClientConfig ${names.clientConfig}; kube context "${names.clientConfig}", data-plane ServiceAccount token)`,
      });
    }
    this.cluster = new ChatK8ssandraCluster(props.management, 'k8ssandra-cluster', c);
    new SecretRequirement(this, 'superuser', {
      cluster: mgmt,
      namespace: ns,
      name: CassandraSecrets.superuser(c),
      keys: ['username', 'password'],
      usedBy: 'k8ssandra-operator (Cassandra superuser; must exist before the K8ssandraCluster syncs, or the operator invents a random password)',
    });

    const leader = regionByName(c, c.cassandra.schemaRegion);
    this.schemaJob = new CassandraSchemaJob(props.schemaRegion, 'schema-job', c);
    new SecretRequirement(this, 'superuser-replicated', {
      cluster: leader.cluster,
      namespace: ns,
      name: CassandraSecrets.superuser(c),
      keys: ['username', 'password'],
      usedBy: 'bootstrap-cassandra Job',
      createdBy: `k8ssandra-operator (replicated from ${mgmt})`,
    });
    new SecretRequirement(this, 'app-credentials-job', {
      cluster: leader.cluster,
      namespace: ns,
      name: CassandraSecrets.appCredentials,
      keys: ['password'],
      usedBy: `bootstrap-cassandra Job (creates role ${c.cassandra.appRole})`,
      sameAcross: 'every copy of cassandra-app-credentials',
    });
  }
}
