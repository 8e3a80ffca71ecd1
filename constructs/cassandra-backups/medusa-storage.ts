/**
 * The K8ssandraCluster's `medusa` block, derived from the shared object store: the same
 * bucket under `<pathPrefix>/cassandra/<clusterName>`, the endpoint split into host, port and
 * TLS, retention in days. Credentials come from a per-region Secret (key `credentials`).
 */
import { CassandraSecrets, medusaPrefix } from '../../regions/names.js';
import type { PlatformConfig } from '../../regions/schema.js';
import type { BackupsConfig } from '../barman-cloud/config.js';

/** Days in a retention period: d = 1, w = 7, m = 31 (never purges before barman's calendar month). */
export function retentionDays(retention: string): number {
  const m = /^([1-9][0-9]*)([dwm])$/.exec(retention);
  if (!m) throw new Error(`retention "${retention}" is not <n>d, <n>w or <n>m (e.g. "30d")`);
  return Number(m[1]) * { d: 1, w: 7, m: 31 }[m[2] as 'd' | 'w' | 'm'];
}

/** The Medusa cron (5 fields): the configured one, else the Postgres schedule without its seconds. */
export function medusaSchedule(backups: BackupsConfig): string {
  return backups.medusa.schedule ?? backups.schedule.trim().split(/\s+/).slice(1).join(' ');
}

/** `{medusa: {...}}` for the K8ssandraCluster spec, or `{}` when Medusa is off. */
export function medusaSpec(c: PlatformConfig): { medusa?: Record<string, unknown> } {
  const b = c.backups;
  if (!b || !b.medusa.enabled) return {};
  const url = new URL(b.objectStore.endpointURL);
  const aws = /(^|\.)amazonaws\.com$/.test(url.hostname);
  const res = b.medusa.resources;
  const resources = { requests: { cpu: res.cpu, memory: res.memory }, limits: { memory: res.memory } };
  return {
    medusa: {
      storageProperties: {
        storageProvider: aws ? 's3' : 's3_compatible',
        bucketName: b.objectStore.bucket,
        prefix: medusaPrefix(c),
        ...(b.objectStore.region ? { region: b.objectStore.region } : {}),
        ...(aws ? {} : { host: url.hostname, ...(url.port ? { port: Number(url.port) } : {}) }),
        secure: url.protocol === 'https:',
        credentialsType: 'credential-based',
        storageSecretRef: { name: CassandraSecrets.medusaBucket },
        maxBackupAge: retentionDays(b.retention),
        maxBackupCount: 0,
      },
      // Purge backups older than maxBackupAge on a schedule the operator creates per DC.
      purgeBackups: true,
      containerResources: resources,
      initContainerResources: resources,
    },
  };
}
