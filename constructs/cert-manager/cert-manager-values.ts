/**
 * Values for the jetstack `cert-manager` chart. CRDs are installed and kept when the
 * release goes away (deleting them would delete every Certificate in the cluster).
 */
import { Labels } from '../../regions/names.js';
import type { PlatformConfig } from '../../regions/schema.js';
import { helmResources, RESTRICTED_CONTAINER } from '../workload.js';

export function certManagerValues(c: PlatformConfig): Record<string, unknown> {
  const pod = { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } };
  return {
    crds: { enabled: true, keep: true },
    global: {
      leaderElection: { namespace: c.certManager.namespace },
      commonLabels: { [Labels.partOf]: c.platform },
    },
    replicaCount: 1,
    securityContext: pod,
    containerSecurityContext: RESTRICTED_CONTAINER,
    resources: helmResources('10m', '128Mi'),
    webhook: {
      replicaCount: 1,
      securityContext: pod,
      containerSecurityContext: RESTRICTED_CONTAINER,
      resources: helmResources('10m', '64Mi'),
    },
    cainjector: {
      replicaCount: 1,
      securityContext: pod,
      containerSecurityContext: RESTRICTED_CONTAINER,
      resources: helmResources('10m', '128Mi'),
    },
    startupapicheck: { enabled: false },
    prometheus: { enabled: true, servicemonitor: { enabled: false } },
  };
}
