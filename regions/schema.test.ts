import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Ajv2020 as Ajv } from 'ajv/dist/2020.js';
import { parse } from 'yaml';
import { platformJsonSchemaText } from '../charts/json-schema.js';
import { loadConfigFile } from '../constructs/platform-config.js';
import { DEFAULT_CONFIG_PATH, REPO_ROOT } from '../test/helpers.js';

describe('regions/platform.schema.json', () => {
  it('is generated from the zod schema (run `npm run schema` when this fails)', () => {
    expect(readFileSync(`${REPO_ROOT}/regions/platform.schema.json`, 'utf8')).toBe(platformJsonSchemaText());
  });

  it('accepts the default config and rejects a typo, as an editor would', () => {
    const ajv = new Ajv({ strict: false, allErrors: true });
    const validate = ajv.compile(JSON.parse(platformJsonSchemaText()));
    const input = parse(readFileSync(DEFAULT_CONFIG_PATH, 'utf8'));
    expect(validate(input), ajv.errorsText(validate.errors)).toBe(true);
    input.regions[0].ordnial = 3;
    expect(validate(input)).toBe(false);
  });
});

describe('default config', () => {
  const config = loadConfigFile(DEFAULT_CONFIG_PATH);

  it('reproduces the reference setup', () => {
    expect(config.platform).toBe('astring');
    expect(config.regions.map((r) => [r.name, r.ordinal, r.cluster])).toEqual([
      ['mn', 1, 'astring-mn'],
      ['fsn1', 2, 'astring-fsn1'],
    ]);
    expect(config.dns.clusterSuffix).toBe('internal');
    expect(config.nats.replicas).toBe(3);
    expect(config.nats.gateway.port).toBe(7522);
    expect(config.nats.promExporter.enabled).toBe(true);
    expect(config.nats.reloader).toBe(true);
    expect(config.nats.natsBox).toBe(true);
    expect(config.managementCluster.name).not.toBe(config.regions[0]!.cluster);
  });
});
