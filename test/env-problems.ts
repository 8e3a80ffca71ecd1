/** The problems an environment parser reports, for the tests of every command's env contract. */
import { EnvError } from '../app/env.js';

/**
 * The problems `parse` reports for `env` (one line per variable, as the command prints them);
 * [] when it accepts `env`. Any error other than an EnvError is thrown on.
 */
export function envProblems<E>(parse: (env: E) => unknown, env: E): string[] {
  try {
    parse(env);
  } catch (e) {
    if (e instanceof EnvError) return [...e.problems];
    throw e;
  }
  return [];
}
