/**
 * The `backups` part of the config: one S3-compatible object store for Postgres (barman-cloud
 * plugin) and Cassandra (Medusa). Owned by the barman-cloud component; postgres-backups and
 * cassandra-backups read it too. Replaces postgres.walArchive and cassandra.medusa.
 */
import { z } from 'zod';
import { CNPG_CRON, cronProblem, STANDARD_CRON } from '../../regions/cron.js';
import { dnsLabel, dnsSubdomain, exactVersion, helmRepoUrl, imageTag, ResourcesSchema } from '../../regions/fields.js';
import { rule, type ConfigSlice, type PlatformRuleViolation } from '../../regions/schema.js';

const cnpgSchedule = z.string().superRefine((v, ctx) => {
  const problem = cronProblem(v, CNPG_CRON);
  if (!problem) return;
  const five = v.trim().split(/\s+/).length === 5 && !cronProblem(v, STANDARD_CRON);
  ctx.addIssue({
    code: 'custom',
    message: five
      ? `is a 5-field cron; CloudNativePG's ScheduledBackup takes 6 fields with seconds first (write "0 ${v.trim()}")`
      : `is not a CloudNativePG schedule: ${problem} (write 6 fields, seconds first: "<second> <minute> <hour> <day of month> <month> <day of week>", e.g. "0 0 2 * * *" for 02:00 every day)`,
  });
});

const standardSchedule = z.string().superRefine((v, ctx) => {
  const problem = cronProblem(v, STANDARD_CRON);
  if (problem) {
    ctx.addIssue({
      code: 'custom',
      message: `is not a 5-field cron schedule: ${problem} (write "<minute> <hour> <day of month> <month> <day of week>", e.g. "0 3 * * *")`,
    });
  }
});

/** Endpoint of an S3-compatible store: scheme, host, optional port; nothing else. */
const s3EndpointUrl = z.string().superRefine((v, ctx) => {
  const fix = 'write https://<host>[:port] only, e.g. "https://<account-id>.r2.cloudflarestorage.com"; bucket and pathPrefix are separate fields';
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    ctx.addIssue({ code: 'custom', message: `is not a URL (${fix})` });
    return;
  }
  // User-info is reported by the backups rule, which never echoes the value.
  if (u.username || u.password) return;
  if (u.protocol !== 'https:' && u.protocol !== 'http:') ctx.addIssue({ code: 'custom', message: `uses scheme "${u.protocol}" (${fix})` });
  else if (u.pathname !== '/' || u.search || u.hash || v.endsWith('/')) ctx.addIssue({ code: 'custom', message: `has a path, query or trailing "/" (${fix})` });
});

const secretKeyName = z.string().max(253).regex(/^[-._a-zA-Z0-9]+$/, { message: 'is not a Secret key name (letters, digits, "-", "_", ".")' });

export const BackupsSchema = z
  .strictObject({
    objectStore: z
      .strictObject({
        endpointURL: s3EndpointUrl.describe(
          'S3-compatible endpoint, scheme + host (+ port), e.g. https://<account-id>.r2.cloudflarestorage.com (Cloudflare R2), https://s3.eu-central-1.amazonaws.com, http://minio.minio.svc:9000.',
        ),
        bucket: z
          .string()
          .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, {
            message: 'is not an S3 bucket name (3-63 lowercase letters, digits, "." and "-", starting and ending with a letter or digit)',
          })
          .describe('Bucket that holds every backup of the platform (it must exist).'),
        pathPrefix: z
          .string()
          .max(200)
          .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9._-]*)*$/, {
            message: 'is not a path prefix (segments of letters, digits, ".", "_", "-" joined by "/", no leading or trailing "/", e.g. "astring/prod")',
          })
          .optional()
          .describe('Folder inside the bucket: Postgres archives go to <prefix>/postgres/<region>, Medusa to <prefix>/cassandra/<clusterName>.'),
        region: z
          .string()
          .regex(/^[a-z0-9][a-z0-9-]{0,31}$/, { message: 'is not a storage region (e.g. "auto" for Cloudflare R2, "eu-central-1" for AWS)' })
          .optional()
          .describe('Signing region (AWS_DEFAULT_REGION for barman-cloud, Medusa region). R2 uses "auto"; omit for stores that ignore it.'),
        credentials: z
          .strictObject({
            secretName: dnsSubdomain('Secret name').describe(
              'Secret with the access key, in the Postgres namespace of every region (you create it; SECRETS.md lists it).',
            ),
            accessKeyIdKey: secretKeyName.default('ACCESS_KEY_ID').describe('Key of the access key id in that Secret.'),
            secretAccessKeyKey: secretKeyName.default('ACCESS_SECRET_KEY').describe('Key of the secret access key in that Secret.'),
          })
          .describe('Access key of the object store, by Secret name (never a value).'),
      })
      .describe('The one S3-compatible object store every backup goes to.'),
    retention: z
      .string()
      .regex(/^[1-9][0-9]*[dwm]$/, { message: 'is not a retention period (a number then d, w or m, e.g. "30d", "4w", "3m")' })
      .default('30d')
      .describe('Keep backups this long: the ObjectStore recovery window (d days, w weeks, m months); Medusa purges backups older than it (a month counts 31 days).'),
    schedule: cnpgSchedule
      .default('0 0 2 * * *')
      .describe('Postgres base backups, CloudNativePG cron with 6 fields, seconds first (default 02:00 every day, in the operator\'s time zone). WAL is archived continuously.'),
    plugin: z
      .strictObject({
        chart: z
          .strictObject({ repoURL: helmRepoUrl.default('https://pgedge.github.io/charts'), version: exactVersion.default('0.5.0') })
          .prefault({})
          .describe('pgEdge\'s build of the `plugin-barman-cloud` chart (0.5.0 = plugin v0.11.0).'),
        imageTag: imageTag.default('v0.11.0').describe('Plugin and sidecar image tag, pinned (= the chart\'s appVersion).'),
        resources: ResourcesSchema.default({ cpu: '50m', memory: '128Mi' }).describe('The plugin Deployment in the CloudNativePG namespace.'),
        sidecarResources: ResourcesSchema.default({ cpu: '100m', memory: '256Mi' }).describe('The barman-cloud sidecar in every Postgres pod.'),
      })
      .prefault({})
      .describe('The barman-cloud CNPG-I plugin, installed next to the CloudNativePG operator in every region.'),
    archiveGenerations: z
      .record(dnsLabel('region name', 20), z.int().min(1).max(999))
      .default({})
      .describe(
        'Per region, the archive generation of its Postgres: after restoring a region from its archive, bump it (e.g. {mn: 1}) so the restored node archives to a fresh folder <cluster>-g<N>; barman refuses to archive where another timeline of the cluster already wrote.',
      ),
    restore: z
      .strictObject({
        region: dnsLabel('region name', 20).describe('The region whose Postgres node is re-created from its own archive.'),
        targetTime: z
          .string()
          .regex(/^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:?[0-9]{2})$/, {
            message: 'is not a timestamp with a time zone (e.g. "2026-11-27T21:30:00Z")',
          })
          .optional()
          .describe('Point in time to recover to (RFC 3339 with zone); default: the end of the archive.'),
      })
      .optional()
      .describe(
        'Restore: the region\'s CNPG Cluster bootstraps from its archive (bootstrap.recovery + externalClusters through the plugin) instead of initdb. Needs archiveGenerations.<region> >= 1 (the restored node writes to a fresh folder and reads the previous one). Takes effect when the Cluster is (re)created: README "Backups and restore".',
      ),
    medusa: z
      .strictObject({
        enabled: z.boolean().default(true).describe('Medusa backups of every Cassandra DC to the same object store.'),
        schedule: standardSchedule
          .optional()
          .describe('5-field cron of the MedusaBackupSchedule per DC; default: the Postgres schedule without its seconds field.'),
        backupType: z.enum(['differential', 'full']).default('differential'),
        resources: ResourcesSchema.default({ cpu: '100m', memory: '1Gi' }).describe('The Medusa container next to every Cassandra node.'),
      })
      .prefault({})
      .describe('Cassandra backups (Medusa), derived from objectStore and retention.'),
  })
  .describe('Backups to one S3-compatible object store: Postgres WAL archive + scheduled base backups (barman-cloud plugin), Cassandra (Medusa). Omit to run without backups.');

export type BackupsConfig = z.output<typeof BackupsSchema>;

/** Cross-field rules of the backups slice. */
export function backupsRules(c: { readonly regions: ReadonlyArray<{ readonly name: string }>; readonly backups?: BackupsConfig | undefined }): PlatformRuleViolation[] {
  const b = c.backups;
  if (!b) return [];
  const v: PlatformRuleViolation[] = [];
  let url: URL | undefined;
  try {
    url = new URL(b.objectStore.endpointURL);
  } catch {
    url = undefined; // reported by the field
  }
  if (url && (url.username || url.password)) {
    v.push({
      path: ['backups', 'objectStore', 'endpointURL'],
      message: `endpoint URL ${url.protocol}//***@${url.host} carries credentials (remove "user:password@"; the access key belongs in the Secret named by backups.objectStore.credentials.secretName)`,
    });
  }
  const regions = c.regions.map((r) => r.name);
  if (b.restore) {
    const { region } = b.restore;
    if (!regions.includes(region)) {
      v.push({ path: ['backups', 'restore', 'region'], message: `"${region}" is not a region (use one of ${regions.join(', ')})` });
    } else if ((b.archiveGenerations[region] ?? 0) < 1) {
      v.push({
        path: ['backups', 'restore', 'region'],
        message: `restoring "${region}" needs a fresh archive folder for the restored node, got archiveGenerations.${region} = ${b.archiveGenerations[region] ?? 0} (set backups.archiveGenerations.${region}: ${(b.archiveGenerations[region] ?? 0) + 1}; the restore reads the previous generation)`,
      });
    }
  }
  for (const name of Object.keys(b.archiveGenerations)) {
    if (!regions.includes(name)) {
      v.push({ path: ['backups', 'archiveGenerations', name], message: `"${name}" is not a region (use one of ${regions.join(', ')})` });
    }
  }
  // An invalid schedule is reported by its field; derive only from a valid one.
  if (b.medusa.enabled && b.medusa.schedule === undefined && !cronProblem(b.schedule, CNPG_CRON)) {
    const seconds = b.schedule.trim().split(/\s+/)[0] ?? '';
    if (!/^[0-9]+$/.test(seconds)) {
      v.push({
        path: ['backups', 'medusa', 'schedule'],
        message: `Medusa's schedule is derived from backups.schedule "${b.schedule}" by dropping its seconds field, which only works when that field is one number, got "${seconds}" (set backups.medusa.schedule, e.g. "0 3 * * *")`,
      });
    }
  }
  return v;
}

declare module '../../regions/schema.js' {
  interface ComponentConfigs {
    backups: BackupsConfig | undefined;
  }
  interface ComponentConfigInputs {
    backups?: z.input<typeof BackupsSchema>;
  }
}

export const backupsConfig: ConfigSlice = {
  key: 'backups',
  schema: BackupsSchema.optional(),
  rules: [
    rule('backups', ['backups'], backupsRules),
  ],
};

/** The config's `backups`, for a component that is enabled only with it; throws naming `component` otherwise. */
export function backupsOf(c: { readonly backups?: BackupsConfig | undefined }, component: string): BackupsConfig {
  if (!c.backups) throw new Error(`${component}: backups are not configured (the component is enabled only with backups)`);
  return c.backups;
}
