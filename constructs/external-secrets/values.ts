/** Values of the external-secrets chart (2.9.0): everything that changes behaviour is explicit. */
import type { ExternalSecretsConfig } from './config.js';

export function externalSecretsValues(_e: ExternalSecretsConfig): Record<string, unknown> {
  return {
    // The chart installs the CRDs the ExternalSecrets, Password generators and your
    // ClusterSecretStore need (ServerSideApply: they exceed the client-side annotation limit).
    installCRDs: true,
    replicaCount: 1,
    // ExternalSecrets read ClusterSecretStores; the controller must reconcile them.
    processClusterStore: true,
    // The validating webhook rejects a malformed ExternalSecret at sync time; cert-controller
    // issues its serving certificate (no cert-manager dependency).
    webhook: { create: true },
    certController: { create: true },
    serviceMonitor: { enabled: false },
    resources: { requests: { cpu: '10m', memory: '64Mi' }, limits: { memory: '256Mi' } },
  };
}
