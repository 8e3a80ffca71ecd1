/**
 * On one cluster: an ExternalSecret (and, for a random value, a Password generator) for every
 * Secret of the tree that a person would otherwise create there (`createdBy: 'you'`), and the
 * record on each SecretRequirement of where its value now comes from (SECRETS.md).
 *
 * It reads the SecretRequirements the other components' constructs added to the tree, so the
 * external-secrets component has `readsOtherComponents` (built after them); a validation fails
 * if a requirement of this cluster still appears after it (a second component with that flag).
 */
import { Construct } from 'constructs';
import { Labels } from '../../regions/names.js';
import type { ComponentProps } from '../component.js';
import { SecretRequirement } from '../output.js';
import type { ExternalSecretsConfig } from './config.js';
import { GeneratedExternalSecret, PasswordGenerator, StoreExternalSecret } from './objects.js';
import { provisionOf, sharedGroups, sharedKeyProblems } from './remote-keys.js';

export const EXTERNAL_SECRETS_COMPONENT = 'external-secrets';

/** Every SecretRequirement in the whole tree, in tree order. */
function requirementsIn(scope: Construct): SecretRequirement[] {
  return scope.node.root.node.findAll().filter(SecretRequirement.isSecretRequirement);
}

/** ESO object name for a Secret: `<namespace>-<secret>` (Secrets of the same name live in several namespaces of a cluster). */
export function esoObjectName(namespace: string, secret: string): string {
  return `${namespace}-${secret}`;
}

export class SecretSources extends Construct {
  constructor(scope: Construct, id: string, props: ComponentProps) {
    super(scope, id);
    const c = props.config;
    const e: ExternalSecretsConfig | undefined = c.secrets.externalSecrets;
    if (!e) throw new Error(`${EXTERNAL_SECRETS_COMPONENT}: secrets.externalSecrets is required with provider external-secrets`);
    const cluster = props.target.cluster;
    const all = requirementsIn(this);
    const problems = sharedKeyProblems(e, c.platform, all);
    if (problems.length > 0) throw new Error(`secrets.externalSecrets: ${problems.join('; ')}`);
    const groups = sharedGroups(all);
    const mine = all.filter((r) => r.cluster === cluster && r.createdBy === 'you');
    const labels = { [Labels.partOf]: c.platform, [Labels.component]: EXTERNAL_SECRETS_COMPONENT };

    for (const r of mine) {
      const name = esoObjectName(r.namespace, r.secretName);
      if (name.length > 63) throw new Error(`${EXTERNAL_SECRETS_COMPONENT}: ExternalSecret name ${name} (for ${r.namespace}/${r.secretName} in ${cluster}) is longer than 63 characters (shorten the Secret name)`);
      const p = provisionOf(e, c.platform, r, groups);
      if (p.kind === 'generator') {
        new PasswordGenerator(scope, `password-${name}`, { name, namespace: r.namespace, labels, key: p.generated.key });
        new GeneratedExternalSecret(scope, `generated-${name}`, { name, namespace: r.namespace, labels, secretName: r.secretName, generated: p.generated, generator: name });
        r.provide({ description: `generated (Password \`${r.namespace}/${name}\`, ExternalSecret \`${name}\`, created once)` });
      } else {
        new StoreExternalSecret(scope, `store-${name}`, {
          name,
          namespace: r.namespace,
          labels,
          secretName: r.secretName,
          keys: r.keys,
          clusterSecretStore: e.clusterSecretStore,
          remoteKey: p.key,
          refreshInterval: e.refreshInterval,
        });
        r.provide({ description: `from store key \`${p.key}\` (ExternalSecret \`${name}\`)`, storeKey: p.key });
      }
    }

    const seen = new Set(mine);
    this.node.addValidation({
      validate: () =>
        requirementsIn(this)
          .filter((r) => r.cluster === cluster && r.createdBy === 'you' && !seen.has(r))
          .map(
            (r) =>
              `Secret ${r.namespace}/${r.secretName} (${r.node.path}) was added after the ${EXTERNAL_SECRETS_COMPONENT} component was built, so nothing provides it: a component that adds Secrets must not set readsOtherComponents (constructs/component.ts)`,
          ),
    });
  }
}
