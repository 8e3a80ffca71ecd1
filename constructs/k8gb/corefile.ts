/**
 * k8gb's CoreDNS configuration when regionmesh needs more than the chart's: a GeoIP database,
 * or the `_acme-challenge` CNAMEs of the endpoint's DNS-01 solver (endpoint.acme.dns01.challengeZone:
 * the delegated zone is served by k8gb's CoreDNS, whose k8s_crd plugin answers only A and TXT
 * from DNSEndpoints). The v0.20.0 chart's Corefile (templates/coredns/cm.yaml) reads
 * `geoDataFilePath`, `geoDataField` and `extraServerBlocks` outside the `dnsZones` range, so none
 * of them reaches CoreDNS (checked with `helm template`). Then the chart's ConfigMap is switched
 * off (`coredns.corefile.enabled: false`) and this ConfigMap `<release>-coredns` takes its place:
 * the chart's Corefile, the geo lines, and one server block per CNAME (template plugin; CoreDNS
 * picks the most specific zone, so they win over the delegated zone's block).
 */
import { ApiObject } from 'cdk8s';
import type { Construct } from 'constructs';
import type { K8gbConfig } from './config.js';

/** Helm release name of k8gb (fixed: the CoreDNS ConfigMap and Deployment names derive from it). */
export const K8GB_RELEASE = 'k8gb';
/** Where the GeoIP database is mounted in the CoreDNS container. */
export const GEOIP_MOUNT = '/geoip';
/** The port CoreDNS listens on in its container (chart: coredns.servers[0].port; the Service maps 53 to it). */
export const COREDNS_PORT = 5353;

type Geoip = NonNullable<K8gbConfig['geoip']>;

/** A CNAME the k8gb CoreDNS answers (name and target without the trailing dot). */
export interface CnameRecord {
  readonly name: string;
  readonly target: string;
}

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

/** One CoreDNS server block answering `name` (any type) with a CNAME to `target`. */
export function cnameServerBlock(r: CnameRecord, ttlSeconds: number): string[] {
  return [
    `${r.name}:${COREDNS_PORT} {`,
    '    errors',
    `    template IN ANY ${r.name} {`,
    `        answer "{{ .Name }} ${ttlSeconds} IN CNAME ${r.target}."`,
    '    }',
    '}',
  ];
}

export interface CorefileOptions {
  readonly geoip?: Geoip | undefined;
  readonly cnames: readonly CnameRecord[];
  /** Negative TTL (s) of the k8s_crd plugin. */
  readonly negTtlSeconds: number;
  /** TTL (s) of the CNAME answers. */
  readonly cnameTtlSeconds: number;
}

/** The chart v0.20.0 Corefile (reload on, as its default) plus GeoIP lines and CNAME blocks. */
export function k8gbCorefile(o: CorefileOptions): string {
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
    `        negttl ${o.negTtlSeconds}`,
    '        loadbalance weight',
    ...(o.geoip ? [`        geodatafilepath ${GEOIP_MOUNT}/${o.geoip.fileName}`, `        geodatafield ${o.geoip.field}`] : []),
    '    }',
    '}',
    ...o.cnames.flatMap((r) => cnameServerBlock(r, o.cnameTtlSeconds)),
    'import ../dynamic/*.conf',
  ].join('\n');
}

/** Whether regionmesh writes the Corefile (the chart's cannot carry what is needed). */
export function ownCorefile(o: Pick<CorefileOptions, 'geoip' | 'cnames'>): boolean {
  return o.geoip !== undefined || o.cnames.length > 0;
}

export interface K8gbCorefileProps {
  readonly namespace: string;
  readonly options: CorefileOptions;
  readonly labels: Readonly<Record<string, string>>;
}

export class K8gbCorefile extends ApiObject {
  constructor(scope: Construct, id: string, props: K8gbCorefileProps) {
    super(scope, id, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: `${K8GB_RELEASE}-coredns`, namespace: props.namespace, labels: { ...props.labels } },
      data: { Corefile: k8gbCorefile(props.options) },
    });
  }
}
