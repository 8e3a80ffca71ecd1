import { ApiObject } from 'cdk8s';
import type { Construct } from 'constructs';
import { Labels } from '../../regions/names.js';

export interface ProjectDestination {
  /** ArgoCD cluster name. */
  readonly name: string;
  readonly namespace: string;
}

export interface ArgoProjectProps {
  readonly name: string;
  /** Namespace ArgoCD runs in. */
  readonly namespace: string;
  readonly platform: string;
  /** Git and Helm repositories the project may read. */
  readonly sourceRepos: readonly string[];
  /** Exact (cluster, namespace) pairs the project may deploy to. */
  readonly destinations: readonly ProjectDestination[];
  /** Cluster-scoped kinds the project may manage (Namespace, CRDs of operator charts...). */
  readonly clusterResourceWhitelist: ReadonlyArray<{ group: string; kind: string }>;
}

/**
 * The AppProject every generated Application belongs to. Scoped to exactly the repos and
 * (cluster, namespace) pairs the platform uses, never `*`, so an Application cannot be
 * pointed elsewhere.
 */
export class ArgoProject extends ApiObject {
  public readonly projectName: string;

  constructor(scope: Construct, id: string, props: ArgoProjectProps) {
    const destinations = uniqueSorted(props.destinations.map((d) => `${d.name}\u0000${d.namespace}`)).map((k) => {
      const [name, namespace] = k.split('\u0000') as [string, string];
      return { name, namespace };
    });
    const whitelist = uniqueSorted(props.clusterResourceWhitelist.map((r) => `${r.group}\u0000${r.kind}`)).map((k) => {
      const [group, kind] = k.split('\u0000') as [string, string];
      return { group, kind };
    });
    super(scope, id, {
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'AppProject',
      metadata: {
        name: props.name,
        namespace: props.namespace,
        labels: { [Labels.partOf]: props.platform, [Labels.managedBy]: 'regionmesh' },
        // A project that still has Applications cannot be deleted.
        finalizers: ['resources-finalizer.argocd.argoproj.io'],
      },
      spec: {
        description: `regionmesh platform ${props.platform}: generated, do not edit by hand`,
        sourceRepos: uniqueSorted(props.sourceRepos),
        destinations,
        clusterResourceWhitelist: whitelist,
        namespaceResourceBlacklist: [
          // Quotas and limits are owned by the cluster admins, not by platform apps.
          { group: '', kind: 'ResourceQuota' },
          { group: '', kind: 'LimitRange' },
        ],
        orphanedResources: { warn: true },
      },
    });
    this.projectName = props.name;
  }
}

function uniqueSorted(values: readonly string[]): string[] {
  return [...new Set(values)].sort();
}
