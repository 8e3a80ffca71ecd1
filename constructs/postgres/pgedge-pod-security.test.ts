import { describe, expect, it } from 'vitest';
import { loadConfigFile } from '../platform-config.js';
import { DEFAULT_CONFIG_PATH } from '../../test/helpers.js';
import { pgedgeValues } from './pgedge-values.js';

type Values = Record<string, any>;

/**
 * CloudNativePG builds the Postgres pods itself: every container gets runAsNonRoot, no privilege
 * escalation, privileged false, capabilities drop ALL (pkg/specs `CreateContainerSecurityContext`),
 * and `spec.seccompProfile` on pod and containers (CRD: "Defaults to: RuntimeDefault", chart
 * cloudnative-pg 0.27.1). What our values control is the profile and not overriding the rest.
 */
describe('pgedge values: the Postgres pods meet the restricted namespace', () => {
  const config = loadConfigFile(DEFAULT_CONFIG_PATH);

  for (const r of config.regions) {
    const v = pgedgeValues(config, r) as Values;
    const spec = v.pgEdge.clusterSpec;

    it(`${r.name}: sets seccomp RuntimeDefault and keeps the operator's restricted container defaults`, () => {
      expect(spec.seccompProfile).toEqual({ type: 'RuntimeDefault' });
      expect(spec.podSecurityContext).toBeUndefined();
      expect(spec.securityContext).toBeUndefined();
      expect(spec.postgresUID).not.toBe(0);
      for (const node of [...v.pgEdge.nodes, ...v.pgEdge.externalNodes]) {
        expect(node.clusterSpec?.seccompProfile ?? spec.seccompProfile, node.name).toEqual({ type: 'RuntimeDefault' });
      }
    });
  }
});
