/**
 * k8ssandra-operator everywhere: the control plane on the management cluster (reconciles the
 * K8ssandraCluster), a data plane (cass-operator) in every region next to its DC.
 */
import { Construct } from 'constructs';
import type { ComponentDefinition, ComponentProps } from '../component.js';
import { OPERATOR_CHART_KINDS, Placement } from '../component.js';
import { HelmValuesFile } from '../output.js';
import { k8ssandraOperatorValues } from './operator-values.js';

export const K8SSANDRA_OPERATOR_CHART = 'k8ssandra-operator';

/** One cluster's operator values: control plane on the management cluster, data plane in a region. */
export class K8ssandraOperatorInstall extends Construct {
  constructor(scope: Construct, id: string, props: ComponentProps) {
    super(scope, id);
    new HelmValuesFile(this, 'values', {
      cluster: props.target.cluster,
      chart: K8SSANDRA_OPERATOR_CHART,
      values: k8ssandraOperatorValues(props.config, props.target.region ? 'data-plane' : 'control-plane'),
    });
  }
}

export const k8ssandraOperator: ComponentDefinition = {
  name: 'k8ssandra-operator',
  placement: Placement.everywhere,
  // `baseline`, not `restricted`: the Cassandra pods cass-operator creates in this namespace set no restricted security context.
  namespace: (c) => ({ name: c.cassandra.namespace, podSecurity: 'baseline' }),
  application: (c) => ({
    chart: { repoURL: c.cassandra.operator.chart.repoURL, chart: K8SSANDRA_OPERATOR_CHART, version: c.cassandra.operator.chart.version, releaseName: 'k8ssandra-operator' },
    syncOptions: ['ServerSideApply=true'],
  }),
  construct: K8ssandraOperatorInstall,
  clusterScopedKinds: () => OPERATOR_CHART_KINDS,
  topology: { managementRole: 'the k8ssandra-operator control plane' },
};
