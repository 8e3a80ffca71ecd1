/**
 * ajv validators for the CRD schemas in ../shared/schemas (README there: `strict: false`, formats
 * not validated), one per kind. Callers check `sharedSchemasAvailable()` first (test/helpers.ts).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { SHARED_SCHEMAS } from './helpers.js';

export interface SchemaValidators {
  readonly ajv: Ajv;
  /** kind -> validator of its schema file. */
  readonly byKind: ReadonlyMap<string, ValidateFunction>;
}

/** Compiles `files` (kind -> file name in ../shared/schemas), each schema passed through `transform` first. */
export function schemaValidators(files: Readonly<Record<string, string>>, transform: (schema: object) => object = (s) => s): SchemaValidators {
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
  const byKind = new Map<string, ValidateFunction>();
  for (const [kind, file] of Object.entries(files)) byKind.set(kind, ajv.compile(transform(JSON.parse(readFileSync(join(SHARED_SCHEMAS, file), 'utf8')) as object)));
  return { ajv, byKind };
}
