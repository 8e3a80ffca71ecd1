/** Cross-field rules added with Cassandra and Postgres: each one fails with a located, fixable message. */
import { describe, expect, it, vi } from 'vitest';
import { stringify } from 'yaml';
import { inputWithRegions } from '../test/helpers.js';
import { ConfigError } from './load.js';
import { parseConfig } from '../constructs/platform-config.js';
import type { PlatformConfigInput } from './schema.js';

/**
 * Fault injection for one rule: while `fault.on`, the computed-name rule (the last one the
 * schema runs) throws, as a rule with a bug would on a valid config. Off, it is the real one.
 */
const fault = vi.hoisted(() => ({ on: false }));
vi.mock('./names.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('./names.js')>();
  return {
    ...real,
    computedNameRules: (...args: Parameters<typeof real.computedNameRules>) => {
      if (fault.on) throw new TypeError('injected fault in a rule');
      return real.computedNameRules(...args);
    },
  };
});

function problems(mutate: (c: PlatformConfigInput) => void): string[] {
  const input = inputWithRegions(3);
  mutate(input);
  try {
    parseConfig(stringify(input), 'rules.yaml');
  } catch (e) {
    if (e instanceof ConfigError) return e.message.split('\n');
    throw e;
  }
  return [];
}

describe('Cassandra and Postgres rules', () => {
  it.each<[string, (c: PlatformConfigInput) => void, RegExp]>([
    ['duplicate DC name', (c) => void (c.regions[2]!.cassandra.datacenter = 'dc1'), /regions\[2\]\.cassandra\.datacenter: duplicate Cassandra datacenter "dc1", already used by regions\[0\]/],
    ['DC size below the replication factor', (c) => void (c.regions[1]!.cassandra.size = 2), /regions\[1\]\.cassandra\.size: DC size 2 is below the replication factor 3 .*set size >= 3/],
    ['size not a multiple of the racks', (c) => void (c.regions[0]!.cassandra = { datacenter: 'dc1', size: 4, racks: [{ name: 'ra', zone: 'a' }, { name: 'rb', zone: 'b' }, { name: 'rc', zone: 'c' }] }), /regions\[0\]\.cassandra\.size: DC size 4 is not a multiple of its 3 racks/],
    ['schema region that is not a region', (c) => void (c.cassandra.schemaRegion = 'mars'), /cassandra\.schemaRegion: "mars" is not a region \(use one of r1, r2, r3\)/],
    ['StatefulSet name over 60 characters', (c) => {
      c.cassandra.clusterName = 'a'.repeat(30);
      c.regions[0]!.cassandra.datacenter = 'd'.repeat(30);
    }, /StatefulSet name "a{30}-d{30}-default-sts" is 73 characters; k8ssandra-operator allows 60/],
    ['invalid DC name', (c) => void (c.regions[0]!.cassandra.datacenter = 'DC_1'), /regions\[0\]\.cassandra\.datacenter: "DC_1" datacenter name is not a DNS-1035 label/],
    ['pgEdge appName over 26 characters', (c) => void (c.postgres.appName = 'a'.repeat(27)), /postgres\.appName: "a{27}" is longer than 26 characters/],
    ['rack name of one character', (c) => void (c.regions[0]!.cassandra = { datacenter: 'dc1', size: 3, racks: [{ name: 'a', zone: 'z' }] }), /racks\[0\]\.name: .*at least 2 characters/],
  ])('%s', (_name, mutate, expected) => {
    const lines = problems(mutate);
    expect(lines.some((l) => /^rules\.yaml:\d+:\d+ /.test(l) && expected.test(l)), lines.join('\n')).toBe(true);
  });

  it('accepts the generated 3-region config (the rules can pass)', () => {
    expect(problems(() => {})).toEqual([]);
  });
});

describe('a cross-field rule that throws', () => {
  /** Duplicate ordinal: regions[1] reuses regions[0]'s ordinal 1. */
  const duplicateOrdinal = (c: PlatformConfigInput) => void (c.regions[1]!.ordinal = 1);
  const ordinalProblem = /^rules\.yaml:\d+:\d+ regions\[1\]\.ordinal: duplicate region ordinal 1, already used by regions\[0\]/;

  it('is a problem with its name and path, and the other rules still run (a region without cassandra + a duplicate ordinal)', () => {
    const lines = problems((c) => {
      duplicateOrdinal(c);
      // regions[2] has no cassandra block: the DC rules read regions[2].cassandra.datacenter and throw.
      delete (c.regions[2] as Partial<PlatformConfigInput['regions'][number]>).cassandra;
    });
    expect(lines.some((l) => ordinalProblem.test(l)), lines.join('\n')).toBe(true);
    expect(lines.some((l) => /regions\[2\]\.cassandra: required field is missing/.test(l)), lines.join('\n')).toBe(true);
    const thrown = lines.filter((l) => /cross-field rule "unique-datacenters" could not check this part of the config \(TypeError: /.test(l));
    expect(thrown, lines.join('\n')).toHaveLength(1);
    expect(thrown[0]).toMatch(/^rules\.yaml:\d+:\d+ regions: /);
    expect(thrown[0]).toMatch(/fix the other problems reported for it first/);
  });

  it('on an otherwise valid config is reported, never accepted, and the duplicate ordinal is still found', () => {
    fault.on = true;
    let lines: string[];
    try {
      lines = problems(duplicateOrdinal);
    } finally {
      fault.on = false;
    }
    expect(lines.some((l) => ordinalProblem.test(l)), lines.join('\n')).toBe(true);
    expect(lines.some((l) => /^rules\.yaml:\d+:\d+ regions: cross-field rule "computed-name-lengths" could not check this part of the config \(TypeError: injected fault in a rule\).*bug in regionmesh/.test(l)), lines.join('\n')).toBe(true);
    // And without the duplicate the fault alone still rejects the config.
    fault.on = true;
    try {
      expect(problems(() => {}).join('\n')).toMatch(/computed-name-lengths/);
    } finally {
      fault.on = false;
    }
  });
});
