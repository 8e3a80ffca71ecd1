/**
 * External Secrets Operator, with `secrets.provider: external-secrets`: the pinned chart on every
 * cluster, and per cluster the ExternalSecrets (and Password generators) that provide the
 * Secrets SECRETS.md lists as created by you. It reads the other components' SecretRequirements
 * (`readsOtherComponents`: the synth builds it after them, wherever it is listed).
 */
import type { ComponentDefinition } from '../component.js';
import { OPERATOR_CHART_KINDS, Placement } from '../component.js';
import { Construct } from 'constructs';
import { HelmValuesFile } from '../output.js';
import type { ComponentProps } from '../component.js';
import { secretsConfig, type ExternalSecretsConfig } from './config.js';
import { EXTERNAL_SECRETS_COMPONENT, SecretSources } from './secret-sources.js';
import { externalSecretsValues } from './values.js';

export const EXTERNAL_SECRETS_CHART = 'external-secrets';

function eso(c: { secrets: { externalSecrets?: ExternalSecretsConfig | undefined } }): ExternalSecretsConfig {
  const e = c.secrets.externalSecrets;
  if (!e) throw new Error(`${EXTERNAL_SECRETS_COMPONENT}: secrets.externalSecrets is required with provider external-secrets`);
  return e;
}

class ExternalSecretsCluster extends Construct {
  constructor(scope: Construct, id: string, props: ComponentProps) {
    super(scope, id);
    new HelmValuesFile(this, 'values', { cluster: props.target.cluster, chart: EXTERNAL_SECRETS_CHART, values: externalSecretsValues(eso(props.config)) });
    new SecretSources(scope, 'sources', props);
  }
}

export const externalSecrets: ComponentDefinition = {
  name: EXTERNAL_SECRETS_COMPONENT,
  config: secretsConfig,
  enabled: (c) => c.secrets.provider === 'external-secrets',
  // Every cluster holds Secrets created by you (the management cluster: kubeconfigs, superuser).
  placement: Placement.everywhere,
  // The chart's pods run as non-root, read-only, seccomp RuntimeDefault, no capabilities.
  namespace: (c) => ({ name: eso(c).namespace, podSecurity: 'restricted' }),
  application: (c) => ({
    chart: { repoURL: eso(c).chart.repoURL, chart: EXTERNAL_SECRETS_CHART, version: eso(c).chart.version, releaseName: 'external-secrets' },
    // CRDs need server-side apply; the ExternalSecrets arrive with the CRDs of the same sync.
    syncOptions: ['ServerSideApply=true', 'SkipDryRunOnMissingResource=true'],
    // Before the Applications whose Secrets it provides.
    syncWave: -1,
  }),
  construct: ExternalSecretsCluster,
  readsOtherComponents: true,
  clusterScopedKinds: () => OPERATOR_CHART_KINDS,
  secretNotes: [
    'With `secrets.provider: external-secrets`, put each "from store key" value in your store once',
    '(one property per Secret key); README "Secrets: manual or from a store" shows how.',
  ],
};
