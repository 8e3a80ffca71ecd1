import { ApiObject } from 'cdk8s';
import type { Construct } from 'constructs';
import { Labels } from '../regions/names.js';

export interface PlatformNamespaceProps {
  readonly name: string;
  /** Pod Security Standard enforced in the namespace. */
  readonly enforce: 'restricted' | 'baseline' | 'privileged';
  /** Extra labels (part-of, component). */
  readonly labels?: Record<string, string>;
}

/**
 * A Namespace managed in Git (not `CreateNamespace=true`), so its Pod Security labels are
 * reviewed. ArgoCD never deletes it: it holds state (PVCs, Secrets created out of band).
 */
export class PlatformNamespace extends ApiObject {
  public readonly namespaceName: string;

  constructor(scope: Construct, id: string, props: PlatformNamespaceProps) {
    super(scope, id, {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: {
        name: props.name,
        labels: {
          ...props.labels,
          [Labels.managedBy]: 'regionmesh',
          'pod-security.kubernetes.io/enforce': props.enforce,
          'pod-security.kubernetes.io/audit': 'restricted',
          'pod-security.kubernetes.io/warn': 'restricted',
        },
        annotations: {
          'argocd.argoproj.io/sync-options': 'Delete=false,Prune=false',
        },
      },
    });
    this.namespaceName = props.name;
  }
}
