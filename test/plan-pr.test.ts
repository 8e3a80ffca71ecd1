/**
 * Issue 13, "Done when" 1: `npm run plan -- --base <ref> --format markdown`, the real CLI
 * (scripts/launch.cjs, as `npm run plan` runs it), on a Git repository like a user's GitOps repo:
 * a base branch with the 2-region default config and its synthesized dist/, and a branch that
 * adds a third region (hel1, joining, as in regions/examples/add-hel1.yaml) and synthesizes
 * again. The repository holds only the config and dist/ (the generator is this checkout's), so
 * the test needs nothing but git and works from a fresh clone.
 *
 * A second base, branch `leaky`, adds what a careless commit could have put into dist/ (a Secret,
 * a token and a password in a values file); compared with it, the PR removes them, so the plan
 * shows those files: none of the values may appear in the comment.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse, parseDocument } from 'yaml';
import { DEFAULT_CONFIG_PATH, REPO_ROOT, tempDir } from './helpers.js';

const LAUNCH = join(REPO_ROOT, 'scripts', 'launch.cjs');
const PLANTED = ['PLANTED-SECRET-VALUE-1', 'PLANTED-SECRET-VALUE-2', 'PLANTED-SECRET-VALUE-3', 'PLANTED-SECRET-VALUE-4'];
const b64 = (s: string) => Buffer.from(s).toString('base64');

interface Run {
  readonly code: number | null;
  readonly out: string;
  readonly err: string;
}

/** The CLI as `npm run <name> -- <args>` runs it, from `cwd`. */
function cli(cwd: string, name: 'synth' | 'plan', args: readonly string[], env: NodeJS.ProcessEnv = {}): Run {
  const r = spawnSync(process.execPath, [LAUNCH, name, ...args], { cwd, encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024, timeout: 120_000 });
  if (r.error) throw r.error;
  return { code: r.status, out: r.stdout, err: r.stderr };
}

let repo = '';
const git = (...args: string[]) => execFileSync('git', ['-C', repo, ...args], { encoding: 'utf8' });
const config = ['--config', 'regions/platform.yaml', '--out', 'dist'];
const plan = (extra: readonly string[] = [], env: NodeJS.ProcessEnv = {}, base = 'main') => cli(repo, 'plan', [...config, '--base', base, '--format', 'markdown', ...extra], env);

/** `plan()` on the PR branch against main, run once (after the PR's synth is committed). */
let planned: Run | undefined;
const plannedOnce = () => (planned ??= plan());

/** Writes files into the base dist that carry credentials (see the file comment). */
function plantCredentials(): void {
  mkdirSync(join(repo, 'dist/clusters/astring-mn/chat'), { recursive: true });
  writeFileSync(
    join(repo, 'dist/clusters/astring-mn/chat/secret-legacy-db.yaml'),
    [
      'apiVersion: v1',
      'kind: Secret',
      'metadata:',
      '  name: legacy-db',
      '  namespace: chat',
      'data:',
      `  password: ${b64(PLANTED[0]!)}`,
      'stringData:',
      `  DATABASE_URL: postgres://chat:${PLANTED[1]}@db.chat.svc:5432/chat`,
      '',
    ].join('\n'),
  );
  const values = join(repo, 'dist/values/astring-mn/nats.yaml');
  writeFileSync(values, `${readFileSync(values, 'utf8')}legacy:\n  adminToken: ${PLANTED[2]}\n  env:\n    - name: ADMIN_PASSWORD\n      value: ${PLANTED[3]}\n`);
}

beforeAll(() => {
  repo = tempDir('regionmesh-plan-pr-');
  git('init', '-q', '-b', 'main');
  git('config', 'user.email', 'test@example.invalid');
  git('config', 'user.name', 'test');
  mkdirSync(join(repo, 'regions'));
  cpSync(DEFAULT_CONFIG_PATH, join(repo, 'regions/platform.yaml'));
  const base = cli(repo, 'synth', config);
  expect(base.code, base.err).toBe(0);
  git('add', '-A');
  git('commit', '-qm', 'two regions');
  // The same base with a careless commit on top (branch leaky), for the redaction test.
  git('checkout', '-qb', 'leaky');
  plantCredentials();
  git('add', '-A');
  git('commit', '-qm', 'credentials committed by mistake');
  git('checkout', '-q', 'main');

  // The pull request: the default config plus hel1 as add-hel1.yaml has it.
  git('checkout', '-qb', 'add-hel1');
  const hel1 = (parse(readFileSync(join(REPO_ROOT, 'regions/examples/add-hel1.yaml'), 'utf8')) as { regions: Array<{ name: string }> }).regions.find((r) => r.name === 'hel1');
  expect(hel1).toBeDefined();
  const doc = parseDocument(readFileSync(join(repo, 'regions/platform.yaml'), 'utf8'));
  doc.addIn(['regions'], doc.createNode(hel1));
  writeFileSync(join(repo, 'regions/platform.yaml'), doc.toString());
}, 180_000);

describe('a pull request that adds a third region', () => {
  it('synth --check says the dist is stale and names the command', () => {
    const r = cli(repo, 'synth', [...config, '--check']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/is stale: \d+ file\(s\) differ \(run npm run synth\)/);
  });

  it('plans it as a PR comment: marker, then the summary, then the detail; exit 0', () => {
    const synth = cli(repo, 'synth', config);
    expect(synth.code, synth.err).toBe(0);
    git('add', '-A');
    git('commit', '-qm', 'add hel1 (joining)');
    const r = plannedOnce();
    expect(r.code, r.err).toBe(0);
    const lines = r.out.split('\n');
    expect(lines[0]).toBe('<!-- regionmesh-plan -->');
    expect(lines[1]).toBe('## regionmesh plan');
    expect(lines[3]).toMatch(/^Compared with `main:dist`: \*\*\d+ added, \d+ changed, \d+ removed in \d+ application\(s\) on 5 cluster\(s\); \d+ effect\(s\); 0 dangerous change\(s\) refused\*\*\.$/);
    const detail = r.out.indexOf('### Changes per Application');
    const summary = r.out.slice(0, detail);
    expect(summary).not.toContain('<details>');
    // Every cluster of the 3-region config has its block in the summary; hel1's Applications are all new.
    for (const cluster of ['astring-fsn1', 'astring-hel1', 'astring-mgmt', 'astring-mn']) expect(summary).toMatch(new RegExp(`^#### \`${cluster}\` \\(files `, 'm'));
    expect(summary).toMatch(/^- Applications added: `astring-barman-cloud-hel1`, .*`astring-nats-hel1`/m);
    expect(summary).toMatch(/^ {2}- NATS StatefulSet nats in astring-mn rolls its 3 pods one at a time/m);
    expect(r.out.indexOf('<details>')).toBeGreaterThan(detail);
    expect(r.out).toContain('<details><summary><code>astring-nats-hel1</code> on <code>astring-hel1</code>: added');
    expect(r.out).toContain('+        - name: astring-hel1');
  });

  it('shows no credential: the values planted in the base are in files the plan shows, redacted', () => {
    const r = plan([], {}, 'leaky');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('**- `clusters/astring-mn/chat/secret-legacy-db.yaml`** (removed)');
    expect(r.out).toContain('-  password: <redacted>');
    expect(r.out).toContain('-  DATABASE_URL: <redacted>');
    expect(r.out).toContain('-  adminToken: <redacted>');
    for (const value of PLANTED) {
      expect(r.out).not.toContain(value);
      expect(r.out).not.toContain(b64(value));
    }
  });

  it('gives the same bytes twice, whatever the locale and time zone', () => {
    const first = plannedOnce();
    const second = plan([], { LANG: 'de_DE.UTF-8', LC_ALL: 'de_DE.UTF-8', TZ: 'Asia/Ulaanbaatar' });
    expect(second.out).toBe(first.out);
    expect(second.code).toBe(first.code);
  });

  it('under a tiny --max-chars keeps the summary whole and names every Application it cut', () => {
    const whole = plannedOnce().out;
    const summary = whole.slice(0, whole.indexOf('### Changes per Application'));
    const all = [...whole.matchAll(/<details><summary><code>([^<]+)<\/code>/g)].map((m) => m[1]!);
    expect(all.length).toBeGreaterThan(10);
    const r = plan(['--max-chars', '500']);
    expect(r.code).toBe(0);
    expect(r.out.startsWith(summary)).toBe(true);
    expect(r.out).not.toContain('<details>');
    expect(r.out).toContain('The summary alone is longer than 500 characters; it is kept whole.');
    const note = /Detail cut to stay under 500 characters: the diff of (\d+) Application\(s\) is not shown: (.*)\. The summary above is complete/.exec(r.out);
    expect(note).not.toBeNull();
    expect(Number(note![1])).toBe(all.length);
    const cut = [...note![2]!.matchAll(/`([^`]+)`(?: \(`[^`]+`\))?/g)].map((m) => m[1]!);
    expect(cut).toEqual(all);
  });
  it('is the example in README "Pull requests": the summary exactly, the rest trimmed at …', () => {
    const out = plannedOnce().out;
    const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('\n## Pull requests\n'));
    const example = /\n````markdown\n([\s\S]*?)\n````\n/.exec(section)?.[1];
    expect(example, 'README "Pull requests" has a ````markdown example').toBeDefined();
    const cut = '### Changes per Application';
    const fresh = `the current output is:\n${out}`;
    expect(example!.slice(0, example!.indexOf(cut)), `README "Pull requests": update the example's summary; ${fresh}`).toBe(out.slice(0, out.indexOf(cut)));
    // Every other line of the example is a line of the output, in order.
    const lines = out.split('\n');
    let at = 0;
    for (const line of example!.slice(example!.indexOf(cut)).split('\n').filter((l) => l !== '…')) {
      while (at < lines.length && lines[at] !== line) at++;
      expect(at < lines.length, `README "Pull requests" example line ${JSON.stringify(line)} is not in the output (in this order); ${fresh}`).toBe(true);
      at++;
    }
  });
});

describe('a pull request that removes an active region', () => {
  it('is refused: exit 2, and the comment says exactly what to acknowledge', () => {
    git('checkout', '-q', 'main');
    const doc = parseDocument(readFileSync(join(repo, 'regions/platform.yaml'), 'utf8'));
    const regions = doc.get('regions') as { items: unknown[] };
    regions.items.pop();
    writeFileSync(join(repo, 'regions/platform.yaml'), doc.toString());
    const removed = (parse(doc.toString()) as { regions: Array<{ name: string }> }).regions.map((r) => r.name);
    const gone = ['mn', 'fsn1'].find((n) => !removed.includes(n))!;
    const r = plan();
    expect(r.code).toBe(2);
    const ack = /```yaml\nacknowledgedChanges:\n((?: {2}- ".*"\n)+)```/.exec(r.out);
    expect(ack, 'the acknowledgement block').not.toBeNull();
    expect(ack![1]).toContain(`  - "remove-region:${gone}"\n`);
    expect(r.out.indexOf(`remove-region:${gone}`)).toBeLessThan(r.out.indexOf('### Changes per Application'));
  });
});
