/**
 * The pull-request workflow (.github/workflows/pull-request.yml), read as YAML and as text:
 * every action pinned by a full commit SHA with its version in a comment, least-privilege
 * permissions (only the commenting job writes, and it runs no code from the pull request), no
 * `pull_request_target`, the project's Node, the steps README "Pull requests" describes, the
 * comment marker the plan prints, and a test subset that misses no test file by accident.
 * actionlint runs on the same file in lab/actionlint.test.ts.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { PLAN_MARKER } from '../charts/plan-markdown.js';
import { REPO_ROOT } from './helpers.js';

const WORKFLOWS = join(REPO_ROOT, '.github', 'workflows');
const FILE = join(WORKFLOWS, 'pull-request.yml');
const text = readFileSync(FILE, 'utf8');

interface Step {
  readonly name?: string;
  readonly id?: string;
  readonly uses?: string;
  readonly run?: string;
  readonly if?: string;
  readonly with?: Record<string, unknown>;
  readonly env?: Record<string, string>;
}
interface Job {
  readonly permissions?: Record<string, string>;
  readonly needs?: string;
  readonly if?: string;
  readonly steps: Step[];
}
const workflow = parse(text) as { on: Record<string, unknown>; permissions: unknown; jobs: Record<string, Job> };
const steps = (job: string) => workflow.jobs[job]!.steps;
const runs = (job: string) => steps(job).flatMap((s) => (s.run ? [s.run] : []));

describe('.github/workflows/pull-request.yml', () => {
  it('pins every action of every workflow by a full commit SHA, with the version in a comment', () => {
    for (const f of readdirSync(WORKFLOWS).filter((n) => /\.ya?ml$/.test(n))) {
      const uses = readFileSync(join(WORKFLOWS, f), 'utf8')
        .split('\n')
        .filter((l) => /^\s*(?:-\s+)?uses:/.test(l));
      expect(uses.length, f).toBeGreaterThan(0);
      for (const line of uses) expect(line, `${f}: ${line.trim()}`).toMatch(/uses: [\w.-]+\/[\w.-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$/);
    }
    expect(text).toContain('actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1');
    expect(text).toContain('actions/setup-node@820762786026740c76f36085b0efc47a31fe5020 # v7.0.0');
    expect(text).toContain('actions/github-script@ed597411d8f924073f98dfc5c65a23a2325f34cd # v8.0.0');
  });

  it('runs on pull_request, never pull_request_target, with no default permissions', () => {
    expect(Object.keys(workflow.on)).toEqual(['pull_request']);
    expect(text).not.toMatch(/^\s*pull_request_target\s*:/m);
    expect(workflow.permissions).toEqual({});
  });

  it('gives write access to the commenting job only, which checks nothing out and runs no script of the PR', () => {
    expect(workflow.jobs['check']!.permissions).toEqual({ contents: 'read' });
    expect(workflow.jobs['comment']!.permissions).toEqual({ 'pull-requests': 'write' });
    for (const [name, job] of Object.entries(workflow.jobs)) {
      expect(job.permissions, name).toBeDefined();
      const writes = Object.entries(job.permissions!).filter(([, v]) => v === 'write');
      expect(writes.length > 0, name).toBe(name === 'comment');
    }
    expect(steps('comment').map((s) => s.uses?.split('@')[0])).toEqual(['actions/github-script']);
    expect(runs('comment')).toEqual([]);
    expect(workflow.jobs['comment']!.needs).toBe('check');
    // Forks get a read-only token: no comment job for them, a notice in the check job instead.
    expect(workflow.jobs['comment']!.if).toContain('github.event.pull_request.head.repo.full_name == github.repository');
    const fork = steps('check').find((s) => s.name === 'Forked pull request')!;
    expect(fork.if).toContain('github.event.pull_request.head.repo.full_name != github.repository');
    expect(workflow.jobs['comment']!.if).toContain("github.actor != 'dependabot[bot]'");
    expect(fork.if).toContain("github.actor == 'dependabot[bot]'");
    expect(fork.run).toMatch(/::notice .*read-only/);
  });

  it('checks out the whole history without keeping the token, on the Node of package.json', () => {
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { devDependencies: Record<string, string>; engines: { node: string } };
    const [checkout, node] = steps('check');
    expect(checkout!.uses).toMatch(/^actions\/checkout@/);
    expect(checkout!.with).toEqual({ 'fetch-depth': 0, 'persist-credentials': false });
    expect(node!.uses).toMatch(/^actions\/setup-node@/);
    expect(String(node!.with!['node-version'])).toBe(pkg.devDependencies['node']);
    expect(node!.with!['cache']).toBe('npm');
  });

  it('installs, checks dist/, runs the fast subset, plans, and fails on a refused change', () => {
    const all = runs('check').join('\n');
    const order = ['npm ci', 'npm run synth -- --check', 'npx tsc --noEmit', 'npx vitest run --config vitest.pr.config.ts', 'npm run --silent plan -- --base "origin/$BASE_REF" --format markdown > plan.md'];
    const at = order.map((cmd) => all.indexOf(cmd));
    for (const [i, cmd] of order.entries()) expect(at[i], cmd).toBeGreaterThanOrEqual(0);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
    const plan = steps('check').find((s) => s.id === 'plan')!;
    expect(plan.env).toEqual({ BASE_REF: '${{ github.base_ref }}' });
    expect(plan.if).toContain('!cancelled()');
    const last = steps('check').at(-1)!;
    expect(last.if).toContain("steps.plan.outputs.exit-code == '2'");
    expect(last.run).toMatch(/exit 1\s*$/);
  });

  it('finds its comment by the marker the plan prints first', () => {
    const script = String(steps('comment')[0]!.with!['script']);
    expect(script).toContain(`const marker = '${PLAN_MARKER}';`);
    expect(script).toContain('updateComment');
    expect(script).toContain('createComment');
    expect(script).toContain("c.user?.login === 'github-actions[bot]'");
  });
});

describe('the fast test subset (vitest.pr.config.ts)', () => {
  /** Every test file of the repository, relative to it. */
  const testFiles = readdirSync(REPO_ROOT, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.test.ts'))
    .map((e) => relative(REPO_ROOT, join(e.parentPath, e.name)).split('\\').join('/'))
    .filter((p) => !p.startsWith('node_modules/') && !p.startsWith('.'));

  it('picks tests by folder, and every test file is either in it or in an engine folder npm test runs', async () => {
    const { PR_TEST_FOLDERS } = await import('../vitest.pr.config.js');
    const { default: config } = await import('../vitest.pr.config.js');
    expect(config.test?.include).toEqual(PR_TEST_FOLDERS.map((d: string) => `${d}/**/*.test.ts`));
    expect(config.test?.globalSetup).toBeUndefined();
    const engineFolders = ['lab/', 'app/', 'bench/'];
    for (const f of testFiles) {
      const inSubset = PR_TEST_FOLDERS.some((d: string) => f.startsWith(`${d}/`));
      expect(inSubset || engineFolders.some((d) => f.startsWith(d)), `${f} is in no folder the PR subset or the engine tests cover`).toBe(true);
    }
    expect(testFiles).toContain('test/workflow.test.ts');
    expect(testFiles).toContain('lab/actionlint.test.ts');
  });
});
