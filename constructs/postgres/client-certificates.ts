import { ApiObject } from 'cdk8s';
import type { Construct } from 'constructs';
import { PostgresSecrets, SPOCK_REPLICATION_ROLE } from '../../regions/names.js';

export interface PostgresClientCertificatesProps {
  readonly namespace: string;
  readonly labels: Record<string, string>;
}

/** Roles that authenticate with a client certificate, and the Secret each one's key pair lands in. */
export const CLIENT_CERTIFICATES: ReadonlyArray<{ secret: string; commonName: string }> = [
  { secret: PostgresSecrets.streamingReplica, commonName: 'streaming_replica' },
  { secret: PostgresSecrets.pgedge, commonName: SPOCK_REPLICATION_ROLE },
  { secret: PostgresSecrets.admin, commonName: 'admin' },
  { secret: PostgresSecrets.app, commonName: 'app' },
];

/**
 * An Issuer backed by the shared client CA plus one client Certificate per role. Every
 * region issues its own key pairs from the same CA, so the only Secret copied between
 * regions is the CA itself (instead of the chart's "provision in one cluster, copy five
 * Secrets by hand").
 */
export class PostgresClientCertificates {
  public readonly issuerName = 'pgedge-client-ca';

  constructor(scope: Construct, props: PostgresClientCertificatesProps) {
    new ApiObject(scope, 'client-ca-issuer', {
      apiVersion: 'cert-manager.io/v1',
      kind: 'Issuer',
      metadata: { name: this.issuerName, namespace: props.namespace, labels: props.labels },
      spec: { ca: { secretName: PostgresSecrets.clientCa } },
    });
    for (const cert of CLIENT_CERTIFICATES) {
      new ApiObject(scope, `cert-${cert.secret}`, {
        apiVersion: 'cert-manager.io/v1',
        kind: 'Certificate',
        metadata: { name: cert.secret, namespace: props.namespace, labels: props.labels },
        spec: {
          secretName: cert.secret,
          commonName: cert.commonName,
          duration: '2160h',
          renewBefore: '360h',
          privateKey: { algorithm: 'ECDSA', size: 256, rotationPolicy: 'Always' },
          usages: ['digital signature', 'key encipherment', 'client auth'],
          issuerRef: { group: 'cert-manager.io', kind: 'Issuer', name: this.issuerName },
          // CloudNativePG reads these Secrets only when they carry its label.
          secretTemplate: { labels: { 'cnpg.io/reload': 'true' } },
        },
      });
    }
  }
}
