import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { loadConfigFile } from '../platform-config.js';
import { DEFAULT_CONFIG_PATH } from '../../test/helpers.js';
import { helmMerge, restrictedViolations } from '../../test/pod-security.js';
import { k8ssandraOperatorValues } from './operator-values.js';

type Values = Record<string, any>;

/**
 * Facts read in the pinned charts (k8ssandra-operator 1.32.5 with k8ssandra-common 0.29.2 and
 * cass-operator 0.64.4, whose k8ssandra-common depends on bitnami `common` 1.16.0), written
 * down here because no chart source is available at test time.
 *
 * The labels k8ssandra-common's `k8ssandra-common.labels` emits itself, in this order, before it
 * appends `global.commonLabels` and `commonLabels` with `toYaml`
 * (k8ssandra/k8ssandra charts/k8ssandra-common/templates/_helpers.tpl:24-37):
 *  - bitnami common 1.16.0 templates/_labels.tpl:6-9 (`common.labels.standard`)
 *  - _helpers.tpl:26 `app.kubernetes.io/part-of: k8ssandra-<release>-<namespace>`
 * Both Deployments then add `control-plane` after that block (cass-operator
 * templates/deployment.yaml:19,36; k8ssandra-operator charts/k8ssandra-operator/templates/deployment.yaml:6,16,25).
 */
const CHART_OWN_LABELS = (release: string, namespace: string, name: string): Record<string, string> => ({
  'app.kubernetes.io/name': name,
  'helm.sh/chart': `${name}-x.y.z`,
  'app.kubernetes.io/instance': release,
  'app.kubernetes.io/managed-by': 'Helm',
  'app.kubernetes.io/part-of': `k8ssandra-${release}-${namespace}`,
});
const CONTROL_PLANE_LABEL = 'control-plane';

/** `k8ssandra-common.selectorLabels` (_helpers.tpl:62-66): the Deployments' `spec.selector.matchLabels`. */
const SELECTOR_LABELS = (release: string, namespace: string, name: string): Record<string, string> => ({
  'app.kubernetes.io/name': name,
  'app.kubernetes.io/instance': release,
  'app.kubernetes.io/part-of': `k8ssandra-${release}-${namespace}`,
});

/**
 * Chart defaults of the two pods' security contexts: k8ssandra-operator values.yaml:61-72 and
 * cass-operator values.yaml:118-130 (both: no pod security context, a container one without
 * seccomp and without dropping capabilities).
 */
const CHART_DEFAULT_SECURITY = {
  podSecurityContext: {},
  securityContext: { runAsNonRoot: true, runAsGroup: 65534, runAsUser: 65534, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false },
};

/** The pod template's `labels:` block as the chart writes it (a model of the template text). */
function podTemplateLabelsText(own: Record<string, string>, common: Record<string, unknown>): string {
  const lines = Object.entries(own).map(([k, v]) => `${k}: ${v}`);
  const extra = Object.keys(common).length ? stringify(common).trim() : '';
  return [...lines, ...(extra ? [extra] : []), `${CONTROL_PLANE_LABEL}: x-controller-manager`].join('\n');
}

describe('k8ssandra-operator values against the labels its charts set themselves', () => {
  const config = loadConfigFile(DEFAULT_CONFIG_PATH);
  const release = 'k8ssandra-operator';
  const namespace = config.cassandra.namespace;

  for (const role of ['control-plane', 'data-plane'] as const) {
    const values = k8ssandraOperatorValues(config, role) as Values;
    // Helm hands `global` to every sub-chart; k8ssandra-common merges global.commonLabels with
    // the chart's own commonLabels (sub-chart values under `cass-operator`).
    const commonOf = (sub: Values | undefined) => ({ ...(values.global?.commonLabels ?? {}), ...(sub?.commonLabels ?? {}) });
    const charts = [
      { name: 'k8ssandra-operator', common: commonOf(values) },
      { name: 'cass-operator', common: commonOf(values['cass-operator']) },
    ];

    it(`${role}: sets no common label key the chart sets itself`, () => {
      const own = new Set([...Object.keys(CHART_OWN_LABELS(release, namespace, 'x')), CONTROL_PLANE_LABEL]);
      for (const { name, common } of charts) {
        expect(Object.keys(common).filter((k) => own.has(k)), name).toEqual([]);
      }
    });

    it(`${role}: both Deployments' pod templates decode without a duplicate key and match their selectors`, () => {
      for (const { name, common } of charts) {
        const text = podTemplateLabelsText(CHART_OWN_LABELS(release, namespace, name), common);
        // Strict decode: a repeated key is an error, as in the render.
        expect(() => parse(text, { uniqueKeys: true }), `${name}:\n${text}`).not.toThrow();
        // Lenient decode (last key wins, as ArgoCD's decoder): the selector must still match.
        const labels = parse(text, { uniqueKeys: false }) as Record<string, string>;
        expect(labels, name).toMatchObject(SELECTOR_LABELS(release, namespace, name));
      }
    });

    it(`${role}: the operator and the cass-operator sub-chart run restricted, with resources and a pinned pull policy`, () => {
      for (const [name, v] of [['k8ssandra-operator', values], ['cass-operator', values['cass-operator']]] as const) {
        const pod = helmMerge(CHART_DEFAULT_SECURITY.podSecurityContext, v?.podSecurityContext);
        const container = helmMerge(CHART_DEFAULT_SECURITY.securityContext, v?.securityContext);
        expect(restrictedViolations(pod, container), name).toEqual([]);
        expect(v?.resources?.requests, name).toBeDefined();
        expect(v?.resources?.limits?.memory, name).toBe(v?.resources?.requests?.memory);
        expect(v?.image?.pullPolicy, name).toBe('IfNotPresent');
      }
    });
  }

  it('the strict decode in these tests does catch the collision of the issue', () => {
    // The model itself: the old values' common label makes a duplicate key and breaks the selector.
    const text = podTemplateLabelsText(CHART_OWN_LABELS(release, namespace, 'cass-operator'), { 'app.kubernetes.io/part-of': 'astring' });
    expect(() => parse(text, { uniqueKeys: true })).toThrow(/unique/i);
    expect(parse(text, { uniqueKeys: false })).not.toMatchObject(SELECTOR_LABELS(release, namespace, 'cass-operator'));
  });
});
