/**
 * Config -> construct tree. One cdk8s App; one OutputChart per dist/ folder. Regions are
 * sorted by ordinal first, so the order of the YAML list never reaches dist/.
 */
import { App } from 'cdk8s';
import { ArgoProject } from '../constructs/argocd/app-project.js';
import { ComponentApplicationSet, type ComponentTarget } from '../constructs/argocd/component-application-set.js';
import { RootApplication } from '../constructs/argocd/root-application.js';
import { certManagerValues } from '../constructs/cert-manager/cert-manager-values.js';
import { PlatformNamespace } from '../constructs/namespace.js';
import { NatsRegion } from '../constructs/nats/nats-region.js';
import { HelmValuesFile, OutputChart } from '../constructs/output.js';
import { DistPaths, Labels, rootApplicationName } from '../regions/names.js';
import type { PlatformConfig } from '../regions/schema.js';

/** Cluster-scoped kinds each component's chart creates (whitelisted in the AppProject). */
const CLUSTER_SCOPED = {
  namespace: [{ group: '', kind: 'Namespace' }],
  certManager: [
    { group: 'apiextensions.k8s.io', kind: 'CustomResourceDefinition' },
    { group: 'rbac.authorization.k8s.io', kind: 'ClusterRole' },
    { group: 'rbac.authorization.k8s.io', kind: 'ClusterRoleBinding' },
    { group: 'admissionregistration.k8s.io', kind: 'ValidatingWebhookConfiguration' },
    { group: 'admissionregistration.k8s.io', kind: 'MutatingWebhookConfiguration' },
  ],
};

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
  const common = {
    platform: c.platform,
    argocdNamespace: c.argocd.namespace,
    project: c.argocd.project,
    gitops: c.gitops,
  };
  const regionTargets: ComponentTarget[] = c.regions.map((r) => ({ target: r.name, cluster: r.cluster }));
  const applicationSets: ComponentApplicationSet[] = [];
  const clusterResources = [...CLUSTER_SCOPED.namespace];

  // cert-manager: only where something asks for certificates.
  if (c.nats.gateway.tls.enabled) {
    for (const r of c.regions) {
      const chart = new OutputChart(app, `${r.cluster}-cert-manager`, {
        outputDir: DistPaths.clusterComponent(r.cluster, 'cert-manager'),
        cluster: r.cluster,
      });
      new PlatformNamespace(chart, 'namespace', {
        name: c.certManager.namespace,
        enforce: 'restricted',
        labels: { [Labels.partOf]: c.platform, [Labels.component]: 'cert-manager' },
      });
      new HelmValuesFile(chart, 'values', { cluster: r.cluster, chart: 'cert-manager', values: certManagerValues(c) });
    }
    applicationSets.push(
      new ComponentApplicationSet(argocdChart, 'cert-manager', {
        ...common,
        component: 'cert-manager',
        namespace: c.certManager.namespace,
        targets: regionTargets,
        helm: { repoURL: c.certManager.chart.repoURL, chart: 'cert-manager', version: c.certManager.chart.version, releaseName: 'cert-manager' },
        manifests: true,
        // The CRDs exceed the client-side-apply annotation limit.
        syncOptions: ['ServerSideApply=true'],
      }),
    );
    clusterResources.push(...CLUSTER_SCOPED.certManager);
  }

  for (const r of c.regions) {
    const chart = new OutputChart(app, `${r.cluster}-nats`, {
      outputDir: DistPaths.clusterComponent(r.cluster, 'nats'),
      cluster: r.cluster,
    });
    new NatsRegion(chart, 'nats', { config: c, region: r, manifests: chart });
  }
  applicationSets.push(
    new ComponentApplicationSet(argocdChart, 'nats', {
      ...common,
      component: 'nats',
      namespace: c.nats.namespace,
      targets: regionTargets,
      helm: { repoURL: c.nats.chart.repoURL, chart: 'nats', version: c.nats.chart.version, releaseName: 'nats' },
      manifests: true,
      syncOptions: ['ServerSideApply=true'],
    }),
  );

  new ArgoProject(argocdChart, 'project', {
    name: c.argocd.project,
    namespace: c.argocd.namespace,
    platform: c.platform,
    sourceRepos: applicationSets.flatMap((s) => s.sourceRepos),
    destinations: applicationSets.flatMap((s) => s.destinations),
    clusterResourceWhitelist: clusterResources,
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
