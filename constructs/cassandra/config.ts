/** The `cassandra` part of the config, and every region's `cassandra` entry (its DC). */
import { z } from 'zod';
import { isDnsLabel } from '../../regions/dns.js';
import { dnsLabel, duplicates, exactVersion, helmRepoUrl, imageTag, movedToBackups, quantity, ResourcesSchema, semverDefault } from '../../regions/fields.js';
import { cassandraRegionNames } from '../../regions/names.js';
import { rule, type ConfigSlice, type PlatformRuleViolation } from '../../regions/schema.js';

export const CassandraSchema = z
  .strictObject({
    clusterName: dnsLabel('Cassandra cluster name', 30).describe(
      'K8ssandraCluster name = Cassandra cluster name (immutable). Prefixes StatefulSets and Services.',
    ),
    namespace: dnsLabel('namespace').default('k8ssandra-operator').describe(
      'Namespace of the operator, the K8ssandraCluster and every DC (the same name in every cluster).',
    ),
    serverVersion: exactVersion.default('5.0.6').describe('Cassandra version, exact (cluster level).'),
    replicationFactor: z.int().min(1).max(9).default(3).describe('Replicas of the chat keyspace in every DC.'),
    keyspace: z
      .string()
      .regex(/^[a-z][a-z0-9_]{0,47}$/, { message: 'is not a CQL keyspace name (lowercase letters, digits, _; start with a letter)' })
      .default('chat'),
    appRole: z
      .string()
      .regex(/^[a-z][a-z0-9_]{0,47}$/, { message: 'is not a role name (lowercase letters, digits, _)' })
      .default('chat_app')
      .describe('The role the chat backend uses (never the superuser).'),
    schemaRegion: dnsLabel('region name', 20).describe('The one region whose Job creates the keyspace, role and tables.'),
    storageSize: quantity.default('10Gi').describe('PVC size per Cassandra node.'),
    heapSize: quantity.default('1Gi').describe('JVM heap (initial = max).'),
    resources: ResourcesSchema.default({ cpu: '1', memory: '4Gi' }),
    reaper: z
      .strictObject({ autoScheduling: z.boolean().default(true).describe('Scheduled repairs for every keyspace.') })
      .prefault({})
      .describe('Reaper (repairs) is always on: one per DC.'),
    medusa: movedToBackups('cassandra.medusa', 'Medusa backups are configured under backups.medusa and use backups.objectStore'),
    operator: z
      .strictObject({
        chart: z
          .strictObject({
            repoURL: helmRepoUrl.default('https://helm.k8ssandra.io/stable'),
            version: semverDefault('1.32.5'),
          })
          .prefault({}),
        imageTag: imageTag.default('v1.32.5').describe('Operator image tag (the chart defaults to "latest").'),
      })
      .prefault({}),
    bootstrapDeadlineSeconds: z.int().min(30).max(7200).default(900),
  })
  .describe('Chat history: one Cassandra cluster, one DC per region, run by k8ssandra-operator on the management cluster.');

export const CassandraRegionSchema = z
  .strictObject({
    datacenter: dnsLabel('datacenter name').describe(
      'Cassandra DC name (DNS-1035 label, immutable): the K8ssandraCluster DC, the NetworkTopologyStrategy key and the driver\'s local DC.',
    ),
    size: z.int().min(1).max(100).default(3).describe('Cassandra nodes in this DC (at least the replication factor).'),
    racks: z
      .array(
        z.strictObject({
          name: dnsLabel('rack name').refine((n) => n.length >= 2, { message: 'must be at least 2 characters (operator rule)' }),
          zone: z.string().min(1).describe('Value of topology.kubernetes.io/zone for this rack.'),
        }),
      )
      .default([])
      .describe('One rack per zone; empty means one rack named "default". Never reorder; add only at the end.'),
  })
  .describe('This region\'s Cassandra datacenter.');

export type CassandraConfig = z.output<typeof CassandraSchema>;
export type CassandraRegionConfig = z.output<typeof CassandraRegionSchema>;

declare module '../../regions/schema.js' {
  interface ComponentConfigs {
    cassandra: CassandraConfig;
  }
  interface ComponentConfigInputs {
    cassandra: z.input<typeof CassandraSchema>;
  }
  interface RegionComponentConfigs {
    cassandra: CassandraRegionConfig;
  }
  interface RegionComponentConfigInputs {
    cassandra: z.input<typeof CassandraRegionSchema>;
  }
}

export const cassandraConfig: ConfigSlice = {
  key: 'cassandra',
  schema: CassandraSchema,
  region: { key: 'cassandra', schema: CassandraRegionSchema },
  rules: [
    rule('unique-datacenters', ['regions'], (c) =>
      duplicates(c.regions, (r) => r.cassandra.datacenter).map(([first, dup]) => ({
        path: ['regions', dup, 'cassandra', 'datacenter'],
        message: `duplicate Cassandra datacenter "${c.regions[dup]!.cassandra.datacenter}", already used by regions[${first}] (every region is its own DC)`,
      })),
    ),
    rule('datacenter-sizes-and-racks', ['regions'], (c) => {
      const v: PlatformRuleViolation[] = [];
      c.regions.forEach((r, i) => {
        const rf = c.cassandra.replicationFactor;
        if (r.cassandra.size < rf) {
          v.push({
            path: ['regions', i, 'cassandra', 'size'],
            message: `DC size ${r.cassandra.size} is below the replication factor ${rf} (LOCAL_QUORUM needs ${rf} replicas in the DC; set size >= ${rf} or lower cassandra.replicationFactor)`,
          });
        }
        const racks = r.cassandra.racks.length;
        if (racks > 0 && r.cassandra.size % racks !== 0) {
          v.push({
            path: ['regions', i, 'cassandra', 'size'],
            message: `DC size ${r.cassandra.size} is not a multiple of its ${racks} racks (use a multiple so every rack holds the same number of nodes)`,
          });
        }
        for (const [first, dup] of duplicates(r.cassandra.racks, (x) => x.name)) {
          v.push({ path: ['regions', i, 'cassandra', 'racks', dup, 'name'], message: `duplicate rack name, already used by racks[${first}] (rename it)` });
        }
      });
      return v;
    }),
    rule('cassandra-schema-region', ['cassandra', 'schemaRegion'], (c) => {
      const schemaLeader = c.regions.find((r) => r.name === c.cassandra.schemaRegion);
      if (!schemaLeader) {
        return [
          {
            path: ['cassandra', 'schemaRegion'],
            message: `"${c.cassandra.schemaRegion}" is not a region (use one of ${c.regions.map((r) => r.name).join(', ')})`,
          },
        ];
      }
      if (schemaLeader.state !== 'active' && c.regions.some((r) => r.state === 'active')) {
        return [{ path: ['cassandra', 'schemaRegion'], message: `schema region "${schemaLeader.name}" is ${schemaLeader.state} (pick an active region)` }];
      }
      return [];
    }),
    rule('cassandra-names', ['regions'], (c) =>
      c.regions.flatMap((region, i) => {
        if (!isDnsLabel(region.cassandra.datacenter) || !isDnsLabel(c.cassandra.clusterName)) return []; // reported by the fields
        const names = cassandraRegionNames(c, region);
        const path = ['regions', i, 'cassandra', 'datacenter'];
        return [
          ...names.statefulSets
            .filter((sts) => sts.length > 60)
            .map((sts) => ({
              path,
              message: `StatefulSet name "${sts}" is ${sts.length} characters; k8ssandra-operator allows 60 (shorten cassandra.clusterName, the DC name or the rack names)`,
            })),
          ...(isDnsLabel(names.service) ? [] : [{ path, message: `Service name "${names.service}" is longer than 63 characters (shorten cassandra.clusterName or the DC name)` }]),
        ];
      }),
    ),
  ],
};
