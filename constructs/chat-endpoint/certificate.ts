import { ApiObject } from 'cdk8s';
import type { Construct } from 'constructs';
import { acmeClusterIssuerName, ChatEndpointNames } from '../../regions/names.js';

export interface ChatCertificateProps {
  readonly platform: string;
  readonly namespace: string;
  /** DNS names, region-pinned first (the certificate's common name is left out: ACME CAs take SANs). */
  readonly hosts: readonly string[];
  readonly labels: Readonly<Record<string, string>>;
}

/**
 * The endpoint's TLS certificate for both hostnames, from the ACME ClusterIssuer. Each region's
 * set of names differs (its region-pinned name), so N regions never hit Let's Encrypt's
 * duplicate-certificate limit (5 per identical set of names per week).
 */
export class ChatCertificate extends ApiObject {
  constructor(scope: Construct, id: string, props: ChatCertificateProps) {
    super(scope, id, {
      apiVersion: 'cert-manager.io/v1',
      kind: 'Certificate',
      metadata: { name: ChatEndpointNames.certificate, namespace: props.namespace, labels: { ...props.labels } },
      spec: {
        secretName: ChatEndpointNames.tlsSecret,
        dnsNames: [...props.hosts],
        // Let's Encrypt issues 90-day certificates; renew 30 days before expiry (cert-manager's default, set explicitly).
        renewBefore: '720h',
        privateKey: { algorithm: 'ECDSA', size: 256, rotationPolicy: 'Always' },
        usages: ['digital signature', 'server auth'],
        issuerRef: { group: 'cert-manager.io', kind: 'ClusterIssuer', name: acmeClusterIssuerName(props.platform) },
      },
    });
  }
}
