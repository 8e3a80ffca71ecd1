/**
 * Changes that lose data or break identity, found by comparing the state of the deployed
 * dist with the next config. Each has an exact id; the config accepts one by listing that
 * id in `acknowledgedChanges`. Rules are declarative, aws-cdk style: one function each. The
 * rules here are about regions as a whole; each component adds its own (ComponentDefinition.danger).
 */
import { enabledComponents, type ComponentDefinition, type DangerousChange, type DangerRule, type PlatformState } from '../constructs/component.js';
import { COMPONENTS } from '../constructs/components.js';
import { regionsByName } from '../constructs/danger-rules.js';
import type { PlatformConfig } from '../regions/schema.js';
import { describeLocation, platformState, STATE_FILE, type BaseState, type DistLocation } from './state.js';

export type { DangerousChange };

const byOrdinal = (s: PlatformState) => new Map(s.regions.map((r) => [r.ordinal, r]));

/** Rules about whole regions; what each component loses is in its `danger.renamed` / `danger.regionData`. */
function regionRules(components: readonly ComponentDefinition[]): DangerRule[] {
  const renamed = ['its ArgoCD Applications are replaced', ...components.flatMap((d) => (d.danger?.renamed ? [d.danger.renamed] : []))];
  const renamedRegions: DangerRule = (base, next) => {
    const baseByName = regionsByName(base);
    const nextByOrdinal = byOrdinal(next);
    return base.regions.flatMap((old) => {
      const same = nextByOrdinal.get(old.ordinal);
      if (!same || same.name === old.name || baseByName.has(same.name)) return [];
      return [{ id: `rename-region:${old.name}->${same.name}`, message: `region ${old.name} (ordinal ${old.ordinal}) is renamed to ${same.name}: ${renamed.join('; ')}` }];
    });
  };

  const removedRegions: DangerRule = (base, next) => {
    const nextByName = regionsByName(next);
    const nextByOrdinal = byOrdinal(next);
    return base.regions.flatMap((old) => {
      if (nextByName.has(old.name) || nextByOrdinal.has(old.ordinal)) return []; // kept, or renamed (own rule)
      if (old.state === 'leaving') return []; // the last step of leaving: its keyspaces and subscriptions are gone
      const data = components.flatMap((d) => (d.danger?.regionData ? [d.danger.regionData(old)] : []));
      return [
        {
          id: `remove-region:${old.name}`,
          message: `region ${old.name} is removed while ${data.length > 0 ? `${data.join(' and ')} still hold data` : 'it still holds data'} (set state: leaving first, sync, then remove it)`,
        },
      ];
    });
  };

  const addedRegions: DangerRule = (base, next) => {
    const baseByName = regionsByName(base);
    const baseByOrdinal = byOrdinal(base);
    return next.regions
      .filter((r) => !baseByName.has(r.name) && !baseByOrdinal.has(r.ordinal) && r.state === 'active')
      .map((r) => ({
        id: `add-region-active:${r.name}`,
        message: `region ${r.name} is added as active: nothing is copied to it from the other regions (add it with state: joining and syncFrom first)`,
      }));
  };

  const lastRegion: DangerRule = (base, next) => {
    const active = (s: PlatformState) => s.regions.filter((r) => r.state === 'active').length;
    if (active(base) > 0 && active(next) === 0) {
      return [{ id: 'remove-last-region', message: 'no region stays active: nobody serves users and no region holds the data of record' }];
    }
    return [];
  };
  return [renamedRegions, removedRegions, addedRegions, lastRegion];
}

/**
 * Every rule that applies to `next`: the region rules, then each enabled component's rules
 * (a component whose section the base state lacks is new there: nothing of it is deployed yet).
 */
export function dangerRules(base: PlatformState, next: PlatformConfig, list: readonly ComponentDefinition[]): DangerRule[] {
  const components = enabledComponents(next, list);
  const deployed = components.filter((d) => d.state?.section === undefined || base[d.state.section.key] !== undefined);
  return [...regionRules(components), ...deployed.flatMap((d) => d.danger?.rules ?? [])];
}

export interface DangerReport {
  /** Every dangerous change, acknowledged or not. */
  readonly changes: readonly DangerousChange[];
  /** The ones the config does not acknowledge: these refuse the plan and the synth. */
  readonly refused: readonly DangerousChange[];
  /** Acknowledgements that match no change (stale; remove them). */
  readonly unusedAcknowledgements: readonly string[];
  /** What the report could not look at and why (e.g. a first synth into an empty folder). */
  readonly notes: readonly string[];
}

/** Id of the refusal when the base dist has files but no STATE.json. */
export const MISSING_STATE_ID = 'missing-base-state';

/** The refusal for a dist whose STATE.json is gone: no rule can run, so the change is refused as a whole. */
function missingState(where: DistLocation, files: number): DangerousChange {
  const path = `${where.folder}/${STATE_FILE}`;
  return {
    id: MISSING_STATE_ID,
    message:
      `${describeLocation(where)}/${STATE_FILE} is missing while the dist there holds ${files} file(s): no danger rule can compare the next config ` +
      `with what is deployed (a renamed region, a changed ordinal or a removed DC would go through unchecked). Restore it from Git, where it is ` +
      `committed with dist/: git checkout ${where.ref ?? 'HEAD'} -- ${path} (or the last commit that has it: git log -1 -- ${path}). ` +
      `Only if nothing from this dist was ever deployed, acknowledge ${JSON.stringify(MISSING_STATE_ID)} instead.`,
  };
}

/** Every rule's findings, with the next state computed once. */
function changesFrom(base: PlatformState, next: PlatformConfig, components: readonly ComponentDefinition[]): DangerousChange[] {
  const nextState = platformState(next, components);
  return dangerRules(base, next, components).flatMap((rule) => rule(base, nextState));
}

export function assessDanger(base: BaseState, next: PlatformConfig, components: readonly ComponentDefinition[] = COMPONENTS): DangerReport {
  const acks = new Set(next.acknowledgedChanges);
  const changes =
    base.kind === 'state'
      ? changesFrom(base.state, next, components)
      : base.kind === 'missing'
        ? [missingState(base.where, base.files)]
        : [];
  const notes =
    base.kind === 'empty' ? [`${describeLocation(base.where)} has no files: nothing deployed to compare with, so no danger rule applies (first synth)`] : [];
  const ids = new Set(changes.map((c) => c.id));
  return {
    changes,
    refused: changes.filter((c) => !acks.has(c.id)),
    unusedAcknowledgements: [...acks].filter((a) => !ids.has(a)),
    notes,
  };
}

export function formatRefusal(report: DangerReport): string {
  return [
    `refused: ${report.refused.length} dangerous change(s) not acknowledged:`,
    ...report.refused.map((c) => `  ${c.id}\n      ${c.message}`),
    'To go ahead anyway, add each id above to acknowledgedChanges in the config, e.g.',
    '  acknowledgedChanges:',
    ...report.refused.map((c) => `    - ${JSON.stringify(c.id)}`),
  ].join('\n');
}
