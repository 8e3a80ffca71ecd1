/**
 * Config -> construct tree. One cdk8s App; one OutputChart per dist/ folder. Regions are
 * sorted by ordinal first, so the order of the YAML list never reaches dist/.
 */
import { App } from 'cdk8s';
import { ArgoProject } from '../constructs/argocd/app-project.js';
import { BARMAN_CLOUD_CHART, BARMAN_CLOUD_CLUSTER_KINDS } from '../constructs/backups/barman-cloud-values.js';
import { RegionBackups } from '../constructs/backups/region-backups.js';
import { ComponentApplicationSet, type ComponentTarget, type PinnedChart } from '../constructs/argocd/component-application-set.js';
import { RootApplication } from '../constructs/argocd/root-application.js';
import { ChatHistory } from '../constructs/cassandra/chat-history.js';
import { ChatBackend } from '../constructs/chat/chat-backend.js';
import { k8ssandraOperatorValues } from '../constructs/cassandra/operator-values.js';
import { certManagerValues } from '../constructs/cert-manager/cert-manager-values.js';
import { PlatformNamespace } from '../constructs/namespace.js';
import { NatsRegion } from '../constructs/nats/nats-region.js';
import { HelmValuesFile, OutputChart } from '../constructs/output.js';
import { cnpgOperatorValues } from '../constructs/postgres/cnpg-operator-values.js';
import { PostgresRegion } from '../constructs/postgres/users-and-rooms.js';
import { DistPaths, Labels, MANAGEMENT_TARGET, regionByName, rootApplicationName, type Component } from '../regions/names.js';
import type { PlatformConfig } from '../regions/schema.js';

/** Cluster-scoped kinds the operator charts create (whitelisted in the AppProject). */
const OPERATOR_CLUSTER_KINDS = [
  { group: 'apiextensions.k8s.io', kind: 'CustomResourceDefinition' },
  { group: 'rbac.authorization.k8s.io', kind: 'ClusterRole' },
  { group: 'rbac.authorization.k8s.io', kind: 'ClusterRoleBinding' },
  { group: 'admissionregistration.k8s.io', kind: 'ValidatingWebhookConfiguration' },
  { group: 'admissionregistration.k8s.io', kind: 'MutatingWebhookConfiguration' },
  { group: 'cert-manager.io', kind: 'ClusterIssuer' },
];

/** Regions in identity order (by ordinal): the one order every output uses. */
export function normalize(config: PlatformConfig): PlatformConfig {
  return { ...config, regions: [...config.regions].sort((a, b) => a.ordinal - b.ordinal) };
}

export interface PlatformTree {
  readonly app: App;
  readonly config: PlatformConfig;
  readonly applicationSets: readonly ComponentApplicationSet[];
}

export function buildPlatform(input: PlatformConfig): PlatformTree {
  const c = normalize(input);
  const app = new App({ outdir: 'unused' });
  const mgmt = c.managementCluster.name;
  const argocdChart = new OutputChart(app, 'argocd', { outputDir: DistPaths.argocd, cluster: mgmt });
  const bootstrapChart = new OutputChart(app, 'bootstrap', { outputDir: DistPaths.bootstrap, cluster: mgmt });
  const applicationSets: ComponentApplicationSet[] = [];
  const management: ComponentTarget = { target: MANAGEMENT_TARGET, cluster: mgmt };
  const regionTargets: ComponentTarget[] = c.regions.map((r) => ({ target: r.name, cluster: r.cluster }));

  /** The dist folder of `component` in `cluster`, optionally with its Namespace. */
  const folder = (cluster: string, component: Component, namespace?: { name: string; enforce: 'restricted' | 'baseline' }) => {
    const chart = new OutputChart(app, `${cluster}-${component}`, {
      outputDir: DistPaths.clusterComponent(cluster, component),
      cluster,
    });
    if (namespace) {
      new PlatformNamespace(chart, 'namespace', {
        name: namespace.name,
        enforce: namespace.enforce,
        labels: { [Labels.partOf]: c.platform, [Labels.component]: component },
      });
    }
    return chart;
  };
  const appSet = (
    component: Component,
    props: { namespace: string; targets: ComponentTarget[]; helm?: PinnedChart; syncOptions: string[]; prune?: boolean; manifests?: boolean },
  ) => {
    const set = new ComponentApplicationSet(argocdChart, component, {
      platform: c.platform,
      argocdNamespace: c.argocd.namespace,
      project: c.argocd.project,
      gitops: c.gitops,
      component,
      manifests: true,
      ...props,
    });
    applicationSets.push(set);
    return set;
  };

  // cert-manager: every cluster (k8ssandra-operator, pgEdge client certificates, gateway TLS).
  for (const t of [management, ...regionTargets]) {
    const chart = folder(t.cluster, 'cert-manager', { name: c.certManager.namespace, enforce: 'restricted' });
    new HelmValuesFile(chart, 'values', { cluster: t.cluster, chart: 'cert-manager', values: certManagerValues(c) });
  }
  appSet('cert-manager', {
    namespace: c.certManager.namespace,
    targets: [management, ...regionTargets],
    helm: { repoURL: c.certManager.chart.repoURL, chart: 'cert-manager', version: c.certManager.chart.version, releaseName: 'cert-manager' },
    // The CRDs exceed the client-side-apply annotation limit.
    syncOptions: ['ServerSideApply=true'],
  });

  // NATS: one cluster per region, joined by gateways.
  for (const r of c.regions) {
    const chart = folder(r.cluster, 'nats');
    new NatsRegion(chart, 'nats', { config: c, region: r, manifests: chart });
  }
  appSet('nats', {
    namespace: c.nats.namespace,
    targets: regionTargets,
    helm: { repoURL: c.nats.chart.repoURL, chart: 'nats', version: c.nats.chart.version, releaseName: 'nats' },
    syncOptions: ['ServerSideApply=true', 'SkipDryRunOnMissingResource=true'],
  });

  // Cassandra: the operator everywhere (control plane on the management cluster), the
  // K8ssandraCluster + ClientConfigs on the management cluster, the schema Job in one region.
  const casNs = { name: c.cassandra.namespace, enforce: 'baseline' as const };
  for (const t of [management, ...regionTargets]) {
    const chart = folder(t.cluster, 'k8ssandra-operator', casNs);
    new HelmValuesFile(chart, 'values', {
      cluster: t.cluster,
      chart: 'k8ssandra-operator',
      values: k8ssandraOperatorValues(c, t.cluster === mgmt ? 'control-plane' : 'data-plane'),
    });
  }
  appSet('k8ssandra-operator', {
    namespace: c.cassandra.namespace,
    targets: [management, ...regionTargets],
    helm: { repoURL: c.cassandra.operator.chart.repoURL, chart: 'k8ssandra-operator', version: c.cassandra.operator.chart.version, releaseName: 'k8ssandra-operator' },
    syncOptions: ['ServerSideApply=true'],
  });
  const leader = regionByName(c, c.cassandra.schemaRegion);
  const leaderChart = folder(leader.cluster, 'cassandra');
  new ChatHistory(app, 'chat-history', {
    config: c,
    management: folder(mgmt, 'cassandra'),
    schemaRegion: leaderChart,
  });
  appSet('cassandra', {
    namespace: c.cassandra.namespace,
    targets: [management, { target: leader.name, cluster: leader.cluster }],
    // The K8ssandraCluster's CRD arrives with the operator app.
    syncOptions: ['ServerSideApply=true', 'SkipDryRunOnMissingResource=true'],
    prune: false,
  });

  // Postgres: pgEdge's CloudNativePG operator, then one pgEdge node per region.
  for (const r of c.regions) {
    const chart = folder(r.cluster, 'cnpg-operator', { name: c.postgres.operator.namespace, enforce: 'restricted' });
    new HelmValuesFile(chart, 'values', { cluster: r.cluster, chart: 'cloudnative-pg', values: cnpgOperatorValues(c) });
  }
  appSet('cnpg-operator', {
    namespace: c.postgres.operator.namespace,
    targets: regionTargets,
    helm: { repoURL: c.postgres.operator.chart.repoURL, chart: 'cloudnative-pg', version: c.postgres.operator.chart.version, releaseName: 'cnpg' },
    syncOptions: ['ServerSideApply=true'],
  });
  for (const r of c.regions) {
    const chart = folder(r.cluster, 'postgres', { name: c.postgres.namespace, enforce: 'restricted' });
    new PostgresRegion(chart, 'postgres', { config: c, region: r, manifests: chart });
  }
  appSet('postgres', {
    namespace: c.postgres.namespace,
    targets: regionTargets,
    helm: { repoURL: c.postgres.chart.repoURL, chart: 'pgedge', version: c.postgres.chart.version, releaseName: 'pgedge' },
    syncOptions: ['ServerSideApply=true', 'SkipDryRunOnMissingResource=true'],
    // Never prune a database: a renamed node would otherwise delete its CNPG Cluster.
    prune: false,
  });

  // Backups (only with `backups` in the config): the barman-cloud plugin next to the CNPG
  // operator, an ObjectStore + ScheduledBackup per region's Postgres, a MedusaBackupSchedule per
  // DC (the K8ssandraCluster's medusa block and the pgEdge plugin reference come from the same config).
  if (c.backups) {
    const b = c.backups;
    for (const r of c.regions) {
      new RegionBackups(app, `backups-${r.name}`, {
        config: c,
        backups: b,
        region: r,
        postgres: folder(r.cluster, 'postgres-backups'),
        ...(b.medusa.enabled ? { cassandra: folder(r.cluster, 'cassandra-backups') } : {}),
      });
    }
    appSet('barman-cloud', {
      namespace: c.postgres.operator.namespace,
      targets: regionTargets,
      helm: { repoURL: b.plugin.chart.repoURL, chart: BARMAN_CLOUD_CHART, version: b.plugin.chart.version, releaseName: 'barman-cloud' },
      manifests: false,
      // Its Issuer and Certificates wait (dry run skipped, sync retried) for cert-manager's CRDs;
      // its pod waits for the certificates cert-manager issues.
      syncOptions: ['ServerSideApply=true', 'SkipDryRunOnMissingResource=true'],
    });
    appSet('postgres-backups', {
      namespace: c.postgres.namespace,
      targets: regionTargets,
      // The ObjectStore CRD arrives with the plugin app.
      syncOptions: ['ServerSideApply=true', 'SkipDryRunOnMissingResource=true'],
    });
    if (b.medusa.enabled) {
      appSet('cassandra-backups', {
        namespace: c.cassandra.namespace,
        targets: regionTargets,
        // The MedusaBackupSchedule CRD arrives with the data-plane k8ssandra-operator app.
        syncOptions: ['ServerSideApply=true', 'SkipDryRunOnMissingResource=true'],
      });
    }
  }

  // The chat backend: one Deployment per region, talking only to its own region. A joining
  // region gets it once it is active (its data is copied first).
  const appRegions = c.regions.filter((r) => r.state !== 'joining');
  for (const r of appRegions) {
    const chart = folder(r.cluster, 'chat', { name: c.app.namespace, enforce: 'restricted' });
    new ChatBackend(chart, 'chat-backend', { config: c, region: r, manifests: chart });
  }
  appSet('chat', {
    namespace: c.app.namespace,
    targets: appRegions.map((r) => ({ target: r.name, cluster: r.cluster })),
    syncOptions: ['ServerSideApply=true', 'SkipDryRunOnMissingResource=true'],
  });

  new ArgoProject(argocdChart, 'project', {
    name: c.argocd.project,
    namespace: c.argocd.namespace,
    platform: c.platform,
    sourceRepos: applicationSets.flatMap((s) => s.sourceRepos),
    destinations: applicationSets.flatMap((s) => s.destinations),
    clusterResourceWhitelist: [{ group: '', kind: 'Namespace' }, ...OPERATOR_CLUSTER_KINDS, ...(c.backups ? BARMAN_CLOUD_CLUSTER_KINDS : [])],
  });

  new RootApplication(bootstrapChart, 'root', {
    name: rootApplicationName(c),
    platform: c.platform,
    namespace: c.argocd.namespace,
    repoURL: c.gitops.repoURL,
    revision: c.gitops.revision,
    path: `${c.gitops.path}/${DistPaths.argocd}`,
    destinationCluster: mgmt,
  });

  return { app, config: c, applicationSets };
}
