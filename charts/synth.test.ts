import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parse, stringify } from 'yaml';
import { ConfigError } from '../regions/load.js';
import { loadConfigFile, validKeysAt } from '../constructs/platform-config.js';
import { configFrom, DEFAULT_CONFIG_PATH, DIST, REPO_ROOT, defaultConfigInput, defaultConfigText, tempDir } from '../test/helpers.js';
import { diffDist, readDist, summarize, writeDistAtomically } from './dist-writer.js';
import { main } from './main.js';
import type { PlatformConfigInput } from '../regions/schema.js';
import { renderDist } from './render.js';

function synth(args: string[]): { code: number; out: string; err: string } {
  const out: string[] = [];
  const err: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...a) => void out.push(a.join(' ')));
  const error = vi.spyOn(console, 'error').mockImplementation((...a) => void err.push(a.join(' ')));
  try {
    return { code: main(args), out: out.join('\n'), err: err.join('\n') };
  } finally {
    log.mockRestore();
    error.mockRestore();
  }
}

function asObject(files: ReadonlyMap<string, string>): Record<string, string> {
  return Object.fromEntries(files);
}

afterEach(() => vi.restoreAllMocks());

describe('committed dist/', () => {
  it('is exactly what the default config synthesizes (run `npm run synth` when this fails)', () => {
    const expected = asObject(renderDist(loadConfigFile(DEFAULT_CONFIG_PATH)));
    const committed = asObject(readDist(DIST));
    expect(Object.keys(committed).sort()).toEqual(Object.keys(expected).sort());
    for (const [path, content] of Object.entries(expected)) {
      expect(committed[path], `dist/${path} is stale`).toBe(content);
    }
  });

  it('has the layout of the dist contract', () => {
    const paths = [...readDist(DIST).keys()];
    expect(paths).toContain('bootstrap/application-astring-root.yaml');
    expect(paths).toContain('argocd/appproject-astring.yaml');
    expect(paths).toContain('argocd/applicationset-astring-nats.yaml');
    expect(paths).toContain('values/astring-mn/nats.yaml');
    expect(paths).toContain('values/astring-fsn1/nats.yaml');
    expect(paths).toContain('clusters/astring-mn/nats/namespace-nats.yaml');
    expect(paths).toContain('clusters/astring-mgmt/cassandra/k8ssandracluster-astring.yaml');
    expect(paths).toContain('clusters/astring-mgmt/cassandra/clientconfig-astring-fsn1.yaml');
    expect(paths).toContain('clusters/astring-mn/cassandra/job-bootstrap-cassandra.yaml');
    expect(paths).toContain('clusters/astring-fsn1/postgres/job-bootstrap-spock.yaml');
    expect(paths).toContain('values/astring-fsn1/pgedge.yaml');
    expect(paths).toContain('values/astring-mgmt/k8ssandra-operator.yaml');
    expect(paths).toContain('TOPOLOGY.md');
    expect(paths).toContain('SECRETS.md');
    for (const p of paths) expect(p).toMatch(/^(bootstrap|argocd|clusters\/[a-z0-9-]+\/[a-z0-9-]+|values\/[a-z0-9-]+)\/[a-z0-9.-]+\.yaml$|^[A-Z]+\.md$|^STATE\.json$/);
  });

  it('holds one object per YAML file', () => {
    for (const [path, content] of readDist(DIST)) {
      if (!path.endsWith('.yaml') || path.startsWith('values/')) continue;
      const docs = content.split(/^---$/m).filter((d) => d.trim() !== '');
      expect(docs, path).toHaveLength(1);
      expect((parse(content) as { kind?: string }).kind, path).toBeTruthy();
    }
  });
});

describe('synth', () => {
  it('gives the same bytes twice', () => {
    const a = tempDir();
    const b = tempDir();
    expect(synth(['--out', a]).code).toBe(0);
    expect(synth(['--out', b]).code).toBe(0);
    expect(asObject(readDist(b))).toEqual(asObject(readDist(a)));
  });

  it('gives the same bytes when the regions are listed in another order', () => {
    const input = defaultConfigInput();
    input.regions = [...input.regions].reverse();
    const dir = tempDir();
    const reordered = join(dir, 'reordered.yaml');
    writeFileSync(reordered, stringify(input));
    const out = tempDir();
    expect(synth(['--config', reordered, '--out', out]).code).toBe(0);
    expect(asObject(readDist(out))).toEqual(asObject(readDist(DIST)));
  });

  it('gives the same bytes from another working directory (real process, relative paths)', () => {
    const work = tempDir();
    cpSync(DEFAULT_CONFIG_PATH, join(work, 'platform.yaml'));
    const run = spawnSync(join(REPO_ROOT, 'node_modules/.bin/tsx'), [join(REPO_ROOT, 'charts/main.ts'), '--config', 'platform.yaml', '--out', 'out'], {
      cwd: work,
      encoding: 'utf8',
    });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(asObject(readDist(join(work, 'out')))).toEqual(asObject(readDist(DIST)));
  });

  it('prints a per-cluster summary of written, added, changed and removed files', () => {
    const out = tempDir();
    const first = synth(['--out', out]);
    expect(first.out).toMatch(/^cluster\s+written\s+added\s+changed\s+removed$/m);
    const mnFiles = [...readDist(out).keys()].filter((p) => p.split('/')[1] === 'astring-mn').length;
    expect(mnFiles).toBeGreaterThan(5);
    expect(first.out).toMatch(new RegExp(`^astring-mn\\s+${mnFiles}\\s+${mnFiles}\\s+0\\s+0$`, 'm'));
    const again = synth(['--out', out]);
    expect(again.out).toMatch(new RegExp(`^astring-mn\\s+${mnFiles}\\s+0\\s+0\\s+0$`, 'm'));
    expect(again.out).toMatch(/0 added, 0 changed, 0 removed/);
  });

  it('removes files of renamed objects (no stale files)', () => {
    const out = tempDir();
    expect(synth(['--out', out]).code).toBe(0);
    writeFileSync(join(out, 'clusters/astring-mn/nats/namespace-old-name.yaml'), 'stale: true\n');
    const input = defaultConfigInput();
    input.regions[1]!.cluster = 'astring-de';
    const cfg = join(tempDir(), 'renamed.yaml');
    writeFileSync(cfg, stringify(input));
    const result = synth(['--config', cfg, '--out', out]);
    expect(result.code).toBe(0);
    const fsn1Files = [...readDist(DIST).keys()].filter((p) => p.split('/')[1] === 'astring-fsn1').length;
    const files = readDist(out);
    expect([...files.keys()].some((p) => p.includes('astring-fsn1'))).toBe(false);
    expect(files.has('clusters/astring-mn/nats/namespace-old-name.yaml')).toBe(false);
    expect(files.has('values/astring-de/nats.yaml')).toBe(true);
    expect(result.out).toMatch(new RegExp(`^astring-fsn1\\s+0\\s+0\\s+0\\s+${fsn1Files}$`, 'm'));
  });

  it('leaves the previous output untouched when writing fails half-way', () => {
    const out = tempDir();
    expect(synth(['--out', out]).code).toBe(0);
    const before = asObject(readDist(out));
    // The second file fails half-way through writing the temp folder.
    const bad = new Map([
      ['argocd/ok.yaml', 'a: 1\n'],
      ['../escape.yaml', 'b: 2\n'],
    ]);
    expect(() => writeDistAtomically(out, bad)).toThrow(/outside dist/);
    expect(asObject(readDist(out))).toEqual(before);
    const leftovers = spawnSync('ls', ['-a', join(out, '..')], { encoding: 'utf8' }).stdout;
    expect(leftovers).not.toMatch(new RegExp(`\\.${out.split('/').pop()}\\.(tmp|old)-`));
  });

  it('writes nothing when the folder already holds exactly the files, and swaps the whole folder when one differs', () => {
    const out = tempDir();
    const files = new Map([
      ['argocd/a.yaml', 'a: 1\n'],
      ['clusters/x/b.yaml', 'b: 2\n'],
    ]);
    writeDistAtomically(out, files);
    const inode = (p: string) => statSync(join(out, p)).ino;
    const before = { a: inode('argocd/a.yaml'), b: inode('clusters/x/b.yaml') };
    const same = writeDistAtomically(out, new Map(files));
    expect([same.added, same.changed, same.removed]).toEqual([[], [], []]);
    expect({ a: inode('argocd/a.yaml'), b: inode('clusters/x/b.yaml') }).toEqual(before);
    const next = writeDistAtomically(out, new Map([...files, ['clusters/x/b.yaml', 'b: 3\n']]));
    expect(next.changed).toEqual(['clusters/x/b.yaml']);
    expect(asObject(readDist(out))).toEqual({ 'argocd/a.yaml': 'a: 1\n', 'clusters/x/b.yaml': 'b: 3\n' });
    expect(inode('argocd/a.yaml')).not.toBe(before.a);
  });

  it('--check exits 1 on a stale folder and 0 on a fresh one, writing nothing', () => {
    const out = tempDir();
    expect(synth(['--out', out]).code).toBe(0);
    expect(synth(['--check', '--out', out]).code).toBe(0);
    writeFileSync(join(out, 'TOPOLOGY.md'), 'edited by hand\n');
    const stale = synth(['--check', '--out', out]);
    expect(stale.code).toBe(1);
    expect(stale.err).toMatch(/TOPOLOGY\.md/);
    expect(readFileSync(join(out, 'TOPOLOGY.md'), 'utf8')).toBe('edited by hand\n');
  });

  it('rejects unknown arguments with usage and exit 2', () => {
    const r = synth(['--outt', 'x']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/unknown argument "--outt"/);
    expect(r.err).toMatch(/usage: npm run synth/);
  });

  it('npx cdk8s synth writes the same dist as npm run synth', () => {
    const work = tempDir();
    cpSync(join(REPO_ROOT, 'cdk8s.yaml'), join(work, 'cdk8s.yaml'));
    const out = join(work, 'cdk8s-out');
    const run = spawnSync(join(REPO_ROOT, 'node_modules/.bin/cdk8s'), ['synth', '--output', out, '--app', `npx tsx ${join(REPO_ROOT, 'charts/main.ts')}`], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(run.status, run.stderr).toBe(0);
    expect(asObject(readDist(out))).toEqual(asObject(readDist(DIST)));
  }, 180_000);
});

describe('synth over a dist without STATE.json', () => {
  it('refuses, says what is missing and how to restore it, and leaves the dist as it was', () => {
    const out = tempDir();
    expect(synth(['--out', out]).code).toBe(0);
    rmSync(join(out, 'STATE.json'));
    const before = asObject(readDist(out));
    // A change the danger rules would refuse (a region removed while it holds data).
    const input = defaultConfigInput();
    input.regions = input.regions.slice(0, 1);
    input.cassandra.schemaRegion = input.regions[0]!.name;
    const cfg = join(tempDir(), 'one-region.yaml');
    writeFileSync(cfg, stringify(input));
    const r = synth(['--config', cfg, '--out', out]);
    expect(r.code).toBe(1);
    expect(r.err).toContain('refused: 1 dangerous change(s) not acknowledged:\n  missing-base-state');
    expect(r.err).toContain(`${out}/STATE.json is missing while the dist there holds ${Object.keys(before).length} file(s)`);
    expect(r.err).toContain(`git checkout HEAD -- ${out}/STATE.json`);
    expect(asObject(readDist(out))).toEqual(before);
  });

  it('refuses an unchanged config too (it cannot know what is deployed), and --check as well', () => {
    const out = tempDir();
    expect(synth(['--out', out]).code).toBe(0);
    rmSync(join(out, 'STATE.json'));
    expect(synth(['--out', out]).err).toMatch(/missing-base-state/);
    expect(synth(['--out', out]).code).toBe(1);
    expect(synth(['--check', '--out', out]).code).toBe(1);
    expect(existsSync(join(out, 'STATE.json'))).toBe(false);
  });

  it('writes with the acknowledgement and restores STATE.json', () => {
    const out = tempDir();
    expect(synth(['--out', out]).code).toBe(0);
    rmSync(join(out, 'STATE.json'));
    const input = defaultConfigInput();
    input.acknowledgedChanges = ['missing-base-state'];
    const cfg = join(tempDir(), 'acked.yaml');
    writeFileSync(cfg, stringify(input));
    expect(synth(['--config', cfg, '--out', out]).code).toBe(0);
    expect(existsSync(join(out, 'STATE.json'))).toBe(true);
  });

  it('into an empty folder is a first synth and says no danger rule applied', () => {
    const out = tempDir();
    const r = synth(['--out', out]);
    expect(r.code).toBe(0);
    expect(r.out).toContain(`synth: ${out} has no files: nothing deployed to compare with, so no danger rule applies (first synth)`);
  });
});

describe('summary', () => {
  it('groups ArgoCD objects under the management cluster and docs separately', () => {
    const change = diffDist(new Map(), renderDist(loadConfigFile(DEFAULT_CONFIG_PATH)));
    const text = summarize(change, 'astring-mgmt');
    const mgmtFiles = change.added.filter((p) => /^(argocd|bootstrap)\/|^(clusters|values)\/astring-mgmt\//.test(p)).length;
    expect(mgmtFiles).toBeGreaterThan(3);
    expect(text).toMatch(new RegExp(`^astring-mgmt\\s+${mgmtFiles}\\s+${mgmtFiles}\\s+0\\s+0$`, 'm'));
    expect(text).toMatch(/^docs\s+3\s+3\s+0\s+0$/m);
  });

});

describe('the README documents the config as it is', () => {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');

  it('the default config is the two-region setup the README describes (its regions, a management cluster)', () => {
    const described = /The default config \(`regions\/platform\.yaml`\) reproduces the hand-made two-region\s+setup of the reference story \(Mongolia `([a-z0-9-]+)`, Germany `([a-z0-9-]+)`, a management cluster\)/.exec(readme);
    expect(described, 'README no longer describes the default config').not.toBeNull();
    const config = loadConfigFile(DEFAULT_CONFIG_PATH);
    expect(config.regions.map((r) => r.name).sort()).toEqual([described![1], described![2]].sort());
    expect(config.regions.map((r) => r.cluster)).not.toContain(config.managementCluster.name);
    expect(defaultConfigText()).toMatch(/^platform: [a-z]/m);
  });

  /** Rows of the config reference table: every key, its documented default (literals only) and the default config's value. */
  function referenceRows(): Array<{ key: string; literal?: string; inDefaultConfig?: string }> {
    const section = readme.slice(readme.indexOf('## Config reference'), readme.indexOf('\n## ', readme.indexOf('## Config reference') + 5));
    const rows: Array<{ key: string; literal?: string; inDefaultConfig?: string }> = [];
    for (const [, keyCell, defaultCell] of section.matchAll(/^\| (`[^|]+) \| ([^|]*) \|/gm)) {
      const keys: string[] = [];
      for (const part of keyCell!.split(' / ')) {
        const k = /^`([^`]+)`$/.exec(part.trim())?.[1];
        if (!k) throw new Error(`README config reference: cannot read key cell ${keyCell}`);
        keys.push(k.startsWith('.') ? keys[keys.length - 1]!.replace(/\.[^.]+$/, k) : k);
      }
      const inDefaultConfig = /\(default config: `([^`]+)`\)/.exec(defaultCell!)?.[1];
      const defaults = defaultCell!.replace(/\(default config: `[^`]+`\)/, '').trim().split(' / ');
      keys.forEach((key, i) => {
        const literal = defaults.length === keys.length ? /^`([^`]*)`$/.exec(defaults[i]!.trim())?.[1] : undefined;
        rows.push({ key, ...(literal !== undefined ? { literal } : {}), ...(inDefaultConfig !== undefined && keys.length === 1 ? { inDefaultConfig } : {}) });
      });
    }
    return rows;
  }

  /** `regions[].x.y` -> ['regions', 0, 'x', 'y']; `*.bootstrapDeadlineSeconds` expands to every block that has it. */
  const pathsOf = (key: string): Array<Array<string | number>> =>
    key.startsWith('*.')
      ? ['cassandra', 'postgres'].map((top) => [top, ...key.slice(2).split('.')])
      : [key.replace(/\[\]$/, '').split('.').flatMap((seg) => (seg.endsWith('[]') ? [seg.slice(0, -2), 0] : [seg]))];

  const valueAt = (data: unknown, path: ReadonlyArray<string | number>): unknown =>
    path.reduce<unknown>((cur, seg) => (cur === null || typeof cur !== 'object' ? undefined : (cur as Record<string | number, unknown>)[seg]), data);

  const show = (v: unknown) => (typeof v === 'object' ? JSON.stringify(v) : String(v));

  it('every key of the config reference table exists in the schema', () => {
    const rows = referenceRows();
    expect(rows.length).toBeGreaterThan(40);
    const unknown = rows.flatMap((r) => pathsOf(r.key).filter((p) => !validKeysAt(p.slice(0, -1)).includes(String(p[p.length - 1]))).map(() => r.key));
    expect(unknown).toEqual([]);
  });

  /** The smallest valid block for table keys whose block the default config leaves out. */
  const BLOCKS_NOT_IN_DEFAULT_CONFIG: Record<string, (c: PlatformConfigInput) => void> = {
    'nats.gateway.loadBalancer': (c) => void (c.nats!.gateway = { ...c.nats!.gateway, exposure: 'loadBalancer', loadBalancer: {} }),
    'nats.gateway.tls.issuer': (c) => void (c.nats!.gateway = { ...c.nats!.gateway, tls: { enabled: true, issuer: { name: 'platform-ca' } } }),
    'app.loginCodes.webhook': (c) => void (c.app!.loginCodes = { sender: 'webhook', webhook: { secret: 'chat-login-webhook' } }),
  };

  it('every literal default in the table is what the schema fills in when the key is left out', () => {
    const checked: string[] = [];
    const wrong: string[] = [];
    for (const row of referenceRows().filter((r) => r.literal !== undefined)) {
      for (const path of pathsOf(row.key)) {
        // Leave the key out; when its block then misses a required field (resources: {cpu, memory}),
        // leave the whole block out, as a user relying on the default would.
        const block = path.slice(0, -1).join('.');
        const setup = BLOCKS_NOT_IN_DEFAULT_CONFIG[block];
        const start = () => {
          const input = defaultConfigInput();
          if (setup && valueAt(input, path.slice(0, -1)) === undefined) setup(input);
          return input as unknown as Record<string, unknown>;
        };
        let actual: unknown;
        for (let depth = path.length; ; depth--) {
          expect(depth, `${row.key}: no way to leave it out and get a valid config`).toBeGreaterThan(0);
          const input = start();
          const parent = valueAt(input, path.slice(0, depth - 1)) as Record<string | number, unknown> | undefined;
          if (parent !== undefined) delete parent[path[depth - 1]!];
          try {
            actual = valueAt(configFrom(input), path);
            break;
          } catch (e) {
            if (!(e instanceof ConfigError)) throw e;
          }
        }
        checked.push(row.key);
        if (show(actual) !== row.literal) {
          wrong.push(`${row.key}: README says ${row.literal}, the schema gives ${show(actual)}${actual === undefined ? ` (if ${block} is an optional block, add its setup to BLOCKS_NOT_IN_DEFAULT_CONFIG)` : ''}`);
        }
      }
    }
    expect(checked.length).toBeGreaterThan(30);
    expect(wrong).toEqual([]);
  });

  it('values the table gives for the default config are in regions/platform.yaml', () => {
    const config = loadConfigFile(DEFAULT_CONFIG_PATH);
    const rows = referenceRows().filter((r) => r.inDefaultConfig !== undefined);
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) for (const path of pathsOf(row.key)) expect(show(valueAt(config, path)), row.key).toBe(row.inDefaultConfig);
  });
});
