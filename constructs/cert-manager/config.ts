/** The `certManager` part of the config. */
import { z } from 'zod';
import { dnsLabel, helmRepoUrl } from '../../regions/fields.js';
import type { ConfigSlice } from '../../regions/schema.js';

export const CertManagerSchema = z
  .strictObject({
    chart: z
      .strictObject({
        repoURL: helmRepoUrl.default('https://charts.jetstack.io'),
        version: z.string().regex(/^v[0-9]+\.[0-9]+\.[0-9]+$/, { message: 'is not an exact cert-manager version (e.g. "v1.19.1")' }).default('v1.19.1'),
      })
      .prefault({}),
    namespace: dnsLabel('namespace').default('cert-manager'),
  })
  .describe('cert-manager, installed in every cluster that needs certificates (gateway TLS).');

export type CertManagerConfig = z.output<typeof CertManagerSchema>;

declare module '../../regions/schema.js' {
  interface ComponentConfigs {
    certManager: CertManagerConfig;
  }
  interface ComponentConfigInputs {
    certManager?: z.input<typeof CertManagerSchema>;
  }
}

export const certManagerConfig: ConfigSlice = { key: 'certManager', schema: CertManagerSchema.prefault({}) };
