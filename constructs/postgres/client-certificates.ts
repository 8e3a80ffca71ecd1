import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import { postgresClientIssuer, PostgresSecrets, SPOCK_REPLICATION_ROLE } from '../../regions/names.js';

export interface PostgresClientCertificatesProps {
  readonly platform: string;
  /** Namespace the certificates and their Secrets live in. */
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
}

export interface PostgresClientIssuerProps {
  readonly platform: string;
  readonly labels: Readonly<Record<string, string>>;
}

export interface PostgresClientCertificateProps extends PostgresClientCertificatesProps {
  /** Secret the key pair lands in (also the Certificate's name). */
  readonly secret: string;
  /** The Postgres role the certificate authenticates as. */
  readonly commonName: string;
}

/** Roles that authenticate with a client certificate, and the Secret each one's key pair lands in. */
export const CLIENT_CERTIFICATES: ReadonlyArray<{ secret: string; commonName: string }> = [
  { secret: PostgresSecrets.streamingReplica, commonName: 'streaming_replica' },
  { secret: PostgresSecrets.pgedge, commonName: SPOCK_REPLICATION_ROLE },
  { secret: PostgresSecrets.admin, commonName: 'admin' },
  { secret: PostgresSecrets.app, commonName: 'app' },
];

/**
 * The ClusterIssuer backed by the shared client CA (a Secret in cert-manager's namespace,
 * identical in every region). Every region issues its own key pairs from it, so the only
 * Secret copied between regions is the CA itself, instead of the chart's "provision in one
 * cluster, copy five Secrets by hand".
 */
export class PostgresClientIssuer extends ApiObject {
  constructor(scope: Construct, id: string, props: PostgresClientIssuerProps) {
    super(scope, id, {
      apiVersion: 'cert-manager.io/v1',
      kind: 'ClusterIssuer',
      metadata: { name: postgresClientIssuer(props), labels: props.labels },
      spec: { ca: { secretName: PostgresSecrets.clientCa } },
    });
  }
}

/** A client certificate (CN = Postgres role) from the shared client CA. */
export class PostgresClientCertificate extends ApiObject {
  constructor(scope: Construct, id: string, props: PostgresClientCertificateProps) {
    super(scope, id, {
      apiVersion: 'cert-manager.io/v1',
      kind: 'Certificate',
      metadata: { name: props.secret, namespace: props.namespace, labels: props.labels },
      spec: {
        secretName: props.secret,
        commonName: props.commonName,
        duration: '2160h',
        renewBefore: '360h',
        privateKey: { algorithm: 'ECDSA', size: 256, rotationPolicy: 'Always' },
        usages: ['digital signature', 'key encipherment', 'client auth'],
        issuerRef: { group: 'cert-manager.io', kind: 'ClusterIssuer', name: postgresClientIssuer(props) },
        // CloudNativePG reloads Secrets that carry its label.
        secretTemplate: { labels: { 'cnpg.io/reload': 'true' } },
      },
    });
  }
}

/** Every client certificate the pgEdge chart expects, in the pgedge namespace. */
export class PostgresClientCertificates extends Construct {
  constructor(scope: Construct, id: string, props: PostgresClientCertificatesProps) {
    super(scope, id);
    for (const cert of CLIENT_CERTIFICATES) {
      new PostgresClientCertificate(this, `cert-${cert.secret}`, { ...props, ...cert });
    }
  }
}
