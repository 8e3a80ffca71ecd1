/**
 * Writes regions/platform.schema.json from the zod schema, for editor completion
 * (`# yaml-language-server: $schema=./platform.schema.json`). A test fails when it is stale.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { platformJsonSchemaText } from './json-schema.js';

const target = fileURLToPath(new URL('../regions/platform.schema.json', import.meta.url));
writeFileSync(target, platformJsonSchemaText());
console.log(`wrote ${target}`);
