'use strict';
/**
 * `node scripts/launch.cjs <synth|plan> [args]`: what `npm run synth`, `npm run plan` and
 * `npx cdk8s synth` run. It runs charts/main.ts (or charts/plan-main.ts) compiled to one
 * JavaScript file under .synth/ by scripts/build-synth.cjs (`npm ci` builds it in `prepare`),
 * so no TypeScript is compiled at start and V8 loads the code from its code cache.
 *
 * Never stale: first it checks every file the bundles were compiled from (repository sources,
 * package files, the two scripts, package.json, tsconfig.json) against .synth/manifest.json,
 * and recompiles when one differs. A file counts as unchanged when its size, mtime, ctime and
 * inode are as recorded and it was last written well before they were recorded (the "racy"
 * rule of Git's index); otherwise its content is hashed and compared. Plain CommonJS on
 * purpose: Node starts it without the ESM loader (about 15 ms less).
 */
const fs = require('node:fs');
const Module = require('node:module');
const path = require('node:path');
const { pathToFileURL } = require('node:url');
const vm = require('node:vm');

const ROOT = path.resolve(__dirname, '..');
/** Build output (gitignored). */
const OUT_DIR = path.join(ROOT, '.synth');
const MANIFEST = path.join(OUT_DIR, 'manifest.json');
/** Bump when the manifest or the bundle wrapper changes shape. */
const FORMAT = 2;
/** Entry points: source file and the exported function that takes argv and returns the exit code. */
const ENTRIES = {
  synth: { source: 'charts/main.ts', run: 'main' },
  plan: { source: 'charts/plan-main.ts', run: 'planMain' },
};
/** Parameters of the function a bundle is wrapped in (see loadEntry). */
const WRAPPER_PARAMS = 'exports, require, module, __filename, __dirname, __rmUrlOf';
/**
 * A stamp only vouches for a file last written at least this long before the stamp was taken:
 * a write within the same timestamp tick (1-2 s on some file systems) leaves mtime and size alone.
 */
const RACY_MS = 2000;

const sha256 = (data) => require('node:crypto').createHash('sha256').update(data).digest('hex');
/** Node and V8 identity: a bundle and its code cache belong to one. */
const runtime = () => `${process.version} ${process.arch} ${process.platform}`;

/**
 * What the manifest records per input: `[size, mtimeMs, ctimeMs, ino, sha256, trustedBefore]`.
 * `st` must be taken before the content is read, so a write in between shows as a change.
 */
function stampOf(st, hash, now) {
  return [st.size, st.mtimeMs, st.ctimeMs, st.ino, hash, now - RACY_MS];
}

/** The current time by the file system's clock (file times come from it), and not later than Node's. */
function fileSystemNow() {
  const probe = path.join(OUT_DIR, `.clock-${process.pid}`);
  try {
    fs.writeFileSync(probe, '');
    return Math.min(Date.now(), fs.statSync(probe).mtimeMs);
  } finally {
    fs.rmSync(probe, { force: true });
  }
}

/** The manifest of .synth/, or undefined when there is none (or it is unreadable or older). */
function readManifest() {
  try {
    const m = JSON.parse(fs.readFileSync(MANIFEST, 'utf8'));
    return m && m.format === FORMAT ? m : undefined;
  } catch {
    return undefined;
  }
}

/** Writes a file so that a concurrent reader sees the old or the new content, never a part. */
function writeAtomically(file, data) {
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, data);
  fs.renameSync(tmp, file);
}

/**
 * Why .synth/ does not match the files as they are now, or undefined when it does. Stats
 * every input (about 360 files); reads and hashes only those whose stamp does not vouch for
 * them. When such files turn out unchanged (touched, checked out again, reinstalled), their
 * stamps are renewed in the manifest so that the next start need not hash them again.
 */
function staleReason(manifest) {
  if (!manifest) return 'not compiled yet';
  if (manifest.runtime !== runtime()) return `compiled for ${manifest.runtime}, this is ${runtime()}`;
  for (const e of Object.values(manifest.entries)) {
    if (!fs.existsSync(path.join(OUT_DIR, e.file))) return `.synth/${e.file} is gone`;
  }
  const renewed = [];
  const noThrow = { throwIfNoEntry: false };
  for (const [rel, stamp] of Object.entries(manifest.inputs)) {
    const [size, mtimeMs, ctimeMs, ino, hash, trustedBefore] = stamp;
    // Concatenated, not path.join()ed: 360 joins cost more than the 360 stats (~5 ms).
    const file = `${ROOT}/${rel}`;
    const st = fs.statSync(file, noThrow);
    if (!st) return `${rel} is gone`;
    const same = st.size === size && st.mtimeMs === mtimeMs && st.ctimeMs === ctimeMs && st.ino === ino;
    if (same && Math.max(mtimeMs, ctimeMs) < trustedBefore) continue;
    if (st.size !== size || sha256(fs.readFileSync(file)) !== hash) return `${rel} changed`;
    renewed.push([rel, st]);
  }
  if (renewed.length > 0) renewStamps(manifest, renewed);
  return undefined;
}

/**
 * Records new stamps for inputs whose content was found unchanged, when they will vouch next
 * time (a file written a moment ago is hashed once more). Best effort: on a read-only
 * checkout the next start just hashes them again.
 */
function renewStamps(manifest, renewed) {
  try {
    const now = fileSystemNow();
    const vouching = renewed.filter(([, st]) => Math.max(st.mtimeMs, st.ctimeMs) < now - RACY_MS);
    for (const [rel, st] of vouching) manifest.inputs[rel] = stampOf(st, manifest.inputs[rel][4], now);
    if (vouching.length > 0) writeAtomically(MANIFEST, `${JSON.stringify(manifest)}\n`);
  } catch {
    // Nothing depends on it but speed.
  }
}

/**
 * Loads one compiled entry with V8's code cache when there is one for it. `cacheAccepted`
 * is false when there was none or V8 refused it (other V8 flags); the caller may then write
 * one with `script.createCachedData()` after running, when every function it used is compiled.
 */
function loadEntry(manifest, name) {
  const entry = manifest.entries[name];
  const file = path.join(OUT_DIR, entry.file);
  const cacheFile = path.join(OUT_DIR, entry.cache);
  // 'latin1' when the build found the bundle pure ASCII: the same string, decoded several times faster.
  const source = fs.readFileSync(file, entry.encoding);
  let cachedData;
  try {
    cachedData = fs.readFileSync(cacheFile);
  } catch {
    cachedData = undefined;
  }
  const script = new vm.Script(`(function (${WRAPPER_PARAMS}) {${source}\n})`, { filename: file, cachedData });
  const module = { exports: {} };
  const urlOf = (rel) => pathToFileURL(path.join(ROOT, rel)).href;
  script.runInThisContext().call(module.exports, module.exports, Module.createRequire(file), module, file, OUT_DIR, urlOf);
  const run = module.exports[ENTRIES[name].run];
  if (typeof run !== 'function') throw new Error(`.synth/${entry.file} exports no ${ENTRIES[name].run}() (delete .synth/ and run again)`);
  return { run, script, cacheFile, cacheAccepted: cachedData !== undefined && !script.cachedDataRejected };
}

/** The manifest of an up-to-date .synth/, compiling it first when it is stale. */
async function freshManifest(name) {
  const manifest = readManifest();
  const reason = staleReason(manifest);
  if (reason === undefined) return manifest;
  const t0 = Date.now();
  const built = await require('./build-synth.cjs').build();
  console.error(`${name}: ${reason}; compiled .synth/ in ${Date.now() - t0} ms`);
  return built;
}

async function launch(argv) {
  const [name, ...args] = argv;
  if (!Object.hasOwn(ENTRIES, name ?? '')) {
    console.error(`usage: node scripts/launch.cjs <${Object.keys(ENTRIES).join('|')}> [args]`);
    return 2;
  }
  let loaded;
  try {
    loaded = loadEntry(await freshManifest(name), name);
  } catch (e) {
    // A concurrent build replaced .synth/ between reading the manifest and the bundle: once more.
    if (e.code !== 'ENOENT') throw e;
    loaded = loadEntry(await freshManifest(name), name);
  }
  const code = loaded.run(args);
  if (!loaded.cacheAccepted) {
    try {
      writeAtomically(loaded.cacheFile, loaded.script.createCachedData());
    } catch (e) {
      console.error(`${name}: could not write the code cache ${loaded.cacheFile} (${e.message}); the next start is slower, nothing else changes`);
    }
  }
  return code;
}

module.exports = { ROOT, OUT_DIR, MANIFEST, FORMAT, ENTRIES, sha256, runtime, stampOf, fileSystemNow, readManifest, writeAtomically, staleReason, loadEntry };

if (require.main === module) {
  launch(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
      // The run is synchronous and done: skip tearing down the heap (~15 ms), unless output is
      // still buffered (stdout and stderr are synchronous on Linux; pipes are not on macOS).
      if (process.stdout.writableLength === 0 && process.stderr.writableLength === 0) process.exit(code);
    },
    (e) => {
      console.error(e.stack ?? String(e));
      process.exitCode = 1;
    },
  );
}
