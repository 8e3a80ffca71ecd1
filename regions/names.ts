/**
 * Every name regionmesh computes: DNS names, Secret names, NATS identities, ArgoCD names.
 * Constructs, charts, docs and tests all call these functions, so a name is decided in
 * exactly one place. Functions take the smallest slice of config they need.
 */
import { DNS_LABEL_MAX, isDnsLabel } from './dns.js';
import type { PlatformConfig, Region } from './schema.js';

/** The slice of config that naming depends on. */
export interface NamingConfig {
  readonly platform: string;
  readonly dns: { readonly clusterSuffix: string };
  readonly regions: ReadonlyArray<Pick<Region, 'name' | 'cluster'>>;
  readonly nats: {
    readonly namespace: string;
    readonly replicas: number;
    readonly gateway: {
      readonly port: number;
      readonly exposure: 'podNetwork' | 'loadBalancer';
      readonly loadBalancer?: { readonly hostnameSuffix?: string | undefined } | undefined;
    };
  };
}

/**
 * Name of `service` in `namespace` of `cluster` as every other cluster resolves it:
 * `<service>.<namespace>.<cluster>.<suffix>` (the cross-cluster DNS of the reference setup).
 */
export function crossClusterServiceHost(
  c: Pick<NamingConfig, 'dns'>,
  cluster: string,
  namespace: string,
  service: string,
): string {
  return `${service}.${namespace}.${cluster}.${c.dns.clusterSuffix}`;
}

/** Name of `service` in `namespace` from inside its own cluster. */
export function inClusterServiceHost(namespace: string, service: string): string {
  return `${service}.${namespace}.svc`;
}

/** Secrets the platform reads. Names are fixed so runbooks and SECRETS.md never drift. */
export const SecretNames = {
  /** NATS client credentials (keys `user`, `password`), one per region. */
  natsClientAuth: 'nats-client-auth',
  /** NATS gateway credentials (keys `user`, `password`), identical in every region. */
  natsGatewayAuth: 'nats-gateway-auth',
  /** Gateway TLS key pair issued by cert-manager (keys `tls.crt`, `tls.key`, `ca.crt`). */
  natsGatewayTls: 'nats-gateway-tls',
} as const;

/** Environment variables the NATS server expands in its config (`<< $VAR >>`). */
export const NatsEnv = {
  clientUser: 'NATS_USER',
  clientPassword: 'NATS_PASSWORD',
  gatewayUser: 'GATEWAY_USER',
  gatewayPassword: 'GATEWAY_PASSWORD',
} as const;

/** The chart's fullname (fixed with `fullnameOverride`, whatever the release or app name). */
export const NATS_FULLNAME = 'nats';

/** Everything named for one region's NATS cluster. */
export interface NatsRegionNames {
  /** Cluster name = gateway name (NATS requires them equal): `<platform>-<region>`. */
  readonly gatewayName: string;
  /** `server_name` prefix, unique across the super-cluster: `<platform>-<region>-`. */
  readonly serverNamePrefix: string;
  /** Server names of this region's pods. */
  readonly serverNames: readonly string[];
  readonly statefulSet: string;
  readonly headlessService: string;
  readonly clientService: string;
  /** The gateway-only LoadBalancer Service (loadBalancer exposure). */
  readonly gatewayService: string;
  /** Host other regions dial for this region's gateway. */
  readonly gatewayHost: string;
  /** `nats://<gatewayHost>:<port>`. */
  readonly gatewayUrl: string;
  /** What this region advertises to peers (loadBalancer exposure only). */
  readonly gatewayAdvertise: string | undefined;
  /** URL that workloads in the same cluster use. */
  readonly clientUrl: string;
}

export function natsRegionNames(c: NamingConfig, region: Pick<Region, 'name' | 'cluster'>): NatsRegionNames {
  const ns = c.nats.namespace;
  const gatewayName = `${c.platform}-${region.name}`;
  const serverNamePrefix = `${gatewayName}-`;
  const headlessService = `${NATS_FULLNAME}-headless`;
  const gatewayService = `${NATS_FULLNAME}-gateway`;
  const gw = c.nats.gateway;
  let gatewayHost: string;
  if (gw.exposure === 'loadBalancer') {
    const suffix = gw.loadBalancer?.hostnameSuffix;
    gatewayHost = suffix
      ? `${gatewayService}.${region.name}.${suffix}`
      : crossClusterServiceHost(c, region.cluster, ns, gatewayService);
  } else {
    gatewayHost = crossClusterServiceHost(c, region.cluster, ns, headlessService);
  }
  const serverNames = Array.from({ length: c.nats.replicas }, (_, i) => `${serverNamePrefix}${NATS_FULLNAME}-${i}`);
  return {
    gatewayName,
    serverNamePrefix,
    serverNames,
    statefulSet: NATS_FULLNAME,
    headlessService,
    clientService: NATS_FULLNAME,
    gatewayService,
    gatewayHost,
    gatewayUrl: `nats://${gatewayHost}:${gw.port}`,
    gatewayAdvertise: gw.exposure === 'loadBalancer' ? `${gatewayHost}:${gw.port}` : undefined,
    clientUrl: `nats://${inClusterServiceHost(ns, NATS_FULLNAME)}:4222`,
  };
}

/** The components regionmesh deploys; each is one ApplicationSet and one folder per cluster. */
export type Component = 'nats' | 'cert-manager';

/** ArgoCD Application generated for `component` in `cluster`: `<platform>-<component>-<cluster-or-region>`. */
export function applicationName(c: Pick<NamingConfig, 'platform'>, component: Component, target: string): string {
  return `${c.platform}-${component}-${target}`;
}

/** ApplicationSet of a component: `<platform>-<component>`. */
export function applicationSetName(c: Pick<NamingConfig, 'platform'>, component: Component): string {
  return `${c.platform}-${component}`;
}

/** The app-of-apps Application applied by hand: `<platform>-root`. */
export function rootApplicationName(c: Pick<NamingConfig, 'platform'>): string {
  return `${c.platform}-root`;
}

/** Paths inside dist/ (relative to the dist root); ArgoCD sees them under `gitops.path`. */
export const DistPaths = {
  bootstrap: 'bootstrap',
  argocd: 'argocd',
  clusterComponent: (cluster: string, component: Component) => `clusters/${cluster}/${component}`,
  values: (cluster: string, chart: string) => `values/${cluster}/${chart}.yaml`,
} as const;

/** Label keys regionmesh puts on what it generates. */
export const Labels = {
  partOf: 'app.kubernetes.io/part-of',
  managedBy: 'app.kubernetes.io/managed-by',
  component: 'regionmesh.io/component',
  region: 'regionmesh.io/region',
} as const;

/**
 * Length and format rules on computed names (the operators and Kubernetes reject them
 * otherwise). Each rule points at the config field to change.
 */
export function computedNameRules(c: NamingConfig): Array<{ path: Array<string | number>; message: string }> {
  const out: Array<{ path: Array<string | number>; message: string }> = [];
  if (!isDnsLabel(c.platform)) return out; // reported by the field's own rule
  c.regions.forEach((region, i) => {
    if (!isDnsLabel(region.name)) return; // reported by the field's own rule
    const checks: Array<[string, string]> = [
      ['NATS gateway name', natsRegionNames(c, region).gatewayName],
      ['ArgoCD application name', applicationName(c, 'cert-manager', region.name)],
    ];
    for (const [what, value] of checks) {
      if (!isDnsLabel(value, DNS_LABEL_MAX)) {
        out.push({
          path: ['regions', i, 'name'],
          message: `${what} "${value}" is not a DNS label of at most ${DNS_LABEL_MAX} characters (shorten the platform or region name)`,
        });
      }
    }
  });
  return out;
}

/** Convenience for code that holds the whole validated config. */
export function regionByName(c: PlatformConfig, name: string): Region {
  const r = c.regions.find((x) => x.name === name);
  if (!r) throw new Error(`no region named "${name}" (known: ${c.regions.map((x) => x.name).join(', ')})`);
  return r;
}
