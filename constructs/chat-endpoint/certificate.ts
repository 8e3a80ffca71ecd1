import { ApiObject } from 'cdk8s';
import type { Construct } from 'constructs';
import { acmeClusterIssuerName } from '../../regions/names.js';

export interface ChatCertificateProps {
  readonly platform: string;
  /** Certificate name and the Secret it writes. */
  readonly name: string;
  readonly secretName: string;
  readonly namespace: string;
  /** DNS names (no common name: ACME CAs take SANs). */
  readonly hosts: readonly string[];
  readonly labels: Readonly<Record<string, string>>;
}

/**
 * A TLS certificate of the endpoint from the ACME ClusterIssuer: `chat` for the global name and
 * the region's own pinned name, `chat-peers` for the other active regions' pinned names. Both
 * sets differ from region to region, so N regions never meet Let's Encrypt's
 * duplicate-certificate limit (5 per identical set of names per week).
 */
export class ChatCertificate extends ApiObject {
  constructor(scope: Construct, id: string, props: ChatCertificateProps) {
    super(scope, id, {
      apiVersion: 'cert-manager.io/v1',
      kind: 'Certificate',
      metadata: { name: props.name, namespace: props.namespace, labels: { ...props.labels } },
      spec: {
        secretName: props.secretName,
        dnsNames: [...props.hosts],
        // Renew when a third of the lifetime is left (cert-manager's default, written out). A
        // percentage, not a duration: the CA sets the lifetime, and Let's Encrypt's shrinks
        // (90 days, then 64 and 45), where a fixed renewBefore would come to exceed it.
        renewBeforePercentage: 33,
        privateKey: { algorithm: 'ECDSA', size: 256, rotationPolicy: 'Always' },
        usages: ['digital signature', 'server auth'],
        issuerRef: { group: 'cert-manager.io', kind: 'ClusterIssuer', name: acmeClusterIssuerName(props.platform) },
      },
    });
  }
}
