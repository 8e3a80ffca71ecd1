/**
 * The boundaries of DESIGN.md: imports flow regions <- constructs <- charts; app/ never
 * imports constructs/ or charts/, and the generator never imports app/. And the runtime
 * image's entry point compiles on its own (tsconfig.app.json) and runs.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './helpers.js';

/** Every source file under `dir`, tests excepted (they drive the generator and the labs from anywhere). */
function sources(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(join(REPO_ROOT, dir), { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...sources(p));
    else if (/\.[cm]?[jt]sx?$/.test(e.name) && !/\.(test|d)\.[cm]?[jt]sx?$/.test(e.name)) out.push(p);
  }
  return out;
}

/**
 * Every module a source text loads, from its syntax tree: `import ... from`, side-effect
 * `import 'x'`, `export ... from`, `import x = require('x')`, `import('x')` calls and types,
 * and `require('x')`. A specifier that is not a plain string (`import(name)`, a template with
 * substitutions) is returned as `<not a literal: ...>` so the check fails on it: a boundary
 * it cannot see is a boundary it cannot check.
 */
function importsOfText(text: string, fileName = 'x.ts'): string[] {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true);
  const out: string[] = [];
  const specifier = (node: ts.Node | undefined) => {
    if (node === undefined) return;
    if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) out.push(node.text);
    else out.push(`<not a literal: ${node.getText(source)}>`);
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) specifier(node.moduleSpecifier);
    else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) specifier(node.moduleReference.expression);
    else if (ts.isCallExpression(node) && (node.expression.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(node.expression) && node.expression.text === 'require'))) {
      specifier(node.arguments[0] ?? node);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) specifier(node.argument.literal);
    ts.forEachChild(node, visit);
  };
  visit(source);
  return out;
}

function importsOf(file: string): string[] {
  return importsOfText(readFileSync(join(REPO_ROOT, file), 'utf8'), file);
}

/** Top-level folder an import of `file` resolves to (for relative imports). */
function targetFolder(file: string, spec: string): string | undefined {
  if (!spec.startsWith('.')) return undefined;
  const resolved = relative(REPO_ROOT, join(REPO_ROOT, file, '..', spec));
  return resolved.split('/')[0];
}

/** Imports of `file` (text given) that reach a forbidden top-level folder or cannot be checked. */
function violationsOf(file: string, text: string, forbidden: readonly string[]): string[] {
  return importsOfText(text, file)
    .filter((spec) => spec.startsWith('<not a literal') || forbidden.includes(targetFolder(file, spec) ?? ''))
    .map((spec) => `${file} imports ${spec}`);
}

describe('module boundaries', () => {
  const rules: Array<[string, string[]]> = [
    ['regions', ['constructs', 'charts', 'app', 'lab']],
    ['constructs', ['charts', 'app', 'lab']],
    ['charts', ['app', 'lab']],
    ['app', ['constructs', 'charts', 'lab']],
  ];
  it.each(rules)('%s imports none of %j', (folder, forbidden) => {
    const violations = sources(folder).flatMap((file) => violationsOf(file, readFileSync(join(REPO_ROOT, file), 'utf8'), forbidden));
    expect(violations).toEqual([]);
  });

  it('the scanner sees real imports (the check can fail)', () => {
    expect(importsOf('charts/platform.ts').some((s) => s.startsWith('../constructs/'))).toBe(true);
    expect(targetFolder('charts/platform.ts', '../constructs/namespace.js')).toBe('constructs');
  });

  it('the scanner sees every form of import, side-effect and dynamic ones included', () => {
    const text = [
      "import '../charts/side-effect.js';",
      "import type { T } from '../charts/type-only.js';",
      'import {',
      '  a,',
      '  b,',
      "} from '../charts/multi-line.js';",
      "export * from '../charts/re-export.js';",
      "export { c } from '../charts/named-re-export.js';",
      "import legacy = require('../charts/import-equals.js');",
      'async function f(name: string) {',
      "  await import('../charts/dynamic.js');",
      '  await import(`../charts/template.js`);',
      "  const m = await import(/* comment */ '../charts/commented.js');",
      "  type X = typeof import('../charts/import-type.js');",
      "  require('../charts/require.js');",
      '  await import(name);',
      '}',
      "const s = \"import '../charts/in-a-string.js'\"; // import '../charts/in-a-comment.js'",
    ].join('\n');
    expect(importsOfText(text)).toEqual([
      '../charts/side-effect.js',
      '../charts/type-only.js',
      '../charts/multi-line.js',
      '../charts/re-export.js',
      '../charts/named-re-export.js',
      '../charts/import-equals.js',
      '../charts/dynamic.js',
      '../charts/template.js',
      '../charts/commented.js',
      '../charts/import-type.js',
      '../charts/require.js',
      '<not a literal: name>',
    ]);
  });

  it('a side-effect or dynamic import across a boundary is a violation', () => {
    const text = "import '../charts/main.js';\nexport async function f(n: string) {\n  await import('../lab/nats.js');\n  await import(n);\n}\n";
    expect(violationsOf('regions/x.ts', text, ['charts', 'lab'])).toEqual([
      'regions/x.ts imports ../charts/main.js',
      'regions/x.ts imports ../lab/nats.js',
      'regions/x.ts imports <not a literal: n>',
    ]);
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
    expect(run.stderr).toMatch(/usage: regionmesh-app <bootstrap-cassandra\|bootstrap-spock\|serve\|wait-postgres-node>/);
    rmSync(out, { recursive: true, force: true });
  }, 150_000);
});
