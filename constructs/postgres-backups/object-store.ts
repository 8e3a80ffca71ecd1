import { ApiObject } from 'cdk8s';
import type { Construct } from 'constructs';
import type { Resources } from '../workload.js';

export interface BarmanObjectStoreProps {
  readonly name: string;
  /** The Postgres namespace (the plugin reads ObjectStores in the Cluster's namespace). */
  readonly namespace: string;
  readonly labels: Record<string, string>;
  /** `s3://<bucket>/<folder>`: where this region's Clusters archive (one sub-folder per serverName). */
  readonly destinationPath: string;
  /** S3-compatible endpoint, e.g. `https://<account-id>.r2.cloudflarestorage.com`. */
  readonly endpointURL: string;
  /** The access key, by Secret name and keys (in `namespace`). */
  readonly credentials: { readonly secretName: string; readonly accessKeyIdKey: string; readonly secretAccessKeyKey: string };
  /** Signing region, given to barman-cloud as `AWS_DEFAULT_REGION`. @default none */
  readonly region?: string;
  /** Recovery window in the plugin's format (`30d`, `4w`, `3m`). */
  readonly retention: string;
  /** Resources of the barman-cloud sidecar in every Postgres pod. */
  readonly sidecarResources: Resources;
}

/**
 * A barman-cloud `ObjectStore` (barmancloud.cnpg.io/v1): the destination of a region's WAL
 * archive and base backups, its retention, and the credentials Secret by name.
 */
export class BarmanObjectStore extends ApiObject {
  constructor(scope: Construct, id: string, props: BarmanObjectStoreProps) {
    if (!/^s3:\/\/[^/]+(\/.*)?$/.test(props.destinationPath)) {
      throw new Error(`ObjectStore ${props.name}: destinationPath "${props.destinationPath}" is not s3://<bucket>/<path>`);
    }
    if (!/^[1-9][0-9]*[dwm]$/.test(props.retention)) {
      throw new Error(`ObjectStore ${props.name}: retention "${props.retention}" is not <n>d, <n>w or <n>m (e.g. "30d")`);
    }
    const { secretName, accessKeyIdKey, secretAccessKeyKey } = props.credentials;
    super(scope, id, {
      apiVersion: 'barmancloud.cnpg.io/v1',
      kind: 'ObjectStore',
      metadata: { name: props.name, namespace: props.namespace, labels: props.labels },
      spec: {
        configuration: {
          destinationPath: props.destinationPath,
          endpointURL: props.endpointURL,
          s3Credentials: {
            accessKeyId: { name: secretName, key: accessKeyIdKey },
            secretAccessKey: { name: secretName, key: secretAccessKeyKey },
          },
          // WAL and base backups compressed; two WAL segments / two files uploaded in parallel.
          wal: { compression: 'gzip', maxParallel: 2 },
          data: { compression: 'gzip', jobs: 2 },
        },
        retentionPolicy: props.retention,
        instanceSidecarConfiguration: {
          ...(props.region ? { env: [{ name: 'AWS_DEFAULT_REGION', value: props.region }] } : {}),
          // How often the sidecar applies the retention policy (the plugin's default, set explicitly).
          retentionPolicyIntervalSeconds: 1800,
          resources: {
            requests: { cpu: props.sidecarResources.cpu, memory: props.sidecarResources.memory },
            limits: { memory: props.sidecarResources.memory },
          },
        },
      },
    });
  }
}
