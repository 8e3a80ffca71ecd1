/** The ESO objects regionmesh emits: ExternalSecret (external-secrets.io/v1) and Password (generators.external-secrets.io/v1alpha1). */
import { ApiObject } from 'cdk8s';
import type { Construct } from 'constructs';
import type { GeneratedValue } from '../output.js';

/**
 * Sync wave of the ESO objects inside the external-secrets Application: after the chart (wave 0:
 * CRDs, controller, webhook), so the webhook that validates them is up.
 */
export const ESO_OBJECT_WAVE = '1';

/**
 * The Password generator's settings, all explicit (the CRD's defaults differ by field): 32
 * letters, no digits, no symbols. Letters only because NATS reads a digit-first value as a number
 * and symbols need quoting in CQL, URLs and shell; 52^32 is about 182 bits.
 */
export const PASSWORD_SPEC = { length: 32, digits: 0, symbols: 0, noUpper: false, allowRepeat: true, encoding: 'raw' } as const;

interface CommonProps {
  /** Object name (unique per cluster folder: `<namespace>-<secret>`). */
  readonly name: string;
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
}

export interface StoreExternalSecretProps extends CommonProps {
  /** The Secret it creates and owns. */
  readonly secretName: string;
  readonly keys: readonly string[];
  readonly clusterSecretStore: string;
  /** Remote key; each Secret key is its property of the same name. */
  readonly remoteKey: string;
  /** Go duration, e.g. `1h`. */
  readonly refreshInterval: string;
}

function metadata(p: CommonProps) {
  return { name: p.name, namespace: p.namespace, labels: { ...p.labels }, annotations: { 'argocd.argoproj.io/sync-wave': ESO_OBJECT_WAVE } };
}

/** A Secret read from a ClusterSecretStore: one remote key, one property per Secret key, re-read every `refreshInterval`. */
export class StoreExternalSecret extends ApiObject {
  constructor(scope: Construct, id: string, p: StoreExternalSecretProps) {
    super(scope, id, {
      apiVersion: 'external-secrets.io/v1',
      kind: 'ExternalSecret',
      metadata: metadata(p),
      spec: {
        refreshInterval: p.refreshInterval,
        refreshPolicy: 'Periodic',
        secretStoreRef: { kind: 'ClusterSecretStore', name: p.clusterSecretStore },
        // Owner: the Secret goes with the ExternalSecret; Retain: a store outage or a deleted
        // remote key leaves the last value in place instead of deleting the Secret.
        target: { name: p.secretName, creationPolicy: 'Owner', deletionPolicy: 'Retain' },
        data: p.keys.map((k) => ({
          secretKey: k,
          remoteRef: { key: p.remoteKey, property: k, conversionStrategy: 'Default', decodingStrategy: 'None', metadataPolicy: 'None' },
        })),
      },
    });
  }
}

export interface PasswordGeneratorProps extends CommonProps {
  /** The Secret key the generated value lands in. */
  readonly key: string;
}

/** A Password generator making one random value under `key` (PASSWORD_SPEC). */
export class PasswordGenerator extends ApiObject {
  constructor(scope: Construct, id: string, p: PasswordGeneratorProps) {
    super(scope, id, {
      apiVersion: 'generators.external-secrets.io/v1alpha1',
      kind: 'Password',
      metadata: metadata(p),
      spec: { ...PASSWORD_SPEC, secretKeys: [p.key] },
    });
  }
}

export interface GeneratedExternalSecretProps extends CommonProps {
  readonly secretName: string;
  readonly generated: GeneratedValue;
  /** The Password generator's name (same namespace). */
  readonly generator: string;
}

/**
 * A Secret made once from a Password generator: `refreshPolicy: CreatedOnce` (a generator makes
 * a new value on every refresh; a password that changes under a running database breaks it), the
 * fixed keys added by a template merged over the generated one.
 */
export class GeneratedExternalSecret extends ApiObject {
  constructor(scope: Construct, id: string, p: GeneratedExternalSecretProps) {
    const fixed = p.generated.fixed ?? {};
    super(scope, id, {
      apiVersion: 'external-secrets.io/v1',
      kind: 'ExternalSecret',
      metadata: metadata(p),
      spec: {
        refreshInterval: '0s',
        refreshPolicy: 'CreatedOnce',
        target: {
          name: p.secretName,
          creationPolicy: 'Owner',
          deletionPolicy: 'Retain',
          ...(Object.keys(fixed).length > 0 ? { template: { engineVersion: 'v2', mergePolicy: 'Merge', data: { ...fixed } } } : {}),
        },
        dataFrom: [{ sourceRef: { generatorRef: { apiVersion: 'generators.external-secrets.io/v1alpha1', kind: 'Password', name: p.generator } } }],
      },
    });
  }
}
