/**
 * An independent model of the `restricted` Pod Security Standard (Kubernetes 1.31,
 * https://kubernetes.io/docs/concepts/security/pod-security-standards/) for the pod- and
 * container-level security contexts a Helm chart puts on its pods, and of Helm's value
 * merge (maps merge key by key, everything else replaces). Test helper only: it shares no
 * code with the values it checks.
 */

type Obj = Record<string, any>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Helm's coalescing of a chart's default values with ours: ours win, maps merge recursively. */
export function helmMerge(chartDefault: unknown, ours: unknown): unknown {
  if (ours === undefined) return chartDefault;
  if (!isObj(chartDefault) || !isObj(ours)) return ours;
  const out: Obj = { ...chartDefault };
  for (const [k, v] of Object.entries(ours)) out[k] = v === null ? undefined : helmMerge(chartDefault[k], v);
  return out;
}

/**
 * What the `restricted` level rejects in a pod whose pod-level security context is `pod` and
 * whose container has `container`: one line per violation, empty when the pod is admitted.
 */
export function restrictedViolations(pod: unknown, container: unknown): string[] {
  const p: Obj = isObj(pod) ? pod : {};
  const c: Obj = isObj(container) ? container : {};
  const out: string[] = [];
  if (c.privileged === true) out.push('privileged');
  if (c.allowPrivilegeEscalation !== false) out.push('allowPrivilegeEscalation is not false');
  if ((c.runAsNonRoot ?? p.runAsNonRoot) !== true) out.push('runAsNonRoot is not true');
  if (c.runAsUser === 0 || p.runAsUser === 0) out.push('runAsUser is 0');
  const seccomp = c.seccompProfile?.type ?? p.seccompProfile?.type;
  if (seccomp !== 'RuntimeDefault' && seccomp !== 'Localhost') out.push(`seccompProfile is ${seccomp ?? 'unset'}`);
  if (p.seccompProfile?.type === 'Unconfined') out.push('pod seccompProfile is Unconfined');
  const drop: unknown[] = c.capabilities?.drop ?? [];
  if (!drop.includes('ALL')) out.push('capabilities do not drop ALL');
  for (const cap of (c.capabilities?.add ?? []) as unknown[]) if (cap !== 'NET_BIND_SERVICE') out.push(`adds capability ${String(cap)}`);
  return out;
}
