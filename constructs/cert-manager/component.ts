/** cert-manager on every cluster: k8ssandra-operator's webhooks, the Postgres client certificates and gateway TLS need it. */
import type { ComponentDefinition } from '../component.js';
import { chartValuesConstruct, OPERATOR_CHART_KINDS, Placement } from '../component.js';
import { certManagerValues } from './cert-manager-values.js';
import { endpointCertManagerValues } from '../chat-endpoint/cert-manager-values.js';
import { certManagerConfig } from './config.js';

export const CERT_MANAGER_CHART = 'cert-manager';

export const certManager: ComponentDefinition = {
  name: 'cert-manager',
  config: certManagerConfig,
  placement: Placement.everywhere,
  namespace: (c) => ({ name: c.certManager.namespace, podSecurity: 'restricted' }),
  application: (c) => ({
    chart: { repoURL: c.certManager.chart.repoURL, chart: CERT_MANAGER_CHART, version: c.certManager.chart.version, releaseName: 'cert-manager' },
    // The CRDs exceed the client-side-apply annotation limit.
    syncOptions: ['ServerSideApply=true'],
  }),
  // The public endpoint's needs (Gateway API support for HTTP-01 through a Gateway), region clusters only.
  construct: chartValuesConstruct(CERT_MANAGER_CHART, (p) => ({ ...certManagerValues(p.config), ...endpointCertManagerValues(p.config, p.target) })),
  clusterScopedKinds: () => OPERATOR_CHART_KINDS,
};
