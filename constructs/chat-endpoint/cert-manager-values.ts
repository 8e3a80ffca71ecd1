/**
 * What the public endpoint needs from cert-manager's chart values. Kind gateway with HTTP-01
 * needs cert-manager's Gateway API support (`enableGatewayAPI`, chart v1.19.1 values.yaml
 * `config`); cert-manager crash-loops when it is on and the Gateway API CRDs are missing
 * (pkg/controller/context.go), so it is set in region clusters only, never the management one.
 */
import type { PlatformConfig } from '../../regions/schema.js';
import type { Target } from '../component.js';

/** Values to merge into cert-manager's values of `target`: `{}` unless kind gateway + http01 in a region. */
export function endpointCertManagerValues(c: Pick<PlatformConfig, 'endpoint'>, target: Target): Record<string, unknown> {
  const e = c.endpoint;
  if (!e || e.kind !== 'gateway' || e.acme.solver !== 'http01' || !target.region) return {};
  return { config: { apiVersion: 'controller.config.cert-manager.io/v1alpha1', kind: 'ControllerConfiguration', enableGatewayAPI: true } };
}
