/** Values for pgEdge's build of the `cloudnative-pg` operator chart. */
import { Labels } from '../../regions/names.js';
import type { PlatformConfig } from '../../regions/schema.js';
import { helmResources } from '../workload.js';

export function cnpgOperatorValues(c: PlatformConfig): Record<string, unknown> {
  return {
    crds: { create: true },
    replicaCount: 1,
    commonLabels: { [Labels.partOf]: c.platform },
    resources: helmResources('50m', '256Mi'),
    podSecurityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
    containerSecurityContext: {
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsUser: 10001,
      runAsGroup: 10001,
      capabilities: { drop: ['ALL'] },
    },
    monitoring: { podMonitorEnabled: false },
  };
}
