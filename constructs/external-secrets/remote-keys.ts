/**
 * Where each Secret's value comes from with `secrets.provider: external-secrets`: a remote key
 * of the ClusterSecretStore, or a Password generator. Pure: the construct and the tests' docs
 * read the same answer.
 *
 * Copies that must be identical (`sameAcross`, grouped by Secret name) never come from a
 * generator: a generator makes a new value per ExternalSecret, so per cluster and namespace.
 * They read one remote key: `sharedRemoteKey` for a platform-wide group, `clusterSharedRemoteKey`
 * for copies within one cluster.
 */
import type { GeneratedValue } from '../output.js';
import type { ExternalSecretsConfig, KeyPlaceholder } from './config.js';

/** The fields of a SecretRequirement this module reads. */
export interface RequirementFacts {
  readonly cluster: string;
  readonly namespace: string;
  readonly secretName: string;
  readonly keys: readonly string[];
  readonly createdBy: string;
  readonly sameAcross: string | undefined;
  readonly sameWithin: 'platform' | 'cluster';
  readonly generated: GeneratedValue | undefined;
}

export type Provision =
  /** Each Secret key is the property of the same name of remote key `key`. */
  | { readonly kind: 'store'; readonly key: string; readonly shared?: 'platform' | 'cluster' }
  /** A Password generator makes `generated.key`; the other keys are fixed. */
  | { readonly kind: 'generator'; readonly generated: GeneratedValue };

/** `{platform}` etc. replaced. */
export function fillTemplate(template: string, values: Readonly<Record<KeyPlaceholder, string>>): string {
  return template.replace(/\{(platform|cluster|namespace|name)\}/g, (_, p: KeyPlaceholder) => values[p]);
}

/** Secret names whose copies must agree (some copy says `sameAcross`), with how far: `cluster` only when every such copy says so. */
export function sharedGroups(all: readonly RequirementFacts[]): Map<string, 'platform' | 'cluster'> {
  const groups = new Map<string, 'platform' | 'cluster'>();
  for (const r of all) {
    if (r.createdBy !== 'you' || r.sameAcross === undefined) continue;
    const before = groups.get(r.secretName);
    groups.set(r.secretName, before === 'platform' || r.sameWithin === 'platform' ? 'platform' : 'cluster');
  }
  return groups;
}

/** Where `r` (created by you) comes from. Throws with the fix when an override breaks a shared group. */
export function provisionOf(e: ExternalSecretsConfig, platform: string, r: RequirementFacts, groups: ReadonlyMap<string, 'platform' | 'cluster'>): Provision {
  const override = e.remoteKeys[`${r.namespace}/${r.secretName}`];
  const values = { platform, cluster: r.cluster, namespace: r.namespace, name: r.secretName };
  const shared = groups.get(r.secretName);
  if (shared === undefined) {
    if (r.generated && override === undefined) return { kind: 'generator', generated: r.generated };
    return { kind: 'store', key: fillTemplate(override ?? e.remoteKey, values) };
  }
  const template = override ?? (shared === 'platform' ? e.sharedRemoteKey : e.clusterSharedRemoteKey);
  const varies: KeyPlaceholder[] = shared === 'platform' ? ['cluster', 'namespace'] : ['namespace'];
  const bad = varies.filter((p) => template.includes(`{${p}}`));
  if (bad.length > 0) {
    throw new Error(
      `secrets.externalSecrets.remoteKeys["${r.namespace}/${r.secretName}"]: "${template}" contains ${bad.map((p) => `{${p}}`).join(', ')}, but the copies of ${r.secretName} must be identical ${shared === 'platform' ? 'in every cluster' : 'within a cluster'} (remove the placeholder)`,
    );
  }
  return { kind: 'store', key: fillTemplate(template, values), shared };
}

/** Every remote key a group's copies read must be one key (per cluster for `cluster` groups); problems as messages with the fix. */
export function sharedKeyProblems(e: ExternalSecretsConfig, platform: string, all: readonly RequirementFacts[]): string[] {
  const groups = sharedGroups(all);
  const keysOf = new Map<string, Set<string>>();
  for (const r of all) {
    const shared = groups.get(r.secretName);
    if (r.createdBy !== 'you' || shared === undefined) continue;
    const p = provisionOf(e, platform, r, groups);
    const group = shared === 'platform' ? r.secretName : `${r.secretName} in ${r.cluster}`;
    keysOf.set(group, (keysOf.get(group) ?? new Set()).add(p.kind === 'store' ? p.key : '(generator)'));
  }
  return [...keysOf]
    .filter(([, keys]) => keys.size > 1)
    .map(([group, keys]) => `the copies of ${group} must be identical but read ${[...keys].sort().join(' and ')} (give every copy the same secrets.externalSecrets.remoteKeys override, or none)`);
}
