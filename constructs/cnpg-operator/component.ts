/** pgEdge's CloudNativePG operator in every region: it runs the region's pgEdge Postgres. */
import { Construct } from 'constructs';
import type { ComponentDefinition, ComponentProps } from '../component.js';
import { OPERATOR_CHART_KINDS, Placement } from '../component.js';
import { HelmValuesFile } from '../output.js';
import { cnpgOperatorValues } from './cnpg-operator-values.js';

export const CNPG_OPERATOR_CHART = 'cloudnative-pg';

/** One region's operator values. */
export class CnpgOperatorInstall extends Construct {
  constructor(scope: Construct, id: string, props: ComponentProps) {
    super(scope, id);
    new HelmValuesFile(this, 'values', { cluster: props.target.cluster, chart: CNPG_OPERATOR_CHART, values: cnpgOperatorValues(props.config) });
  }
}

export const cnpgOperator: ComponentDefinition = {
  name: 'cnpg-operator',
  placement: (c) => Placement.regions(c),
  namespace: (c) => ({ name: c.postgres.operator.namespace, podSecurity: 'restricted' }),
  application: (c) => ({
    chart: { repoURL: c.postgres.operator.chart.repoURL, chart: CNPG_OPERATOR_CHART, version: c.postgres.operator.chart.version, releaseName: 'cnpg' },
    syncOptions: ['ServerSideApply=true'],
  }),
  construct: CnpgOperatorInstall,
  clusterScopedKinds: () => OPERATOR_CHART_KINDS,
};
