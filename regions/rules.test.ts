/** Cross-field rules added with Cassandra and Postgres: each one fails with a located, fixable message. */
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { inputWithRegions } from '../test/helpers.js';
import { ConfigError, parseConfig } from './load.js';
import type { PlatformConfigInput } from './schema.js';

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
