/** Cassandra changes that lose data: a renamed DC or cluster, a shrunk DC, a downgrade. */
import type { DangerRule, PlatformState } from '../component.js';
import { downgradeRule, perKeptRegion, sectionOf } from '../danger-rules.js';

/** STATE.json section of Cassandra. */
export interface CassandraState {
  readonly clusterName: string;
  readonly serverVersion: string;
  readonly replicationFactor: number;
}

/** Fields Cassandra adds to every region of STATE.json. */
interface CassandraRegionState {
  readonly datacenter: string;
  readonly size: number;
}

const cassandraOf = (s: PlatformState) => sectionOf<CassandraState>(s, 'cassandra');
const dcOf = (r: object) => r as CassandraRegionState;

const renamedDatacenters: DangerRule = (base, next) =>
  perKeptRegion(base, next, (old, now) =>
    dcOf(now).datacenter !== dcOf(old).datacenter
      ? {
          id: `change-datacenter:${old.name}:${dcOf(old).datacenter}->${dcOf(now).datacenter}`,
          message: `Cassandra DC ${dcOf(old).datacenter} of region ${old.name} is renamed to ${dcOf(now).datacenter}: the operator would delete the DC and its volumes and start an empty one`,
        }
      : undefined,
  );

const renamedCluster: DangerRule = (base, next) => {
  const [from, to] = [cassandraOf(base).clusterName, cassandraOf(next).clusterName];
  return from === to
    ? []
    : [{ id: `change-cassandra-cluster-name:${from}->${to}`, message: `the K8ssandraCluster ${from} is replaced by ${to}: a new, empty Cassandra cluster` }];
};

const shrunkDatacenters: DangerRule = (base, next) =>
  perKeptRegion(base, next, (old, now) =>
    dcOf(now).size < dcOf(old).size
      ? {
          id: `shrink-datacenter:${old.name}:${dcOf(old).size}->${dcOf(now).size}`,
          message: `Cassandra DC ${dcOf(old).datacenter} shrinks from ${dcOf(old).size} to ${dcOf(now).size} nodes: decommissioned nodes stream their data away; below the replication factor LOCAL_QUORUM fails`,
        }
      : undefined,
  );

export const CASSANDRA_DANGER_RULES: readonly DangerRule[] = [
  renamedDatacenters,
  renamedCluster,
  shrunkDatacenters,
  downgradeRule('cassandra', (s) => cassandraOf(s).serverVersion),
];

/** What a region's DC still holds when the region is removed. */
export const cassandraRegionData = (r: object) => `its Cassandra DC ${dcOf(r).datacenter}`;
