/** pgEdge's CloudNativePG operator in every region: it runs the region's pgEdge Postgres. */
import type { ComponentDefinition } from '../component.js';
import { chartValuesConstruct, OPERATOR_CHART_KINDS, Placement } from '../component.js';
import { cnpgOperatorValues } from './cnpg-operator-values.js';

export const CNPG_OPERATOR_CHART = 'cloudnative-pg';

export const cnpgOperator: ComponentDefinition = {
  name: 'cnpg-operator',
  placement: (c) => Placement.regions(c),
  namespace: (c) => ({ name: c.postgres.operator.namespace, podSecurity: 'restricted' }),
  application: (c) => ({
    chart: { repoURL: c.postgres.operator.chart.repoURL, chart: CNPG_OPERATOR_CHART, version: c.postgres.operator.chart.version, releaseName: 'cnpg' },
    syncOptions: ['ServerSideApply=true'],
  }),
  construct: chartValuesConstruct(CNPG_OPERATOR_CHART, (p) => cnpgOperatorValues(p.config)),
  clusterScopedKinds: () => OPERATOR_CHART_KINDS,
};
