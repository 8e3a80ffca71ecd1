/**
 * The public endpoint as synthesized: every Gateway, HTTPRoute, Certificate and ClusterIssuer
 * validates against the upstream CRD schemas (../shared/schemas: gateway-api v1.6.1 standard
 * channel, cert-manager v1.19.1), the Ingress against the networking.k8s.io/v1 shape, for both
 * kinds and both solvers; hostnames are the config's; each route reaches the chat Service the
 * chat component emits. Placement: endpoint-placement.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { renderDist } from '../../charts/render.js';
import type { PlatformConfig, PlatformConfigInput } from '../../regions/schema.js';
import { configWithRegions, NO_SHARED_SCHEMAS, sharedSchemasAvailable } from '../../test/helpers.js';
import { schemaValidators } from '../../test/schema-validators.js';
import { loadConfigFile } from '../platform-config.js';
import { DEFAULT_CONFIG_PATH } from '../../test/helpers.js';

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
    // The default config's routing names its own zone; a variant that wants routing sets it.
    delete c.routing;
    mutate?.(c);
  });
}

const BASE = { domain: 'chat-test.example.org', className: 'my-class', acme: { email: 'ops@example.org' } } as const;

/** Every branch: both kinds, both solvers, both DNS-01 providers, a known and an unknown ingress class. */
const VARIANTS: Array<[string, () => PlatformConfig]> = [
  ...[2, 12].map((n): [string, () => PlatformConfig] => [`gateway, dns01 cloudflare, ${n} regions`, () => withEndpoint(n, { ...BASE, kind: 'gateway', acme: { ...BASE.acme, solver: 'dns01', dns01: { provider: 'cloudflare', credentialsSecret: 'cf-token' } } })]),
  ['default config (gateway, dns01 route53 with a challenge zone, k8gb)', () => loadConfigFile(DEFAULT_CONFIG_PATH)],
  ['gateway, dns01 route53', () => withEndpoint(3, { ...BASE, kind: 'gateway', acme: { ...BASE.acme, solver: 'dns01', dns01: { provider: 'route53', credentialsSecret: 'route53-creds', route53: { region: 'eu-central-1', hostedZoneID: 'Z0123456789ABC' } } } })],
  [
    'gateway, dns01 cloudflare with a challenge zone (k8gb routing)',
    () => withEndpoint(2, { ...BASE, acme: { ...BASE.acme, solver: 'dns01', dns01: { provider: 'cloudflare', credentialsSecret: 'cf-token', challengeZone: 'acme.example.net' } } }),
  ],
  ['gateway, dns01 cloudflare, 1 region', () => withEndpoint(1, { ...BASE, kind: 'gateway', acme: { ...BASE.acme, solver: 'dns01', dns01: { provider: 'cloudflare', credentialsSecret: 'cf-token' } } })],
  [
    'gateway, dns01 route53, external-dns routing (no peer names, record annotations)',
    () =>
      withEndpoint(3, { ...BASE, acme: { ...BASE.acme, solver: 'dns01', dns01: { provider: 'route53', credentialsSecret: 'route53-creds', route53: { region: 'eu-central-1' } } } }, (c) => {
        c.routing = { provider: 'externalDns', externalDns: { hostedZoneId: 'Z0123456789ABC', awsRegion: 'eu-central-1', credentialsSecret: 'route53-creds' } };
        c.regions.forEach((r, i) => (r.routing = { awsRegion: ['eu-central-1', 'ap-east-1', 'us-east-1'][i]! }));
      }),
  ],
  [
    'ingress nginx, dns01 cloudflare, external-dns routing',
    () =>
      withEndpoint(2, { ...BASE, kind: 'ingress', className: 'nginx', acme: { ...BASE.acme, solver: 'dns01', dns01: { provider: 'cloudflare', credentialsSecret: 'cf-token' } } }, (c) => {
        c.routing = { provider: 'externalDns', externalDns: { hostedZoneId: 'Z0123456789ABC', awsRegion: 'eu-central-1', credentialsSecret: 'route53-creds' } };
        c.regions.forEach((r, i) => (r.routing = { awsRegion: ['eu-central-1', 'ap-east-1'][i]! }));
      }),
  ],
  ['ingress nginx, http01 (one active region)', () => withEndpoint(1, { ...BASE, kind: 'ingress', className: 'nginx', idleTimeoutSeconds: 7200 })],
  ['ingress (unknown class), dns01 cloudflare, extra annotations', () => withEndpoint(3, { ...BASE, kind: 'ingress', ingressAnnotations: { 'example.com/idle': '3600' }, acme: { ...BASE.acme, solver: 'dns01', dns01: { provider: 'cloudflare', credentialsSecret: 'cf-token' } } })],
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
  const { ajv, byKind: validators } = schemaValidators(KIND_TO_SCHEMA, (s) => strict(s) as object);

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
      for (const o of objs) {
        if (o.kind === 'Ingress') {
          expect(ingressProblems(o), `${r.cluster} Ingress ${o.metadata.name}`).toEqual([]);
          continue;
        }
        const validate = validators.get(o.kind)!;
        expect(validate(o), `${r.cluster} ${o.kind} ${o.metadata.name}: ${ajv.errorsText(validate.errors)}`).toBe(true);
      }
      const named = (kind: string) => new Map(objs.filter((o) => o.kind === kind).map((o) => [o.metadata.name as string, o]));

      // Hostnames and names written out from the config, not computed by the code under test:
      // the global name and this region's pinned name (certificate chat), and with DNS-01 every
      // other active region's pinned name too (certificate chat-peers), one route each.
      const global = `chat.${e.domain}`;
      const own = `chat.${r.name}.${e.domain}`;
      // Peers' names only where they can fail over here: DNS-01 and not external-dns (which publishes a pinned name from its own region only).
      const peers = e.acme.solver === 'dns01' && c.routing?.provider !== 'externalDns' ? active.filter((x) => x !== r).map((x) => ({ route: `chat-${x.name}`, host: `chat.${x.name}.${e.domain}` })) : [];
      const expectedRoutes = [{ route: 'chat', host: global, secret: 'chat-tls' }, { route: `chat-${r.name}`, host: own, secret: 'chat-tls' }, ...peers.map((p) => ({ ...p, secret: 'chat-peers-tls' }))];

      const certs = named('Certificate');
      expect([...certs.keys()].sort()).toEqual(peers.length > 0 ? ['chat', 'chat-peers'] : ['chat']);
      expect(certs.get('chat')!.spec.dnsNames).toEqual([global, own]);
      if (peers.length > 0) expect(certs.get('chat-peers')!.spec.dnsNames).toEqual(peers.map((p) => p.host));
      for (const cert of certs.values()) {
        expect(cert.metadata.namespace).toBe(c.app.namespace);
        expect(cert.spec.secretName).toBe(`${cert.metadata.name}-tls`);
        expect(cert.spec.issuerRef).toEqual({ group: 'cert-manager.io', kind: 'ClusterIssuer', name: `${c.platform}-acme` });
      }

      const issuer = named('ClusterIssuer').get(`${c.platform}-acme`)!;
      expect(issuer.spec.acme).toMatchObject({ server: e.acme.server, email: e.acme.email });
      expect(issuer.spec.acme.solvers).toHaveLength(1);
      const solver = issuer.spec.acme.solvers[0];

      // The chat Service the chat component emits in the same cluster.
      const service = objectsOf(files, 'chat').get(r.cluster)!.find((o) => o.kind === 'Service')!;
      const servicePorts = new Set(service.spec.ports.map((p: Obj) => p.port));
      const paths = ['/ws', '/readyz'];
      const routeKind = e.kind === 'gateway' ? 'HTTPRoute' : 'Ingress';
      // external-dns: the global route carries the region's record settings (set identifier,
      // latency region, TTL), a pinned route only the TTL; written out from the config.
      const xd = c.routing?.provider === 'externalDns' ? c.routing : undefined;
      const dnsAnnotations = (global: boolean): Record<string, string> =>
        !xd
          ? {}
          : {
              'external-dns.alpha.kubernetes.io/ttl': String(xd.dnsTtlSeconds),
              ...(global ? { 'external-dns.alpha.kubernetes.io/set-identifier': r.name, 'external-dns.alpha.kubernetes.io/aws-region': r.routing!.awsRegion! } : {}),
            };
      const routes = named(routeKind);
      expect(objs.map((o) => o.kind).sort()).toEqual(
        [...certs.keys()].map(() => 'Certificate').concat('ClusterIssuer', e.kind === 'gateway' ? ['Gateway'] : [], expectedRoutes.map(() => routeKind)).sort(),
      );
      expect([...routes.keys()].sort()).toEqual(expectedRoutes.map((x) => x.route).sort());

      if (e.kind === 'gateway') {
        const gw = named('Gateway').get('chat')!;
        expect(gw.metadata.namespace).toBe(c.app.namespace);
        expect(gw.spec.gatewayClassName).toBe(e.className);
        const listeners = gw.spec.listeners as Obj[];
        for (const l of listeners) expect(l.allowedRoutes.namespaces).toEqual({ from: 'Same' });
        // The listeners' CEL rules (x-kubernetes-validations; ajv does not run them), written out.
        expect(new Set(listeners.map((l) => l.name)).size).toBe(listeners.length);
        expect(new Set(listeners.map((l) => `${l.port}/${l.protocol}/${l.hostname ?? ''}`)).size).toBe(listeners.length);
        for (const l of listeners) if (['HTTP', 'TCP', 'UDP'].includes(l.protocol)) expect(l.tls).toBeUndefined();
        // Port 80 only for the HTTP-01 challenge, without a hostname; no chat route attaches to it.
        const http = listeners.filter((l) => l.port === 80);
        expect(http.map((l) => [l.protocol, l.hostname])).toEqual(e.acme.solver === 'http01' ? [['HTTP', undefined]] : []);
        for (const x of expectedRoutes) {
          const route = routes.get(x.route)!;
          const listener = listeners.find((l) => l.hostname === x.host)!;
          expect(listener, `listener for ${x.host}`).toMatchObject({ port: 443, protocol: 'HTTPS', tls: { mode: 'Terminate', certificateRefs: [{ kind: 'Secret', name: x.secret }] } });
          expect(certs.get(x.secret.replace(/-tls$/, ''))!.spec.dnsNames).toContain(x.host);
          expect(route.metadata.namespace).toBe(c.app.namespace);
          expect(route.spec.hostnames).toEqual([x.host]);
          expect(route.spec.parentRefs).toEqual([{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: gw.metadata.name, sectionName: listener.name }]);
          expect(route.spec.rules.flatMap((rule: Obj) => rule.matches.map((m: Obj) => m.path))).toEqual(paths.map((value) => ({ type: 'Exact', value })));
          for (const rule of route.spec.rules) {
            for (const b of rule.backendRefs) {
              expect(b.name).toBe(service.metadata.name);
              expect(servicePorts.has(b.port), `backend port ${b.port} is a port of Service ${service.metadata.name}`).toBe(true);
            }
          }
          expect(route.metadata.annotations ?? {}).toEqual(dnsAnnotations(x.route === 'chat'));
          // The WebSocket rule must not be cut by a request timeout: "0s" disables it (GEP-1742).
          expect(route.spec.rules.find((rule: Obj) => rule.matches[0].path.value === '/ws').timeouts).toEqual({ request: '0s' });
        }
        if (e.acme.solver === 'http01') {
          expect(solver.http01.gatewayHTTPRoute.parentRefs).toEqual([
            { group: 'gateway.networking.k8s.io', kind: 'Gateway', name: gw.metadata.name, namespace: c.app.namespace, sectionName: http[0]!.name },
          ]);
        }
      } else {
        const seconds = String(e.idleTimeoutSeconds);
        const expected =
          e.className === 'nginx'
            ? { 'nginx.ingress.kubernetes.io/proxy-read-timeout': seconds, 'nginx.ingress.kubernetes.io/proxy-send-timeout': seconds }
            : {};
        for (const x of expectedRoutes) {
          const ing = routes.get(x.route)!;
          expect(ing.metadata.namespace).toBe(c.app.namespace);
          expect(ing.spec.ingressClassName).toBe(e.className);
          expect(ing.spec.tls).toEqual([{ hosts: [x.host], secretName: x.secret }]);
          expect(ing.spec.rules.map((y: Obj) => y.host)).toEqual([x.host]);
          for (const p of ing.spec.rules[0].http.paths) {
            expect(p.backend.service.name).toBe(service.metadata.name);
            expect(servicePorts.has(p.backend.service.port.number)).toBe(true);
          }
          expect(ing.spec.rules[0].http.paths.map((p: Obj) => [p.path, p.pathType])).toEqual(paths.map((p) => [p, 'Exact']));
          expect(ing.metadata.annotations ?? {}).toEqual({ ...expected, ...dnsAnnotations(x.route === 'chat'), ...e.ingressAnnotations });
        }
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
        expect(solver.dns01.cnameStrategy).toBe(d.challengeZone !== undefined ? 'Follow' : undefined);
      }
    }
  });
});
