/**
 * scripts/launch.cjs, what `npm run synth`, `npm run plan` and `npx cdk8s synth` run: the
 * compiled synth writes the committed dist/ byte for byte (charts/synth.test.ts checks that
 * dist/ is what the sources synthesize), and it never runs stale code: a source edited right
 * after a build, to the same size, is recompiled before the run.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readDist } from '../charts/dist-writer.js';
import { DIST, REPO_ROOT, tempDir } from './helpers.js';

function launch(root: string, args: readonly string[]) {
  const run = spawnSync(process.execPath, [join(root, 'scripts/launch.cjs'), ...args], { cwd: root, encoding: 'utf8', timeout: 120_000 });
  if (run.error) throw run.error;
  return run;
}

/** Temp folders of the current test, removed after it (a copy of the sources and a bundle: megabytes). */
const temps: string[] = [];
const temp = () => {
  const dir = tempDir();
  temps.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('scripts/launch.cjs', () => {
  it('writes the committed dist/ byte for byte, and plans no change against it', () => {
    const out = join(temp(), 'dist');
    const synth = launch(REPO_ROOT, ['synth', '--out', out]);
    expect(synth.status, synth.stderr).toBe(0);
    expect(Object.fromEntries(readDist(out))).toEqual(Object.fromEntries(readDist(DIST)));
    const plan = launch(REPO_ROOT, ['plan', '--out', out]);
    expect(plan.status, plan.stderr).toBe(0);
  }, 180_000);

  it('recompiles an edited source before it runs, and only then', () => {
    // A copy of the repository (packages shared), so that editing a source touches nothing here.
    const root = temp();
    for (const entry of ['regions', 'constructs', 'charts', 'scripts', 'package.json', 'tsconfig.json']) {
      cpSync(join(REPO_ROOT, entry), join(root, entry), { recursive: true });
    }
    symlinkSync(join(REPO_ROOT, 'node_modules'), join(root, 'node_modules'));
    const file = 'argocd/appproject-astring.yaml';
    const firstLine = (out: string) => readFileSync(join(out, file), 'utf8').split('\n')[0];

    const first = launch(root, ['synth', '--out', join(root, 'out-1')]);
    expect(first.status, first.stderr).toBe(0);
    expect(first.stderr).toMatch(/^synth: not compiled yet; compiled \.synth\/ in \d+ ms$/m);
    expect(firstLine(join(root, 'out-1'))).toMatch(/Do not edit by hand\.$/);

    // Same size, a moment after the build: only the stamps (mtime, ctime) or the content can tell.
    const render = join(root, 'charts/render.ts');
    const source = readFileSync(render, 'utf8');
    expect(source).toContain('Do not edit by hand.');
    writeFileSync(render, source.replace('Do not edit by hand.', 'Do not edit by hand!'));
    const edited = launch(root, ['synth', '--out', join(root, 'out-2')]);
    expect(edited.status, edited.stderr).toBe(0);
    expect(edited.stderr).toMatch(/^synth: charts\/render\.ts changed; compiled \.synth\/ in \d+ ms$/m);
    expect(firstLine(join(root, 'out-2'))).toMatch(/Do not edit by hand!$/);

    const again = launch(root, ['synth', '--out', join(root, 'out-2')]);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stderr).not.toMatch(/compiled/);
  }, 180_000);
});
