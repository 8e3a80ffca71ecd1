/**
 * The public endpoint as synthesized: every Gateway, HTTPRoute, Certificate and ClusterIssuer
 * validates against the upstream CRD schemas (../shared/schemas: gateway-api v1.6.1 standard
 * channel, cert-manager v1.19.1), the Ingress against the networking.k8s.io/v1 shape, for both
 * kinds and both solvers; hostnames are the config's; only active regions serve; the route
 * reaches the chat Service the chat component emits.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { WS_PATH } from '../../app/chat/http-server.js';
import { renderDist } from '../../charts/render.js';
import type { PlatformConfig, PlatformConfigInput } from '../../regions/schema.js';
import { configFrom, configWithRegions, defaultConfigInput, inputWithRegions, NO_SHARED_SCHEMAS, SHARED_SCHEMAS, sharedSchemasAvailable } from '../../test/helpers.js';
import { loadConfigFile } from '../platform-config.js';
import { DEFAULT_CONFIG_PATH } from '../../test/helpers.js';
import { PUBLIC_PATHS } from './names.js';

type Obj = Record<string, any>;

const KIND_TO_SCHEMA: Record<string, string> = {
  Gateway: 'gateway.schema.json',
  HTTPRoute: 'httproute.schema.json',
  Certificate: 'certificate.schema.json',
  ClusterIssuer: 'clusterissuer.schema.json',
};

/** Every object of `component`'s folders, by cluster. */
function objectsOf(files: ReadonlyMap<string, string>, component: string): Map<string, Obj[]> {
  const out = new Map<string, Obj[]>();
  for (const [path, content] of files) {
    const m = /^clusters\/([^/]+)\/([^/]+)\/[^/]+\.yaml$/.exec(path);
    if (!m || m[2] !== component) continue;
    const list = out.get(m[1]!) ?? [];
    list.push(parse(content) as Obj);
    out.set(m[1]!, list);
  }
  return out;
}

/**
 * The CRD schema with `additionalProperties: false` on every object that lists its properties
 * (and does not preserve unknown fields): the API server prunes or, with strict field
 * validation, refuses an unknown field, so a misspelt key must fail here too.
 */
function strict(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(strict);
  if (schema === null || typeof schema !== 'object') return schema;
  const out: Obj = Object.fromEntries(Object.entries(schema).map(([k, v]) => [k, k === 'properties' ? Object.fromEntries(Object.entries(v as Obj).map(([pk, pv]) => [pk, strict(pv)])) : strict(v)]));
  if (out.properties && out.additionalProperties === undefined && !out['x-kubernetes-preserve-unknown-fields']) out.additionalProperties = false;
  return out;
}

const endpointObjects = (files: ReadonlyMap<string, string>) => objectsOf(files, 'chat-endpoint');

function withEndpoint(n: number, endpoint: NonNullable<PlatformConfigInput['endpoint']>, mutate?: (c: PlatformConfigInput) => void): PlatformConfig {
  return configWithRegions(n, (c) => {
    c.endpoint = endpoint;
    mutate?.(c);
  });
}

const BASE = { domain: 'chat-test.example.org', className: 'my-class', acme: { email: 'ops@example.org' } } as const;

/** Every branch: both kinds, both solvers, both DNS-01 providers, a known and an unknown ingress class. */
const VARIANTS: Array<[string, () => PlatformConfig]> = [
  ['default config (gateway, http01)', () => loadConfigFile(DEFAULT_CONFIG_PATH)],
  ['gateway, dns01 route53', () => withEndpoint(3, { ...BASE, kind: 'gateway', acme: { ...BASE.acme, solver: 'dns01', dns01: { provider: 'route53', credentialsSecret: 'route53-creds', route53: { region: 'eu-central-1', hostedZoneID: 'Z0123456789ABC' } } } })],
  ['gateway, dns01 cloudflare', () => withEndpoint(2, { ...BASE, kind: 'gateway', acme: { ...BASE.acme, solver: 'dns01', dns01: { provider: 'cloudflare', credentialsSecret: 'cf-token' } } })],
  ['ingress nginx, http01', () => withEndpoint(2, { ...BASE, kind: 'ingress', className: 'nginx', idleTimeoutSeconds: 7200 })],
  ['ingress (unknown class), dns01 cloudflare, extra annotations', () => withEndpoint(1, { ...BASE, kind: 'ingress', ingressAnnotations: { 'example.com/idle': '3600' }, acme: { ...BASE.acme, solver: 'dns01', dns01: { provider: 'cloudflare', credentialsSecret: 'cf-token' } } })],
];

const DNS_NAME = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$/;

/** What the API server checks on a networking.k8s.io/v1 Ingress (IngressSpec, IngressRule, HTTPIngressPath, IngressTLS), written out. */
function ingressProblems(o: Obj): string[] {
  const p: string[] = [];
  const check = (ok: boolean, what: string) => void (ok || p.push(what));
  check(o.apiVersion === 'networking.k8s.io/v1' && o.kind === 'Ingress', 'apiVersion/kind');
  check(DNS_NAME.test(o.metadata?.name ?? '') && DNS_NAME.test(o.metadata?.namespace ?? ''), 'metadata.name/namespace');
  for (const [k, v] of Object.entries(o.metadata?.annotations ?? {})) check(typeof v === 'string' && /^([a-z0-9.-]+\/)?[A-Za-z0-9][-A-Za-z0-9_.]*$/.test(k), `annotation ${k}: string value, qualified key`);
  const spec = o.spec ?? {};
  check(Object.keys(spec).every((k) => ['defaultBackend', 'ingressClassName', 'rules', 'tls'].includes(k)), `spec keys ${Object.keys(spec)}`);
  check(typeof spec.ingressClassName === 'string' && DNS_NAME.test(spec.ingressClassName), 'spec.ingressClassName');
  for (const [i, t] of (spec.tls ?? []).entries()) {
    check(Array.isArray(t.hosts) && t.hosts.every((h: unknown) => typeof h === 'string' && DNS_NAME.test(h)), `tls[${i}].hosts`);
    check(typeof t.secretName === 'string' && DNS_NAME.test(t.secretName), `tls[${i}].secretName`);
  }
  for (const [i, r] of (spec.rules ?? []).entries()) {
    check(typeof r.host === 'string' && DNS_NAME.test(r.host), `rules[${i}].host`);
    for (const [j, path] of (r.http?.paths ?? []).entries()) {
      const at = `rules[${i}].http.paths[${j}]`;
      check(['Exact', 'Prefix', 'ImplementationSpecific'].includes(path.pathType), `${at}.pathType`);
      check(typeof path.path === 'string' && path.path.startsWith('/'), `${at}.path`);
      const svc = path.backend?.service;
      check(svc !== undefined && path.backend.resource === undefined && DNS_NAME.test(svc.name), `${at}.backend.service`);
      const port = svc?.port ?? {};
      check((Number.isInteger(port.number) && port.number >= 1 && port.number <= 65535) !== (typeof port.name === 'string'), `${at}.backend.service.port: number or name`);
    }
  }
  return p;
}

describe('public endpoint objects against the upstream schemas', () => {
  if (!sharedSchemasAvailable()) {
    it('needs ../shared/schemas', () => {
      throw new Error(NO_SHARED_SCHEMAS);
    });
    return;
  }
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
  const validators = new Map<string, ValidateFunction>();
  for (const [kind, file] of Object.entries(KIND_TO_SCHEMA)) validators.set(kind, ajv.compile(strict(JSON.parse(readFileSync(join(SHARED_SCHEMAS, file), 'utf8'))) as object));

  it('the validators refuse a misspelt field and a wrong value (they are not vacuous)', () => {
    const objs = endpointObjects(renderDist(loadConfigFile(DEFAULT_CONFIG_PATH))).values().next().value!;
    const route = structuredClone(objs.find((o) => o.kind === 'HTTPRoute')!);
    route.spec.hostname = route.spec.hostnames;
    expect(validators.get('HTTPRoute')!(route)).toBe(false);
    const gw = structuredClone(objs.find((o) => o.kind === 'Gateway')!);
    gw.spec.listeners[0].port = 70000;
    expect(validators.get('Gateway')!(gw)).toBe(false);
    const issuer = structuredClone(objs.find((o) => o.kind === 'ClusterIssuer')!);
    delete issuer.spec.acme.privateKeySecretRef;
    expect(validators.get('ClusterIssuer')!(issuer)).toBe(false);
    const ingress = { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'chat', namespace: 'chat' }, spec: { ingressClassName: 'nginx', rules: [{ host: 'chat.example.org', http: { paths: [{ path: 'ws', pathType: 'Exactly', backend: { service: { name: 'chat-backend', port: {} } } }] } }] } };
    expect(ingressProblems(ingress)).toEqual(['rules[0].http.paths[0].pathType', 'rules[0].http.paths[0].path', 'rules[0].http.paths[0].backend.service.port: number or name']);
  });

  it.each(VARIANTS)('%s: every object is valid, hostnames and backend are the config\'s', (_name, make) => {
    const c = make();
    const e = c.endpoint!;
    const files = renderDist(c);
    const byCluster = endpointObjects(files);
    const active = c.regions.filter((r) => r.state === 'active');
    expect([...byCluster.keys()].sort()).toEqual(active.map((r) => r.cluster).sort());
    for (const r of active) {
      const objs = byCluster.get(r.cluster)!;
      const kinds = objs.map((o) => o.kind).sort();
      expect(kinds).toEqual(e.kind === 'gateway' ? ['Certificate', 'ClusterIssuer', 'Gateway', 'HTTPRoute'] : ['Certificate', 'ClusterIssuer', 'Ingress']);
      for (const o of objs) {
        if (o.kind === 'Ingress') {
          expect(ingressProblems(o), `${r.cluster} Ingress`).toEqual([]);
          continue;
        }
        const validate = validators.get(o.kind)!;
        expect(validate(o), `${r.cluster} ${o.kind}: ${ajv.errorsText(validate.errors)}`).toBe(true);
      }

      // Hostnames written out from the config, not computed by the code under test.
      const hosts = [`chat.${r.name}.${e.domain}`, `chat.${e.domain}`];
      const cert = objs.find((o) => o.kind === 'Certificate')!;
      expect(cert.spec.dnsNames).toEqual(hosts);
      expect(cert.metadata).toMatchObject({ name: 'chat', namespace: c.app.namespace });
      expect(cert.spec.secretName).toBe('chat-tls');
      expect(cert.spec.issuerRef).toEqual({ group: 'cert-manager.io', kind: 'ClusterIssuer', name: `${c.platform}-acme` });

      const issuer = objs.find((o) => o.kind === 'ClusterIssuer')!;
      expect(issuer.metadata.name).toBe(`${c.platform}-acme`);
      expect(issuer.spec.acme).toMatchObject({ server: e.acme.server, email: e.acme.email });
      const solver = issuer.spec.acme.solvers[0];
      expect(issuer.spec.acme.solvers).toHaveLength(1);

      // The chat Service the chat component emits in the same cluster, and its container port.
      const chatObjs = objectsOf(files, 'chat').get(r.cluster)!;
      const service = chatObjs.find((o) => o.kind === 'Service')!;
      const servicePorts = new Set(service.spec.ports.map((p: Obj) => p.port));
      const paths = ['/ws', '/readyz'];

      if (e.kind === 'gateway') {
        const gw = objs.find((o) => o.kind === 'Gateway')!;
        const route = objs.find((o) => o.kind === 'HTTPRoute')!;
        expect(gw.metadata).toMatchObject({ name: 'chat', namespace: c.app.namespace });
        expect(gw.spec.gatewayClassName).toBe(e.className);
        const https = gw.spec.listeners.find((l: Obj) => l.port === 443);
        expect(https).toMatchObject({ protocol: 'HTTPS', tls: { mode: 'Terminate', certificateRefs: [{ kind: 'Secret', name: 'chat-tls' }] } });
        for (const l of gw.spec.listeners) expect(l.allowedRoutes.namespaces).toEqual({ from: 'Same' });
        // The listeners' CEL rules (x-kubernetes-validations; ajv does not run them), written out.
        const listeners = gw.spec.listeners as Obj[];
        expect(new Set(listeners.map((l) => l.name)).size).toBe(listeners.length);
        expect(new Set(listeners.map((l) => `${l.port}/${l.protocol}/${l.hostname ?? ''}`)).size).toBe(listeners.length);
        for (const l of listeners) if (['HTTP', 'TCP', 'UDP'].includes(l.protocol)) expect(l.tls).toBeUndefined();
        // Port 80 exists only for the HTTP-01 challenge, and the chat route never attaches to it.
        expect(gw.spec.listeners.map((l: Obj) => l.port).sort()).toEqual(e.acme.solver === 'http01' ? [443, 80] : [443]);
        expect(route.metadata).toMatchObject({ name: 'chat', namespace: c.app.namespace });
        expect(route.spec.hostnames).toEqual(hosts);
        expect(route.spec.parentRefs).toEqual([{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: gw.metadata.name, sectionName: https.name }]);
        expect(route.spec.rules.flatMap((rule: Obj) => rule.matches.map((m: Obj) => m.path))).toEqual(paths.map((value) => ({ type: 'Exact', value })));
        for (const rule of route.spec.rules) {
          for (const b of rule.backendRefs) {
            expect(b.name).toBe(service.metadata.name);
            expect(servicePorts.has(b.port), `backend port ${b.port} is a port of Service ${service.metadata.name}`).toBe(true);
          }
        }
        // The WebSocket rule must not be cut by a request timeout: "0s" disables it (GEP-1742).
        const ws = route.spec.rules.find((rule: Obj) => rule.matches[0].path.value === '/ws');
        expect(ws.timeouts).toEqual({ request: '0s' });
        if (e.acme.solver === 'http01') {
          const http = gw.spec.listeners.find((l: Obj) => l.port === 80);
          expect(solver.http01.gatewayHTTPRoute.parentRefs).toEqual([
            { group: 'gateway.networking.k8s.io', kind: 'Gateway', name: gw.metadata.name, namespace: c.app.namespace, sectionName: http.name },
          ]);
        }
      } else {
        const ing = objs.find((o) => o.kind === 'Ingress')!;
        expect(ing.metadata).toMatchObject({ name: 'chat', namespace: c.app.namespace });
        expect(ing.spec.ingressClassName).toBe(e.className);
        expect(ing.spec.tls).toEqual([{ hosts, secretName: 'chat-tls' }]);
        expect(ing.spec.rules.map((x: Obj) => x.host)).toEqual(hosts);
        for (const rule of ing.spec.rules) {
          expect(rule.http.paths.map((p: Obj) => [p.path, p.pathType])).toEqual(paths.map((p) => [p, 'Exact']));
          for (const p of rule.http.paths) {
            expect(p.backend.service.name).toBe(service.metadata.name);
            expect(servicePorts.has(p.backend.service.port.number)).toBe(true);
          }
        }
        const seconds = String(e.idleTimeoutSeconds);
        const expected =
          e.className === 'nginx'
            ? { 'nginx.ingress.kubernetes.io/proxy-read-timeout': seconds, 'nginx.ingress.kubernetes.io/proxy-send-timeout': seconds }
            : {};
        expect(ing.metadata.annotations ?? {}).toEqual({ ...expected, ...e.ingressAnnotations });
        if (e.acme.solver === 'http01') expect(solver).toEqual({ http01: { ingress: { ingressClassName: e.className } } });
      }

      if (e.acme.solver === 'dns01') {
        const d = e.acme.dns01!;
        if (d.provider === 'route53') {
          expect(solver.dns01.route53).toEqual({
            region: d.route53!.region,
            hostedZoneID: d.route53!.hostedZoneID,
            accessKeyIDSecretRef: { name: d.credentialsSecret, key: 'access-key-id' },
            secretAccessKeySecretRef: { name: d.credentialsSecret, key: 'secret-access-key' },
          });
        } else {
          expect(solver.dns01.cloudflare).toEqual({ apiTokenSecretRef: { name: d.credentialsSecret, key: 'api-token' } });
        }
      }
    }
  });
});

describe('public endpoint placement, Secrets, AppProject', () => {
  it('a joining region gets nothing; a leaving one keeps only its ClusterIssuer (ArgoCD prunes the rest)', () => {
    const input = inputWithRegions(3);
    input.regions[1] = { ...input.regions[1]!, state: 'joining', syncFrom: 'r1' };
    input.regions[2] = { ...input.regions[2]!, state: 'leaving' };
    const c = configFrom(input);
    const byCluster = endpointObjects(renderDist(c));
    expect(byCluster.has('astring-r2')).toBe(false);
    expect(byCluster.get('astring-r3')!.map((o) => o.kind)).toEqual(['ClusterIssuer']);
    expect(byCluster.get('astring-r1')!.map((o) => o.kind).sort()).toEqual(['Certificate', 'ClusterIssuer', 'Gateway', 'HTTPRoute']);
  });

  it('without an endpoint block there is no endpoint anywhere', () => {
    const input = defaultConfigInput();
    delete input.endpoint;
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
