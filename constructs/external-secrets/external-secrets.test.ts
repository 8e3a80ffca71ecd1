/**
 * `secrets.provider: external-secrets` (regions/examples/external-secrets.yaml): every Secret
 * that SECRETS.md lists as created by you in manual mode becomes an ExternalSecret (or a
 * Password generator's), every emitted object validates against ../shared/schemas, dist has no
 * credential literal, and the copies that must be identical read one remote key.
 *
 * The expected lists come from the manual-mode SECRETS.md table of the same config (the
 * SecretRequirements as a person reads them), never from this component's code.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ValidateFunction } from 'ajv';
import { Construct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { renderDist, type DistFiles } from '../../charts/render.js';
import { credentialFindings } from '../../test/credential-findings.js';
import { NO_SHARED_SCHEMAS, REPO_ROOT, sharedSchemasAvailable, configFrom } from '../../test/helpers.js';
import { schemaValidators } from '../../test/schema-validators.js';
import type { PlatformConfigInput } from '../../regions/schema.js';
import type { ComponentDefinition } from '../component.js';
import { Placement } from '../component.js';
import { COMPONENTS } from '../components.js';
import { SecretRequirement } from '../output.js';
import { ConfigError } from '../platform-config.js';

const EXAMPLE = join(REPO_ROOT, 'regions/examples/external-secrets.yaml');

function exampleInput(): PlatformConfigInput {
  return parse(readFileSync(EXAMPLE, 'utf8')) as PlatformConfigInput;
}

/** The same platform with the Secrets created by hand. */
function manualInput(): PlatformConfigInput {
  const input = exampleInput();
  input.secrets = { provider: 'manual' };
  return input;
}

interface Row {
  readonly cluster: string;
  readonly namespace: string;
  readonly secret: string;
  readonly keys: string[];
  readonly from: string;
  readonly identical: string;
}

/** The rows of a SECRETS.md table. */
function rows(files: DistFiles): Row[] {
  return [...files.get('SECRETS.md')!.matchAll(/^\| ([^|]+?) \| ([^|]+?) \| `([^`]+)` \| ([^|]+?) \| .+? \| ([^|]+?) \| ([^|]+?) \|$/gm)].map((m) => ({
    cluster: m[1]!,
    namespace: m[2]!,
    secret: m[3]!,
    keys: [...m[4]!.matchAll(/`([^`]+)`/g)].map((k) => k[1]!),
    from: m[5]!,
    identical: m[6]!,
  }));
}

type Obj = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; annotations?: Record<string, string> }; spec: any };

/** Every object of dist with the cluster its folder is applied to. */
function objects(files: DistFiles): Array<{ path: string; cluster: string | undefined; obj: Obj }> {
  return [...files]
    .filter(([p]) => p.endsWith('.yaml') && !p.startsWith('values/'))
    .map(([path, text]) => ({ path, cluster: /^clusters\/([^/]+)\//.exec(path)?.[1], obj: parse(text) as Obj }));
}

const manual = renderDist(configFrom(manualInput()));
const eso = renderDist(configFrom(exampleInput()));
const createdByYou = rows(manual).filter((r) => r.from === 'you');
const id = (cluster: string, namespace: string, name: string) => `${cluster}/${namespace}/${name}`;
const externalSecrets = objects(eso).filter((o) => o.obj.kind === 'ExternalSecret');

describe('every Secret created by you comes from ESO', () => {
  it('the example has Secrets created by you on every cluster (the check has something to check)', () => {
    expect(createdByYou.length).toBeGreaterThan(10);
    expect(new Set(createdByYou.map((r) => r.cluster))).toEqual(new Set(['astring-mgmt', 'astring-mn', 'astring-fsn1']));
  });

  it('each gets exactly one ExternalSecret in its cluster and namespace, targeting its name, owning it', () => {
    const got = externalSecrets.map((e) => id(e.cluster!, e.obj.metadata.namespace!, e.obj.spec.target.name));
    expect([...got].sort()).toEqual(createdByYou.map((r) => id(r.cluster, r.namespace, r.secret)).sort());
    for (const e of externalSecrets) {
      expect(e.obj.spec.target.creationPolicy, e.path).toBe('Owner');
      expect(e.obj.spec.refreshInterval, e.path).toMatch(/^[0-9]+[hms]/);
      expect(e.obj.metadata.annotations?.['argocd.argoproj.io/sync-wave'], e.path).toBe('1');
    }
  });

  it('each ExternalSecret fills exactly the Secret keys its readers use, from a store key or a Password generator', () => {
    for (const r of createdByYou) {
      const e = externalSecrets.find((x) => x.cluster === r.cluster && x.obj.metadata.namespace === r.namespace && x.obj.spec.target.name === r.secret)!;
      const spec = e.obj.spec;
      if (spec.data) {
        expect(spec.dataFrom, e.path).toBeUndefined();
        expect(spec.data.map((d: any) => d.secretKey).sort(), e.path).toEqual([...r.keys].sort());
        for (const d of spec.data) expect(d.remoteRef.property, e.path).toBe(d.secretKey);
        expect(spec.secretStoreRef, e.path).toEqual({ kind: 'ClusterSecretStore', name: 'platform-store' });
      } else {
        const ref = spec.dataFrom[0].sourceRef.generatorRef;
        const gen = objects(eso).find((o) => o.cluster === r.cluster && o.obj.kind === ref.kind && o.obj.metadata.name === ref.name && o.obj.metadata.namespace === r.namespace);
        expect(gen, `${e.path}: generator ${ref.kind} ${ref.name}`).toBeDefined();
        const keys = [...gen!.obj.spec.secretKeys, ...Object.keys(spec.target.template?.data ?? {})];
        expect(keys.sort(), e.path).toEqual([...r.keys].sort());
        // A generator makes a new value on each refresh: made once, never rotated under a database.
        expect(spec.refreshPolicy, e.path).toBe('CreatedOnce');
        expect(gen!.obj.spec, gen!.path).toMatchObject({ length: 32, digits: 0, symbols: 0 });
      }
    }
  });

  it('the Cassandra superuser (random, one copy) is generated; the rest is read from the store', () => {
    const generated = externalSecrets.filter((e) => e.obj.spec.dataFrom).map((e) => id(e.cluster!, e.obj.metadata.namespace!, e.obj.spec.target.name));
    expect(generated).toEqual(['astring-mgmt/k8ssandra-operator/astring-superuser']);
  });

  it('SECRETS.md says per Secret where it comes from; nothing is left to create by hand', () => {
    const after = rows(eso);
    expect(after.map((r) => id(r.cluster, r.namespace, r.secret))).toEqual(rows(manual).map((r) => id(r.cluster, r.namespace, r.secret)));
    for (const r of after) {
      const before = rows(manual).find((m) => id(m.cluster, m.namespace, m.secret) === id(r.cluster, r.namespace, r.secret))!;
      if (before.from === 'you') expect(r.from).toMatch(/^(from store key `[^`]+`|generated \(Password `[^`]+`)/);
      else expect(r.from).toBe(`issued by ${before.from}`);
    }
    expect(after.filter((r) => r.from === 'created by you')).toEqual([]);
    expect(eso.get('SECRETS.md')).toContain('## Filling the store');
  });
});

describe('values that must be identical come from one remote key', () => {
  /** Secret names some copy of which must be identical, with the rows of every copy (manual SECRETS.md). */
  const groups = new Map<string, Row[]>();
  for (const r of createdByYou.filter((x) => x.identical !== '-')) groups.set(r.secret, createdByYou.filter((x) => x.secret === r.secret));

  const keysOf = (r: Row): string[] => {
    const e = externalSecrets.find((x) => x.cluster === r.cluster && x.obj.metadata.namespace === r.namespace && x.obj.spec.target.name === r.secret)!;
    expect(e.obj.spec.dataFrom, `${e.path}: a generator makes a different value per ExternalSecret`).toBeUndefined();
    return e.obj.spec.data.map((d: any) => d.remoteRef.key);
  };

  it('the example has such groups, across clusters and across namespaces', () => {
    expect([...groups.keys()].sort()).toEqual(['cassandra-app-credentials', 'nats-client-auth', 'nats-gateway-auth', 'postgres-client-ca']);
  });

  it.each([...groups.keys()].sort())('%s: one key for every copy that must agree', (name) => {
    const copies = groups.get(name)!;
    const perCluster = copies.some((r) => / of the same cluster$/.test(r.identical));
    if (perCluster) {
      for (const cluster of new Set(copies.map((r) => r.cluster))) {
        expect(new Set(copies.filter((r) => r.cluster === cluster).flatMap(keysOf)).size, `${name} in ${cluster}`).toBe(1);
      }
    } else {
      expect(new Set(copies.flatMap(keysOf)).size, name).toBe(1);
      expect(new Set(copies.map((r) => r.cluster)).size, `${name} spans clusters`).toBeGreaterThan(1);
    }
  });

  const overrides = (exampleInput().secrets!.externalSecrets as { remoteKeys: Record<string, string> }).remoteKeys;

  it('Secrets that need not agree never share a key', () => {
    const owner = new Map<string, string>();
    for (const r of createdByYou) {
      for (const k of new Set(keysOrGenerated(r))) {
        // A config override may give several Secrets one key on purpose (the example's SMTP account).
        const override = overrides[`${r.namespace}/${r.secret}`];
        const group = override ? `override ${override}` : groups.has(r.secret) ? r.secret : id(r.cluster, r.namespace, r.secret);
        const before = owner.get(k);
        if (before !== undefined) expect(before, `store key ${k}`).toBe(group);
        owner.set(k, group);
      }
    }
  });

  function keysOrGenerated(r: Row): string[] {
    const e = externalSecrets.find((x) => x.cluster === r.cluster && x.obj.metadata.namespace === r.namespace && x.obj.spec.target.name === r.secret)!;
    return e.obj.spec.data ? e.obj.spec.data.map((d: any) => d.remoteRef.key) : [];
  }
});

describe('no credential literal in dist', () => {
  const findings = (files: DistFiles) => [...files].flatMap(([p, t]) => credentialFindings(p, t));

  it('finds none in what ESO adds (its ExternalSecrets, generators, values, SECRETS.md)', () => {
    const added = [...eso].filter(([p]) => p.includes('external-secrets') || p === 'SECRETS.md');
    expect(added.length).toBeGreaterThan(20);
    expect(added.flatMap(([p, t]) => credentialFindings(p, t))).toEqual([]);
  });

  it('the whole external-secrets dist has no finding the manual dist lacks (the manual dist is charts/no-credentials.test.ts\'s)', () => {
    expect(findings(eso)).toEqual(findings(manual));
  });

  it('the scan sees a literal password in an ExternalSecret template (the check can fail)', () => {
    expect(credentialFindings('x.yaml', 'spec:\n  target:\n    template:\n      data:\n        password: hunter2\n')).not.toEqual([]);
  });
});

describe('the AppProject and the ESO Application', () => {
  const project = (files: DistFiles) => objects(files).find((o) => o.obj.kind === 'AppProject')!.obj;

  it('admits exactly what ESO adds: its namespaces and chart repository; no new cluster-scoped kind (no ClusterSecretStore: yours)', () => {
    const a = project(manual).spec;
    const b = project(eso).spec;
    expect(b.clusterResourceWhitelist).toEqual(a.clusterResourceWhitelist);
    expect(b.clusterResourceWhitelist).not.toContainEqual(expect.objectContaining({ kind: 'ClusterSecretStore' }));
    expect(b.namespaceResourceBlacklist).toEqual(a.namespaceResourceBlacklist);
    expect(b.sourceRepos.filter((r: string) => !a.sourceRepos.includes(r))).toEqual(['https://charts.external-secrets.io']);
    const added = b.destinations.filter((d: any) => !a.destinations.some((x: any) => x.name === d.name && x.namespace === d.namespace));
    expect(added).toEqual(['astring-fsn1', 'astring-mgmt', 'astring-mn'].map((name) => ({ name, namespace: 'external-secrets' })));
    // Every ExternalSecret and Password lands in a (cluster, namespace) the project already admits.
    for (const o of objects(eso).filter((x) => x.obj.apiVersion.includes('external-secrets.io'))) {
      expect(b.destinations, o.path).toContainEqual({ name: o.cluster, namespace: o.obj.metadata.namespace });
    }
  });

  it('installs ESO from the pinned chart 2.9.0 (app v2.9.0, the CRD schemas of ../shared/schemas) on every cluster', () => {
    const set = objects(eso).find((o) => o.obj.kind === 'ApplicationSet' && o.obj.metadata.name === 'astring-external-secrets')!.obj;
    const helm = set.spec.template.spec.sources.find((s: any) => s.chart);
    expect(helm).toMatchObject({ repoURL: 'https://charts.external-secrets.io', chart: 'external-secrets', targetRevision: '2.9.0' });
    expect(set.spec.generators[0].list.elements.map((e: any) => e.cluster).sort()).toEqual(['astring-fsn1', 'astring-mgmt', 'astring-mn']);
    for (const c of ['astring-fsn1', 'astring-mgmt', 'astring-mn']) expect(eso.has(`values/${c}/external-secrets.yaml`), c).toBe(true);
    expect(manual.has('argocd/applicationset-astring-external-secrets.yaml')).toBe(false);
  });
});

describe('every ESO and ArgoCD object validates against ../shared/schemas', () => {
  if (!sharedSchemasAvailable()) {
    it('needs ../shared/schemas', () => {
      throw new Error(NO_SHARED_SCHEMAS);
    });
    return;
  }
  const { ajv, byKind } = schemaValidators({
    ExternalSecret: 'externalsecret.schema.json',
    Password: 'password-generator.schema.json',
    Application: 'application.schema.json',
    ApplicationSet: 'applicationset.schema.json',
    AppProject: 'appproject.schema.json',
  });
  const schema: Record<string, ValidateFunction> = Object.fromEntries(byKind);

  it('ExternalSecret, Password, Application, ApplicationSet, AppProject', () => {
    const checked = objects(eso).filter((o) => schema[o.obj.kind]);
    expect(new Set(checked.map((o) => o.obj.kind))).toEqual(new Set(Object.keys(schema)));
    for (const { path, obj } of checked) {
      const validate = schema[obj.kind]!;
      expect(validate(obj), `${path}: ${ajv.errorsText(validate.errors)}`).toBe(true);
    }
  });

  it('the schemas reject a broken ExternalSecret and Password (the check can fail)', () => {
    const e = structuredClone(externalSecrets.find((x) => x.obj.spec.data)!.obj);
    e.spec.target.creationPolicy = 'Sometimes';
    expect(schema.ExternalSecret!(e)).toBe(false);
    const p = structuredClone(objects(eso).find((o) => o.obj.kind === 'Password')!.obj);
    delete p.spec.length;
    expect(schema.Password!(p)).toBe(false);
  });
});

describe('the config', () => {
  const variant = (mutate: (e: Record<string, unknown>, input: PlatformConfigInput) => void) => () => {
    const input = exampleInput();
    mutate(input.secrets!.externalSecrets as Record<string, unknown>, input);
    return renderDist(configFrom(input));
  };

  it.each([
    ['provider external-secrets without its block', (_e: Record<string, unknown>, i: PlatformConfigInput) => void (i.secrets = { provider: 'external-secrets' }), /secrets\.externalSecrets.*required/],
    ['a per-cluster template without {cluster}', (e: Record<string, unknown>) => void (e['remoteKey'] = '{platform}/{namespace}/{name}'), /remoteKey.*lacks \{cluster\}/],
    ['a shared template with {cluster}', (e: Record<string, unknown>) => void (e['sharedRemoteKey'] = '{platform}/{cluster}/{name}'), /sharedRemoteKey.*contains \{cluster\}/],
    ['an unknown placeholder', (e: Record<string, unknown>) => void (e['remoteKey'] = '{platform}/{region}/{cluster}/{namespace}/{name}'), /unknown placeholder \{region\}/],
  ])('refuses %s with the path and the fix', (_what, mutate, message) => {
    expect(variant(mutate)).toThrow(ConfigError);
    expect(variant(mutate)).toThrow(message);
  });

  it('refuses an override that would split a group that must be identical', () => {
    const render = variant((e) => void (e['remoteKeys'] = { 'nats/nats-gateway-auth': '{platform}/{cluster}/gw' }));
    expect(render).toThrow(/remoteKeys\["nats\/nats-gateway-auth"\].*contains \{cluster\}.*identical in every cluster/);
    const split = variant((e) => void (e['remoteKeys'] = { 'chat/cassandra-app-credentials': 'other/{name}' }));
    expect(split).toThrow(/copies of cassandra-app-credentials must be identical but read .* and /);
  });

  it('manual mode (the default) emits nothing of ESO and keeps the checklist', () => {
    expect([...manual.keys()].some((p) => p.includes('external-secrets'))).toBe(false);
    expect(manual.get('SECRETS.md')).toContain('| created by | identical across |');
    expect(manual.get('SECRETS.md')).toContain('## Creating one by hand');
  });
});

describe('ordering', () => {
  class Late extends Construct {
    constructor(scope: Construct, id: string, props: { target: { cluster: string } }) {
      super(scope, id);
      new SecretRequirement(this, 'late', { cluster: props.target.cluster, namespace: 'late', name: 'late-auth', keys: ['password'], usedBy: 'late servers' });
    }
  }
  const late: ComponentDefinition = {
    name: 'late',
    placement: Placement.regions,
    namespace: () => ({ name: 'late', podSecurity: 'restricted' }),
    application: () => ({ syncOptions: [] }),
    construct: Late,
  };

  it('a component listed after external-secrets still gets its Secret from the store (no list order to keep)', () => {
    const files = renderDist(configFrom(exampleInput()), [...COMPONENTS, late]);
    const region = configFrom(exampleInput()).regions[0]!.cluster;
    const texts = [...files].filter(([p]) => p.startsWith(`clusters/${region}/`)).map(([, t]) => t);
    expect(texts.some((t) => /kind: ExternalSecret/.test(t) && /name: late-auth/.test(t))).toBe(true);
  });

  it('a component that reads the others AND adds a Secret fails with the fix', () => {
    expect(() => renderDist(configFrom(exampleInput()), [...COMPONENTS, { ...late, readsOtherComponents: true }])).toThrow(
      /late\/late-auth .* must not set readsOtherComponents/,
    );
  });
});
