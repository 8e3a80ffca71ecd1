/**
 * One set of numbers for "this region can serve chat": `app.health` of the platform config
 * becomes the backend's CHAT_HEALTH_* variables (app/chat/settings.ts -> app/chat/health.ts) AND
 * the Deployment's readinessProbe, so the kubelet and the backend never disagree.
 */
import type { k8s } from 'cdk8s-plus-28';
import type { PlatformConfig } from '../../regions/schema.js';
import type { EnvSource } from '../workload.js';
import type { HealthConfig } from './config.js';

/** The backend's health variables (app/chat/settings.ts documents each). */
export function healthEnv(c: PlatformConfig): Record<string, EnvSource> {
  const h = c.app.health;
  return {
    CHAT_HEALTH_INTERVAL_SECONDS: String(h.intervalSeconds),
    CHAT_HEALTH_TIMEOUT_SECONDS: String(h.timeoutSeconds),
    CHAT_HEALTH_FAILURES_BEFORE_UNREADY: String(h.failuresBeforeUnready),
    CHAT_HEALTH_SUCCESSES_BEFORE_READY: String(h.successesBeforeReady),
  };
}

/** The probe's fields derived from `app.health` (all in seconds or counts, as Kubernetes takes them). */
export interface ReadinessTiming {
  readonly periodSeconds: number;
  readonly timeoutSeconds: number;
  readonly failureThreshold: number;
  readonly successThreshold: number;
}

/**
 * The readinessProbe timing, derived from the backend's own hysteresis:
 *
 * - The backend already applies the hysteresis: /readyz turns 503 only after
 *   `failuresBeforeUnready` failing check rounds in a row and 200 only after
 *   `successesBeforeReady` healthy ones, and it answers from memory (the checks run in the
 *   background, never inside the probe). So the kubelet only passes that verdict on:
 *   `failureThreshold: 1` and `successThreshold: 1`. Thresholds above 1 would stack a second,
 *   independent hysteresis on top (k x period more before a dead region leaves DNS, and a
 *   kubelet verdict out of step with the 4001 the clients already got).
 * - `periodSeconds = intervalSeconds`: the verdict can change at most once per round; probing
 *   faster learns nothing new, slower only adds delay.
 * - `timeoutSeconds = timeoutSeconds`: the bound the backend gives each dependency. A backend
 *   that cannot answer an in-memory GET within it cannot serve chat either.
 *
 * Worst case from a dependency dying to the pod leaving the endpoints (what k8gb counts):
 * failuresBeforeUnready x intervalSeconds + timeoutSeconds (the backend) + periodSeconds (the
 * kubelet's next probe). Back: successesBeforeReady x intervalSeconds + periodSeconds.
 */
export function readinessTiming(h: HealthConfig): ReadinessTiming {
  return { periodSeconds: h.intervalSeconds, timeoutSeconds: h.timeoutSeconds, failureThreshold: 1, successThreshold: 1 };
}

/** The Deployment's readinessProbe on /readyz of the `http` port. */
export function readinessProbe(c: PlatformConfig, port: k8s.IntOrString): k8s.Probe {
  return { httpGet: { path: '/readyz', port, scheme: 'HTTP' }, ...readinessTiming(c.app.health) };
}

