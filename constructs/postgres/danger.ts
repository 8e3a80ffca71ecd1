/** Postgres changes that lose data: a changed ordinal (node name) or appName (Cluster names), a downgrade. */
import type { DangerRule, PlatformState } from '../component.js';
import { downgradeRule, perKeptRegion, sectionOf } from '../danger-rules.js';

/** STATE.json section of Postgres. */
interface PostgresState {
  readonly appName: string;
  readonly image: string;
}

const postgresOf = (s: PlatformState) => sectionOf<PostgresState>(s, 'postgres');

const changedOrdinals: DangerRule = (base, next) =>
  perKeptRegion(base, next, (old, now) =>
    now.ordinal !== old.ordinal
      ? {
          id: `change-ordinal:${old.name}:${old.ordinal}->${now.ordinal}`,
          message: `region ${old.name} changes ordinal ${old.ordinal} -> ${now.ordinal}: its Spock node n${old.ordinal} and CNPG Cluster are replaced by an empty n${now.ordinal}, and snowflake ids may collide`,
        }
      : undefined,
  );

const changedAppName: DangerRule = (base, next) => {
  const [from, to] = [postgresOf(base).appName, postgresOf(next).appName];
  return from === to
    ? []
    : [{ id: `change-pgedge-appname:${from}->${to}`, message: `pgEdge appName ${from} -> ${to} renames every CNPG Cluster: new, empty databases in every region` }];
};

export const POSTGRES_DANGER_RULES: readonly DangerRule[] = [changedOrdinals, changedAppName, downgradeRule('postgres', (s) => postgresOf(s).image)];
