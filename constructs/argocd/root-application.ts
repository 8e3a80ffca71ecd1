import { ApiObject } from 'cdk8s';
import type { Construct } from 'constructs';
import { Labels } from '../../regions/names.js';
import { automatedSyncPolicy } from './sync-policy.js';

export interface RootApplicationProps {
  readonly name: string;
  readonly platform: string;
  /** Namespace ArgoCD runs in (the Application and everything it deploys live there). */
  readonly namespace: string;
  readonly repoURL: string;
  readonly revision: string;
  /** Path of the folder holding the AppProject and ApplicationSets, e.g. `dist/argocd`. */
  readonly path: string;
  /** ArgoCD destination name of the management cluster. */
  readonly destinationCluster: string;
}

/**
 * The app of apps: the one Application applied by hand. It syncs `dist/argocd` (the
 * AppProject and one ApplicationSet per component). It lives in the `default` project
 * because it creates the platform's own project.
 */
export class RootApplication extends ApiObject {
  constructor(scope: Construct, id: string, props: RootApplicationProps) {
    super(scope, id, {
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Application',
      metadata: {
        name: props.name,
        namespace: props.namespace,
        labels: { [Labels.partOf]: props.platform, [Labels.managedBy]: 'regionmesh' },
      },
      spec: {
        project: 'default',
        source: {
          repoURL: props.repoURL,
          targetRevision: props.revision,
          path: props.path,
          directory: { recurse: false },
        },
        destination: { name: props.destinationCluster, namespace: props.namespace },
        // ApplicationSet CRDs need server-side apply since ArgoCD 3.3; harmless for the rest.
        syncPolicy: automatedSyncPolicy(['ServerSideApply=true', 'PruneLast=true']),
      },
    });
  }
}
