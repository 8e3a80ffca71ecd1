import { describe, expect, it } from 'vitest';
import { loadConfigFile } from '../platform-config.js';
import { DEFAULT_CONFIG_PATH } from '../../test/helpers.js';
import { restrictedViolations } from '../../test/pod-security.js';
import { certManagerValues } from './cert-manager-values.js';

type Values = Record<string, any>;

/**
 * Labels cert-manager v1.19.1 puts on its objects and pod templates itself, before
 * `global.commonLabels` (deploy/charts/cert-manager/templates/deployment.yaml:7-11 and 34-38,
 * the same in webhook-, cainjector-deployment.yaml and startupapicheck-job.yaml;
 * `labels` helper in templates/_helpers.tpl:153-162).
 */
const CERT_MANAGER_OWN_LABELS = [
  'app',
  'app.kubernetes.io/name',
  'app.kubernetes.io/instance',
  'app.kubernetes.io/component',
  'app.kubernetes.io/version',
  'app.kubernetes.io/managed-by',
  'helm.sh/chart',
];

describe('cert-manager values against the chart', () => {
  const values = certManagerValues(loadConfigFile(DEFAULT_CONFIG_PATH)) as Values;

  it('sets no common label key the chart sets itself', () => {
    expect(Object.keys(values.global.commonLabels).filter((k) => CERT_MANAGER_OWN_LABELS.includes(k))).toEqual([]);
  });

  it('runs controller, webhook and cainjector restricted, set explicitly; startupapicheck does not run', () => {
    for (const [name, v] of [['controller', values], ['webhook', values.webhook], ['cainjector', values.cainjector]] as const) {
      expect(restrictedViolations(v.securityContext, v.containerSecurityContext), name).toEqual([]);
    }
    expect(values.startupapicheck).toEqual({ enabled: false });
  });
});
