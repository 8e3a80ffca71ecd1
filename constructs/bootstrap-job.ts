import { k8s } from 'cdk8s-plus-28';
import type { Construct } from 'constructs';
import { Labels } from '../regions/names.js';
import { envVars, resourceRequirements, restrictedContainerSecurity, restrictedPodSecurity, type EnvSource, type Resources } from './workload.js';

export interface BootstrapJobProps {
  /** Job name (fixed: ArgoCD deletes the previous run before creating the next). */
  readonly name: string;
  readonly namespace: string;
  /** The app image, pinned. */
  readonly image: string;
  /** `regionmesh-app` command (`bootstrap-spock`, `bootstrap-cassandra`). */
  readonly command: string;
  readonly env: Readonly<Record<string, EnvSource>>;
  /** Secrets mounted read-only as files: mount path -> Secret name. */
  readonly secretMounts?: Readonly<Record<string, string>>;
  /** Internal deadline of the command, in seconds; the Job's activeDeadlineSeconds adds slack. */
  readonly deadlineSeconds: number;
  /** Retries after a failed run (each run is idempotent). @default 6 */
  readonly backoffLimit?: number;
  readonly resources?: Resources;
  readonly labels: Record<string, string>;
}

/**
 * A run-to-completion bootstrap Job, run as an ArgoCD PostSync hook: after every sync of
 * its Application (once everything else in it is healthy) ArgoCD deletes the previous run
 * (`BeforeHookCreation`) and starts a new one. A changed spec therefore never meets "field
 * is immutable", and every run is safe because every bootstrap command is idempotent.
 * The last run stays for inspection until the next sync.
 */
export class BootstrapJob extends k8s.KubeJob {
  public readonly jobName: string;

  constructor(scope: Construct, id: string, props: BootstrapJobProps) {
    const mounts = Object.entries(props.secretMounts ?? {}).sort(([a], [b]) => a.localeCompare(b));
    const volumeName = (i: number) => `secret-${i}`;
    const podLabels = { ...props.labels, [Labels.component]: props.labels[Labels.component] ?? props.name };
    const template: k8s.PodTemplateSpec = {
      metadata: { labels: podLabels },
      spec: {
        restartPolicy: 'Never',
        automountServiceAccountToken: false,
        enableServiceLinks: false,
        securityContext: restrictedPodSecurity,
        containers: [
          {
            name: props.command,
            image: props.image,
            imagePullPolicy: 'IfNotPresent',
            args: [props.command],
            env: envVars(props.env),
            resources: resourceRequirements(props.resources ?? { cpu: '50m', memory: '128Mi' }),
            securityContext: restrictedContainerSecurity,
            volumeMounts: [
              ...mounts.map(([path], i) => ({ name: volumeName(i), mountPath: path, readOnly: true })),
              { name: 'tmp', mountPath: '/tmp' },
            ],
          },
        ],
        volumes: [
          ...mounts.map(([, secret], i) => ({ name: volumeName(i), secret: { secretName: secret, defaultMode: 0o440 } })),
          { name: 'tmp', emptyDir: { sizeLimit: k8s.Quantity.fromString('16Mi') } },
        ],
      },
    };
    const spec = {
      backoffLimit: props.backoffLimit ?? 6,
      activeDeadlineSeconds: props.deadlineSeconds * ((props.backoffLimit ?? 6) + 1) + 300,
      template,
    };
    super(scope, id, {
      metadata: {
        name: props.name,
        namespace: props.namespace,
        labels: props.labels,
        annotations: {
          'argocd.argoproj.io/hook': 'PostSync',
          'argocd.argoproj.io/hook-delete-policy': 'BeforeHookCreation',
        },
      },
      spec,
    });
    this.jobName = props.name;
  }
}
