/**
 * Bad configs: every one is derived from the default regions/platform.yaml, fed to the real
 * synth entry point, and must be reported as `file:line:col path: problem (fix)` at the
 * offending text, with a non-zero exit and the output folder left exactly as it was.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { parse, stringify } from 'yaml';
import { readDist } from '../charts/dist-writer.js';
import { main } from '../charts/main.js';
import { DEFAULT_CONFIG_PATH, REPO_ROOT, defaultConfigText, tempDir } from '../test/helpers.js';
import { closest, ConfigError, formatPath } from './load.js';
import { parseConfig } from '../constructs/platform-config.js';
import { uniqueProblems } from './config-error.js';
import type { PlatformConfigInput } from './schema.js';

// ---------------------------------------------------------------------------------------
// Building bad configs from the default one
// ---------------------------------------------------------------------------------------

const BASE = defaultConfigText();

/** 1-based position in a text. */
interface Pos {
  readonly line: number;
  readonly col: number;
}

/** Replaces the only occurrence of `from` in the default config (fails loudly if it is not unique). */
function edit(from: string, to: string, text = BASE): string {
  const count = text.split(from).length - 1;
  if (count !== 1) throw new Error(`expected exactly one ${JSON.stringify(from)} in the config, found ${count}`);
  return text.replace(from, () => to);
}

/** Replaces the first `from` after the only occurrence of `anchor` in the default config. */
function editAfter(anchor: string, from: string, to: string): string {
  edit(anchor, anchor); // throws unless the anchor is unique
  const start = BASE.indexOf(anchor);
  const i = BASE.indexOf(from, start);
  if (i < 0) throw new Error(`no ${JSON.stringify(from)} after ${JSON.stringify(anchor)} in the config`);
  return BASE.slice(0, i) + to + BASE.slice(i + from.length);
}

/** Edits the parsed default config and writes it back as YAML (comments are lost; positions are recomputed). */
function editData(mutate: (c: PlatformConfigInput & Record<string, unknown>) => void): string {
  const data = parse(BASE) as PlatformConfigInput & Record<string, unknown>;
  mutate(data);
  return stringify(data);
}

/**
 * Position of the last of `needles`, each searched from where the previous one was found
 * (so `pos(t, 'jetstream:', 'enabled')` is the `enabled` key of the jetstream block).
 */
function pos(text: string, ...needles: string[]): Pos {
  let i = 0;
  for (const needle of needles) {
    const j = text.indexOf(needle, i);
    if (j < 0) throw new Error(`${JSON.stringify(needle)} not found in the test config`);
    i = j;
  }
  const before = text.slice(0, i).split('\n');
  return { line: before.length, col: before[before.length - 1]!.length + 1 };
}

/** The position just after `text` starting at `p` (on the same line). */
function after(p: Pos, text: string): Pos {
  return { line: p.line, col: p.col + text.length };
}

interface BadCase {
  readonly name: string;
  readonly text: string;
  /** Path in the report, e.g. `regions[1].ordinal`, `(yaml)`, `(root)`. */
  readonly path: string;
  /** What the message after `path: ` must match. */
  readonly message: RegExp;
  /** Where the report must point. */
  readonly at: Pos;
}

/** `at`: a position, the needles of `pos()` in `text`, or a function of `text`. */
function bad(
  name: string,
  text: string,
  path: string,
  message: RegExp,
  at: Pos | readonly string[] | ((text: string) => Pos),
): BadCase {
  const where = typeof at === 'function' ? at(text) : 'line' in at ? at : pos(text, ...at);
  return { name, text, path, message, at: where };
}

/** The whole `regions:` block of the default config (key and indented lines). */
const REGIONS_BLOCK = /^regions:\n(?:[ ]+.*\n)*/m.exec(BASE)![0];

const BAD_CASES: readonly BadCase[] = [
  // --- YAML itself
  bad('YAML syntax error (tab indentation)', edit('  namespace: argocd', '\tnamespace: argocd'),
    '(yaml)', /^Tabs are not allowed as indentation \(fix the YAML syntax at this position\)$/, ['\tnamespace']),
  bad('duplicate YAML key', edit('storageClass: openebs-hostpath', 'storageClass: openebs-hostpath\nstorageClass: other'),
    '(yaml)', /^Map keys must be unique \(remove or rename one of the two keys\)$/, ['storageClass: other']),
  bad('non-mapping document (a list)', stringify((parse(BASE) as PlatformConfigInput).regions),
    '(root)', /must be a YAML mapping \(start from regions\/platform\.yaml\)/, { line: 1, col: 1 }),
  bad('empty document', '', '(root)', /must be a YAML mapping/, { line: 1, col: 1 }),

  // --- unknown keys
  bad('near-miss key in a region (ordnial)', edit('    ordinal: 2', '    ordnial: 2'),
    'regions[1].ordnial', /^unknown key "ordnial" \(did you mean "ordinal"\?.*valid keys: name, ordinal, cluster\b/, ['ordnial']),
  bad('near-miss top-level key (managmentCluster)', edit('managementCluster:', 'managmentCluster:'),
    'managmentCluster', /^unknown key "managmentCluster" \(did you mean "managementCluster"\?/, ['managmentCluster']),
  bad('unknown top-level key', `${BASE}colour: blue\n`,
    'colour', /^unknown key "colour" \(remove it\b.*valid keys: platform, gitops,/, ['colour:']),
  bad('unknown key in a region', edit('    cluster: astring-mn', '    cluster: astring-mn\n    zone: a'),
    'regions[0].zone', /^unknown key "zone" \(remove it\b/, ['zone:']),

  // --- regions: uniqueness and identity
  bad('duplicate region name', edit('  - name: fsn1', '  - name: mn'),
    'regions[1].name', /^duplicate region name "mn", already used by regions\[0\] \(every region needs its own name\)$/, ['ordinal: 1', 'name: ', 'mn']),
  bad('duplicate ordinal', edit('    ordinal: 2', '    ordinal: 1'),
    'regions[1].ordinal', /^duplicate region ordinal 1, already used by regions\[0\]/, ['- name: fsn1', 'ordinal: ', '1']),
  bad('duplicate cluster', edit('    cluster: astring-fsn1', '    cluster: astring-mn'),
    'regions[1].cluster', /^duplicate region cluster "astring-mn", already used by regions\[0\]/, ['- name: fsn1', 'astring-mn']),
  bad('ordinal 0', edit('    ordinal: 1', '    ordinal: 0'),
    'regions[0].ordinal', /^must be >= 1, got 0 \(use a value from 1 up\)$/, ['ordinal: 0', '0']),
  bad('ordinal 1024', edit('    ordinal: 2', '    ordinal: 1024'),
    'regions[1].ordinal', /^must be <= 1023, got 1024 \(use a value up to 1023\)$/, ['1024']),
  bad('non-integer ordinal 1.5', edit('    ordinal: 2', '    ordinal: 1.5'),
    'regions[1].ordinal', /^expected an integer, got 1\.5 \(write an integer\)$/, ['1.5']),
  bad('ordinal written as a quoted string', edit('    ordinal: 2', '    ordinal: "2"'),
    'regions[1].ordinal', /^expected an integer, got "2" \(write an integer\)/, ['"2"']),
  bad('uppercase region name', edit('  - name: mn', '  - name: MN'),
    'regions[0].name', /^"MN" region name is not a DNS-1035 label \(use lowercase letters/, ['MN']),
  bad('underscore in region name', edit('  - name: fsn1', '  - name: fsn_1'),
    'regions[1].name', /^"fsn_1" region name is not a DNS-1035 label/, ['fsn_1']),
  bad('region name of 21 characters', edit('  - name: fsn1', `  - name: ${'a'.repeat(21)}`),
    'regions[1].name', /^"a{21}" is longer than 20 characters \(shorten it\)$/, ['a'.repeat(21)]),
  bad('uppercase platform name', edit('platform: astring', 'platform: Astring'),
    'platform', /^"Astring" platform name is not a DNS-1035 label/, ['Astring']),
  bad('management cluster reused as a region cluster', edit('    cluster: astring-fsn1', '    cluster: astring-mgmt'),
    'regions[1].cluster', /^cluster "astring-mgmt" is the management cluster \(a region needs its own cluster/, ['- name: fsn1', 'astring-mgmt']),

  // --- missing fields and wrong types (a missing field is reported where its mapping starts)
  bad('missing region cluster', edit('    cluster: astring-fsn1\n', ''),
    'regions[1].cluster', /^required field is missing \(add it: a string\)$/, ['name: fsn1']),
  // A null value has no text of its own: the report points just after the colon.
  bad('empty (null) region cluster', edit('    cluster: astring-fsn1', '    cluster:'),
    'regions[1].cluster', /^expected a string, got null \(write a string\)$/, (t) => after(pos(t, '- name: fsn1', 'cluster:'), 'cluster:')),
  bad('missing top-level platform', edit('platform: astring\n', ''),
    'platform', /^required field is missing \(add it: a string\)$/, ['gitops:']),
  bad('replicas: three', edit('  replicas: 3', '  replicas: three'),
    'nats.replicas', /^expected (an integer|a number), got "three" \(write (an integer|a number)\)$/, ['three']),
  bad('regions: {}', edit(REGIONS_BLOCK, 'regions: {}\n'),
    'regions', /^expected a list, got a mapping \(write a list\)$/, ['{}']),
  bad('empty region list', edit(REGIONS_BLOCK, 'regions: []\n'),
    'regions', /^needs at least one region, got 0 \(add entries\)$/, ['[]']),
  bad('boolean written as yes', edit('  reloader: true', '  reloader: yes'),
    'nats.reloader', /^expected true or false, got "yes"/, ['reloader: ', 'yes']),
  bad('empty storageClass', edit('storageClass: openebs-hostpath', 'storageClass: ""'),
    'storageClass', /^must not be empty \(write a value\)$/, ['""']),

  // --- formats and enums
  bad('bad enum exposure: lb', edit('    exposure: podNetwork', '    exposure: lb'),
    'nats.gateway.exposure', /^must be one of "podNetwork", "loadBalancer", got "lb" \(pick one of them\)$/, ['exposure: ', 'lb']),
  bad('image tag latest', edit('    tag: 2.14.2-alpine', '    tag: latest'),
    'nats.image.tag', /^"latest" is not pinned \(use an exact tag such as "2\.14\.2-alpine"\)$/, ['latest']),
  bad('chart version range ^2.14', edit('    version: 2.14.2', '    version: ^2.14'),
    'nats.chart.version', /^"\^2\.14" is not an exact chart version \(pin one/, ['^2.14']),
  bad('cpu quantity with a space', edit('    cpu: 100m', '    cpu: 100 m'),
    'nats.resources.cpu', /^"100 m" is not a Kubernetes quantity/, ['100 m']),
  bad('gitops repoURL over plain http', edit('  repoURL: https://github.com/astring/platform.git', '  repoURL: http://github.com/astring/platform.git'),
    'gitops.repoURL', /is not a Git URL \(use https:\/\/\.\.\., ssh:\/\/\.\.\. or git@\.\.\.\)/, ['http://']),
  bad('gitops path containing ..', edit('  path: dist', '  path: ../dist'),
    'gitops.path', /^"\.\.\/dist" leaves the repository \(remove "\.\."/, ['../dist']),
  bad('absolute gitops path', edit('  path: dist', '  path: /srv/dist'),
    'gitops.path', /is not a relative path inside the repository/, ['/srv/dist']),

  // --- cross-field rules
  bad('JetStream enabled with 2 regions', editAfter('  jetstream:', 'enabled: false', 'enabled: true'),
    'nats.jetstream.enabled', /^JetStream needs at least 3 regions, got 2 \(/, ['jetstream:', 'enabled: ', 'true']),
  bad('JetStream with replicas 1 and 3 regions', editData((c) => {
    c.regions.push({ ...c.regions[1]!, name: 'sgp1', ordinal: 3, cluster: 'astring-sgp1' });
    c.nats!.replicas = 1;
    c.nats!.jetstream = { enabled: true };
  }),
    'nats.replicas', /^JetStream needs at least 3 servers per region, got 1 \(set replicas: 3\)$/, ['replicas: ', '1']),
  bad('gateway port equal to the client port 4222', edit('    port: 7522', '    port: 4222'),
    'nats.gateway.port', /^gateway port 4222 collides with the NATS client port \(pick another/, ['4222']),
  bad('gateway port equal to the monitor port', edit('    port: 7522', '    port: 8222'),
    'nats.gateway.port', /^gateway port 8222 collides with the NATS monitor port/, ['port: 8222', '8222']),
  bad('loadBalancer block with exposure podNetwork', edit('    exposure: podNetwork\n', '    exposure: podNetwork\n    loadBalancer:\n      sourceRanges: [203.0.113.0/24]\n'),
    'nats.gateway.loadBalancer', /^loadBalancer settings are only used with exposure: loadBalancer, got exposure "podNetwork"/, ['loadBalancer:', 'sourceRanges']),
  bad('gateway TLS enabled without issuer', editAfter('    tls:', 'enabled: false', 'enabled: true'),
    'nats.gateway.tls.issuer', /^gateway TLS needs a cert-manager issuer \(add issuer:/, ['tls:', 'enabled']),
  bad('gateway TLS issuer of an unknown kind', editData((c) => {
    c.nats!.gateway!.tls = { enabled: true, issuer: { kind: 'Foo' as 'Issuer', name: 'platform-ca' } };
  }),
    'nats.gateway.tls.issuer.kind', /^must be one of "ClusterIssuer", "Issuer", got "Foo"/, ['Foo']),
  bad('loadBalancer source range that is not a CIDR', editData((c) => {
    c.nats!.gateway = { ...c.nats!.gateway, exposure: 'loadBalancer', loadBalancer: { sourceRanges: ['10.0.0.0/8', 'office'] } };
  }),
    'nats.gateway.loadBalancer.sourceRanges[1]', /^"office" is not a CIDR/, ['office']),
];

// ---------------------------------------------------------------------------------------
// Running synth in-process
// ---------------------------------------------------------------------------------------

function synth(args: string[]): { code: number; out: string; err: string } {
  const out: string[] = [];
  const err: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  const error = vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
  try {
    return { code: main(args), out: out.join('\n'), err: err.join('\n') };
  } finally {
    log.mockRestore();
    error.mockRestore();
  }
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

interface Reported extends Pos {
  readonly path: string;
  readonly message: string;
}

/** A line of the code frame under the first YAML syntax error (`> 2 | text`, `    | ^`). */
const FRAME_LINE = /^[> ] +\d+ \|( |$)|^ +\| +\^$/;
const SUPPRESSED = /^(\d+) more YAML error\(s\) suppressed \(they usually follow from the first; fix it and run again\)$/;

/**
 * Splits stderr into problems and the rest; fails when a line is not a problem of `file`
 * (`file:line:col path: message`), a further problem of the path above (`  also: message`),
 * the code frame under the first `(yaml)` problem, the count of suppressed YAML errors, or
 * the final summary, whose count must be the problems shown plus the suppressed ones.
 */
function problemsIn(stderr: string, file: string, out: string): Reported[] {
  const lines = stderr.split('\n');
  const summary = lines.pop();
  const re = new RegExp(`^${escapeRegExp(file)}:(\\d+):(\\d+) (\\S+): (.+)$`);
  const problems: Reported[] = [];
  let suppressed = 0;
  lines.forEach((line, i) => {
    const m = re.exec(line);
    if (m) return void problems.push({ line: Number(m[1]), col: Number(m[2]), path: m[3]!, message: m[4]! });
    const previous = problems[problems.length - 1];
    if (line.startsWith('  also: ') && previous) return void problems.push({ ...previous, message: line.slice(8) });
    if (FRAME_LINE.test(line) && problems.length === 1 && previous!.path === '(yaml)') return;
    const more = SUPPRESSED.exec(line);
    if (more && i === lines.length - 1) return void (suppressed = Number(more[1]));
    expect.fail(`not a "file:line:col path: message" line: ${line}\nstderr:\n${stderr}`);
  });
  expect(summary).toBe(`synth: ${problems.length + suppressed} problem(s) in the config; ${out} was not changed.`);
  return problems;
}

/** Everything about an output folder that a bad run must not change. */
function snapshotOut(out: string) {
  return {
    files: Object.fromEntries(readDist(out)),
    inode: statSync(out).ino,
    siblings: readdirSync(join(out, '..')).sort(),
  };
}

/** The ConfigError that parsing `text` (as p.yaml) throws; fails when it does not throw one. */
function errorOf(text: string): ConfigError {
  try {
    parseConfig(text, 'p.yaml');
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

afterEach(() => vi.restoreAllMocks());

describe('bad configs', () => {
  let configDir: string;
  let out: string;
  let before: ReturnType<typeof snapshotOut>;

  beforeAll(() => {
    configDir = tempDir('regionmesh-bad-config-');
    out = join(tempDir('regionmesh-bad-out-'), 'dist');
    const first = synth(['--config', DEFAULT_CONFIG_PATH, '--out', out]);
    expect(first.code, first.err).toBe(0);
    before = snapshotOut(out);
    expect(Object.keys(before.files)).toContain('TOPOLOGY.md');
  });

  it('start from a default config that is valid', () => {
    expect(() => parseConfig(BASE, 'platform.yaml')).not.toThrow();
  });

  it('are at least 24 distinct configs, each different from the default', () => {
    const texts = new Set(BAD_CASES.map((c) => c.text));
    expect(texts.size).toBe(BAD_CASES.length);
    expect(texts.has(BASE)).toBe(false);
    expect(new Set(BAD_CASES.map((c) => c.name)).size).toBe(BAD_CASES.length);
    expect(BAD_CASES.length).toBeGreaterThanOrEqual(24);
  });

  it.each(BAD_CASES.map((c, i) => ({ ...c, i })))('$name: reported at $path, exit 1, output untouched', (c) => {
    const file = join(configDir, `case-${String(c.i).padStart(2, '0')}.yaml`);
    writeFileSync(file, c.text);

    const run = synth(['--config', file, '--out', out]);

    expect(run.code).toBe(1);
    expect(run.out).toBe('');
    const problems = problemsIn(run.err, file, out);
    const atPath = problems.filter((p) => p.path === c.path);
    expect(atPath.map((p) => p.message), `stderr:\n${run.err}`).toContainEqual(expect.stringMatching(c.message));
    const hit = atPath.find((p) => c.message.test(p.message))!;
    expect({ line: hit.line, col: hit.col }, `stderr:\n${run.err}`).toEqual(c.at);
    expect(snapshotOut(out)).toEqual(before);
  });

  it('reports every problem of one file, in file order, and counts them', () => {
    const text = edit('    exposure: podNetwork', '    exposure: lb', edit('    ordinal: 1', '    ordinal: 0'));
    const file = join(configDir, 'two-problems.yaml');
    writeFileSync(file, text);

    const run = synth(['--config', file, '--out', out]);

    expect(run.code).toBe(1);
    const problems = problemsIn(run.err, file, out);
    expect(problems.map((p) => [p.path, p.line])).toEqual([
      ['regions[0].ordinal', pos(text, 'ordinal: 0').line],
      ['nats.gateway.exposure', pos(text, 'exposure: lb').line],
    ]);
    expect(snapshotOut(out)).toEqual(before);
  });

  it('reports a config file that does not exist', () => {
    const file = join(configDir, 'missing.yaml');

    const run = synth(['--config', file, '--out', out]);

    expect(run.code).toBe(1);
    const [problem] = problemsIn(run.err, file, out);
    expect(problem).toMatchObject({ line: 1, col: 1, path: '(file)', message: expect.stringMatching(/^cannot read config: .*ENOENT.*\(check the --config path\)$/) });
    expect(snapshotOut(out)).toEqual(before);
  });

  it('the real CLI exits 1 with file:line:col lines on stderr', () => {
    const badCase = BAD_CASES.find((c) => c.name === 'ordinal 1024')!;
    const file = join(configDir, 'cli.yaml');
    writeFileSync(file, badCase.text);

    const run = spawnSync('npx', ['tsx', 'charts/main.ts', '--config', file, '--out', out], { cwd: REPO_ROOT, encoding: 'utf8' });

    expect(run.error).toBeUndefined();
    expect(run.status, run.stderr).toBe(1);
    expect(run.stdout).toBe('');
    expect(problemsIn(run.stderr.trimEnd(), file, out)).toEqual([
      { ...badCase.at, path: 'regions[1].ordinal', message: 'must be <= 1023, got 1024 (use a value up to 1023)' },
    ]);
    expect(snapshotOut(out)).toEqual(before);
  });

  it('an unclosed "[" on line 2: the real CLI prints the first error with a code frame, 3 more and a count, in at most 40 lines', () => {
    const lines = BASE.split('\n');
    lines[1] = '  [';
    const text = lines.join('\n');
    const at = { line: 2, col: lines[1].indexOf('[') + 1 };
    const file = join(configDir, 'unclosed-bracket.yaml');
    writeFileSync(file, text);

    const run = spawnSync(process.execPath, ['--import', 'tsx', 'charts/main.ts', '--config', file, '--out', out], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
    });

    expect(run.error).toBeUndefined();
    expect(run.status, run.stderr).toBe(1);
    expect(run.stdout).toBe('');
    const stderr = run.stderr.trimEnd();
    const printed = stderr.split('\n');
    expect(printed.length, stderr).toBeLessThanOrEqual(40);
    expect(printed.slice(0, 4)).toEqual([
      `${file}:${at.line}:${at.col} (yaml): Flow sequence must end with a ] (this "[" is never closed: add "]" after its last item, or remove it)`,
      `  1 | ${lines[0]}`,
      `> 2 | ${lines[1]}`,
      `    | ${' '.repeat(at.col - 1)}^`,
    ]);
    // The caret is under the "[" itself.
    expect(printed[2]![printed[3]!.indexOf('^')]).toBe('[');
    const shown = problemsIn(stderr, file, out);
    expect(shown).toHaveLength(4);
    expect(shown.every((p) => p.path === '(yaml)' && p.line >= at.line)).toBe(true);
    expect(printed[printed.length - 2]).toMatch(SUPPRESSED);
    expect(snapshotOut(out)).toEqual(before);
  });
});

describe('closest', () => {
  const regionKeys = ['name', 'ordinal', 'cluster'];

  it('finds a key with two letters swapped', () => {
    expect(closest('ordnial', regionKeys)).toBe('ordinal');
  });

  it('finds a key with a letter missing or changed', () => {
    expect(closest('clustr', regionKeys)).toBe('cluster');
    expect(closest('nama', regionKeys)).toBe('name');
  });

  it('ignores case but returns the candidate as spelled', () => {
    expect(closest('STORAGECLASS', ['storageClass', 'regions'])).toBe('storageClass');
  });

  it('returns nothing when no candidate is close', () => {
    expect(closest('colour', ['platform', 'gitops', 'argocd', 'dns', 'regions', 'nats'])).toBeUndefined();
    expect(closest('ordinal', [])).toBeUndefined();
  });

  it('allows more edits for longer words (a third of the length, at least 2)', () => {
    // 3 edits: too many for a 6-letter word, fine for a 12-letter one.
    expect(closest('replix', ['replicas'])).toBeUndefined();
    expect(closest('storageKlazz', ['storageClass'])).toBe('storageClass');
  });

  it('prefers the nearest candidate, then the first one listed', () => {
    expect(closest('porte', ['portal', 'port'])).toBe('port');
    expect(closest('cat', ['bat', 'hat'])).toBe('bat');
  });
});

describe('formatPath', () => {
  it.each<[ReadonlyArray<PropertyKey>, string]>([
    [[], '(root)'],
    [['platform'], 'platform'],
    [['regions', 1, 'ordinal'], 'regions[1].ordinal'],
    [['nats', 'gateway', 'tls', 'issuer'], 'nats.gateway.tls.issuer'],
    [['nats', 'gateway', 'loadBalancer', 'sourceRanges', 0], 'nats.gateway.loadBalancer.sourceRanges[0]'],
    [['a', 0, 1], 'a[0][1]'],
    [[0, 'name'], '[0].name'],
  ])('%j -> %s', (path, expected) => {
    expect(formatPath(path)).toBe(expected);
  });
});

describe('every problem in one run', () => {
  const base = readFileSync(DEFAULT_CONFIG_PATH, 'utf8');
  const problemsOf = (text: string) => errorOf(text).problems;

  it('reports each unknown key of one mapping, not only the first', () => {
    const lines = base.split('\n').length;
    const problems = problemsOf(`${base}colour: blue\nflavour: x\n`);
    expect(problems.map((p) => [p.path, p.line])).toEqual([
      ['colour', lines],
      ['flavour', lines + 1],
    ]);
  });

  it('points at a numeric unknown key', () => {
    const [p] = problemsOf(`${base}1: x\n`);
    expect(p).toMatchObject({ path: '1', line: base.split('\n').length, col: 1 });
  });

  it('reports an unresolved alias as a located YAML problem', () => {
    const text = base.replace('storageClass: openebs-hostpath', 'storageClass: *nope');
    const [p] = problemsOf(text);
    expect(p!.path).toBe('(yaml)');
    expect(p!.message).toMatch(/Unresolved alias/);
    expect(p!.line).toBe(text.split('\n').findIndex((l) => l.includes('*nope')) + 1);
  });

  it('still runs the cross-field rules when a field fails', () => {
    const text = base.replace('exposure: podNetwork', 'exposure: lb').replace('cluster: astring-fsn1', 'cluster: astring-mn');
    expect(problemsOf(text).map((p) => p.path)).toEqual(['regions[1].cluster', 'nats.gateway.exposure']);
  });
});

describe('YAML syntax errors stay readable', () => {
  it('frame an error in the middle of a long line: cut around the column, caret on the offending key', () => {
    const long = `gitops: { repoURL: https://github.com/astring/${'x'.repeat(90)}.git, revision: main, revision: other, path: ${'d/'.repeat(50)}dist }`;
    const text = edit(/^gitops:\n(?:[ ]+.*\n)*/m.exec(BASE)![0], `${long}\n`);
    const at = pos(text, 'revision: other');
    expect(at.col).toBeGreaterThan(100);

    const printed = errorOf(text).message.split('\n');

    expect(printed[0]).toBe(`p.yaml:${at.line}:${at.col} (yaml): Map keys must be unique (remove or rename one of the two keys)`);
    const target = printed.find((l) => l.startsWith(`> ${at.line} | `))!;
    const caret = printed[printed.indexOf(target) + 1]!;
    expect(caret).toMatch(/^ +\| +\^$/);
    expect(target.slice(caret.indexOf('^'))).toMatch(/^revision: other/);
    // Cut on both sides, so every frame line stays terminal-sized.
    expect(target).toMatch(/ \| \.\.\..*\.\.\.$/);
    for (const line of printed.slice(1, printed.indexOf(caret) + 1)) expect(line.length, line).toBeLessThanOrEqual(120);
  });

  it('many independent errors: all are problems, the first is framed, 3 follow, the rest are counted', () => {
    // Every indented `key: value` line written twice: each copy is a duplicate key of its own.
    const keyLine = /^( +)[A-Za-z]\w*: [^\s#|>&*!'"[{][^#]*$/;
    const lines = BASE.split('\n');
    const duplicated = lines.map((l, i) => ({ l, i })).filter(({ l }) => keyLine.test(l)).slice(0, 12);
    expect(duplicated).toHaveLength(12);
    const out: string[] = [];
    const expected: Pos[] = [];
    lines.forEach((l, i) => {
      out.push(l);
      if (duplicated.some((d) => d.i === i)) {
        out.push(l);
        expected.push({ line: out.length, col: keyLine.exec(l)![1]!.length + 1 });
      }
    });
    const text = out.join('\n');

    const error = errorOf(text);

    expect(error.problems.map((p) => ({ line: p.line, col: p.col }))).toEqual(expected);
    const duplicate = (p: Pos) => `p.yaml:${p.line}:${p.col} (yaml): Map keys must be unique (remove or rename one of the two keys)`;
    const first = expected[0]!;
    expect(error.message.split('\n')).toEqual([
      duplicate(first),
      `  ${String(first.line - 1).padStart(String(first.line).length)} | ${out[first.line - 2]}`,
      `> ${first.line} | ${out[first.line - 1]}`,
      `  ${' '.repeat(String(first.line).length)} | ${' '.repeat(first.col - 1)}^`,
      ...expected.slice(1, 4).map(duplicate),
      '8 more YAML error(s) suppressed (they usually follow from the first; fix it and run again)',
    ]);
  });

  it('a yaml message is one line (no frame of its own), even for the worst cascade', () => {
    const text = `[\n${BASE}`;
    const error = errorOf(text);
    expect(error.problems.length).toBeGreaterThan(100);
    expect(error.problems.every((p) => !p.message.includes('\n'))).toBe(true);
    expect(error.message.split('\n').length).toBeLessThanOrEqual(40);
    expect(error.message.split('\n')[0]).toMatch(/^p\.yaml:1:1 \(yaml\): Flow sequence must end with a \]/);
  });
});

describe('problems of one path', () => {
  it('are printed under the path once: the first on the path line, the others as "also:" lines', () => {
    const name = 'A'.repeat(25);
    const text = edit('platform: astring', `platform: ${name}`);
    const at = pos(text, name);

    const error = errorOf(text);

    expect(error.problems.filter((p) => p.path === 'platform')).toHaveLength(2);
    expect(error.message.split('\n')).toEqual([
      `p.yaml:${at.line}:${at.col} platform: "${name}" is longer than 20 characters (shorten it)`,
      expect.stringMatching(new RegExp(`^  also: "${name}" platform name is not a DNS-1035 label \\(`)),
    ]);
  });

  it('a path with many problems (regions: null, every rule on it fails) names the path on one line only', () => {
    const text = edit(REGIONS_BLOCK, 'regions:\n');

    const error = errorOf(text);
    const printed = error.message.split('\n');

    const atRegions = error.problems.filter((p) => p.path === 'regions');
    expect(atRegions.length).toBeGreaterThan(2);
    expect(printed.filter((l) => / regions: /.test(l) && l.startsWith('p.yaml:'))).toEqual([
      `p.yaml:${pos(text, 'regions:').line}:${pos(text, 'regions:').col + 'regions:'.length} regions: expected a list, got null (write a list)`,
    ]);
    expect(printed.filter((l) => l.startsWith('  also: '))).toEqual(atRegions.slice(1).map((p) => `  also: ${p.message}`));
    // One line per problem, each once.
    expect(printed).toHaveLength(error.problems.length);
    expect(new Set(printed).size).toBe(printed.length);
  });

  it('the same message at the same path and place is one problem', () => {
    const p = { file: 'p.yaml', line: 3, col: 5, path: 'regions[0].name', message: 'is wrong (fix it)' };
    const other = { ...p, message: 'is also wrong (fix that)' };
    expect(uniqueProblems([p, { ...p }, other, { ...other }])).toEqual([p, other]);
  });
});
