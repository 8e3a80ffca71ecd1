import { describe, expect, it } from 'vitest';
import { loadConfigFile } from '../platform-config.js';
import { DEFAULT_CONFIG_PATH } from '../../test/helpers.js';
import { restrictedViolations } from '../../test/pod-security.js';
import { cnpgOperatorValues } from './cnpg-operator-values.js';

type Values = Record<string, any>;

/**
 * Labels the cloudnative-pg chart 0.27.1 (pgEdge/pgedge-cnpg-dist) sets on the operator's pod
 * template itself, next to `podLabels` (charts/cloudnative-pg/v0.27.1/templates/_helpers.tpl:47-62,
 * templates/deployment.yaml:49-53); name and instance are also its selector.
 */
const CNPG_OWN_LABELS = ['helm.sh/chart', 'app.kubernetes.io/version', 'app.kubernetes.io/managed-by', 'app.kubernetes.io/name', 'app.kubernetes.io/instance'];

describe('cloudnative-pg operator values against the chart', () => {
  const values = cnpgOperatorValues(loadConfigFile(DEFAULT_CONFIG_PATH)) as Values;

  it('adds no pod label key the chart sets itself', () => {
    expect(Object.keys(values.podLabels).filter((k) => CNPG_OWN_LABELS.includes(k))).toEqual([]);
  });

  it('runs the operator restricted, set explicitly', () => {
    expect(restrictedViolations(values.podSecurityContext, values.containerSecurityContext)).toEqual([]);
  });
});
