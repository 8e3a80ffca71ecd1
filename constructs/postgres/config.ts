/** The `postgres` part of the config: pgEdge chart, operator, image and size. */
import { z } from 'zod';
import { isDnsLabel } from '../../regions/dns.js';
import { dnsLabel, helmRepoUrl, movedToBackups, quantity, ResourcesSchema, semverDefault } from '../../regions/fields.js';
import { postgresRegionNames } from '../../regions/names.js';
import { rule, type ConfigSlice } from '../../regions/schema.js';

export const PostgresSchema = z
  .strictObject({
    appName: dnsLabel('pgEdge appName', 26).describe('pgEdge appName (at most 26 characters): CNPG Clusters are <appName>-n<ordinal>.'),
    namespace: dnsLabel('namespace').default('pgedge'),
    database: z
      .string()
      .regex(/^[a-z][a-z0-9_]{0,62}$/, { message: 'is not a database name' })
      .default('app')
      .describe('Application database (the chart creates it, owned by role app).'),
    chart: z
      .strictObject({ repoURL: helmRepoUrl.default('https://pgedge.github.io/charts'), version: semverDefault('0.2.0') })
      .prefault({}),
    operator: z
      .strictObject({
        chart: z
          .strictObject({ repoURL: helmRepoUrl.default('https://pgedge.github.io/charts'), version: semverDefault('0.27.1') })
          .prefault({}),
        namespace: dnsLabel('namespace').default('cnpg-system'),
      })
      .prefault({})
      .describe('pgEdge\'s build of the CloudNativePG operator chart.'),
    image: z
      .string()
      .regex(/^[^\s:]+:[A-Za-z0-9_.-]+$/, { message: 'is not a pinned image (registry/name:tag)' })
      .refine((i) => !i.endsWith(':latest'), { message: 'is not pinned (use an exact tag, not "latest")' })
      .default('ghcr.io/pgedge/pgedge-postgres:17.6-spock5.0.0-standard-1'),
    instances: z.int().min(1).max(9).default(2).describe('Postgres instances per region (1 primary + standbys).'),
    storageSize: quantity.default('10Gi'),
    resources: ResourcesSchema.default({ cpu: '500m', memory: '1Gi' }),
    walArchive: movedToBackups('postgres.walArchive', 'WAL archiving is configured under backups (the ObjectStore, its name and the plugin reference are generated)'),
    bootstrapDeadlineSeconds: z.int().min(30).max(7200).default(900),
  })
  .describe('Users and rooms: one pgEdge Postgres per region, joined by Spock subscriptions in a full mesh.');

export type PostgresConfig = z.output<typeof PostgresSchema>;

declare module '../../regions/schema.js' {
  interface ComponentConfigs {
    postgres: PostgresConfig;
  }
  interface ComponentConfigInputs {
    postgres: z.input<typeof PostgresSchema>;
  }
}

export const postgresConfig: ConfigSlice = {
  key: 'postgres',
  schema: PostgresSchema,
  rules: [
    rule('postgres-names', ['postgres', 'appName'], (c) => {
      if (!isDnsLabel(c.postgres.appName)) return []; // reported by the field
      return c.regions.flatMap((region) => {
        const rw = postgresRegionNames(c, region).rwService;
        return isDnsLabel(rw) ? [] : [{ path: ['postgres', 'appName'], message: `Service name "${rw}" is not a DNS label of at most 63 characters (shorten postgres.appName)` }];
      });
    }),
  ],
};
