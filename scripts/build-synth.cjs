'use strict';
/**
 * Compiles charts/main.ts and charts/plan-main.ts, with everything they import (packages
 * included), into one CommonJS file each under .synth/, records every file they were compiled
 * from in .synth/manifest.json, and (from the command line) warms V8's code cache for each by
 * running it once. `npm ci` runs this (`prepare`); scripts/launch.cjs runs build() again
 * whenever the manifest no longer matches the files. `node scripts/build-synth.cjs` builds by hand.
 *
 * Each bundle is named by its content hash, so a start that read the previous manifest still
 * finds the files it names, and a code cache never meets a bundle it was not made for.
 */
const fs = require('node:fs');
const path = require('node:path');
const { ROOT, OUT_DIR, MANIFEST, FORMAT, ENTRIES, sha256, runtime, stampOf, fileSystemNow, loadEntry, writeAtomically } = require('./launch.cjs');

/** Loaders by file extension; anything else fails the build (no silent default). */
const LOADERS = { '.ts': 'ts', '.mts': 'ts', '.cts': 'ts', '.js': 'js', '.mjs': 'js', '.cjs': 'js', '.json': 'json' };
/** Files that shape the output without being bundled: the build itself, its options, the compiler. */
const ALSO_INPUTS = ['scripts/build-synth.cjs', 'scripts/launch.cjs', 'package.json', 'tsconfig.json', 'node_modules/esbuild/package.json'];
/** `import.meta.url` of a repository module, as the launcher's wrapper computes it from the repository root. */
const IMPORT_META_URL = '__rm_import_meta_url';

const rel = (abs) => path.relative(ROOT, abs).split(path.sep).join('/');
/** `node_modules/<pkg>` or `node_modules/@scope/<pkg>` of a package file, else undefined. */
const packageRootOf = (file) => /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(file)?.[1];

/** Stats, then reads one input and records its stamp; returns its content. */
function readInput(inputs, now, file) {
  const abs = path.join(ROOT, file);
  const st = fs.statSync(abs);
  const bytes = fs.readFileSync(abs);
  inputs[file] = stampOf(st, sha256(bytes), now);
  return bytes;
}

/**
 * Reads every file esbuild compiles (and the package.json of every package it comes from), so
 * the manifest records exactly what went into the bundles. Gives each repository module that
 * uses `import.meta.url` its own URL, computed at run time from where the repository is.
 */
function recordingLoader(inputs, now) {
  return {
    name: 'record-inputs',
    setup(b) {
      b.onLoad({ filter: /.*/, namespace: 'file' }, (args) => {
        const loader = LOADERS[path.extname(args.path)];
        if (!loader) return { errors: [{ text: `no loader for ${args.path} (add its extension to LOADERS in scripts/build-synth.cjs)` }] };
        const file = rel(args.path);
        const pkg = packageRootOf(file);
        if (pkg && !inputs[`${pkg}/package.json`]) readInput(inputs, now, `${pkg}/package.json`);
        const bytes = readInput(inputs, now, file);
        if (pkg) return { contents: bytes, loader };
        let contents = bytes.toString('utf8');
        if (contents.includes('import.meta')) contents = `const ${IMPORT_META_URL} = __rmUrlOf(${JSON.stringify(file)});\n${contents}`;
        return { contents, loader };
      });
    },
  };
}

/**
 * Runs each entry once, output muted, on the default config and the repository's dist/ (read,
 * never written: `--check`, and plan only reads), so that V8 compiles what a run uses; then
 * saves the code cache.
 */
function warmCodeCaches(manifest) {
  const saved = { log: console.log, error: console.error, warn: console.warn };
  for (const name of Object.keys(ENTRIES)) {
    const loaded = loadEntry(manifest, name);
    console.log = console.error = console.warn = () => {};
    try {
      loaded.run(name === 'synth' ? ['--check'] : []);
    } finally {
      Object.assign(console, saved);
    }
    writeAtomically(loaded.cacheFile, loaded.script.createCachedData());
  }
}

/** Compiles the entries into .synth/ and writes the manifest last. Returns the manifest. */
async function build({ warm = false } = {}) {
  const esbuild = require('esbuild');
  fs.mkdirSync(OUT_DIR, { recursive: true });
  const now = fileSystemNow();
  const inputs = {};
  for (const f of ALSO_INPUTS) readInput(inputs, now, f);
  const result = await esbuild.build({
    entryPoints: Object.fromEntries(Object.entries(ENTRIES).map(([name, e]) => [name, path.join(ROOT, e.source)])),
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20.11',
    outdir: OUT_DIR,
    write: false,
    // Whitespace only: no renaming (class and function names stay as they are); drops comments, so the bundle is ASCII.
    minifyWhitespace: true,
    define: { 'import.meta.url': IMPORT_META_URL },
    legalComments: 'none',
    logLevel: 'silent',
    absWorkingDir: ROOT,
    plugins: [recordingLoader(inputs, now)],
  });
  // A warning in our own code (e.g. `import.meta.dirname`, which a CommonJS bundle cannot provide) is an error here.
  const own = result.warnings.filter((w) => w.location && !packageRootOf(w.location.file));
  if (own.length > 0) throw new Error(`compiling the synth found problems:\n${esbuild.formatMessagesSync(own, { kind: 'warning' }).join('\n')}`);
  const entries = {};
  for (const out of result.outputFiles) {
    const name = path.basename(out.path, '.js');
    const id = `${name}.${sha256(out.contents).slice(0, 16)}`;
    entries[name] = { file: `${id}.cjs`, cache: `${id}.cache`, encoding: out.contents.every((b) => b < 0x80) ? 'latin1' : 'utf8' };
    writeAtomically(path.join(OUT_DIR, entries[name].file), out.contents);
  }
  const manifest = { format: FORMAT, runtime: runtime(), entries, inputs };
  if (warm) warmCodeCaches(manifest);
  writeAtomically(MANIFEST, `${JSON.stringify(manifest)}\n`);
  // Bundles and caches of earlier builds (a start that still reads them retries with this manifest).
  const keep = new Set(['manifest.json', ...Object.values(entries).flatMap((e) => [e.file, e.cache])]);
  for (const f of fs.readdirSync(OUT_DIR)) if (!keep.has(f) && !f.includes('.tmp-') && !f.startsWith('.clock-')) fs.rmSync(path.join(OUT_DIR, f), { force: true });
  return manifest;
}

module.exports = { build };

if (require.main === module) {
  const t0 = Date.now();
  build({ warm: true }).then(
    () => console.log(`compiled ${Object.values(ENTRIES).map((e) => e.source).join(', ')} into .synth/ in ${Date.now() - t0} ms`),
    (e) => {
      console.error(e.stack ?? String(e));
      process.exitCode = 1;
    },
  );
}
