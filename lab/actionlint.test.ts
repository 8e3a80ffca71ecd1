/**
 * Issue 13, "Done when" 2: `npm test` lints the repository's GitHub workflows with actionlint
 * v1.7.12 (built with `go install` into the lab cache on first use, lab/actionlint.ts), and a
 * deliberately broken copy fails with actionlint's own message. Here under lab/ because it needs
 * Go on a cold cache; the pull-request workflow's fast subset (vitest.pr.config.ts) does not
 * run it, `npm test` does.
 *
 * actionlint checks `run:` scripts with shellcheck only when one is on PATH: the test prints
 * which. It cannot check the inputs of an action pinned by commit SHA (it knows inputs only for
 * popular actions by tag, offline), so test/workflow.test.ts checks the pins and the rest.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, tempDir } from '../test/helpers.js';
import { ensureActionlint, runActionlint } from './actionlint.js';

const WORKFLOWS = join(REPO_ROOT, '.github', 'workflows');
const workflowFiles = () => readdirSync(WORKFLOWS).filter((f) => /\.ya?ml$/.test(f)).sort();
const PR_WORKFLOW = 'pull-request.yml';

let bin = '';
beforeAll(async () => {
  bin = await ensureActionlint((line) => console.log(line));
}, 25 * 60_000);

/** A copy of the pull-request workflow with one edit, in a fresh repository-like folder. */
function brokenCopy(from: string, to: string): { dir: string; file: string } {
  const text = readFileSync(join(WORKFLOWS, PR_WORKFLOW), 'utf8');
  expect(text).toContain(from);
  const dir = tempDir('regionmesh-actionlint-');
  mkdirSync(join(dir, '.github', 'workflows'), { recursive: true });
  const file = `.github/workflows/${PR_WORKFLOW}`;
  writeFileSync(join(dir, file), text.replace(from, to));
  return { dir, file };
}

describe('actionlint', () => {
  it('passes on every workflow of the repository', () => {
    const files = workflowFiles().map((f) => `.github/workflows/${f}`);
    expect(files).toContain(`.github/workflows/${PR_WORKFLOW}`);
    const r = runActionlint(bin, files, REPO_ROOT);
    // ensureActionlint installed shellcheck: the run: scripts are shell-checked too.
    expect(r.shellcheck).toBeDefined();
    expect(r.output).toBe('');
    expect(r.status).toBe(0);
  });

  it('fails on a runs-on expression that names no matrix value', () => {
    const { dir, file } = brokenCopy('  check:\n    name: synth --check, fast tests, plan\n    runs-on: ubuntu-24.04\n', '  check:\n    name: synth --check, fast tests, plan\n    runs-on: ${{ matrix.os }}\n');
    const r = runActionlint(bin, [file], dir);
    expect(r.status).toBe(1);
    expect(r.output).toMatch(/^\.github\/workflows\/pull-request\.yml:\d+:\d+: property "os" is not defined in object type \{\} \[expression\]$/m);
  });

  it('fails on a run: script shellcheck refuses (shellcheck is used)', () => {
    const { dir, file } = brokenCopy('        run: npm ci --no-audit --no-fund\n', '        run: npm ci --no-audit --no-fund; cd $(mktemp -d)\n');
    const r = runActionlint(bin, [file], dir);
    expect(r.status).toBe(1);
    expect(r.output).toMatch(/shellcheck reported issue in this script: SC2046:/);
  });

  it('fails on a job that needs a job that does not exist', () => {
    const { dir, file } = brokenCopy('    needs: check\n', '    needs: chek\n');
    const r = runActionlint(bin, [file], dir);
    expect(r.status).toBe(1);
    expect(r.output).toMatch(/job "comment" needs job "chek" which does not exist in this workflow \[job-needs\]/);
  });
});
