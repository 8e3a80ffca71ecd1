/**
 * dist/STATE.json: the identities that must never change by accident (region names and
 * ordinals, plus each component's section and region fields: DC names, cluster names, server
 * versions...). Plan and
 * synth compare the next config with the state of the dist they replace. ArgoCD ignores
 * the file (it is outside every synced folder).
 */
import { enabledComponents, type ComponentDefinition, type PlatformState, type RegionState } from '../constructs/component.js';
import type { PlatformConfig } from '../regions/schema.js';

export type { PlatformState, RegionState };

export const STATE_FILE = 'STATE.json';

/**
 * The state of `c`: the platform, each enabled component's section (ascending `order`, then
 * list order), and every region's identity plus the fields those components add.
 */
export function platformState(c: PlatformConfig, list: readonly ComponentDefinition[]): PlatformState {
  const components = enabledComponents(c, list);
  const sections = components
    .map((d, i) => ({ section: d.state?.section, i }))
    .filter((x): x is { section: NonNullable<typeof x.section>; i: number } => x.section !== undefined)
    .sort((a, b) => (a.section.order ?? 0) - (b.section.order ?? 0) || a.i - b.i);
  return {
    platform: c.platform,
    ...Object.fromEntries(sections.map(({ section }) => [section.key, section.of(c)])),
    regions: [...c.regions]
      .sort((a, b) => a.ordinal - b.ordinal)
      .map((r) => Object.assign({ name: r.name, ordinal: r.ordinal, cluster: r.cluster, state: r.state }, ...components.map((d) => d.state?.region?.(r) ?? {}))),
  };
}

export function stateText(c: PlatformConfig, components: readonly ComponentDefinition[]): string {
  return `${JSON.stringify(platformState(c, components), null, 2)}\n`;
}

/**
 * What plan and synth compare the next config with, read from the dist they replace.
 *
 * A dist with files but no STATE.json is refused (`missing`), not rebuilt from the other
 * files: the identities would have to be parsed back out of Helm values and custom resources
 * whose shape changes with every component, and a parse that misses one silently turns its
 * danger rules off, which is the failure this guards against. Refusing costs one command
 * (STATE.json is committed with dist/, so Git has it) or one explicit acknowledgement.
 * An empty or absent dist is a first synth: nothing is deployed, so nothing can be lost.
 */
export type BaseState =
  | { readonly kind: 'state'; readonly state: PlatformState }
  | { readonly kind: 'empty'; readonly where: DistLocation }
  | { readonly kind: 'missing'; readonly where: DistLocation; readonly files: number };

/** Where a base dist was read: a folder, as it is on disk or as committed at a Git ref. */
export interface DistLocation {
  readonly folder: string;
  /** The Git ref (`--base`); absent for the folder on disk. */
  readonly ref?: string;
}

/** `folder` or `ref:folder`, for messages. */
export function describeLocation(where: DistLocation): string {
  return where.ref === undefined ? where.folder : `${where.ref}:${where.folder}`;
}

/** The base state of the dist `files` read at `where`. Throws when STATE.json is corrupt. */
export function baseStateOf(files: ReadonlyMap<string, string>, where: DistLocation): BaseState {
  const text = files.get(STATE_FILE);
  if (text !== undefined) return { kind: 'state', state: parseState(text, `${describeLocation(where)}/${STATE_FILE}`)! };
  return files.size === 0 ? { kind: 'empty', where } : { kind: 'missing', where, files: files.size };
}

/** Parses a STATE.json; undefined when absent. Throws with the path when it is corrupt. */
export function parseState(text: string | undefined, where: string): PlatformState | undefined {
  if (text === undefined) return undefined;
  try {
    const s = JSON.parse(text) as PlatformState;
    if (!Array.isArray(s.regions) || typeof s.platform !== 'string') throw new Error('missing platform or regions');
    return s;
  } catch (e) {
    throw new Error(`${where}: not a regionmesh state file (${(e as Error).message}); restore it from Git`);
  }
}
