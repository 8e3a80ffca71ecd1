/**
 * dist/ carries no credential: no Secret objects, no literal passwords or tokens, no keys or
 * certificates, no userinfo in URLs. Every Secret that manifests or values reference, by any
 * field, is listed in SECRETS.md for the cluster and namespace that reads it.
 */
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { renderDist } from './render.js';
import { configFrom, configWithRegions, defaultConfigInput, DIST } from '../test/helpers.js';
import { readDist } from './dist-writer.js';
import { credentialFindings } from '../test/credential-findings.js';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/**
 * Every Secret name referenced inside one object, found by walking all of it, never by a list
 * of known fields: a key containing "secret" (secretName, secretKeyRef, secretRef,
 * superuserSecretRef, kubeConfigSecret, clientCASecret, replicationTLSSecret,
 * storageSecretRef, existingSecret, a volume's `secret`...) whose value is a name or an object
 * with a `name`; and under a key ending in "credentials" (barman `s3Credentials`,
 * `googleCredentials`, `azureCredentials`), every `{name, key}` selector. `at` is the YAML path.
 */
export function secretNamesIn(doc: Json, at = ''): Array<{ name: string; at: string }> {
  const out: Array<{ name: string; at: string }> = [];
  if (Array.isArray(doc)) {
    doc.forEach((item, i) => out.push(...secretNamesIn(item, `${at}[${i}]`)));
    return out;
  }
  if (doc === null || typeof doc !== 'object') return out;
  for (const [key, value] of Object.entries(doc)) {
    const path = at === '' ? key : `${at}.${key}`;
    if (/secret/i.test(key)) {
      if (typeof value === 'string' && value !== '') out.push({ name: value, at: path });
      else if (value !== null && typeof value === 'object' && !Array.isArray(value) && typeof value['name'] === 'string') {
        out.push({ name: value['name'], at: path });
      }
    }
    if (/credentials$/i.test(key) && value !== null && typeof value === 'object' && !Array.isArray(value)) {
      for (const [field, selector] of Object.entries(value)) {
        if (selector !== null && typeof selector === 'object' && !Array.isArray(selector) && typeof selector['name'] === 'string') {
          out.push({ name: selector['name'], at: `${path}.${field}` });
        }
      }
    }
    out.push(...secretNamesIn(value, path));
  }
  return out;
}

interface SecretReference {
  readonly cluster: string;
  readonly namespace: string;
  readonly name: string;
  /** dist path and YAML path of the reference. */
  readonly where: string;
}

interface AppSetDoc {
  spec: { generators: Array<{ list: { elements: Array<Record<string, string>> } }>; template: { spec: { destination: { namespace: string } } } };
}

/**
 * Every Secret referenced anywhere in a dist, with the cluster and namespace that must hold
 * it: a manifest's own namespace; for a Helm values file or a manifest without one, the
 * namespace its ApplicationSet deploys to; for a ClusterIssuer, cert-manager's namespace
 * (cert-manager reads the Secrets of cluster-scoped issuers from its own namespace).
 */
function secretReferences(files: ReadonlyMap<string, string>, certManagerNamespace: string): SecretReference[] {
  const namespaceOf = new Map<string, string>();
  for (const [path, text] of files) {
    if (!path.startsWith('argocd/applicationset-')) continue;
    const set = parseAllDocuments(text)[0]!.toJS() as AppSetDoc;
    const namespace = set.spec.template.spec.destination.namespace;
    for (const e of set.spec.generators[0]!.list.elements) {
      // Elements name `<dist>/clusters/<cluster>/<component>` and `$values/<dist>/values/<cluster>/<chart>.yaml`.
      const strip = (p: string) => p.split('/').slice(-3).join('/');
      namespaceOf.set(`${strip(e['manifests']!)}/`, namespace);
      if (e['valueFile']) namespaceOf.set(strip(e['valueFile']), namespace);
    }
  }
  const refs: SecretReference[] = [];
  for (const [path, text] of files) {
    const m = /^(values|clusters)\/([^/]+)\/(.+\.yaml)$/.exec(path);
    if (!m) continue;
    const cluster = m[2]!;
    const deployedTo = namespaceOf.get(path) ?? namespaceOf.get(path.slice(0, path.lastIndexOf('/') + 1));
    for (const d of parseAllDocuments(text)) {
      const doc = d.toJS() as Json;
      const names = secretNamesIn(doc);
      if (names.length === 0) continue;
      const obj = (doc ?? {}) as { kind?: string; metadata?: { namespace?: string } };
      const namespace = m[1] === 'values' ? deployedTo : obj.kind === 'ClusterIssuer' ? certManagerNamespace : (obj.metadata?.namespace ?? deployedTo);
      if (namespace === undefined) throw new Error(`${path}: no namespace known for its Secret references (not synced by any ApplicationSet?)`);
      for (const { name, at } of names) {
        // Medusa's bucket Secret is mounted by the Cassandra pods of every DC, in the data-plane
        // cluster each DC's k8sContext names (ClientConfig name = cluster name); the control
        // plane never reads it (k8ssandra reference §8: the operator does not replicate it).
        const readers =
          obj.kind === 'K8ssandraCluster' && at.startsWith('spec.medusa.storageProperties.')
            ? ((doc as { spec: { cassandra: { datacenters: Array<{ k8sContext: string }> } } }).spec.cassandra.datacenters.map((dc) => dc.k8sContext))
            : [cluster];
        for (const reader of readers) refs.push({ cluster: reader, namespace, name, where: `${path} ${at}` });
      }
    }
  }
  return refs;
}

/** `cluster/namespace/secret` of every row of SECRETS.md. */
function listedSecrets(doc: string): Set<string> {
  return new Set([...doc.matchAll(/^\| ([^|]+?) \| ([^|]+?) \| `([^`]+)` \|/gm)].map((m) => `${m[1]}/${m[2]}/${m[3]}`));
}

/** References that SECRETS.md does not list for the cluster and namespace that read them. */
function unlistedSecrets(files: ReadonlyMap<string, string>, certManagerNamespace: string): string[] {
  const listed = listedSecrets(files.get('SECRETS.md') ?? '');
  return secretReferences(files, certManagerNamespace)
    .filter((r) => !listed.has(`${r.cluster}/${r.namespace}/${r.name}`))
    .map((r) => `${r.cluster}/${r.namespace}/${r.name} (${r.where})`);
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
    ['a Secret object inside a values file', 'extraResources:\n  - apiVersion: v1\n    kind: Secret\n    metadata:\n      name: x\n'],
    ['a credential-like ConfigMap key', 'apiVersion: v1\nkind: ConfigMap\ndata:\n  password-file: x\n'],
    ['a top-level data block outside a ConfigMap', 'apiVersion: v1\nkind: Thing\ndata:\n  x: y\n'],
    ['a top-level stringData block', 'apiVersion: v1\nkind: Thing\nstringData:\n  x: y\n'],
    ['a literal password', 'authorization:\n  user: admin\n  password: hunter2\n'],
    ['credentials in a URL', 'urls:\n  - nats://gw:s3cret@nats-headless:7222\n'],
    ['a DSN password', "dsn: 'host=db user=app password=abc'\n"],
    ['PEM material', 'ca: |\n  -----BEGIN CERTIFICATE-----\n'],
  ])('the scanner catches %s (the check can fail)', (_what, text) => {
    expect(credentialFindings('x.yaml', text)).not.toEqual([]);
  });

  it('accepts a nested data block that is not a payload (barman-cloud base-backup settings)', () => {
    expect(credentialFindings('x.yaml', 'kind: ObjectStore\nspec:\n  configuration:\n    data:\n      compression: gzip\n')).toEqual([]);
  });

  it('accepts a ConfigMap of configuration (the k8gb Corefile)', () => {
    expect(credentialFindings('x.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: k8gb-coredns\ndata:\n  Corefile: |\n    .:5353 {\n      errors\n    }\n')).toEqual([]);
  });

  it('accepts env references such as << $NATS_PASSWORD >>', () => {
    expect(credentialFindings('x.yaml', 'authorization:\n  password: << $NATS_PASSWORD >>\n')).toEqual([]);
  });
});

describe('SECRETS.md', () => {
  /** The committed dist and rendered variants that reference more Secrets. */
  const variants = (): Array<[string, ReadonlyMap<string, string>, string]> => {
    const tls = configWithRegions(3, (c) => void (c.nats!.gateway = { tls: { enabled: true, issuer: { name: 'platform-ca' } } }));
    const current = configFrom(defaultConfigInput());
    return [
      ['the committed dist', readDist(DIST), current.certManager.namespace],
      ['the default config as it renders now', renderDist(current), current.certManager.namespace],
      ['3 regions with gateway TLS', renderDist(tls), tls.certManager.namespace],
    ];
  };

  it.each(variants())('lists every Secret referenced in %s, for the cluster and namespace that read it', (_what, files, certManagerNamespace) => {
    const refs = secretReferences(files, certManagerNamespace);
    expect(refs.length).toBeGreaterThan(0);
    expect(unlistedSecrets(files, certManagerNamespace)).toEqual([]);
    for (const [path] of files) {
      const cluster = /^values\/([^/]+)\//.exec(path)?.[1];
      if (cluster) expect(files.get('SECRETS.md')).toMatch(new RegExp(`^\\| ${cluster} \\| `, 'm'));
    }
  });

  it('the scan finds a Secret by any field that names one (the check can fail)', () => {
    const doc = parseAllDocuments(`
spec:
  superuserSecretRef: { name: su }
  kubeConfigSecret: { name: kc }
  certificates: { clientCASecret: ca, replicationTLSSecret: repl }
  medusa: { storageProperties: { storageSecretRef: { name: bucket } } }
  configuration:
    s3Credentials:
      accessKeyId: { name: s3, key: ACCESS_KEY_ID }
      secretAccessKey: { name: s3, key: ACCESS_SECRET_KEY }
    googleCredentials: { applicationCredentials: { name: gcs, key: credentials.json } }
  envFrom: [{ secretRef: { name: env } }]
  env: [{ name: X, valueFrom: { secretKeyRef: { name: keyref, key: k } } }]
  volumes:
    - { name: v, secret: { secretName: vol } }
    - { name: p, projected: { sources: [{ secret: { name: projected } }] } }
  existingSecret: helm
  secretTemplate: { labels: { a: b } }
`)[0]!.toJS() as Json;
    expect(new Set(secretNamesIn(doc).map((r) => r.name))).toEqual(
      new Set(['su', 'kc', 'ca', 'repl', 'bucket', 's3', 'gcs', 'env', 'keyref', 'vol', 'projected', 'helm']),
    );
  });

  it('an unlisted reference, or one listed for another namespace, is reported with where it is', () => {
    const files = new Map(renderDist(configWithRegions(2)));
    const cluster = 'astring-r1';
    files.set(`clusters/${cluster}/postgres/objectstore-x.yaml`, 'kind: ObjectStore\nmetadata:\n  namespace: pgedge\nspec:\n  configuration:\n    s3Credentials:\n      accessKeyId: { name: not-listed, key: K }\n');
    // nats-client-auth is listed for the nats and chat namespaces, not for pgedge.
    files.set(`clusters/${cluster}/postgres/pod-x.yaml`, 'kind: Pod\nmetadata:\n  namespace: pgedge\nspec:\n  envFrom: [{ secretRef: { name: nats-client-auth } }]\n');
    expect(unlistedSecrets(files, 'cert-manager').filter((u) => u.includes('-x.yaml '))).toEqual([
      `${cluster}/pgedge/not-listed (clusters/${cluster}/postgres/objectstore-x.yaml spec.configuration.s3Credentials.accessKeyId)`,
      `${cluster}/pgedge/nats-client-auth (clusters/${cluster}/postgres/pod-x.yaml spec.envFrom[0].secretRef)`,
    ]);
  });

  it('marks the gateway credentials as identical in every region', () => {
    expect(readDist(DIST).get('SECRETS.md')).toMatch(/\| `nats-gateway-auth` \|.*\| every region \|/);
  });
});

describe('the credential scan itself', () => {
  it('flags a Secret object and its payload, not a reference to a Secret', () => {
    const secret = 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: x\nstringData:\n  user: a\n';
    expect(credentialFindings('s.yaml', secret)).toEqual(['s.yaml: a Secret object: kind: Secret', 's.yaml: a top-level stringData block: stringData:']);
    const gateway = 'kind: Gateway\nspec:\n  listeners:\n    - tls:\n        certificateRefs:\n          - kind: Secret\n            name: chat-tls\n';
    expect(credentialFindings('g.yaml', gateway)).toEqual([]);
  });
});
