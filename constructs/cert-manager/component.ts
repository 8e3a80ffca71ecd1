/** cert-manager on every cluster: k8ssandra-operator's webhooks, the Postgres client certificates and gateway TLS need it. */
import { Construct } from 'constructs';
import type { ComponentDefinition, ComponentProps } from '../component.js';
import { OPERATOR_CHART_KINDS, Placement } from '../component.js';
import { HelmValuesFile } from '../output.js';
import { certManagerValues } from './cert-manager-values.js';
import { certManagerConfig } from './config.js';

export const CERT_MANAGER_CHART = 'cert-manager';

/** One cluster's cert-manager values. */
export class CertManagerInstall extends Construct {
  constructor(scope: Construct, id: string, props: ComponentProps) {
    super(scope, id);
    new HelmValuesFile(this, 'values', { cluster: props.target.cluster, chart: CERT_MANAGER_CHART, values: certManagerValues(props.config) });
  }
}

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
  construct: CertManagerInstall,
  clusterScopedKinds: () => OPERATOR_CHART_KINDS,
};
