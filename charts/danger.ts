/**
 * Changes that lose data or break identity, found by comparing the state of the deployed
 * dist with the next config. Each has an exact id; the config accepts one by listing that
 * id in `acknowledgedChanges`. Rules are declarative, aws-cdk style: one function each.
 */
import type { PlatformConfig } from '../regions/schema.js';
import { describeLocation, platformState, STATE_FILE, type BaseState, type DistLocation, type PlatformState, type RegionState } from './state.js';

export interface DangerousChange {
  /** What to write in `acknowledgedChanges` to accept it. */
  readonly id: string;
  /** What happens if it goes ahead. */
  readonly message: string;
}

type Rule = (base: PlatformState, next: PlatformState) => DangerousChange[];

const byName = (s: PlatformState) => new Map(s.regions.map((r) => [r.name, r]));
const byOrdinal = (s: PlatformState) => new Map(s.regions.map((r) => [r.ordinal, r]));

function major(version: string): number {
  const m = /(\d+)(?:\.\d+)*(?:[^:]*)$/.exec(version.includes(':') ? version.split(':').pop()! : version);
  return m ? Number(m[1]) : NaN;
}

const renamedRegions: Rule = (base, next) => {
  const out: DangerousChange[] = [];
  const nextByOrdinal = byOrdinal(next);
  const nextByName = byName(next);
  for (const old of base.regions) {
    const same = nextByOrdinal.get(old.ordinal);
    if (same && same.name !== old.name && !byName(base).has(same.name)) {
      out.push({
        id: `rename-region:${old.name}->${same.name}`,
        message: `region ${old.name} (ordinal ${old.ordinal}) is renamed to ${same.name}: its NATS cluster, servers and ArgoCD Applications are replaced, and JetStream loses its RAFT identity`,
      });
    }
    const moved = nextByName.get(old.name);
    if (moved && moved.ordinal !== old.ordinal) {
      out.push({
        id: `change-ordinal:${old.name}:${old.ordinal}->${moved.ordinal}`,
        message: `region ${old.name} changes ordinal ${old.ordinal} -> ${moved.ordinal}: its Spock node n${old.ordinal} and CNPG Cluster are replaced by an empty n${moved.ordinal}, and snowflake ids may collide`,
      });
    }
  }
  return out;
};

const identityChanges: Rule = (base, next) => {
  const out: DangerousChange[] = [];
  const nextByName = byName(next);
  for (const old of base.regions) {
    const now = nextByName.get(old.name);
    if (now && now.datacenter !== old.datacenter) {
      out.push({
        id: `change-datacenter:${old.name}:${old.datacenter}->${now.datacenter}`,
        message: `Cassandra DC ${old.datacenter} of region ${old.name} is renamed to ${now.datacenter}: the operator would delete the DC and its volumes and start an empty one`,
      });
    }
  }
  if (base.cassandra.clusterName !== next.cassandra.clusterName) {
    out.push({
      id: `change-cassandra-cluster-name:${base.cassandra.clusterName}->${next.cassandra.clusterName}`,
      message: `the K8ssandraCluster ${base.cassandra.clusterName} is replaced by ${next.cassandra.clusterName}: a new, empty Cassandra cluster`,
    });
  }
  if (base.postgres.appName !== next.postgres.appName) {
    out.push({
      id: `change-pgedge-appname:${base.postgres.appName}->${next.postgres.appName}`,
      message: `pgEdge appName ${base.postgres.appName} -> ${next.postgres.appName} renames every CNPG Cluster: new, empty databases in every region`,
    });
  }
  return out;
};

const removedRegions: Rule = (base, next) => {
  const out: DangerousChange[] = [];
  const nextByName = byName(next);
  const nextByOrdinal = byOrdinal(next);
  for (const old of base.regions) {
    if (nextByName.has(old.name) || nextByOrdinal.has(old.ordinal)) continue; // kept, or renamed (own rule)
    if (old.state === 'leaving') continue; // the last step of leaving: its keyspaces and subscriptions are gone
    out.push({
      id: `remove-region:${old.name}`,
      message: `region ${old.name} is removed while its Cassandra DC ${old.datacenter} and database n${old.ordinal} still hold data (set state: leaving first, sync, then remove it)`,
    });
  }
  return out;
};

const addedRegions: Rule = (base, next) => {
  const baseByName = byName(base);
  const baseByOrdinal = byOrdinal(base);
  return next.regions
    .filter((r) => !baseByName.has(r.name) && !baseByOrdinal.has(r.ordinal) && r.state === 'active')
    .map((r) => ({
      id: `add-region-active:${r.name}`,
      message: `region ${r.name} is added as active: its Cassandra DC is not rebuilt and its database copies nothing (add it with state: joining and syncFrom first)`,
    }));
};

const shrunkDatacenters: Rule = (base, next) => {
  const nextByName = byName(next);
  return base.regions.flatMap((old): DangerousChange[] => {
    const now = nextByName.get(old.name);
    if (!now || now.size >= old.size) return [];
    return [
      {
        id: `shrink-datacenter:${old.name}:${old.size}->${now.size}`,
        message: `Cassandra DC ${old.datacenter} shrinks from ${old.size} to ${now.size} nodes: decommissioned nodes stream their data away; below the replication factor LOCAL_QUORUM fails`,
      },
    ];
  });
};

const downgrades: Rule = (base, next) => {
  const out: DangerousChange[] = [];
  const check = (what: string, from: string, to: string) => {
    if (major(to) < major(from)) {
      out.push({
        id: `downgrade-${what}:${from}->${to}`,
        message: `${what} goes from major ${major(from)} to ${major(to)}: data files written by the newer major cannot be read by the older one`,
      });
    }
  };
  check('cassandra', base.cassandra.serverVersion, next.cassandra.serverVersion);
  check('postgres', base.postgres.image, next.postgres.image);
  check('nats', base.nats.image, next.nats.image);
  return out;
};

const lastRegion: Rule = (base, next) => {
  const active = (s: PlatformState) => s.regions.filter((r: RegionState) => r.state === 'active').length;
  if (active(base) > 0 && active(next) === 0) {
    return [{ id: 'remove-last-region', message: 'no region stays active: nobody serves users and no region holds the data of record' }];
  }
  return [];
};

export const DANGER_RULES: readonly Rule[] = [renamedRegions, identityChanges, removedRegions, addedRegions, shrunkDatacenters, downgrades, lastRegion];

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

export function assessDanger(base: BaseState, next: PlatformConfig): DangerReport {
  const acks = new Set(next.acknowledgedChanges);
  const changes =
    base.kind === 'state'
      ? DANGER_RULES.flatMap((rule) => rule(base.state, platformState(next)))
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
