/**
 * Values for pgEdge's build of the `plugin-barman-cloud` chart (pgEdge/pgedge-cnpg-dist
 * charts/plugin-barman-cloud/v0.5.0, the upstream chart with ghcr.io/pgedge images). The
 * plugin runs in the CloudNativePG operator's namespace: the operator finds it there by its
 * Service (label `cnpg.io/pluginName`). Nothing is left to a chart default that matters:
 * images (pinned tag), resources and the restricted security context are set here.
 */
import { Labels } from '../../regions/names.js';
import type { PlatformConfig } from '../../regions/schema.js';
import type { BackupsConfig } from '../barman-cloud/config.js';
import { helmResources, RESTRICTED_CONTAINER } from '../workload.js';

/** Chart name in the pgEdge Helm repository (and the values file name). */
export const BARMAN_CLOUD_CHART = 'plugin-barman-cloud';

/** Image both the plugin Deployment and the injected sidecar run (pgEdge builds one image for both from v0.11.0). */
export const BARMAN_CLOUD_IMAGE = { registry: 'ghcr.io', repository: 'pgedge/plugin-barman-cloud-sidecar' } as const;

/** Cluster-scoped kinds the chart creates (AppProject whitelist): its CRD and the plugin's ClusterRole + binding. */
export const BARMAN_CLOUD_CLUSTER_KINDS: ReadonlyArray<{ group: string; kind: string }> = [
  { group: 'apiextensions.k8s.io', kind: 'CustomResourceDefinition' },
  { group: 'rbac.authorization.k8s.io', kind: 'ClusterRole' },
  { group: 'rbac.authorization.k8s.io', kind: 'ClusterRoleBinding' },
];

export function barmanCloudValues(c: Pick<PlatformConfig, 'platform'>, backups: BackupsConfig): Record<string, unknown> {
  const p = backups.plugin;
  return {
    replicaCount: 1,
    // The chart's Deployment template has no imagePullPolicy (image.pullPolicy is read by nothing):
    // with a pinned, non-latest tag Kubernetes pulls IfNotPresent.
    image: { ...BARMAN_CLOUD_IMAGE, tag: p.imageTag },
    sidecarImage: { ...BARMAN_CLOUD_IMAGE, tag: p.imageTag },
    crds: { create: true },
    podLabels: { [Labels.partOf]: c.platform },
    resources: helmResources(p.resources.cpu, p.resources.memory),
    podSecurityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
    containerSecurityContext: { ...RESTRICTED_CONTAINER, runAsUser: 10001, runAsGroup: 10001 },
    // The operator <-> plugin mTLS pair, issued by the chart's own self-signed Issuer (cert-manager).
    certificate: { createClientCertificate: true, createServerCertificate: true, duration: '2160h', renewBefore: '360h' },
  };
}
