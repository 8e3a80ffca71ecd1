import { Construct } from 'constructs';
import { cassandraRegionNames, CassandraSecrets, Labels } from '../../regions/names.js';
import type { ComponentProps } from '../component.js';
import { SecretRequirement } from '../output.js';
import { ChatK8ssandraCluster, ClientConfig } from './k8ssandra-cluster.js';
import { CassandraSchemaJob } from './schema-job.js';

/**
 * Chat history on one of its two clusters. On the management cluster: the K8ssandraCluster,
 * one ClientConfig per region and the Secrets the control plane reads. In the schema region:
 * the schema Job and the Secrets it reads. `scope` is that cluster's `cassandra` folder.
 */
export class ChatHistory extends Construct {
  constructor(scope: Construct, id: string, props: ComponentProps) {
    super(scope, id);
    const c = props.config;
    const ns = props.namespace;
    const mgmt = c.managementCluster.name;
    const labels = { [Labels.partOf]: c.platform, [Labels.component]: 'cassandra' };

    if (!props.target.region) {
      for (const r of c.regions) {
        const names = cassandraRegionNames(c, r);
        new ClientConfig(scope, `client-config-${r.name}`, {
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
      new ChatK8ssandraCluster(scope, 'k8ssandra-cluster', { config: c });
      new SecretRequirement(this, 'superuser', {
        cluster: mgmt,
        namespace: ns,
        name: CassandraSecrets.superuser(c),
        keys: ['username', 'password'],
        usedBy: 'k8ssandra-operator (Cassandra superuser; must exist before the K8ssandraCluster syncs, or the operator invents a random password)',
        generated: { key: 'password', fixed: { username: CassandraSecrets.superuser(c) } },
      });
      return;
    }

    const leader = props.target.region;
    new CassandraSchemaJob(scope, 'schema-job', { config: c });
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
      generated: { key: 'password' },
    });
  }
}
