/** Building blocks for components' danger rules (see ComponentDefinition.danger). */
import type { DangerousChange, DangerRule, PlatformState, RegionState } from './component.js';

/** The major version of an image reference or version string (`nats:2.14.2-alpine` -> 2). */
export function majorVersion(version: string): number {
  const m = /(\d+)(?:\.\d+)*(?:[^:]*)$/.exec(version.includes(':') ? version.split(':').pop()! : version);
  return m ? Number(m[1]) : NaN;
}

/** `downgrade-<what>:<from>-><to>` when the major version of `versionOf(state)` goes down. */
export function downgradeRule(what: string, versionOf: (s: PlatformState) => string): DangerRule {
  return (base, next) => {
    const [from, to] = [versionOf(base), versionOf(next)];
    if (!(majorVersion(to) < majorVersion(from))) return [];
    return [
      {
        id: `downgrade-${what}:${from}->${to}`,
        message: `${what} goes from major ${majorVersion(from)} to ${majorVersion(to)}: data files written by the newer major cannot be read by the older one`,
      },
    ];
  };
}

/** A component's STATE.json section, typed by the component that wrote it. */
export function sectionOf<T>(s: PlatformState, key: string): T {
  return s[key] as T;
}

/** Regions of a state by name. */
export function regionsByName(s: PlatformState): Map<string, RegionState> {
  return new Map(s.regions.map((r) => [r.name, r]));
}

/** One change per region kept (same name) whose `changed(old, now)` returns a change. */
export function perKeptRegion(base: PlatformState, next: PlatformState, changed: (old: RegionState, now: RegionState) => DangerousChange | undefined): DangerousChange[] {
  const now = regionsByName(next);
  return base.regions.flatMap((old) => {
    const n = now.get(old.name);
    const change = n ? changed(old, n) : undefined;
    return change ? [change] : [];
  });
}
