/**
 * The platform config schema of a component list: the platform's own fields (regions/schema.ts)
 * plus every component's config slice. `parseConfig` / `loadConfigFile` read a config with the
 * components of constructs/components.ts.
 */
import { loadConfigFileWith, parseConfigWith, validKeysAt as validKeysIn } from '../regions/load.js';
import { composePlatformSchema, type PlatformConfig } from '../regions/schema.js';
import type { ComponentDefinition } from './component.js';
import { COMPONENTS } from './components.js';

export { ConfigError } from '../regions/load.js';

/** The schema of a config for `components`. */
export function platformConfigSchema(components: readonly ComponentDefinition[]) {
  return composePlatformSchema(
    components.flatMap((d) => (d.config ? [d.config] : [])),
    components.map((d) => d.name),
  );
}

/** The schema of the platform config (every component of constructs/components.ts). */
export const PlatformConfigSchema = platformConfigSchema(COMPONENTS);

/** Validates config text; `file` is only used in messages. Throws ConfigError. */
export function parseConfig(text: string, file: string): PlatformConfig {
  return parseConfigWith(PlatformConfigSchema, text, file);
}

/** Reads and validates `file`; throws ConfigError. */
export function loadConfigFile(file: string): PlatformConfig {
  return loadConfigFileWith(PlatformConfigSchema, file);
}

/** Keys the platform schema accepts at `path`. */
export function validKeysAt(path: readonly PropertyKey[]): string[] {
  return validKeysIn(PlatformConfigSchema, path);
}
