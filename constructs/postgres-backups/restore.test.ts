/**
 * Restoring a region's Postgres from its archive: `backups.restore` turns that region's CNPG
 * Cluster into a recovery from the previous archive generation (and nothing else changes), and
 * the CR shown in README "Backups and restore" is what the default config produces that way and
 * is valid against the CloudNativePG Cluster schemas (1.28.1 and 1.30).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { renderDist } from '../../charts/render.js';
import { ConfigError } from '../../regions/load.js';
import { parseConfig } from '../platform-config.js';
import type { PlatformConfigInput } from '../../regions/schema.js';
import { configFrom, defaultConfigInput, inputWithRegions, NO_SHARED_SCHEMAS, REPO_ROOT, SHARED_SCHEMAS, sharedSchemasAvailable } from '../../test/helpers.js';
import { helmMerge } from '../../test/pod-security.js';

type Obj = Record<string, any>;

function clusterSchemas(): Array<[string, (o: unknown) => string]> {
  if (!sharedSchemasAvailable()) throw new Error(NO_SHARED_SCHEMAS);
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
  return ['cnpg-cluster.schema.json', 'cnpg-cluster-1.28.1.schema.json'].map((file) => {
    const fn = ajv.compile(JSON.parse(readFileSync(join(SHARED_SCHEMAS, file), 'utf8')));
    return [file, (o: unknown) => (fn(o) ? '' : ajv.errorsText(fn.errors))];
  });
}

/** The chart's default clusterSpec.bootstrap (pgEdge chart values.yaml), which Helm merges under ours. */
const CHART_DEFAULT_BOOTSTRAP = { initdb: { database: 'app', owner: 'app', encoding: 'UTF8', postInitApplicationSQL: ['CREATE EXTENSION spock;'] } };

const valuesOf = (files: ReadonlyMap<string, string>, cluster: string): Obj => parse(files.get(`values/${cluster}/pgedge.yaml`)!) as Obj;

function restoring(input: PlatformConfigInput, region: string, generation: number, targetTime?: string): PlatformConfigInput {
  input.backups!.archiveGenerations = { [region]: generation };
  input.backups!.restore = { region, ...(targetTime ? { targetTime } : {}) };
  return input;
}

describe('backups.restore', () => {
  const before = renderDist(configFrom(inputWithRegions(3)));
  const files = renderDist(configFrom(restoring(inputWithRegions(3), 'r2', 2, '2026-11-27T21:30:00Z')));

  it('bootstraps only the restored region from the previous archive generation, still archiving to the new one', () => {
    const spec = valuesOf(files, 'astring-r2').pgEdge.clusterSpec;
    expect(spec.bootstrap).toEqual({ initdb: null, recovery: { source: 'archive', recoveryTarget: { targetTime: '2026-11-27T21:30:00Z' } } });
    expect(spec.externalClusters).toEqual([
      {
        name: 'archive',
        plugin: { name: 'barman-cloud.cloudnative-pg.io', enabled: true, parameters: { barmanObjectName: 'astring-cluster-backups', serverName: 'astring-cluster-n2-g1' } },
      },
    ]);
    expect(spec.plugins[0].parameters.serverName).toBe('astring-cluster-n2-g2');
    for (const r of ['astring-r1', 'astring-r3']) expect(files.get(`values/${r}/pgedge.yaml`)).toBe(before.get(`values/${r}/pgedge.yaml`));
  });

  it('is a valid Cluster once Helm has merged the chart default (null drops the default initdb)', () => {
    const merged = helmMerge({ bootstrap: CHART_DEFAULT_BOOTSTRAP }, valuesOf(files, 'astring-r2').pgEdge.clusterSpec) as Obj;
    expect(Object.keys(merged.bootstrap).filter((k) => merged.bootstrap[k] !== undefined)).toEqual(['recovery']);
    const cluster = { apiVersion: 'postgresql.cnpg.io/v1', kind: 'Cluster', metadata: { name: 'astring-cluster-n2' }, spec: JSON.parse(JSON.stringify(merged)) };
    for (const [file, check] of clusterSchemas()) expect(check(cluster), file).toBe('');
  });

  it('refuses a restore without a fresh archive generation, or of an unknown region', () => {
    const problems = (input: PlatformConfigInput) => {
      try {
        parseConfig(JSON.stringify(input), 'p.yaml');
        return [];
      } catch (e) {
        if (e instanceof ConfigError) return e.problems.map((p) => `${p.path}: ${p.message}`);
        throw e;
      }
    };
    const noGeneration = inputWithRegions(2);
    noGeneration.backups!.restore = { region: 'r1' };
    expect(problems(noGeneration)).toEqual([
      'backups.restore.region: restoring "r1" needs a fresh archive folder for the restored node, got archiveGenerations.r1 = 0 (set backups.archiveGenerations.r1: 1; the restore reads the previous generation)',
    ]);
    expect(problems(restoring(inputWithRegions(2), 'r7', 1))).toEqual(expect.arrayContaining(['backups.restore.region: "r7" is not a region (use one of r1, r2)']));
    expect(problems(restoring(inputWithRegions(2), 'r1', 1, 'yesterday'))).toEqual([expect.stringMatching(/^backups\.restore\.targetTime: "yesterday" is not a timestamp with a time zone/)]);
  });
});

describe('README "Backups and restore"', () => {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  const block = /<!-- restore-cluster-yaml -->\n```yaml\n([\s\S]*?)\n```/.exec(readme);

  it('shows the Cluster the default config renders for a restore of mn, valid for CloudNativePG', () => {
    expect(block, 'README has no <!-- restore-cluster-yaml --> block').not.toBeNull();
    const shown = parse(block![1]!) as Obj;
    const input = restoring(defaultConfigInput(), 'mn', 1);
    const config = configFrom(input);
    const mn = config.regions.find((r) => r.name === 'mn')!;
    const spec = valuesOf(renderDist(config), mn.cluster).pgEdge.clusterSpec;
    expect(shown.metadata).toMatchObject({ name: `${config.postgres.appName}-n${mn.ordinal}`, namespace: config.postgres.namespace });
    // What a restore hinges on, exactly as rendered.
    expect(shown.spec.bootstrap).toEqual({ recovery: spec.bootstrap.recovery });
    for (const key of ['externalClusters', 'plugins', 'instances', 'imageName', 'storage', 'certificates']) expect(shown.spec[key], key).toEqual(spec[key]);
    // Every server setting we render, plus the node GUCs the chart injects (the ordinal); the
    // chart's own defaults (checkpoints etc.) may come on top.
    expect(shown.spec.postgresql.parameters).toMatchObject({ ...spec.postgresql.parameters, 'snowflake.node': String(mn.ordinal), 'lolor.node': String(mn.ordinal) });
    for (const key of ['shared_preload_libraries', 'pg_hba', 'pg_ident']) expect(shown.spec.postgresql[key], key).toEqual(spec.postgresql[key]);
    for (const [file, check] of clusterSchemas()) expect(check(shown), file).toBe('');
  });
});
