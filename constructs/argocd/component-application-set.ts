import { ApiObject } from 'cdk8s';
import type { Construct } from 'constructs';
import { applicationName, applicationSetName, DistPaths, Labels } from '../../regions/names.js';
import type { ProjectDestination } from './app-project.js';
import { automatedSyncPolicy } from './sync-policy.js';

/** A pinned Helm chart from its public repository. */
export interface PinnedChart {
  readonly repoURL: string;
  readonly chart: string;
  /** Exact chart version. */
  readonly version: string;
  /** Helm release name (fixed, so chart names never depend on the Application name). */
  readonly releaseName: string;
}

/** One cluster the component is deployed to. */
export interface ComponentTarget {
  /** Region name, or `management` for the management cluster; suffix of the Application name. */
  readonly target: string;
  /** ArgoCD destination cluster name. */
  readonly cluster: string;
}

export interface ComponentApplicationSetProps {
  readonly platform: string;
  readonly component: string;
  /** ArgoCD namespace (where the ApplicationSet and its Applications live). */
  readonly argocdNamespace: string;
  readonly project: string;
  /** Git repository holding dist/, its revision and the dist path inside it. */
  readonly gitops: { readonly repoURL: string; readonly revision: string; readonly path: string };
  /** Namespace the component is deployed to in every target cluster. */
  readonly namespace: string;
  readonly targets: readonly ComponentTarget[];
  /** The chart, installed with `values/<cluster>/<chart>.yaml`. Omit for plain manifests only. */
  readonly helm?: PinnedChart;
  /** Also sync `clusters/<cluster>/<component>` (Namespace, Certificates, Jobs...). */
  readonly manifests: boolean;
  /** Extra sync options, e.g. `ServerSideApply=true` for big CRDs. */
  readonly syncOptions?: readonly string[];
  /** Let automated sync delete objects that left Git. Off for databases. @default true */
  readonly prune?: boolean;
  /** `argocd.argoproj.io/sync-wave` of this ApplicationSet in the root app. @default none */
  readonly syncWave?: number;
}

/** The per-target parameters; computed in TS so the Go template only substitutes. */
export interface ComponentElement {
  readonly name: string;
  readonly target: string;
  readonly cluster: string;
  /** Present when the component has a chart. */
  readonly valueFile?: string;
  readonly manifests: string;
}

/**
 * One ApplicationSet per component: a list generator whose elements are computed here,
 * `goTemplate` with `missingkey=error`, multi-source Helm (pinned chart + `$values` from the
 * GitOps repo) plus the component's plain manifests, destination by cluster name.
 */
export class ComponentApplicationSet extends ApiObject {
  public readonly elements: readonly ComponentElement[];
  /** Every (cluster, namespace) this ApplicationSet deploys to (for the AppProject). */
  public readonly destinations: readonly ProjectDestination[];
  /** Repositories this ApplicationSet reads (for the AppProject). */
  public readonly sourceRepos: readonly string[];
  public readonly component: string;

  constructor(scope: Construct, id: string, props: ComponentApplicationSetProps) {
    if (props.targets.length === 0) {
      throw new Error(`ApplicationSet for component "${props.component}" has no target clusters`);
    }
    if (!props.helm && !props.manifests) {
      throw new Error(`ApplicationSet for component "${props.component}" has neither a chart nor manifests`);
    }
    const root = props.gitops.path;
    const elements: ComponentElement[] = props.targets.map((t) => ({
      name: applicationName({ platform: props.platform }, props.component, t.target),
      target: t.target,
      cluster: t.cluster,
      ...(props.helm ? { valueFile: `$values/${root}/${DistPaths.values(t.cluster, props.helm.chart)}` } : {}),
      manifests: `${root}/${DistPaths.clusterComponent(t.cluster, props.component)}`,
    }));
    const names = new Set(elements.map((e) => e.name));
    if (names.size !== elements.length) {
      throw new Error(`ApplicationSet for component "${props.component}" has duplicate Application names`);
    }

    const sources: Array<Record<string, unknown>> = [];
    if (props.helm) {
      sources.push(
        {
          repoURL: props.helm.repoURL,
          chart: props.helm.chart,
          targetRevision: props.helm.version,
          helm: {
            releaseName: props.helm.releaseName,
            valueFiles: ['{{.valueFile}}'],
            ignoreMissingValueFiles: false,
            skipTests: true,
          },
        },
        { repoURL: props.gitops.repoURL, targetRevision: props.gitops.revision, ref: 'values' },
      );
    }
    if (props.manifests) {
      sources.push({
        repoURL: props.gitops.repoURL,
        targetRevision: props.gitops.revision,
        path: '{{.manifests}}',
        directory: { recurse: false },
      });
    }

    super(scope, id, {
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'ApplicationSet',
      metadata: {
        name: applicationSetName({ platform: props.platform }, props.component),
        namespace: props.argocdNamespace,
        labels: {
          [Labels.partOf]: props.platform,
          [Labels.managedBy]: 'regionmesh',
          [Labels.component]: props.component,
        },
        ...(props.syncWave !== undefined ? { annotations: { 'argocd.argoproj.io/sync-wave': String(props.syncWave) } } : {}),
      },
      spec: {
        goTemplate: true,
        goTemplateOptions: ['missingkey=error'],
        generators: [{ list: { elements: elements.map((e) => ({ ...e })) } }],
        // Removing an element (or the whole ApplicationSet) must never delete workloads.
        syncPolicy: { preserveResourcesOnDeletion: true },
        template: {
          metadata: {
            name: '{{.name}}',
            labels: {
              [Labels.partOf]: props.platform,
              [Labels.component]: props.component,
              [Labels.region]: '{{.target}}',
            },
          },
          spec: {
            project: props.project,
            destination: { name: '{{.cluster}}', namespace: props.namespace },
            sources,
            syncPolicy: automatedSyncPolicy(props.syncOptions ?? [], { prune: props.prune ?? true }),
          },
        },
      },
    });
    this.elements = elements;
    this.component = props.component;
    this.destinations = props.targets.map((t) => ({ name: t.cluster, namespace: props.namespace }));
    this.sourceRepos = [props.gitops.repoURL, ...(props.helm ? [props.helm.repoURL] : [])];
  }

  static isComponentApplicationSet(x: unknown): x is ComponentApplicationSet {
    return x instanceof ComponentApplicationSet;
  }
}
