/**
 * Every component regionmesh deploys, in order: the order of the TOPOLOGY.md tables, the
 * danger rules and the ApplicationSets. Adding a component is one folder and one line here
 * (README "Adding a component").
 */
import { barmanCloud } from './barman-cloud/component.js';
import { cassandraBackups } from './cassandra-backups/component.js';
import { cassandra } from './cassandra/component.js';
import { certManager } from './cert-manager/component.js';
import { chatEndpoint } from './chat-endpoint/component.js';
import { chat } from './chat/component.js';
import { cnpgOperator } from './cnpg-operator/component.js';
import { externalDns } from './external-dns/component.js';
import { externalSecrets } from './external-secrets/component.js';
import type { ComponentDefinition } from './component.js';
import { k8gb } from './k8gb/component.js';
import { k8ssandraOperator } from './k8ssandra-operator/component.js';
import { nats } from './nats/component.js';
import { postgresBackups } from './postgres-backups/component.js';
import { postgres } from './postgres/component.js';

export const COMPONENTS: readonly ComponentDefinition[] = [
  certManager,
  nats,
  k8ssandraOperator,
  cassandra,
  cnpgOperator,
  postgres,
  barmanCloud,
  postgresBackups,
  cassandraBackups,
  chat,
  chatEndpoint,
  k8gb,
  externalDns,
  // Last: it reads every other component's SecretRequirements (keep new components above it).
  externalSecrets,
];
