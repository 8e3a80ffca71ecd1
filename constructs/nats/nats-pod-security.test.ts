import { describe, expect, it } from 'vitest';
import { loadConfigFile } from '../platform-config.js';
import { configWithRegions, DEFAULT_CONFIG_PATH } from '../../test/helpers.js';
import { restrictedViolations } from '../../test/pod-security.js';
import { natsValues } from './nats-values.js';

type Values = Record<string, any>;

/**
 * Labels the nats chart 2.14.2 writes itself after `global.labels`
 * (nats-io/k8s helm/charts/nats/templates/_helpers.tpl:101-120 `nats.labels`/`nats.selectorLabels`,
 * and the natsBox equivalents below them); name, instance and component are the selectors.
 */
const NATS_OWN_LABELS = ['helm.sh/chart', 'app.kubernetes.io/name', 'app.kubernetes.io/instance', 'app.kubernetes.io/component', 'app.kubernetes.io/version', 'app.kubernetes.io/managed-by'];

/** Every container the nats chart can run, with the pod it runs in: [name, pod securityContext, container securityContext]. */
function containers(v: Values): Array<[string, unknown, unknown]> {
  const natsPod = v.podTemplate?.merge?.spec?.securityContext;
  const out: Array<[string, unknown, unknown]> = [['nats', natsPod, v.container?.merge?.securityContext]];
  if (v.reloader?.enabled) out.push(['reloader', natsPod, v.reloader.merge?.securityContext]);
  if (v.promExporter?.enabled) out.push(['prom-exporter', natsPod, v.promExporter.merge?.securityContext]);
  if (v.natsBox?.enabled) out.push(['nats-box', v.natsBox.podTemplate?.merge?.spec?.securityContext, v.natsBox.container?.merge?.securityContext]);
  return out;
}

describe('nats values: pod security and labels', () => {
  const config = loadConfigFile(DEFAULT_CONFIG_PATH);
  const withTls = configWithRegions(2, (c) => {
    c.nats!.reloader = true;
    c.nats!.gateway = { ...(c.nats!.gateway ?? {}), tls: { enabled: true, issuer: { name: 'gateway-ca' } } };
  });

  it('adds no label key the chart sets itself', () => {
    for (const r of config.regions) {
      const v = natsValues(config, r) as Values;
      expect(Object.keys(v.global.labels).filter((k) => NATS_OWN_LABELS.includes(k))).toEqual([]);
    }
  });

  it('runs nats, prom-exporter and nats-box restricted (default config)', () => {
    const v = natsValues(config, config.regions[0]!) as Values;
    expect(containers(v).map(([n]) => n)).toEqual(['nats', 'prom-exporter', 'nats-box']);
    for (const [name, pod, container] of containers(v)) expect(restrictedViolations(pod, container), name).toEqual([]);
  });

  it('runs the reloader restricted too when gateway TLS turns it on', () => {
    const v = natsValues(withTls, withTls.regions[0]!) as Values;
    expect(containers(v).map(([n]) => n)).toContain('reloader');
    for (const [name, pod, container] of containers(v)) expect(restrictedViolations(pod, container), name).toEqual([]);
  });
});
