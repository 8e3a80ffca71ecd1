/** Shared test helpers: the default config, variants of it, temp dirs, the shared schemas. */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { parseConfig } from '../constructs/platform-config.js';
import { ConfigError } from '../regions/config-error.js';
import type { PlatformConfig, PlatformConfigInput } from '../regions/schema.js';

export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
export const DEFAULT_CONFIG_PATH = join(REPO_ROOT, 'regions/platform.yaml');
export const DIST = join(REPO_ROOT, 'dist');
/** `../shared/schemas` beside the project (CI always has it). */
export const SHARED_SCHEMAS = join(REPO_ROOT, '..', 'shared', 'schemas');

export function defaultConfigText(): string {
  return readFileSync(DEFAULT_CONFIG_PATH, 'utf8');
}

/** The default config as written (plain data, defaults not applied). */
export function defaultConfigInput(): PlatformConfigInput {
  return parse(defaultConfigText()) as PlatformConfigInput;
}

/** Validates plain config data the same way the loader does. */
export function configFrom(input: unknown): PlatformConfig {
  return parseConfig(JSON.stringify(input), 'test-config.yaml');
}

/** Region entry i (1-based) of generated configs: r<i>, ordinal i, cluster astring-r<i>, DC dc<i>. */
export function regionEntry(i: number): PlatformConfigInput['regions'][number] {
  return { name: `r${i}`, ordinal: i, cluster: `astring-r${i}`, cassandra: { datacenter: `dc${i}`, size: 3 } };
}

/** The default config as written, with `n` generated regions (schema region r1). */
export function inputWithRegions(n: number): PlatformConfigInput {
  const input = defaultConfigInput();
  input.regions = Array.from({ length: n }, (_, i) => regionEntry(i + 1));
  input.cassandra.schemaRegion = 'r1';
  return input;
}

/** A config with `n` regions r1..rn (ordinals 1..n) derived from the default one. */
export function configWithRegions(n: number, mutate?: (c: PlatformConfigInput) => void): PlatformConfig {
  const input = inputWithRegions(n);
  mutate?.(input);
  return configFrom(input);
}

/** The ConfigError message of a config with `n` regions changed by `mutate`; throws when it is accepted or fails otherwise. */
export function configErrorOf(n: number, mutate: (c: PlatformConfigInput) => void): string {
  try {
    configWithRegions(n, mutate);
  } catch (e) {
    if (e instanceof ConfigError) return e.message;
    throw e;
  }
  throw new Error('the config was accepted');
}

export function tempDir(prefix = 'regionmesh-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function sharedSchemasAvailable(): boolean {
  return existsSync(join(SHARED_SCHEMAS, 'applicationset.schema.json'));
}

/** Message used when ../shared/schemas is missing, so the skip is never silent. */
export const NO_SHARED_SCHEMAS = `../shared/schemas not found at ${SHARED_SCHEMAS}: schema validation needs it (CI always has it)`;
