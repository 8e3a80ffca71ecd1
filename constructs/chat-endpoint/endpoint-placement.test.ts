/**
 * Where the public endpoint goes and what it asks for: only active regions serve (a joining
 * region nothing, a leaving one only its ClusterIssuer), every active pinned name everywhere
 * with DNS-01, the challenge CNAMEs, SECRETS.md rows, the AppProject, the WebSocket path.
 */
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { WS_PATH } from '../../app/chat/http-server.js';
import { renderDist } from '../../charts/render.js';
import type { PlatformConfig, PlatformConfigInput } from '../../regions/schema.js';
import { configFrom, configWithRegions, DEFAULT_CONFIG_PATH, defaultConfigInput, inputWithRegions } from '../../test/helpers.js';
import { loadConfigFile } from '../platform-config.js';
import { acmeChallengeCnames, PUBLIC_PATHS } from './names.js';

type Obj = Record<string, any>;

/** Every object of the chat-endpoint folders, by cluster. */
function endpointObjects(files: ReadonlyMap<string, string>): Map<string, Obj[]> {
  const out = new Map<string, Obj[]>();
  for (const [path, content] of files) {
    const m = /^clusters\/([^/]+)\/chat-endpoint\/[^/]+\.yaml$/.exec(path);
    if (!m) continue;
    out.set(m[1]!, [...(out.get(m[1]!) ?? []), parse(content) as Obj]);
  }
  return out;
}

const BASE = { domain: 'chat-test.example.org', className: 'my-class', acme: { email: 'ops@example.org' } } as const;

function withEndpoint(n: number, endpoint: NonNullable<PlatformConfigInput['endpoint']>): PlatformConfig {
  return configWithRegions(n, (c) => {
    c.endpoint = endpoint;
    delete c.routing; // the default config's routing names its own zone
  });
}

describe('public endpoint placement, Secrets, AppProject', () => {
  it('a joining region gets nothing; a leaving one keeps only its ClusterIssuer (ArgoCD prunes the rest)', () => {
    const input = inputWithRegions(3);
    input.regions[1] = { ...input.regions[1]!, state: 'joining', syncFrom: 'r1' };
    input.regions[2] = { ...input.regions[2]!, state: 'leaving' };
    const c = configFrom(input);
    const byCluster = endpointObjects(renderDist(c));
    expect(byCluster.has('astring-r2')).toBe(false);
    expect(byCluster.get('astring-r3')!.map((o) => o.kind)).toEqual(['ClusterIssuer']);
    expect(byCluster.get('astring-r1')!.map((o) => `${o.kind} ${o.metadata.name}`).sort()).toEqual(['Certificate chat', 'ClusterIssuer astring-acme', 'Gateway chat', 'HTTPRoute chat', 'HTTPRoute chat-r1']);
  });

  it('with DNS-01 every active region serves every active pinned name; joining and leaving regions\' names are nowhere', () => {
    const input = inputWithRegions(4);
    input.endpoint = { ...BASE, acme: { ...BASE.acme, solver: 'dns01', dns01: { provider: 'cloudflare', credentialsSecret: 'cf-token' } } };
    delete input.routing;
    input.regions[1] = { ...input.regions[1]!, state: 'joining', syncFrom: 'r1' };
    input.regions[2] = { ...input.regions[2]!, state: 'leaving' };
    const byCluster = endpointObjects(renderDist(configFrom(input)));
    expect([...byCluster.keys()].sort()).toEqual(['astring-r1', 'astring-r3', 'astring-r4']);
    const routes = (cluster: string) => byCluster.get(cluster)!.filter((o) => o.kind === 'HTTPRoute').flatMap((o) => o.spec.hostnames).sort();
    const expected = ['chat.chat-test.example.org', 'chat.r1.chat-test.example.org', 'chat.r4.chat-test.example.org'];
    expect(routes('astring-r1')).toEqual(expected);
    expect(routes('astring-r4')).toEqual(expected);
    const peers = (cluster: string) => byCluster.get(cluster)!.find((o) => o.kind === 'Certificate' && o.metadata.name === 'chat-peers')!.spec.dnsNames;
    expect(peers('astring-r1')).toEqual(['chat.r4.chat-test.example.org']);
    expect(peers('astring-r4')).toEqual(['chat.r1.chat-test.example.org']);
  });

  it('a challenge zone: every served name has its _acme-challenge CNAME into it, nothing else does', () => {
    const c = withEndpoint(3, { ...BASE, acme: { ...BASE.acme, solver: 'dns01', dns01: { provider: 'cloudflare', credentialsSecret: 'cf', challengeZone: 'acme.example.net' } } });
    const hosts = ['chat.chat-test.example.org', 'chat.r1.chat-test.example.org', 'chat.r2.chat-test.example.org', 'chat.r3.chat-test.example.org'];
    expect(acmeChallengeCnames(c)).toEqual(hosts.map((h) => ({ name: `_acme-challenge.${h}`, target: `${h}.acme.example.net` })));
    // Every name a certificate asks for has one.
    const certNames = [...endpointObjects(renderDist(c)).values()].flat().filter((o) => o.kind === 'Certificate').flatMap((o) => o.spec.dnsNames);
    expect([...new Set(certNames)].sort()).toEqual(hosts);
    expect(acmeChallengeCnames(withEndpoint(2, { ...BASE, acme: { ...BASE.acme, solver: 'dns01', dns01: { provider: 'cloudflare', credentialsSecret: 'cf' } } }))).toEqual([]);
  });

  it('without an endpoint block there is no endpoint anywhere', () => {
    const input = defaultConfigInput();
    delete input.endpoint;
    delete input.routing; // routing needs an endpoint
    const files = renderDist(configFrom(input));
    expect(endpointObjects(files).size).toBe(0);
    expect([...files.keys()].filter((p) => p.includes('chat-endpoint'))).toEqual([]);
  });

  it('SECRETS.md lists the DNS-01 credentials (you) and the account key (cert-manager) in cert-manager\'s namespace of every serving cluster', () => {
    const c = withEndpoint(2, { ...BASE, acme: { ...BASE.acme, solver: 'dns01', dns01: { provider: 'route53', credentialsSecret: 'route53-creds', route53: { region: 'eu-west-1' } } } });
    const secrets = renderDist(c).get('SECRETS.md')!;
    for (const r of c.regions) {
      const rows = secrets.split('\n').filter((l) => l.startsWith(`| ${r.cluster} | ${c.certManager.namespace} |`));
      const creds = rows.find((l) => l.includes('`route53-creds`'));
      expect(creds, `${r.cluster}: route53-creds`).toMatch(/`access-key-id`, `secret-access-key` \| .* \| you \|/);
      expect(rows.find((l) => l.includes(`\`${c.platform}-acme-account-key\``))).toMatch(/\| cert-manager \(/);
      expect(secrets).toContain(`| ${r.cluster} | ${c.app.namespace} | \`chat-tls\` | \`tls.crt\`, \`tls.key\``);
    }
  });

  it('the AppProject admits the ClusterIssuer', () => {
    const files = renderDist(loadConfigFile(DEFAULT_CONFIG_PATH));
    const project = [...files].find(([p]) => p.startsWith('argocd/appproject-'))!;
    expect(parse(project[1]).spec.clusterResourceWhitelist).toContainEqual({ group: 'cert-manager.io', kind: 'ClusterIssuer' });
  });

  it('the public WebSocket path is the one the backend serves', () => {
    expect(PUBLIC_PATHS.websocket).toBe(WS_PATH);
  });
});
