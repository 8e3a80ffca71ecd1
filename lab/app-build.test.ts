/**
 * The lab's backends run the image's build of app/ (lab/app-build.ts): the files hashed are the
 * files tsc compiles for the image, the hash follows their content, and the build is plain tsc
 * output (no tsx/esbuild `__name` wrappers) that starts.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../test/helpers.js';
import { TSC, appBuild, appBuildHash, appSources } from './app-build.js';
import { BACKEND_NODE } from './backend-process.js';
import { REPO_ROOT } from './install.js';

describe('the lab build of app/', () => {
  it('hashes exactly the files tsc compiles for the image (tsconfig.app.json)', () => {
    const listed = execFileSync(process.execPath, [TSC, '-p', 'tsconfig.app.json', '--listFilesOnly'], { cwd: REPO_ROOT, encoding: 'utf8' })
      .split('\n')
      .map((f) => f.trim())
      .filter((f) => f.startsWith(REPO_ROOT) && !f.includes('/node_modules/'))
      .map((f) => relative(REPO_ROOT, f))
      .sort();
    expect(listed.length).toBeGreaterThan(20);
    expect(appSources().map((f) => relative(REPO_ROOT, f))).toEqual(listed);
  });

  it('names a build by the content of the sources, tsconfigs and TypeScript version', () => {
    const root = tempDir('app-build-');
    mkdirSync(join(root, 'app', 'chat'), { recursive: true });
    mkdirSync(join(root, 'node_modules', 'typescript'), { recursive: true });
    const write = (f: string, text: string) => writeFileSync(join(root, f), text);
    write('tsconfig.json', '{}');
    write('tsconfig.app.json', '{}');
    write('node_modules/typescript/package.json', '{"version":"5.9.3"}');
    write('app/main.ts', 'export const a = 1;');
    const first = appBuildHash(root);
    write('app/chat/x.test.ts', 'test');
    write('app/x.bench.ts', 'bench');
    expect(appBuildHash(root)).toBe(first); // tests and benchmarks are not compiled
    write('app/chat/x.ts', 'export const b = 2;');
    const withX = appBuildHash(root);
    expect(withX).not.toBe(first);
    write('app/chat/x.ts', 'export const b = 3;');
    expect(appBuildHash(root)).not.toBe(withX);
    write('app/chat/x.ts', 'export const b = 2;');
    expect(appBuildHash(root)).toBe(withX);
    write('tsconfig.app.json', '{"compilerOptions":{}}');
    expect(appBuildHash(root)).not.toBe(withX);
  });

  it('is plain tsc output that starts under the image Node', { timeout: 120_000 }, () => {
    const main = appBuild();
    expect(main).toContain(`${join('.lab', 'app-build', appBuildHash())}/app/main.js`);
    expect(appBuild()).toBe(main); // built once
    const source = readFileSync(main, 'utf8');
    expect(source).not.toMatch(/__name\(/);
    const hot = readFileSync(join(main, '..', 'chat', 'rooms.js'), 'utf8');
    expect(hot).toMatch(/route\(roomId, ev\)/);
    expect(hot).not.toMatch(/__name\(/);
    // `serve` with an empty environment refuses it (exit 2, EnvError) after loading every module.
    const run = spawnSync(BACKEND_NODE, [main, 'serve'], { env: {}, encoding: 'utf8', timeout: 60_000 });
    expect(run.status, run.stderr).toBe(2);
  });
});
