/**
 * Output snapshots of the example configs (test/output-snapshots.ts): the synthesized output
 * of each must equal test/snapshots/<example>/ file for file. `npm run snapshots:update`
 * (UPDATE_SNAPSHOTS=1) re-records them instead, except in CI, where it refuses.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderDist } from '../charts/render.js';
import { COMPONENTS } from '../constructs/components.js';
import { loadConfigFile } from '../constructs/platform-config.js';
import { REPO_ROOT } from './helpers.js';
import {
  readSnapshot,
  SNAPSHOT_EXAMPLES,
  SNAPSHOT_ROOT,
  snapshotReport,
  UPDATE_COMMAND,
  unifiedExcerpt,
  writeSnapshot,
} from './output-snapshots.js';

const UPDATE = process.env['UPDATE_SNAPSHOTS'] === '1';

describe('output snapshots of the example configs', () => {
  it.each(SNAPSHOT_EXAMPLES)('%s', (example) => {
    const now = renderDist(loadConfigFile(join(REPO_ROOT, 'regions/examples', `${example}.yaml`)));
    const dir = join(SNAPSHOT_ROOT, example);
    if (UPDATE) {
      writeSnapshot(dir, now);
      return;
    }
    const report = snapshotReport(example, readSnapshot(dir), now);
    if (report !== undefined) throw new Error(report);
  });
});

describe('a one-line construct change', () => {
  it('fails with exactly the manifest it changes, a readable diff and the update command', () => {
    const config = loadConfigFile(join(REPO_ROOT, 'regions/examples/one-region.yaml'));
    // One line of a construct's input: NATS' Applications also prune last.
    const changed = COMPONENTS.map((d) => (d.name === 'nats' ? { ...d, application: (c: Parameters<typeof d.application>[0]) => ({ ...d.application(c), syncOptions: [...d.application(c).syncOptions, 'PruneLast=true'] }) } : d));
    const report = snapshotReport('one-region', renderDist(config), renderDist(config, changed))!;
    expect(report).toContain('regions/examples/one-region.yaml differs from test/snapshots/one-region/ in 1 file(s)');
    expect(report).toContain('--- a/argocd/applicationset-astring-nats.yaml\n+++ b/argocd/applicationset-astring-nats.yaml\n');
    expect(report).toMatch(/^\+ +- PruneLast=true$/m);
    expect(report).toContain(`    ${UPDATE_COMMAND}\n`);
  });
});

describe('the snapshot check itself', () => {
  const committed = new Map([
    ['clusters/c/nats/namespace-nats.yaml', 'a\nb\nc\nd\ne\nf\ng\nh\n'],
    ['SECRETS.md', '# x\n'],
  ]);

  it('a one-line change fails with the file, a unified-style excerpt and the update command', () => {
    const now = new Map(committed);
    now.set('clusters/c/nats/namespace-nats.yaml', 'a\nb\nc\nd\nE\nf\ng\nh\n');
    const report = snapshotReport('one-region', committed, now)!;
    expect(report).toContain('regions/examples/one-region.yaml differs from test/snapshots/one-region/ in 1 file(s)');
    expect(report).toContain(`    ${UPDATE_COMMAND}\n`);
    expect(report).toContain('--- a/clusters/c/nats/namespace-nats.yaml\n+++ b/clusters/c/nats/namespace-nats.yaml\n@@ -2,7 +2,7 @@\n b\n c\n d\n-e\n+E\n f\n g\n h\n');
  });

  it('reports added and removed files, and no report when equal', () => {
    const now = new Map(committed);
    now.delete('SECRETS.md');
    now.set('clusters/c/nats/service-x.yaml', 'kind: Service\n');
    const report = snapshotReport('x', committed, now)!;
    expect(report).toContain('--- SECRETS.md (removed)');
    expect(report).toContain('+++ clusters/c/nats/service-x.yaml (new file, 2 lines)');
    expect(snapshotReport('x', committed, new Map(committed))).toBeUndefined();
  });

  it('cuts a long change and lists files beyond the first five', () => {
    const many = new Map([...Array(8).keys()].map((i) => [`f${i}.yaml`, `v${i}\n`]));
    const report = snapshotReport('x', new Map(), many)!;
    expect(report).toContain('no output snapshot of regions/examples/x.yaml');
    expect(report).toContain('... and 3 more file(s): f5.yaml, f6.yaml, f7.yaml');
    const long = unifiedExcerpt('', Array.from({ length: 50 }, (_, i) => `l${i}`).join('\n'));
    expect(long).toMatch(/\.\.\. \(\d+ more lines of this change\)$/);
  });

  it('refuses to re-record in CI', () => {
    expect(() => writeSnapshot('/nonexistent/never-written', new Map(), { CI: 'true' })).toThrow(/refusing to re-record output snapshots in CI/);
  });
});
