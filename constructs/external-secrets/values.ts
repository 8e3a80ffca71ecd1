/** Values of the external-secrets chart (2.9.0): everything that changes behaviour is explicit. */
import type { ExternalSecretsConfig } from './config.js';

/** Requests and limits of the webhook and cert-controller (idle most of the time). */
const SMALL = { requests: { cpu: '10m', memory: '32Mi' }, limits: { memory: '128Mi' } };

/** The chart's pods already meet the restricted Pod Security level with its defaults (helm template checked). */
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
    webhook: { create: true, resources: SMALL },
    certController: { create: true, resources: SMALL },
    serviceMonitor: { enabled: false },
    resources: { requests: { cpu: '10m', memory: '64Mi' }, limits: { memory: '256Mi' } },
  };
}
