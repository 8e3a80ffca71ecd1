/** The `app` part of the config: the regionmesh image and the chat backend's size. */
import { z } from 'zod';
import { dnsLabel, imageRef, ResourcesSchema } from '../../regions/fields.js';
import { rule, type ConfigSlice } from '../../regions/schema.js';

export const AppSchema = z
  .strictObject({
    image: imageRef.describe('The regionmesh app image (chat backend and bootstrap jobs), pinned.'),
    namespace: dnsLabel('namespace').default('chat').describe('Namespace of the chat backend in every region.'),
    minReplicas: z.int().min(1).max(100).default(2).describe('Chat backend pods per region at least (HPA minimum).'),
    maxReplicas: z.int().min(1).max(500).default(10).describe('Chat backend pods per region at most (HPA maximum).'),
    targetCpuUtilization: z.int().min(10).max(100).default(70).describe('HPA target: average CPU, percent of the request.'),
    resources: ResourcesSchema.default({ cpu: '200m', memory: '256Mi' }),
    shutdownGraceSeconds: z.int().min(5).max(300).default(20).describe('Time to drain sockets and NATS on shutdown.'),
  })
  .describe('The regionmesh runtime image built from app/Dockerfile.');

export type AppConfig = z.output<typeof AppSchema>;

declare module '../../regions/schema.js' {
  interface ComponentConfigs {
    app: AppConfig;
  }
  interface ComponentConfigInputs {
    app: z.input<typeof AppSchema>;
  }
}

export const appConfig: ConfigSlice = {
  key: 'app',
  schema: AppSchema,
  rules: [
    rule('app-replicas', ['app'], (c) =>
      c.app.maxReplicas < c.app.minReplicas
        ? [{ path: ['app', 'maxReplicas'], message: `maxReplicas ${c.app.maxReplicas} is below minReplicas ${c.app.minReplicas} (raise maxReplicas)` }]
        : [],
    ),
  ],
};
