import { ApiObject } from 'cdk8s';
import type { Construct } from 'constructs';
import { cassandraRegionNames, CassandraSecrets, Labels } from '../../regions/names.js';
import { medusaSpec } from '../cassandra-backups/medusa-storage.js';
import type { PlatformConfig } from '../../regions/schema.js';

/**
 * The one K8ssandraCluster, on the management cluster: one datacenter per region (sorted by
 * ordinal), each in its region's kube context. ArgoCD never deletes or prunes it: deleting
 * it deletes every DC and its volumes.
 */
export interface ChatK8ssandraClusterProps {
  /** The platform config: one DC per region, the server settings of `cassandra`, Medusa from `backups`. */
  readonly config: PlatformConfig;
}

export class ChatK8ssandraCluster extends ApiObject {
  /** DC names in the order they are declared (= region ordinal order). */
  public readonly datacenters: readonly string[];

  constructor(scope: Construct, id: string, props: ChatK8ssandraClusterProps) {
    const c = props.config;
    const cas = c.cassandra;
    const datacenters = c.regions.map((r) => {
      const names = cassandraRegionNames(c, r);
      return {
        metadata: { name: names.datacenter },
        k8sContext: names.clientConfig,
        size: r.cassandra.size,
        ...(r.cassandra.racks.length > 0
          ? {
              racks: r.cassandra.racks.map((rack) => ({
                name: rack.name,
                nodeAffinityLabels: { 'topology.kubernetes.io/zone': rack.zone },
              })),
            }
          : {}),
      };
    });
    // Medusa backups to the shared object store (backups.objectStore); nothing when backups are off.
    const medusa = medusaSpec(c);
    // A joining DC is added together with the keyspaces the operator must replicate to it
    // (then it runs `nodetool rebuild`); the annotation must list every user keyspace.
    const joining = c.regions.filter((r) => r.state === 'joining');
    const dcReplication: Record<string, string> =
      joining.length > 0
        ? {
            'k8ssandra.io/dc-replication': JSON.stringify(
              Object.fromEntries(joining.map((r) => [r.cassandra.datacenter, { [cas.keyspace]: cas.replicationFactor }])),
            ),
          }
        : {};
    super(scope, id, {
      apiVersion: 'k8ssandra.io/v1alpha1',
      kind: 'K8ssandraCluster',
      metadata: {
        name: cas.clusterName,
        namespace: cas.namespace,
        labels: { [Labels.partOf]: c.platform, [Labels.component]: 'cassandra' },
        annotations: {
          ...dcReplication,
          'argocd.argoproj.io/sync-options': 'Delete=false,Prune=false,ServerSideApply=true',
          // After the ClientConfigs (wave 0): the webhook rejects unknown k8sContexts.
          'argocd.argoproj.io/sync-wave': '1',
        },
      },
      spec: {
        auth: true,
        cassandra: {
          serverVersion: cas.serverVersion,
          serverType: 'cassandra',
          superuserSecretRef: { name: CassandraSecrets.superuser(c) },
          storageConfig: {
            cassandraDataVolumeClaimSpec: {
              storageClassName: c.storageClass,
              accessModes: ['ReadWriteOnce'],
              resources: { requests: { storage: cas.storageSize } },
            },
          },
          resources: {
            requests: { cpu: cas.resources.cpu, memory: cas.resources.memory },
            limits: { memory: cas.resources.memory },
          },
          config: {
            jvmOptions: { heap_initial_size: cas.heapSize, heap_max_size: cas.heapSize },
          },
          telemetry: { mcac: { enabled: false }, prometheus: { enabled: true } },
          datacenters,
        },
        // Scheduled repairs: one Reaper per DC, state in Cassandra.
        reaper: {
          deploymentMode: 'PER_DC',
          storageType: 'cassandra',
          autoScheduling: { enabled: cas.reaper.autoScheduling },
        },
        ...medusa,
      },
    });
    this.datacenters = datacenters.map((d) => d.metadata.name);
  }
}

export interface ClientConfigProps {
  readonly namespace: string;
  /** ClientConfig name and kube context name. */
  readonly contextName: string;
  /** Secret (key `kubeconfig`) in the same namespace. */
  readonly kubeconfigSecret: string;
  readonly labels: Record<string, string>;
}

/** How the control-plane operator reaches one region's cluster. */
export class ClientConfig extends ApiObject {
  constructor(scope: Construct, id: string, props: ClientConfigProps) {
    super(scope, id, {
      apiVersion: 'config.k8ssandra.io/v1beta1',
      kind: 'ClientConfig',
      metadata: {
        name: props.contextName,
        namespace: props.namespace,
        labels: props.labels,
        annotations: { 'argocd.argoproj.io/sync-wave': '0' },
      },
      spec: { contextName: props.contextName, kubeConfigSecret: { name: props.kubeconfigSecret } },
    });
  }
}
