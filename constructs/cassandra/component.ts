/**
 * Chat history: the K8ssandraCluster (one DC per region) and its ClientConfigs on the
 * management cluster, the schema Job in the schema region.
 */
import { cassandraRegionNames } from '../../regions/names.js';
import type { ComponentDefinition } from '../component.js';
import { mermaidId, Placement, regionNodeId } from '../component.js';
import { ChatHistory } from './chat-history.js';
import { CASSANDRA_DANGER_RULES, cassandraRegionData } from './danger.js';
import { k8ssandraClusterEffects } from './plan-effects.js';
import { cassandraConfig } from './config.js';

/** Mermaid id of the control plane node on the management cluster. */
const CONTROL_PLANE = mermaidId('k8ssandra');

export const cassandra: ComponentDefinition = {
  name: 'cassandra',
  config: cassandraConfig,
  placement: (c) => [...Placement.management(c), ...Placement.regions(c, (r) => r.name === c.cassandra.schemaRegion)],
  // The k8ssandra-operator component creates the namespace on every cluster.
  namespace: (c) => ({ name: c.cassandra.namespace }),
  application: () => ({
    // The K8ssandraCluster's CRD arrives with the operator app.
    syncOptions: ['ServerSideApply=true', 'SkipDryRunOnMissingResource=true'],
    prune: false,
  }),
  construct: ChatHistory,
  topology: {
    summary: (c) => [
      `- **Cassandra**: K8ssandraCluster \`${c.cassandra.clusterName}\`, one DC per region, keyspace \`${c.cassandra.keyspace}\` at RF ${c.cassandra.replicationFactor} per DC, LOCAL_QUORUM.`,
    ],
    managementNodes: (c) => [`    ${CONTROL_PLANE}["k8ssandra-operator<br/>K8ssandraCluster ${c.cassandra.clusterName}"]`],
    regionNodes: (c, r) => [`    ${regionNodeId('cas', r.name)}["Cassandra DC ${cassandraRegionNames(c, r).datacenter}<br/>${r.cassandra.size} node(s)"]`],
    meshEdges: (_c, a, b) => [`  ${regionNodeId('cas', a.name)} <-.->|DC replication| ${regionNodeId('cas', b.name)}`],
    managementEdges: (_c, r) => [`  ${CONTROL_PLANE} -.->|manages DC| ${regionNodeId('cas', r.name)}`],
    regionColumns: [{ header: 'Cassandra DC (nodes)', cell: (_c, r) => `${r.cassandra.datacenter} (${r.cassandra.size})` }],
  },
  plan: { kinds: { K8ssandraCluster: k8ssandraClusterEffects } },
  state: {
    section: {
      key: 'cassandra',
      of: (c) => ({ clusterName: c.cassandra.clusterName, serverVersion: c.cassandra.serverVersion, replicationFactor: c.cassandra.replicationFactor }),
    },
    region: (r) => ({ datacenter: r.cassandra.datacenter, size: r.cassandra.size }),
  },
  danger: { rules: CASSANDRA_DANGER_RULES, regionData: cassandraRegionData },
};
