/**
 * Values for the `k8ssandra-operator` chart. The management cluster runs the control plane
 * (reconciles the K8ssandraCluster, owns the webhook, reads ClientConfigs); every region
 * runs a data plane (cass-operator and the Reaper/Medusa controllers next to its DC).
 */
import { Labels } from '../../regions/names.js';
import type { PlatformConfig } from '../../regions/schema.js';
import { helmResources, RESTRICTED_CONTAINER } from '../workload.js';

/** UID/GID the chart runs both operators as (nobody); their images need no other. */
const OPERATOR_UID = 65534;

/** Pod-level part of the restricted Pod Security Standard, for both operator pods. */
const RESTRICTED_POD = { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } } as const;

/** Container-level restricted security context, for both operator containers. */
const RESTRICTED_OPERATOR_CONTAINER = { ...RESTRICTED_CONTAINER, runAsUser: OPERATOR_UID, runAsGroup: OPERATOR_UID } as const;

export function k8ssandraOperatorValues(c: PlatformConfig, role: 'control-plane' | 'data-plane'): Record<string, unknown> {
  return {
    global: {
      // The K8ssandraCluster and every DC live in the operator's own namespace.
      clusterScoped: false,
      // Added by k8ssandra-common to every object's labels *and* to the pod templates of both
      // Deployments, after the labels it sets itself (name, instance, managed-by, helm.sh/chart,
      // part-of) and before `control-plane`. A key it already sets is emitted twice: the decoder
      // keeps the last one, the pod template then no longer matches the Deployment's selector and
      // the API server rejects the Deployment. So only a key of ours, never `app.kubernetes.io/*`.
      commonLabels: { [Labels.component]: 'k8ssandra-operator' },
    },
    controlPlane: role === 'control-plane',
    replicaCount: 1,
    // The chart defaults to "latest".
    image: { registry: 'docker.io', repository: 'k8ssandra/k8ssandra-operator', tag: c.cassandra.operator.imageTag, pullPolicy: 'IfNotPresent' },
    podSecurityContext: RESTRICTED_POD,
    securityContext: RESTRICTED_OPERATOR_CONTAINER,
    resources: helmResources('50m', '256Mi'),
    // The cass-operator sub-chart (runs next to every DC): its defaults set no pod security
    // context and drop no capabilities, and it has no resources.
    'cass-operator': {
      image: { pullPolicy: 'IfNotPresent' },
      podSecurityContext: RESTRICTED_POD,
      securityContext: RESTRICTED_OPERATOR_CONTAINER,
      resources: helmResources('50m', '256Mi'),
    },
    // ArgoCD applies the chart's CRDs with server-side apply; the upgrader hook would run on
    // every sync and needs egress to the chart repository.
    disableCrdUpgraderJob: true,
  };
}
