/**
 * Pod-level building blocks every regionmesh workload shares: the restricted security
 * context, resources with memory request = limit, env from values and Secrets. Nothing
 * is left to a library default.
 */
import { k8s } from 'cdk8s-plus-28';

/** UID/GID of the app image (app/Dockerfile creates this user). */
export const APP_UID = 10001;

/**
 * The restricted Pod Security Standard for a container, as plain data for Helm values (charts
 * pick the user themselves).
 */
export const RESTRICTED_CONTAINER = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
  capabilities: { drop: ['ALL'] },
  seccompProfile: { type: 'RuntimeDefault' },
} as const;

/** Requests for cpu and memory, memory limit = request, as plain data for Helm values. */
export function helmResources(cpu: string, memory: string) {
  return { requests: { cpu, memory }, limits: { memory } };
}

export const restrictedContainerSecurity: k8s.SecurityContext = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
  runAsUser: APP_UID,
  runAsGroup: APP_UID,
  capabilities: { drop: ['ALL'] },
  seccompProfile: { type: 'RuntimeDefault' },
};

export const restrictedPodSecurity: k8s.PodSecurityContext = {
  runAsNonRoot: true,
  runAsUser: APP_UID,
  runAsGroup: APP_UID,
  fsGroup: APP_UID,
  seccompProfile: { type: 'RuntimeDefault' },
};

export interface Resources {
  /** CPU request (no limit: throttling hurts latency more than it protects). */
  readonly cpu: string;
  /** Memory request and limit. */
  readonly memory: string;
}

export function resourceRequirements(r: Resources): k8s.ResourceRequirements {
  return {
    requests: { cpu: k8sQuantity(r.cpu), memory: k8sQuantity(r.memory) },
    limits: { memory: k8sQuantity(r.memory) },
  };
}

function k8sQuantity(q: string): k8s.Quantity {
  return k8s.Quantity.fromString(q);
}

/** An env var: a literal value, or a key of a Secret. */
export type EnvSource = string | { readonly secret: string; readonly key: string };

export function envVars(env: Readonly<Record<string, EnvSource>>): k8s.EnvVar[] {
  return Object.entries(env).map(([name, src]) =>
    typeof src === 'string'
      ? { name, value: src }
      : { name, valueFrom: { secretKeyRef: { name: src.secret, key: src.key, optional: false } } },
  );
}
