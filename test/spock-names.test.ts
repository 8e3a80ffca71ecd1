/**
 * The Spock subscription name `sub_<provider>_<subscriber>` is built in two places: by the
 * generator (regions/names.ts `spockSubscriptionName`: TOPOLOGY.md, the Job tests) and by the
 * bootstrap in the runtime image (app/spock/dialect.ts `subscriptionName`: the subscriptions it
 * creates, checks and drops). The image ships app/ only (app/Dockerfile), so app cannot import
 * regions/; this test keeps the two rules one.
 */
import { describe, expect, it } from 'vitest';
import { subscriptionName } from '../app/spock/dialect.js';
import { loadConfigFile } from '../constructs/platform-config.js';
import { postgresRegionNames, spockSubscriptionName } from '../regions/names.js';
import { configWithRegions, DEFAULT_CONFIG_PATH } from './helpers.js';

describe('Spock subscription names', () => {
  it('the generator and the bootstrap name every subscription of a mesh alike', () => {
    const configs = [
      loadConfigFile(DEFAULT_CONFIG_PATH),
      configWithRegions(5),
      configWithRegions(3, (c) => {
        c.regions[2]!.ordinal = 1023; // the highest ordinal: node n1023
      }),
    ];
    let pairs = 0;
    for (const config of configs) {
      const nodes = config.regions.map((r) => postgresRegionNames(config, r).node);
      for (const provider of nodes) {
        for (const subscriber of nodes.filter((n) => n !== provider)) {
          expect(subscriptionName(provider, subscriber), `${provider} -> ${subscriber}`).toBe(spockSubscriptionName(provider, subscriber));
          pairs++;
        }
      }
    }
    expect(pairs).toBe(2 + 20 + 6);
  });

  it('is sub_<provider>_<subscriber>, created on the subscriber (the pgEdge chart naming)', () => {
    expect(spockSubscriptionName('n1', 'n2')).toBe('sub_n1_n2');
    expect(subscriptionName('n1023', 'n1')).toBe('sub_n1023_n1');
  });
});
