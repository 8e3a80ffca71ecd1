/** Building blocks for components' plan effects (see ComponentDefinition.plan). */
import type { DistObject } from './component.js';

/** Deep equality of two parsed YAML values. */
export function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** The schedule effects of a backup schedule object (`what` in `cluster`, its cron in `scheduleOf`). */
export function scheduleEffects(
  what: string,
  cluster: string,
  b: DistObject | undefined,
  a: DistObject | undefined,
  scheduleOf: (x: DistObject) => string,
): string[] {
  const name = (a ?? b)!['metadata'].name;
  if (!b) return [`${what} in ${cluster} run on "${scheduleOf(a!)}"${a!['spec']?.immediate ? ', the first one right away' : ''}`];
  if (!a) return [`${what} in ${cluster} stop (schedule ${name} removed); existing backups stay`];
  return scheduleOf(a) !== scheduleOf(b) ? [`${what} in ${cluster} move to "${scheduleOf(a)}"`] : [`${what} in ${cluster}: schedule ${name} changes, no pod restarts`];
}
