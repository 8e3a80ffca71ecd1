/**
 * Every ArgoCD object regionmesh emits validates against the upstream CRD schemas
 * (../shared/schemas, argo-cd v3.5.1) and against @kubernetes-models/argo-cd.
 */
import { Application } from '@kubernetes-models/argo-cd/argoproj.io/v1alpha1/Application';
import { ApplicationSet } from '@kubernetes-models/argo-cd/argoproj.io/v1alpha1/ApplicationSet';
import { AppProject } from '@kubernetes-models/argo-cd/argoproj.io/v1alpha1/AppProject';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { renderDist } from '../../charts/render.js';
import { loadConfigFile } from '../platform-config.js';
import { configWithRegions, DEFAULT_CONFIG_PATH, NO_SHARED_SCHEMAS, sharedSchemasAvailable } from '../../test/helpers.js';
import { schemaValidators } from '../../test/schema-validators.js';

const KIND_TO_SCHEMA: Record<string, string> = {
  Application: 'application.schema.json',
  ApplicationSet: 'applicationset.schema.json',
  AppProject: 'appproject.schema.json',
};

function argoObjects(files: ReadonlyMap<string, string>): Array<{ path: string; obj: { kind: string } & Record<string, unknown> }> {
  const out = [];
  for (const [path, content] of files) {
    if (!path.endsWith('.yaml') || path.startsWith('values/')) continue;
    const obj = parse(content) as { apiVersion: string; kind: string };
    if (obj.apiVersion === 'argoproj.io/v1alpha1') out.push({ path, obj: obj as { kind: string } & Record<string, unknown> });
  }
  return out;
}

/** The default config plus variants that switch on every optional branch. */
const VARIANTS: Array<[string, () => ReadonlyMap<string, string>]> = [
  ['default config', () => renderDist(loadConfigFile(DEFAULT_CONFIG_PATH))],
  [
    '3 regions, JetStream, LoadBalancer gateways with TLS',
    () =>
      renderDist(
        configWithRegions(3, (c) => {
          c.nats!.jetstream = { enabled: true };
          c.nats!.gateway = {
            port: 7222,
            exposure: 'loadBalancer',
            loadBalancer: { hostnameSuffix: 'gw.example.com', sourceRanges: ['203.0.113.0/24'] },
            tls: { enabled: true, issuer: { kind: 'ClusterIssuer', name: 'platform-ca' } },
          };
        }),
      ),
  ],
  ['1 region', () => renderDist(configWithRegions(1))],
];

describe('ArgoCD objects against the upstream CRD schemas (ajv)', () => {
  if (!sharedSchemasAvailable()) {
    it('needs ../shared/schemas', () => {
      throw new Error(NO_SHARED_SCHEMAS);
    });
    return;
  }
  const { ajv, byKind: validators } = schemaValidators(KIND_TO_SCHEMA);

  it.each(VARIANTS)('%s: every Application, ApplicationSet and AppProject is valid', (_name, render) => {
    const objects = argoObjects(render());
    expect(objects.map((o) => o.obj.kind).sort()).toEqual(expect.arrayContaining(['AppProject', 'Application', 'ApplicationSet']));
    for (const { path, obj } of objects) {
      const validate = validators.get(obj.kind);
      expect(validate, `no schema for ${obj.kind}`).toBeDefined();
      const ok = validate!(obj);
      expect(ok, `${path}: ${ajv.errorsText(validate!.errors)}`).toBe(true);
    }
  });

  it('the schemas really reject a broken object (the check can fail)', () => {
    const { obj } = argoObjects(renderDist(loadConfigFile(DEFAULT_CONFIG_PATH))).find((o) => o.obj.kind === "ApplicationSet")!;
    const broken = structuredClone(obj) as unknown as { spec: { template?: unknown } };
    delete broken.spec.template;
    expect(validators.get('ApplicationSet')!(broken)).toBe(false);
  });
});

describe('ArgoCD objects against @kubernetes-models/argo-cd', () => {
  const models: Record<string, (o: Record<string, unknown>) => { validate(): void }> = {
    Application: (o) => new Application(o as never),
    ApplicationSet: (o) => new ApplicationSet(o as never),
    AppProject: (o) => new AppProject(o as never),
  };

  it.each(VARIANTS)('%s: validate() accepts every object', (_name, render) => {
    for (const { path, obj } of argoObjects(render())) {
      const make = models[obj.kind];
      expect(make, `no model for ${obj.kind} (${path})`).toBeDefined();
      expect(() => make!(obj).validate(), path).not.toThrow();
    }
  });

  it('validate() rejects a string retry factor (the check can fail)', () => {
    const { obj } = argoObjects(renderDist(loadConfigFile(DEFAULT_CONFIG_PATH))).find((o) => o.obj.kind === "ApplicationSet")!;
    const broken = structuredClone(obj) as unknown as { spec: { template: { spec: { syncPolicy: { retry: { backoff: { factor: unknown } } } } } } };
    broken.spec.template.spec.syncPolicy.retry.backoff.factor = '2';
    expect(() => models.ApplicationSet!(broken as never).validate()).toThrow();
  });
});
