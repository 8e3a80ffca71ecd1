/** The chat backend: one Deployment per region, talking only to its own region's NATS, Cassandra DC and Postgres node. */
import type { ComponentDefinition } from '../component.js';
import { Placement, regionNodeId } from '../component.js';
import { ChatBackend } from './chat-backend.js';
import { appConfig } from './config.js';

export const chat: ComponentDefinition = {
  name: 'chat',
  config: appConfig,
  // A joining region gets the backend once it is active (its data is copied first).
  placement: (c) => Placement.regions(c, (r) => r.state !== 'joining'),
  namespace: (c) => ({ name: c.app.namespace, podSecurity: 'restricted' }),
  application: () => ({ syncOptions: ['ServerSideApply=true', 'SkipDryRunOnMissingResource=true'] }),
  construct: ChatBackend,
  topology: {
    regionNodes: (_c, r) => (r.state === 'joining' ? [] : [`    ${regionNodeId('chat', r.name)}["chat backend"]`]),
    regionEdges: (_c, r) =>
      r.state === 'joining' ? [] : ['nats', 'cas', 'pg'].map((to) => `    ${regionNodeId('chat', r.name)} --> ${regionNodeId(to, r.name)}`),
  },
};
