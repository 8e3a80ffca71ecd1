/**
 * Values for the `k8ssandra-operator` chart. The management cluster runs the control plane
 * (reconciles the K8ssandraCluster, owns the webhook, reads ClientConfigs); every region
 * runs a data plane (cass-operator and the Reaper/Medusa controllers next to its DC).
 */
import { Labels } from '../../regions/names.js';
import type { PlatformConfig } from '../../regions/schema.js';
import { helmResources } from '../workload.js';

export function k8ssandraOperatorValues(c: PlatformConfig, role: 'control-plane' | 'data-plane'): Record<string, unknown> {
  return {
    global: {
      // The K8ssandraCluster and every DC live in the operator's own namespace.
      clusterScoped: false,
      commonLabels: { [Labels.partOf]: c.platform },
    },
    controlPlane: role === 'control-plane',
    replicaCount: 1,
    // The chart defaults to "latest".
    image: { registry: 'docker.io', repository: 'k8ssandra/k8ssandra-operator', tag: c.cassandra.operator.imageTag, pullPolicy: 'IfNotPresent' },
    podSecurityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
    securityContext: {
      runAsNonRoot: true,
      runAsUser: 65534,
      runAsGroup: 65534,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
    },
    resources: helmResources('50m', '256Mi'),
    // ArgoCD applies the chart's CRDs with server-side apply; the upgrader hook would run on
    // every sync and needs egress to the chart repository.
    disableCrdUpgraderJob: true,
  };
}
