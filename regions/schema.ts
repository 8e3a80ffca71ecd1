/**
 * The platform config: one strict zod schema, composed from the platform's own fields (here)
 * and every component's config slice (ComponentDefinition.config, in constructs/<component>/config.ts;
 * the composed schema is constructs/platform-config.ts). Every object rejects unknown keys;
 * every cross-field rule is a named `PlatformRule`, so an error can point at the exact field.
 *
 * Field docs are what editors show (through the generated JSON Schema) and what the README's
 * config reference is written from.
 */
import { z } from 'zod';
import { dnsLabel, dnsSubdomain, duplicates } from './fields.js';
import { computedNameRules } from './names.js';

const RegionBaseSchema = z
  .strictObject({
    name: dnsLabel('region name', 20).describe(
      'Region identity (DNS-1035 label, at most 20 characters). Never rename: names of gateways, servers and apps derive from it.',
    ),
    ordinal: z
      .int()
      .min(1)
      .max(1023)
      .describe('Explicit region number 1..1023, never reused (pgEdge node n<ordinal>, snowflake.node).'),
    cluster: dnsLabel('cluster name').describe(
      'ArgoCD destination name and kube context of this region\'s Kubernetes cluster.',
    ),
    state: z
      .enum(['active', 'joining', 'leaving'])
      .default('active')
      .describe(
        'active: serves users. joining: data layer is added (Cassandra DC rebuilt from the others, Spock data copied from syncFrom), no app yet. leaving: app stopped, subscriptions and keyspace replication removed, DC kept until the region is deleted from the list.',
      ),
    syncFrom: dnsLabel('region name', 20)
      .optional()
      .describe('joining only: the one active region whose Postgres the new region copies structure and data from.'),
  })
  .describe('One region: a Kubernetes cluster that serves users on its own.');


/** The platform's own fields; `regions` holds regions with every component's region slice. */
function baseShape(region: z.ZodType) {
    return {
    $schema: z.string().optional().describe('Path of the JSON Schema, for editors.'),
    platform: dnsLabel('platform name', 20).describe(
      'Platform name (DNS-1035 label, at most 20 characters); prefixes gateway, server and ArgoCD names.',
    ),
    gitops: z
      .strictObject({
        repoURL: z
          .string()
          .regex(/^(https:\/\/|ssh:\/\/|git@)\S+$/, { message: 'is not a Git URL (use https://..., ssh://... or git@...)' })
          .describe('The Git repository ArgoCD reads dist/ from.'),
        revision: z.string().min(1).default('main').describe('Branch, tag or commit ArgoCD tracks.'),
        path: z
          .string()
          .regex(/^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/, {
            message: 'is not a relative path inside the repository (e.g. "dist" or "envs/prod/dist")',
          })
          .refine((p) => !p.split('/').includes('..'), { message: 'leaves the repository (remove "..": use a path inside it, e.g. "dist")' })
          .default('dist')
          .describe('Path of dist/ inside the repository.'),
      })
      .describe('Where ArgoCD finds the committed output.'),
    argocd: z
      .strictObject({
        namespace: dnsLabel('namespace').default('argocd'),
        project: dnsLabel('project name').describe('AppProject that scopes every generated Application.'),
      })
      .describe('The ArgoCD instance on the management cluster.'),
    dns: z
      .strictObject({
        clusterSuffix: dnsSubdomain('DNS suffix').describe(
          'Cross-cluster DNS suffix: a Service is reachable from every cluster as <service>.<namespace>.<cluster>.<suffix>.',
        ),
      })
      .describe('Cross-cluster service discovery.'),
    managementCluster: z
      .strictObject({
        name: dnsLabel('cluster name').describe('ArgoCD destination name of the management cluster (runs ArgoCD).'),
      })
      .describe('The cluster that runs ArgoCD and the multi-cluster operators.'),
    storageClass: z.string().min(1).describe('StorageClass for every PVC the platform creates.'),
    lab: z
      .boolean()
      .default(false)
      .describe('true: a lab or development platform, where development-only settings are allowed (e.g. app.loginCodes.sender: log). Never for production.'),
    regions: z.array(region).min(1, { message: 'needs at least one region' }).max(64),
    acknowledgedChanges: z
      .array(z.string().min(3))
      .default([])
      .describe(
        'Dangerous changes you accept, each exactly as `npm run plan` prints it (e.g. "remove-region:fsn1"). Without it, plan and synth refuse the change.',
      ),
  };
}

/**
 * Each component's part of the config, by key. Empty here: every `constructs/<component>/config.ts`
 * adds its key (TypeScript declaration merging), so the config type grows with the component list.
 */
export interface ComponentConfigs {}
/** The same parts as written in the YAML (defaults optional). */
export interface ComponentConfigInputs {}
/** Each component's part of a region entry (e.g. `cassandra: {datacenter, size, racks}`). */
export interface RegionComponentConfigs {}
export interface RegionComponentConfigInputs {}

const BaseObjectSchema = z.strictObject(baseShape(RegionBaseSchema));

/** One validated region. */
export type Region = z.output<typeof RegionBaseSchema> & RegionComponentConfigs;
/** The validated config with defaults applied. */
export type PlatformConfig = Omit<z.output<typeof BaseObjectSchema>, 'regions'> & { regions: Region[] } & ComponentConfigs;
/** A region as written. */
export type RegionInput = z.input<typeof RegionBaseSchema> & RegionComponentConfigInputs;
/** The config as written (defaults optional). */
export type PlatformConfigInput = Omit<z.input<typeof BaseObjectSchema>, 'regions'> & { regions: RegionInput[] } & ComponentConfigInputs;

/** A declarative cross-field rule's finding: where, and what to do. */
export interface PlatformRuleViolation {
  readonly path: ReadonlyArray<string | number>;
  readonly message: string;
}

/**
 * One named cross-field rule. `path` is where a failure of the rule itself is reported: the
 * part of the config the rule reads.
 */
export interface PlatformRule {
  readonly name: string;
  readonly path: ReadonlyArray<string | number>;
  readonly check: (c: PlatformConfig) => PlatformRuleViolation[];
}

export const rule = (name: string, path: ReadonlyArray<string | number>, check: (c: PlatformConfig) => PlatformRuleViolation[]): PlatformRule => ({
  name,
  path,
  check,
});

/** A component's part of the config: a top-level key, optionally a key in every region, and its rules. */
export interface ConfigSlice {
  /** Top-level key, e.g. `nats`; its schema carries its default (`prefault`) or `optional()`. */
  readonly key: string;
  readonly schema: z.ZodType;
  /** The component's key in every region entry. */
  readonly region?: { readonly key: string; readonly schema: z.ZodType };
  /** Cross-field rules of this slice (they see the whole config). */
  readonly rules?: readonly PlatformRule[];
}

/** The rules about the platform as a whole; `componentNames` are the Application name parts to check. */
export function platformRulesOf(componentNames: readonly string[]): PlatformRule[] {
  return [
    rule('unique-region-identities', ['regions'], (c) => {
      const v: PlatformRuleViolation[] = [];
      for (const field of ['name', 'ordinal', 'cluster'] as const) {
        for (const [first, dup] of duplicates(c.regions, (r) => r[field])) {
          v.push({
            path: ['regions', dup, field],
            message: `duplicate region ${field} ${JSON.stringify(c.regions[dup]![field])}, already used by regions[${first}] (every region needs its own ${field})`,
          });
        }
      }
      return v;
    }),
    rule('region-not-management-cluster', ['regions'], (c) =>
      c.regions.flatMap((r, i) =>
        r.cluster === c.managementCluster.name
          ? [
              {
                path: ['regions', i, 'cluster'],
                message: `cluster "${r.cluster}" is the management cluster (a region needs its own cluster; the management cluster only runs ArgoCD and operators)`,
              },
            ]
          : [],
      ),
    ),
    rule('joining-sync-source', ['regions'], (c) => {
      const v: PlatformRuleViolation[] = [];
      c.regions.forEach((r, i) => {
        if (r.state === 'joining') {
          const source = c.regions.find((x) => x.name === r.syncFrom);
          if (r.syncFrom === undefined) {
            v.push({ path: ['regions', i, 'syncFrom'], message: `a joining region needs syncFrom: the active region to copy Postgres data from (add syncFrom: ${c.regions.find((x) => x.state === 'active')?.name ?? '<region>'})` });
          } else if (!source || source.state !== 'active') {
            v.push({ path: ['regions', i, 'syncFrom'], message: `syncFrom "${r.syncFrom}" is not an active region (use one of ${c.regions.filter((x) => x.state === 'active').map((x) => x.name).join(', ') || 'none'})` });
          }
        } else if (r.syncFrom !== undefined) {
          v.push({ path: ['regions', i, 'syncFrom'], message: `syncFrom only applies to a joining region, got state "${r.state}" (remove syncFrom)` });
        }
      });
      return v;
    }),
    rule('computed-name-lengths', ['regions'], (c) => computedNameRules(c, componentNames).map((r) => ({ path: r.path, message: r.message }))),
  ];
}

/**
 * Runs every rule on its own: a rule that throws is reported as a problem at its path (with
 * its name), never skipped, and the other rules still run. A shape error elsewhere can make a
 * rule throw (the rules also run on a config whose fields failed, so one run lists every
 * problem); the message then says to fix the other problems first.
 */
export function platformRules(c: PlatformConfig, rules: readonly PlatformRule[]): PlatformRuleViolation[] {
  return rules.flatMap((r): PlatformRuleViolation[] => {
    try {
      return r.check(c);
    } catch (e) {
      const why = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
      return [
        {
          path: [...r.path],
          message: `cross-field rule "${r.name}" could not check this part of the config (${why}); fix the other problems reported for it first, and if there are none, this is a bug in regionmesh: report it with this message`,
        },
      ];
    }
  });
}

/**
 * The platform schema with `slices` merged in (top-level keys after the platform's own, region
 * keys after a region's identity, in slice order), running the platform rules and then every
 * slice's rules. `componentNames` are the components' names (Application names are checked).
 */
export function composePlatformSchema(slices: readonly ConfigSlice[], componentNames: readonly string[]): z.ZodType<PlatformConfig, PlatformConfigInput> {
  for (const [first, dup] of duplicates(slices, (s) => s.key)) {
    throw new Error(`config slices ${first} and ${dup} both claim the key "${slices[dup]!.key}" (each top-level key belongs to one component)`);
  }
  const region = RegionBaseSchema.extend(Object.fromEntries(slices.flatMap((s) => (s.region ? [[s.region.key, s.region.schema]] : [])))).describe(
    'One region: a Kubernetes cluster that serves users on its own.',
  );
  const object = z.strictObject({ ...baseShape(region), ...Object.fromEntries(slices.map((s) => [s.key, s.schema])) });
  const rules = [...platformRulesOf(componentNames), ...slices.flatMap((s) => s.rules ?? [])];
  return object.superRefine(
    (config, ctx) => {
      // No try/catch here: platformRules reports a rule that throws as a problem of its own.
      for (const violation of platformRules(config as unknown as PlatformConfig, rules)) {
        ctx.addIssue({ code: 'custom', path: [...violation.path], message: violation.message, params: { crossField: true } });
      }
    },
    // Run the cross-field rules even when a field failed, so one run lists every problem.
    { when: (payload) => payload.value !== null && typeof payload.value === 'object' },
  ) as unknown as z.ZodType<PlatformConfig, PlatformConfigInput>;
}
