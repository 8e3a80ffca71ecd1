/**
 * k8ssandra-operator everywhere: the control plane on the management cluster (reconciles the
 * K8ssandraCluster), a data plane (cass-operator) in every region next to its DC.
 */
import type { ComponentDefinition } from '../component.js';
import { chartValuesConstruct, OPERATOR_CHART_KINDS, Placement } from '../component.js';
import { k8ssandraOperatorValues } from './operator-values.js';

/** Chart name, also the values file name. */
export const K8SSANDRA_OPERATOR_CHART = 'k8ssandra-operator';

export const k8ssandraOperator: ComponentDefinition = {
  name: 'k8ssandra-operator',
  placement: Placement.everywhere,
  // `baseline`, not `restricted`: the Cassandra pods cass-operator creates in this namespace set no restricted security context.
  namespace: (c) => ({ name: c.cassandra.namespace, podSecurity: 'baseline' }),
  application: (c) => ({
    chart: { repoURL: c.cassandra.operator.chart.repoURL, chart: K8SSANDRA_OPERATOR_CHART, version: c.cassandra.operator.chart.version, releaseName: 'k8ssandra-operator' },
    syncOptions: ['ServerSideApply=true'],
  }),
  construct: chartValuesConstruct(K8SSANDRA_OPERATOR_CHART, (p) => k8ssandraOperatorValues(p.config, p.target.region ? 'data-plane' : 'control-plane')),
  clusterScopedKinds: () => OPERATOR_CHART_KINDS,
  topology: { managementRole: 'the k8ssandra-operator control plane' },
};
