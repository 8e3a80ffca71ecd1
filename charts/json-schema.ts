import { z } from 'zod';
import { PlatformConfigSchema } from '../constructs/platform-config.js';

/** The JSON Schema of the config as users write it (defaults are optional), as text. */
export function platformJsonSchemaText(): string {
  const schema = z.toJSONSchema(PlatformConfigSchema, { io: 'input', target: 'draft-2020-12', unrepresentable: 'any' });
  return `${JSON.stringify({ ...schema, title: 'regionmesh platform config' }, null, 2)}\n`;
}
