/**
 * k8gb's CoreDNS configuration when a GeoIP database is given. The v0.20.0 chart's Corefile
 * (templates/coredns/cm.yaml) reads `geoDataFilePath` / `geoDataField` outside the `dnsZones`
 * range, so they never reach the k8s_crd plugin (checked with `helm template`). With `geoip`,
 * the chart's ConfigMap is switched off (`coredns.corefile.enabled: false`) and this ConfigMap
 * `<release>-coredns` takes its place: the chart's Corefile, plus the two geo lines.
 */
import { ApiObject } from 'cdk8s';
import type { Construct } from 'constructs';
import type { K8gbConfig } from './config.js';

/** Helm release name of k8gb (fixed: the CoreDNS ConfigMap and Deployment names derive from it). */
export const K8GB_RELEASE = 'k8gb';
/** Where the GeoIP database is mounted in the CoreDNS container. */
export const GEOIP_MOUNT = '/geoip';

type Geoip = NonNullable<K8gbConfig['geoip']>;

/** The chart's coredns.extraVolumes (its default dynamic-zones volume, kept: lists replace) plus the database. */
export function geoipVolumes(g: Geoip): Record<string, unknown>[] {
  return [
    { name: 'dynamic-zones', configMap: { name: 'k8gb-zone-delegation', optional: true } },
    g.secretName
      ? { name: 'geoip', secret: { secretName: g.secretName, items: [{ key: g.fileName, path: g.fileName }] } }
      : { name: 'geoip', persistentVolumeClaim: { claimName: g.claimName, readOnly: true } },
  ];
}

export function geoipVolumeMounts(): Record<string, unknown>[] {
  return [
    { name: 'dynamic-zones', mountPath: '/etc/dynamic' },
    { name: 'geoip', mountPath: GEOIP_MOUNT, readOnly: true },
  ];
}

/** The chart v0.20.0 Corefile (reload on, as its default) with geodatafilepath / geodatafield. */
export function geoipCorefile(g: Geoip, negTtlSeconds: number): string {
  return [
    '(k8gbplugins) {',
    '    errors',
    '    health',
    '    reload 30s 15s',
    '    ready',
    '    prometheus 0.0.0.0:9153',
    '    forward . /etc/resolv.conf',
    '    k8s_crd {',
    '        filter k8gb.io/dnstype=local',
    `        negttl ${negTtlSeconds}`,
    '        loadbalance weight',
    `        geodatafilepath ${GEOIP_MOUNT}/${g.fileName}`,
    `        geodatafield ${g.field}`,
    '    }',
    '}',
    'import ../dynamic/*.conf',
  ].join('\n');
}

export interface K8gbCorefileProps {
  readonly namespace: string;
  readonly geoip: Geoip;
  readonly negTtlSeconds: number;
  readonly labels: Readonly<Record<string, string>>;
}

export class K8gbCorefile extends ApiObject {
  constructor(scope: Construct, id: string, props: K8gbCorefileProps) {
    super(scope, id, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: `${K8GB_RELEASE}-coredns`, namespace: props.namespace, labels: { ...props.labels } },
      data: { Corefile: geoipCorefile(props.geoip, props.negTtlSeconds) },
    });
  }
}
