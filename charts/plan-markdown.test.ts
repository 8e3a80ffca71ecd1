/**
 * The PR comment (`npm run plan -- --format markdown`): redaction, the line diff (checked against
 * GNU diff), the summary's classification of effects, the size limit, the exit codes.
 * test/plan-pr.test.ts runs the real CLI on a Git repository with a 2 -> 3 region change.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { stringify } from 'yaml';
import type { PlatformConfigInput } from '../regions/schema.js';
import { configFrom, inputWithRegions, tempDir } from '../test/helpers.js';
import { writeDistAtomically } from './dist-writer.js';
import { computePlan } from './plan.js';
import { diffLines, unifiedDiff } from './plan-markdown-diff.js';
import { isSecretKey, REDACTED, REDACTED_CHANGED, redactFile, redactText } from './plan-markdown-redact.js';
import { putsDataAtRisk, restartsPods } from './plan-markdown-summary.js';
import { PLAN_MARKER, renderPlanMarkdown } from './plan-markdown.js';
import { planMain } from './plan-main.js';
import { renderDist } from './render.js';

afterEach(() => vi.restoreAllMocks());

describe('redaction', () => {
  const secret = (data: Record<string, string>) => stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', namespace: 'n' }, data, stringData: { 'config.yaml': 'user: a\npass: PLAINTEXT-1' } });

  it('hides every value of a Secret, keeps its keys, and marks the ones that changed', () => {
    const before = secret({ password: 'c2VjcmV0LWE=', username: 'YWRtaW4=' });
    const after = secret({ password: 'c2VjcmV0LWI=', username: 'YWRtaW4=' });
    const shown = redactFile('clusters/c/x/secret-s.yaml', after, before, true);
    for (const value of ['c2VjcmV0LWI=', 'YWRtaW4=', 'PLAINTEXT-1']) expect(shown).not.toContain(value);
    expect(shown).toContain(`password: ${REDACTED_CHANGED}`);
    expect(shown).toContain(`username: ${REDACTED}`);
    expect(shown).toContain('name: s');
  });

  it('hides values under secret-like keys anywhere, keeps references and key names', () => {
    const values = stringify({
      env: [
        { name: 'DB_PASSWORD', value: 'hunter2-env' },
        { name: 'NATS_PASSWORD', valueFrom: { secretKeyRef: { name: 'nats-client-auth', key: 'password' } } },
        { name: 'LOG_LEVEL', value: 'info' },
      ],
      gateway: { authorization: { user: '<< $GATEWAY_USER >>', password: '<< $GATEWAY_PASSWORD >>' } },
      s3: { accessKey: 'AKIA-LITERAL', secretAccessKey: { name: 'backup-creds', key: 'secret' }, endpoint: 'https://minio:s3pass@minio.local' },
      apiTokens: ['tok-1', 'tok-2'],
      clientSecret: 'oauth-literal',
      automountServiceAccountToken: false,
      affinity: { topologyKey: 'kubernetes.io/hostname' },
      conf: 'listen: 4222\nauthorization { password: conf-literal }\ntoken = tok-conf\n',
    });
    const shown = redactFile('values/c/x.yaml', values);
    for (const literal of ['hunter2-env', 'AKIA-LITERAL', 's3pass', 'tok-1', 'tok-2', 'oauth-literal', 'conf-literal', 'tok-conf']) expect(shown).not.toContain(literal);
    for (const kept of ['<< $GATEWAY_PASSWORD >>', 'nats-client-auth', 'key: password', 'value: info', 'automountServiceAccountToken: false', 'topologyKey: kubernetes.io/hostname', 'backup-creds']) {
      expect(shown).toContain(kept);
    }
  });

  it('applies the text rule to Markdown and the key rule to JSON', () => {
    expect(redactText('dsn postgres://app:pw-literal@db/x, token: tok-literal')).toBe(`dsn postgres://app:${REDACTED}@db/x, token: ${REDACTED}`);
    const json = redactFile('STATE.json', JSON.stringify({ regions: [{ name: 'r1' }], apiKey: 'k-literal' }));
    expect(json).not.toContain('k-literal');
    expect(json).toContain('"name": "r1"');
  });

  it('classifies keys by their last word', () => {
    for (const k of ['password', 'NATS_PASSWORD', 'passwordHash', 'apiKey', 'private-key', 'client.secret', 'bearerToken', 'credentials', 'basicAuth']) expect(isSecretKey(k), k).toBe(true);
    for (const k of ['key', 'topologyKey', 'secretName', 'secretKeyRef', 'credentialsType', 'keyspace', 'tokenTTL', 'user']) expect(isSecretKey(k), k).toBe(false);
  });
});

describe('line diff', () => {
  const lines = fc.array(fc.constantFrom('a', 'b', 'c', 'd', ''), { maxLength: 40 });
  const text = (l: string[]) => l.map((x) => `${x}\n`).join('');

  it('is an edit script of both texts, as short as GNU diff --minimal finds', () => {
    const dir = tempDir();
    fc.assert(
      fc.property(lines, lines, (a, b) => {
        const d = diffLines(a, b);
        expect(d.filter((l) => l.op !== '+').map((l) => l.text)).toEqual(a);
        expect(d.filter((l) => l.op !== '-').map((l) => l.text)).toEqual(b);
        writeFileSync(join(dir, 'a'), text(a));
        writeFileSync(join(dir, 'b'), text(b));
        let gnu = '';
        try {
          gnu = execFileSync('diff', ['--minimal', '-U3', join(dir, 'a'), join(dir, 'b')], { encoding: 'utf8' });
        } catch (e) {
          gnu = (e as { stdout: string }).stdout;
        }
        const edits = (s: string) => s.split('\n').filter((l) => /^[-+]/.test(l) && !/^(---|\+\+\+) /.test(l)).length;
        const hunks = (s: string) => s.split('\n').filter((l) => l.startsWith('@@')).length;
        const mine = unifiedDiff(text(a), text(b));
        expect(edits(mine)).toBe(edits(gnu));
        expect(hunks(mine)).toBe(hunks(gnu));
      }),
      { numRuns: 150, seed: 13 },
    );
  });

  it('prints unified hunks with 3 lines of context', () => {
    expect(unifiedDiff('1\n2\n3\n4\n5\n6\n7\n8\n', '1\n2\n3\n4\nfive\n6\n7\n8\n')).toBe('@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8');
    expect(unifiedDiff('', 'a\n')).toBe('@@ -0,0 +1,1 @@\n+a');
    expect(unifiedDiff('same\n', 'same\n')).toBe('');
  });
});

describe('effects in the summary', () => {
  it('sorts the effect sentences the components write', () => {
    const restart = [
      'NATS StatefulSet nats in astring-r1 rolls its 3 pods one at a time (config checksum; the gateway list changed and is never hot-reloaded)',
      'chat-backend pods in astring-r1 roll (maxUnavailable 0)',
      'chat-backend in astring-r3 scales to 0 (region leaving)',
      'cert-manager pods in astring-r1 restart with the new values',
      'pgEdge node n1 in astring-r1: CloudNativePG rolls the Postgres pods for the changed resources: its only instance restarts, so the node is down until the pod is back',
    ];
    const calm = [
      'pgEdge node list changes in astring-r1; no pod restarts',
      'pgEdge node n1 in astring-r1: CloudNativePG adds 1 standby pod(s) (2 -> 3 instances), each cloned from the primary with pg_basebackup onto a new PVC; running pods do not restart',
      'pgEdge node n1 in astring-r1: CloudNativePG applies the changed server settings wal_sender_timeout with a reload (a restart only if PostgreSQL reports one of them needs it)',
      'Job bootstrap-spock runs again after the next sync of astring-r1',
      'Certificate chat in astring-r1 is removed; its Secret stays until deleted by hand',
      'external-dns in astring-r1 writes as "a" and never updates or deletes the records "b" owns: they stay in the zone until removed by hand',
      'pgEdge node n1 in astring-r1: CloudNativePG resizes every PVC 10Gi -> 20Gi in place, no data moves and no pod restarts; the StorageClass must allow volume expansion (allowVolumeExpansion: true), otherwise the API server refuses the resize and the PVCs stay at 10Gi',
    ];
    const data = [
      'Cassandra DC dc3 in astring-r3 is decommissioned and its volumes deleted',
      'pgEdge node n1 in astring-r1: CloudNativePG removes 1 standby pod(s) (3 -> 2 instances) and deletes their PVCs; the primary and its data stay',
      'ObjectStore astring-cluster-backups in astring-r1 is removed: WAL archiving to s3://b/p stops',
      'Medusa backups of DC dc2 in astring-r2 stop (schedule astring-dc2-backup removed); existing backups stay',
    ];
    restart.push('external-dns in astring-r1 restarts with the new settings');
    for (const e of restart) expect(restartsPods(e), e).toBe(true);
    for (const e of [...calm, ...data]) expect(restartsPods(e), e).toBe(false);
    for (const e of data) expect(putsDataAtRisk(e), e).toBe(true);
    for (const e of [...restart, ...calm]) expect(putsDataAtRisk(e), e).toBe(false);
  });
});

function joiningThird(): PlatformConfigInput {
  const c = inputWithRegions(3);
  c.regions[2] = { ...c.regions[2]!, state: 'joining', syncFrom: 'r1' };
  return c;
}

function markdown(base: PlatformConfigInput, next: PlatformConfigInput, maxChars?: number): string {
  const b = renderDist(configFrom(base));
  const n = renderDist(configFrom(next));
  const plan = computePlan(b, n, configFrom(next));
  return renderPlanMarkdown({ plan, base: b, next: n, baseLabel: 'main:dist', command: 'npm run plan -- --base main --format markdown', ...(maxChars ? { maxChars } : {}) });
}

describe('the comment', () => {
  it('starts with the marker and the summary; per-cluster lines come from the plan', () => {
    const md = markdown(inputWithRegions(2), joiningThird());
    expect(md.split('\n')[0]).toBe(PLAN_MARKER);
    const summaryEnd = md.indexOf('### Changes per Application');
    expect(summaryEnd).toBeGreaterThan(0);
    const summary = md.slice(0, summaryEnd);
    expect(summary).not.toContain('<details>');
    expect(summary).toMatch(/^#### `astring-r3` \(files \+\d+ ~0 -0\)$/m);
    expect(summary).toMatch(/^- Applications added: .*`astring-nats-r3`/m);
    expect(summary).toContain('- Applications changed: `astring-cassandra-management`, `astring-root`');
    expect(summary).toContain('  - NATS StatefulSet nats in astring-r1 rolls its 3 pods one at a time');
    expect(md).toContain('<details><summary><code>astring-nats-r3</code> on <code>astring-r3</code>: added');
  });

  it('puts a refused change first, with the exact acknowledgement, and the data at risk', () => {
    const leaving = inputWithRegions(3);
    leaving.regions[2] = { ...leaving.regions[2]!, state: 'leaving' };
    const refused = markdown(inputWithRegions(3), inputWithRegions(2));
    // Which rules refuse comes from the plan (charts/plan.test.ts checks them); remove-region is one.
    const ids = computePlan(renderDist(configFrom(inputWithRegions(3))), renderDist(configFrom(inputWithRegions(2))), configFrom(inputWithRegions(2))).danger.refused.map((d) => d.id);
    expect(ids).toContain('remove-region:r3');
    expect(refused).toContain(`**${ids.length} dangerous change${ids.length === 1 ? '' : 's'} refused.**`);
    expect(refused).toContain(`\`\`\`yaml\nacknowledgedChanges:\n${ids.map((id) => `  - ${JSON.stringify(id)}\n`).join('')}\`\`\``);
    expect(refused.indexOf('remove-region:r3')).toBeLessThan(refused.indexOf('| cluster |'));
    const removed = markdown(leaving, inputWithRegions(2));
    expect(removed).toMatch(/- \*\*Data at risk:\*\*\n(?: {2}- .*\n)* {2}- Cassandra DC dc3 in astring-r3 is decommissioned and its volumes deleted\n/);
  });

  it('is the same text twice, and cuts only the detail when too long', () => {
    const md = markdown(inputWithRegions(2), joiningThird());
    expect(markdown(inputWithRegions(2), joiningThird())).toBe(md);
    const summary = md.slice(0, md.indexOf('### Changes per Application'));
    const small = markdown(inputWithRegions(2), joiningThird(), 8_000);
    expect(small.length).toBeLessThanOrEqual(8_000);
    expect(small.startsWith(summary)).toBe(true);
    const note = /Detail cut to stay under 8000 characters: the diff of (\d+) Application\(s\) is not shown: (.*)\. The summary above is complete/.exec(small);
    expect(note).not.toBeNull();
    const shown = [...small.matchAll(/<details><summary><code>([^<]+)<\/code>/g)].map((m) => m[1]);
    const all = [...md.matchAll(/<details><summary><code>([^<]+)<\/code>/g)].map((m) => m[1]);
    const cut = [...note![2]!.matchAll(/`([^`]+)`(?: \(`[^`]+`\))?/g)].map((m) => m[1]);
    expect(Number(note![1])).toBe(cut.length);
    expect([...shown, ...cut].sort()).toEqual([...all].sort());
  });
});

describe('npm run plan -- --format markdown', () => {
  function run(argv: string[]): { code: number; out: string } {
    const out: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((s) => {
      out.push(String(s));
      return true;
    });
    vi.spyOn(console, 'log').mockImplementation((...a) => void out.push(`${a.join(' ')}\n`));
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const code = planMain(argv);
    vi.restoreAllMocks();
    return { code, out: out.join('') };
  }

  it('exits 2 on a refused change, like the text plan, and 1 on a bad argument', () => {
    const out = tempDir();
    writeDistAtomically(out, renderDist(configFrom(inputWithRegions(3))));
    const config = join(tempDir(), 'p.yaml');
    writeFileSync(config, stringify(inputWithRegions(2)));
    const md = run(['--config', config, '--out', out, '--format', 'markdown']);
    expect(md.code).toBe(2);
    expect(md.out.startsWith(`${PLAN_MARKER}\n`)).toBe(true);
    expect(run(['--config', config, '--out', out]).code).toBe(2);
    expect(run(['--config', config, '--out', out, '--format', 'html']).code).toBe(1);
    expect(run(['--config', config, '--out', out, '--format', 'markdown', '--max-chars', '0']).code).toBe(1);
  });
});
