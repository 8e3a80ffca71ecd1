/** Zod building blocks shared by the platform schema (regions/schema.ts) and every component's config slice. */
import { z } from 'zod';
import { DNS_1035_LABEL, DNS_1123_SUBDOMAIN } from './dns.js';

export const dnsLabel = (what: string, max = 63) =>
  z
    .string()
    .max(max, { message: `${what} is longer than ${max} characters (shorten it)` })
    .regex(DNS_1035_LABEL, {
      message: `${what} is not a DNS-1035 label (use lowercase letters, digits and '-', start with a letter, end with a letter or digit)`,
    });

export const dnsSubdomain = (what: string) =>
  z.string().max(253).regex(DNS_1123_SUBDOMAIN, {
    message: `${what} is not a DNS subdomain (use dot-separated lowercase labels such as "internal" or "example.com")`,
  });

export const port = z.int().min(1).max(65535);

/** Kubernetes resource quantity (e.g. `250m`, `512Mi`, `10Gi`). */
export const quantity = z.string().regex(/^[0-9]+(\.[0-9]+)?(m|k|Ki|M|Mi|G|Gi|T|Ti)?$/, {
  message: 'is not a Kubernetes quantity (write e.g. "500m", "256Mi" or "10Gi")',
});

export const exactVersion = z.string().regex(/^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$/, {
  message: 'is not an exact chart version (pin one, e.g. "2.14.2"; ranges are not allowed)',
});

export const helmRepoUrl = z.string().regex(/^(https:\/\/|oci:\/\/)\S+$/, {
  message: 'is not a Helm repository URL (use https://... or oci://...)',
});

export const imageTag = z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/, {
  message: 'is not an image tag (e.g. "2.14.2-alpine")',
}).refine((t) => t !== 'latest', { message: 'is not pinned (use an exact tag such as "2.14.2-alpine")' });

export const ResourcesSchema = z
  .strictObject({
    /** CPU request, e.g. `100m`. */
    cpu: quantity.describe('CPU request, e.g. "100m". No CPU limit is set (throttling hurts latency).'),
    /** Memory request and limit (equal: the pod is never OOM-killed for using what it asked for). */
    memory: quantity.describe('Memory request and limit, e.g. "256Mi".'),
  })
  .describe('Container resources: CPU request; memory request = limit.');

export const imageRef = z.strictObject({
  repository: z.string().min(1),
  tag: imageTag,
});

export const semverDefault = (v: string) => exactVersion.default(v);

/** A key that moved under `backups`: rejected with a pointer to its replacement. */
export function movedToBackups(key: string, why: string) {
  return z
    .unknown()
    .superRefine((_v, ctx) => {
      ctx.addIssue({ code: 'custom', message: `is not accepted here any more: ${why} (remove ${key}; see README "Backups and restore")` });
    })
    .optional()
    .describe(`Removed: ${why}.`);
}

/** Index pairs `[first, duplicate]` of items whose `key` repeats. */
export function duplicates<T>(items: readonly T[], key: (t: T) => string | number): Array<[number, number]> {
  const seen = new Map<string | number, number>();
  const pairs: Array<[number, number]> = [];
  items.forEach((item, i) => {
    const k = key(item);
    const first = seen.get(k);
    if (first === undefined) seen.set(k, i);
    else pairs.push([first, i]);
  });
  return pairs;
}
