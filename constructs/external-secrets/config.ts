/**
 * The `secrets` part of the config: who provides the Secrets of SECRETS.md. `manual` (default):
 * a person creates them from the checklist. `external-secrets`: the External Secrets Operator
 * is installed on every cluster and synth emits an ExternalSecret per Secret, reading a
 * ClusterSecretStore you run (by name), or a Password generator for random per-cluster values.
 */
import { z } from 'zod';
import { dnsLabel, dnsSubdomain, exactVersion, helmRepoUrl } from '../../regions/fields.js';
import { rule, type ConfigSlice, type PlatformRuleViolation } from '../../regions/schema.js';

/** Placeholders of a remote key template. */
export const KEY_PLACEHOLDERS = ['platform', 'cluster', 'namespace', 'name'] as const;
export type KeyPlaceholder = (typeof KEY_PLACEHOLDERS)[number];

const template = z
  .string()
  .min(1)
  .superRefine((v, ctx) => {
    for (const m of v.matchAll(/\{([^}]*)\}/g)) {
      if (!(KEY_PLACEHOLDERS as readonly string[]).includes(m[1]!)) {
        ctx.addIssue({ code: 'custom', message: `has an unknown placeholder {${m[1]}} (use ${KEY_PLACEHOLDERS.map((p) => `{${p}}`).join(', ')})` });
      }
    }
  });

/** A Go duration as ESO reads it, e.g. `1h`, `30m`, `90s`. */
const duration = z.string().regex(/^([0-9]+h)?([0-9]+m)?([0-9]+s)?$/, { message: 'is not a duration such as "1h", "30m" or "1h30m"' }).refine((v) => v !== '' && !/^(0+[hms])+$/.test(v), {
  message: 'must be longer than 0 (an ExternalSecret that never refreshes keeps a rotated value out of the cluster)',
});

export const ExternalSecretsSchema = z
  .strictObject({
    chart: z
      .strictObject({
        repoURL: helmRepoUrl.default('https://charts.external-secrets.io'),
        /** Chart 2.9.0 ships ESO v2.9.0, the version of the CRD schemas the tests validate against. */
        version: exactVersion.default('2.9.0'),
      })
      .prefault({}),
    namespace: dnsLabel('namespace').default('external-secrets'),
    clusterSecretStore: dnsSubdomain('clusterSecretStore').describe(
      'Name of the ClusterSecretStore (yours, in every cluster) the ExternalSecrets read; regionmesh references it, never creates it.',
    ),
    refreshInterval: duration.default('1h').describe('How often every ExternalSecret re-reads its remote key (a rotated value reaches the cluster within this time).'),
    remoteKey: template
      .default('{platform}/{cluster}/{namespace}/{name}')
      .describe('Remote key of a Secret of one cluster; must contain {cluster}, {namespace} and {name}. Each Secret key is a property of it.'),
    sharedRemoteKey: template
      .default('{platform}/shared/{name}')
      .describe('Remote key of a Secret that must be identical in every cluster (SECRETS.md "identical across"); no {cluster} or {namespace}.'),
    clusterSharedRemoteKey: template
      .default('{platform}/{cluster}/shared/{name}')
      .describe('Remote key of a Secret whose copies in several namespaces of one cluster must be identical; contains {cluster}, no {namespace}.'),
    remoteKeys: z
      .record(z.string().regex(/^[a-z0-9-]+\/[a-z0-9.-]+$/, { message: 'is not "<namespace>/<secret>"' }), template)
      .default({})
      .describe('Per-Secret override of the template, by "<namespace>/<secret>" (applies in every cluster; may use the placeholders).'),
  })
  .describe('External Secrets Operator: every Secret a person would create is read from a ClusterSecretStore or generated.');

export const SecretsSchema = z
  .strictObject({
    provider: z.enum(['manual', 'external-secrets']).default('manual').describe('manual: create the Secrets of SECRETS.md yourself; external-secrets: ESO provides them.'),
    externalSecrets: ExternalSecretsSchema.optional(),
  })
  .describe('Who provides the Secrets listed in SECRETS.md.');

export type SecretsConfig = z.output<typeof SecretsSchema>;
export type ExternalSecretsConfig = z.output<typeof ExternalSecretsSchema>;

declare module '../../regions/schema.js' {
  interface ComponentConfigs {
    secrets: SecretsConfig;
  }
  interface ComponentConfigInputs {
    secrets?: z.input<typeof SecretsSchema>;
  }
}

const ESO = ['secrets', 'externalSecrets'];

/** Which placeholders each template must have and must not have (two Secrets never share a key by accident). */
const TEMPLATE_RULES: ReadonlyArray<[keyof ExternalSecretsConfig & string, KeyPlaceholder[], KeyPlaceholder[]]> = [
  ['remoteKey', ['cluster', 'namespace', 'name'], []],
  ['sharedRemoteKey', ['name'], ['cluster', 'namespace']],
  ['clusterSharedRemoteKey', ['cluster', 'name'], ['namespace']],
];

function templateViolations(e: ExternalSecretsConfig): PlatformRuleViolation[] {
  const v: PlatformRuleViolation[] = [];
  for (const [field, must, mustNot] of TEMPLATE_RULES) {
    const t = e[field] as string;
    for (const p of must) if (!t.includes(`{${p}}`)) v.push({ path: [...ESO, field], message: `lacks {${p}}: two Secrets would read the same remote key (add {${p}})` });
    for (const p of mustNot) if (t.includes(`{${p}}`)) v.push({ path: [...ESO, field], message: `contains {${p}}: the copies that must be identical would read different keys (remove {${p}})` });
  }
  return v;
}

export const secretsConfig: ConfigSlice = {
  key: 'secrets',
  schema: SecretsSchema.prefault({}),
  rules: [
    rule('secrets-provider', ['secrets'], (c) => {
      const s = c.secrets;
      if (s.provider === 'external-secrets' && !s.externalSecrets) {
        return [{ path: ['secrets', 'externalSecrets'], message: 'provider is external-secrets, so this block is required (at least clusterSecretStore: <name of your ClusterSecretStore>)' }];
      }
      if (s.provider === 'manual' && s.externalSecrets) {
        return [{ path: ['secrets', 'externalSecrets'], message: 'provider is manual, so this block is unused (remove it, or set provider: external-secrets)' }];
      }
      return s.externalSecrets ? templateViolations(s.externalSecrets) : [];
    }),
  ],
};
