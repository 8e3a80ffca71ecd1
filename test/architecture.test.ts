/**
 * The boundaries of DESIGN.md: imports flow regions <- constructs <- charts; app/ never
 * imports constructs/ or charts/, and the generator never imports app/. And the runtime
 * image's entry point compiles on its own (tsconfig.app.json) and runs.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './helpers.js';

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(join(REPO_ROOT, dir), { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...sources(p));
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

function importsOf(file: string): string[] {
  const text = readFileSync(join(REPO_ROOT, file), 'utf8');
  return [...text.matchAll(/(?:^|\n)\s*(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1] ?? m[2]!);
}

/** Top-level folder an import of `file` resolves to (for relative imports). */
function targetFolder(file: string, spec: string): string | undefined {
  if (!spec.startsWith('.')) return undefined;
  const resolved = relative(REPO_ROOT, join(REPO_ROOT, file, '..', spec));
  return resolved.split('/')[0];
}

describe('module boundaries', () => {
  const rules: Array<[string, string[]]> = [
    ['regions', ['constructs', 'charts', 'app', 'lab']],
    ['constructs', ['charts', 'app', 'lab']],
    ['charts', ['app', 'lab']],
    ['app', ['constructs', 'charts', 'lab']],
  ];
  it.each(rules)('%s imports none of %j', (folder, forbidden) => {
    const violations: string[] = [];
    for (const file of sources(folder)) {
      for (const spec of importsOf(file)) {
        const target = targetFolder(file, spec);
        if (target && forbidden.includes(target)) violations.push(`${file} imports ${spec}`);
      }
    }
    expect(violations).toEqual([]);
  });

  it('the scanner sees real imports (the check can fail)', () => {
    expect(importsOf('charts/platform.ts').some((s) => s.startsWith('../constructs/'))).toBe(true);
    expect(targetFolder('charts/platform.ts', '../constructs/namespace.js')).toBe('constructs');
  });
});

describe('the runtime image entry point', () => {
  it('compiles app/ alone with tsconfig.app.json and lists its commands', () => {
    // Inside the repository, like /srv/regionmesh in the image: node_modules and package.json ("type": "module") beside it.
    const out = join(REPO_ROOT, '.build-test');
    rmSync(out, { recursive: true, force: true });
    const tsc = spawnSync(join(REPO_ROOT, 'node_modules/.bin/tsc'), ['-p', join(REPO_ROOT, 'tsconfig.app.json'), '--outDir', out], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(tsc.stdout + tsc.stderr).toBe('');
    expect(tsc.status).toBe(0);
    const run = spawnSync(process.execPath, [join(out, 'app/main.js')], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 30_000 });
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/usage: regionmesh-app <bootstrap-cassandra\|bootstrap-spock\|serve>/);
    rmSync(out, { recursive: true, force: true });
  }, 150_000);
});
