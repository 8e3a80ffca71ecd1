/**
 * dist/ carries no credential: no Secret objects, no literal passwords or tokens, no keys or
 * certificates, no userinfo in URLs. Every Secret that manifests or values reference is
 * listed in SECRETS.md.
 */
import { describe, expect, it } from 'vitest';
import { renderDist } from './render.js';
import { configWithRegions, DIST } from '../test/helpers.js';
import { readDist } from './dist-writer.js';

/** Findings of credential literals in one file's text. */
export function credentialFindings(path: string, text: string): string[] {
  const findings: string[] = [];
  const rules: Array<[RegExp, string]> = [
    [/^kind:\s*Secret\s*$/m, 'a Secret object'],
    [/^\s*(stringData|data):\s*$/m, 'a data/stringData block'],
    [/-----BEGIN [A-Z ]*(PRIVATE KEY|CERTIFICATE)-----/, 'PEM material'],
    [/[a-z][a-z0-9+.-]*:\/\/[^/\s:@]+:[^/\s@]+@/i, 'credentials in a URL'],
    [/\b(password|passwd|pass|token|secret|apiKey|api_key)[ \t]*[:=][ \t]*(?!<< \$[A-Z_]+ >>)["']?[^\s"'{}]+/im, 'a literal credential value'],
    [/\bPGPASSWORD\b|\bpassword=/i, 'a password in a DSN or environment'],
  ];
  for (const [re, what] of rules) {
    const m = re.exec(text);
    if (m) findings.push(`${path}: ${what}: ${m[0].trim()}`);
  }
  return findings;
}

function allSecretRefs(files: ReadonlyMap<string, string>): Set<string> {
  const refs = new Set<string>();
  for (const [path, text] of files) {
    if (!path.endsWith('.yaml')) continue;
    for (const m of text.matchAll(/secretKeyRef:\s*\n\s*name: ([a-z0-9-]+)/g)) refs.add(m[1]!);
    for (const m of text.matchAll(/^\s*secretName: ([a-z0-9-]+)$/gm)) refs.add(m[1]!);
  }
  return refs;
}

describe('no credential in dist/', () => {
  it('finds no credential literal in the committed dist', () => {
    const files = readDist(DIST);
    expect(files.size).toBeGreaterThan(0);
    expect([...files].flatMap(([p, t]) => credentialFindings(p, t))).toEqual([]);
  });

  it('finds none in a 3-region TLS + LoadBalancer + JetStream variant either', () => {
    const files = renderDist(
      configWithRegions(3, (c) => {
        c.nats!.jetstream = { enabled: true };
        c.nats!.gateway = { exposure: 'loadBalancer', tls: { enabled: true, issuer: { name: 'platform-ca' } } };
      }),
    );
    expect([...files].flatMap(([p, t]) => credentialFindings(p, t))).toEqual([]);
  });

  it.each([
    ['a Secret object', 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: x\n'],
    ['a literal password', 'authorization:\n  user: admin\n  password: hunter2\n'],
    ['credentials in a URL', 'urls:\n  - nats://gw:s3cret@nats-headless:7222\n'],
    ['a DSN password', "dsn: 'host=db user=app password=abc'\n"],
    ['PEM material', 'ca: |\n  -----BEGIN CERTIFICATE-----\n'],
  ])('the scanner catches %s (the check can fail)', (_what, text) => {
    expect(credentialFindings('x.yaml', text)).not.toEqual([]);
  });

  it('accepts env references such as << $NATS_PASSWORD >>', () => {
    expect(credentialFindings('x.yaml', 'authorization:\n  password: << $NATS_PASSWORD >>\n')).toEqual([]);
  });
});

describe('SECRETS.md', () => {
  it('lists every Secret the manifests and values reference, per cluster', () => {
    for (const files of [
      readDist(DIST),
      renderDist(configWithRegions(3, (c) => void (c.nats!.gateway = { tls: { enabled: true, issuer: { name: 'platform-ca' } } }))),
    ]) {
      const doc = files.get('SECRETS.md')!;
      const refs = allSecretRefs(files);
      expect(refs.size).toBeGreaterThan(0);
      for (const name of refs) expect(doc, `SECRETS.md does not list ${name}`).toContain(`\`${name}\``);
      for (const [path] of files) {
        const cluster = /^values\/([^/]+)\//.exec(path)?.[1];
        if (cluster) expect(doc).toMatch(new RegExp(`^\\| ${cluster} \\| `, 'm'));
      }
    }
  });

  it('marks the gateway credentials as identical in every region', () => {
    expect(readDist(DIST).get('SECRETS.md')).toMatch(/\| `nats-gateway-auth` \|.*\| every region \|/);
  });
});
