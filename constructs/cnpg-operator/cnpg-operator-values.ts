/**
 * Values for pgEdge's build of the `cloudnative-pg` operator chart (keys as in the upstream
 * chart 0.27.x, which pgEdge rebuilds with its own operator image).
 */
import { Labels } from '../../regions/names.js';
import type { PlatformConfig } from '../../regions/schema.js';
import { helmResources, RESTRICTED_CONTAINER } from '../workload.js';

export function cnpgOperatorValues(c: PlatformConfig): Record<string, unknown> {
  return {
    crds: { create: true },
    replicaCount: 1,
    image: { pullPolicy: 'IfNotPresent' },
    podLabels: { [Labels.partOf]: c.platform },
    resources: helmResources('50m', '256Mi'),
    podSecurityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
    containerSecurityContext: { ...RESTRICTED_CONTAINER, runAsUser: 10001, runAsGroup: 10001 },
    monitoring: { podMonitorEnabled: false },
  };
}
