import { ApiObject } from 'cdk8s';
import type { Construct } from 'constructs';

export interface GatewayCertificateProps {
  readonly namespace: string;
  /** Secret cert-manager writes (`tls.crt`, `tls.key`, `ca.crt`). */
  readonly secretName: string;
  /** The hostname peers dial; the certificate's only DNS SAN. */
  readonly gatewayHost: string;
  readonly issuer: { readonly kind: 'ClusterIssuer' | 'Issuer'; readonly name: string };
  /** Validity, e.g. `2160h`. */
  readonly duration: string;
  /** Renew this long before expiry, e.g. `360h`. */
  readonly renewBefore: string;
  readonly labels: Record<string, string>;
}

/**
 * The gateway's key pair. NATS gateway TLS is always mutual, so the certificate carries both
 * server and client usages; peers verify it against the hostname in their gateway URL.
 */
export class GatewayCertificate extends ApiObject {
  constructor(scope: Construct, id: string, props: GatewayCertificateProps) {
    super(scope, id, {
      apiVersion: 'cert-manager.io/v1',
      kind: 'Certificate',
      metadata: { name: props.secretName, namespace: props.namespace, labels: props.labels },
      spec: {
        secretName: props.secretName,
        dnsNames: [props.gatewayHost],
        duration: props.duration,
        renewBefore: props.renewBefore,
        privateKey: { algorithm: 'ECDSA', size: 256, rotationPolicy: 'Always' },
        usages: ['digital signature', 'key encipherment', 'server auth', 'client auth'],
        issuerRef: { group: 'cert-manager.io', kind: props.issuer.kind, name: props.issuer.name },
      },
    });
  }
}
