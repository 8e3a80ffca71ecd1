/**
 * Settings from environment variables, validated with zod at start-up. A bad or missing
 * variable stops the command with one line per problem, naming the variable, never its value.
 */
import { z } from 'zod';

export class EnvError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid environment:\n${problems.map((p) => `  ${p}`).join('\n')}`);
    this.name = 'EnvError';
  }
}

/** Parses `env` with a schema whose keys are variable names. Messages never echo values. */
export function readEnv<S extends z.ZodObject>(schema: S, env: NodeJS.ProcessEnv = process.env): z.output<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  throw new EnvError(
    result.error.issues.map((i) => {
      const name = String(i.path[0] ?? '(env)');
      const present = env[name] !== undefined;
      return present ? `${name}: ${i.message}` : `${name}: is required but not set`;
    }),
  );
}

/** `"a,b , c"` -> `['a','b','c']` (empty entries dropped). */
export const commaList = z
  .string()
  .transform((s) => s.split(',').map((x) => x.trim()).filter((x) => x !== ''))
  .pipe(z.array(z.string()).min(1, { message: 'must list at least one entry (comma-separated)' }));

/** A positive integer given as text. */
export const intString = (min = 1, max = Number.MAX_SAFE_INTEGER) =>
  z
    .string()
    .regex(/^[0-9]+$/, { message: 'must be a whole number' })
    .transform(Number)
    .pipe(z.int().min(min).max(max));

/** A JSON document given as text, validated with `schema`. */
export const jsonString = <T extends z.ZodType>(schema: T) =>
  z
    .string()
    .transform((s, ctx) => {
      try {
        return JSON.parse(s) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: 'is not valid JSON' });
        return z.NEVER;
      }
    })
    .pipe(schema);
