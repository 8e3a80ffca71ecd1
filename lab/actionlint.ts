/**
 * actionlint (github.com/rhysd/actionlint), the linter `npm test` runs on `.github/workflows/`:
 * built once with `go install github.com/rhysd/actionlint/cmd/actionlint@v1.7.12` into the lab
 * cache by ./go-install.ts (`<lab cache>/actionlint/v1.7.12/actionlint`, the module cache first,
 * then the Go module proxy), like nats-server and Mailpit. It runs shellcheck on `run:` scripts:
 * `ensureActionlint` installs the Debian package `shellcheck` when it is missing.
 */
import { spawnSync } from 'node:child_process';
import { ensureGoProgram, type GoProgram } from './go-install.js';
import { ensureAptPackages, findExecutable } from './install.js';

export const ACTIONLINT: GoProgram = {
  name: 'actionlint',
  module: 'github.com/rhysd/actionlint',
  package: 'github.com/rhysd/actionlint/cmd/actionlint',
  version: 'v1.7.12',
};

/** The path of actionlint, built and cached on first use; shellcheck installed (apt) when missing. */
export async function ensureActionlint(log: (line: string) => void = () => undefined): Promise<string> {
  await ensureAptPackages([{ pkg: 'shellcheck', present: () => findExecutable('shellcheck') !== undefined, why: "actionlint's check of run: scripts" }], log);
  return ensureGoProgram(ACTIONLINT, log);
}

export interface ActionlintResult {
  /** 0: no problem; 1: problems found; anything else: actionlint itself failed. */
  readonly status: number | null;
  /** Its report, one `file:line:col: message [rule]` per problem. */
  readonly output: string;
  /** The shellcheck actionlint used, or undefined when none is on PATH (then `run:` scripts are not shell-checked). */
  readonly shellcheck: string | undefined;
}

/** Runs actionlint on `files` (workflow paths), from `cwd`, without colors. */
export function runActionlint(bin: string, files: readonly string[], cwd: string): ActionlintResult {
  const shellcheck = findExecutable('shellcheck');
  const args = ['-no-color', '-shellcheck', shellcheck ?? '', ...files];
  const r = spawnSync(bin, args, { cwd, encoding: 'utf8', timeout: 120_000 });
  if (r.error) throw new Error(`cannot run ${bin}: ${r.error.message}`);
  return { status: r.status, output: `${r.stdout}${r.stderr}`, shellcheck };
}
