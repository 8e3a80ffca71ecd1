/**
 * Config -> construct tree: a loop over the components (constructs/components.ts). Each
 * enabled component gets one folder chart per target cluster (with its Namespace when it
 * declares a Pod Security level), its construct in that chart, and one ApplicationSet.
 * Regions are sorted by ordinal first, so the order of the YAML list never reaches dist/.
 */
import { App } from 'cdk8s';
import { ArgoProject } from '../constructs/argocd/app-project.js';
import { ComponentApplicationSet } from '../constructs/argocd/component-application-set.js';
import { RootApplication } from '../constructs/argocd/root-application.js';
import { buildOrder, enabledComponents, type ComponentDefinition } from '../constructs/component.js';
import { COMPONENTS } from '../constructs/components.js';
import { PlatformNamespace } from '../constructs/namespace.js';
import { OutputChart } from '../constructs/output.js';
import { DistPaths, Labels, rootApplicationName } from '../regions/names.js';
import type { PlatformConfig } from '../regions/schema.js';

/** Regions in identity order (by ordinal): the one order every output uses. */
export function normalize(config: PlatformConfig): PlatformConfig {
  return { ...config, regions: [...config.regions].sort((a, b) => a.ordinal - b.ordinal) };
}

export interface PlatformTree {
  readonly app: App;
  readonly config: PlatformConfig;
  /** Every component of the list, enabled or not (TOPOLOGY.md lets a disabled one say so). */
  readonly components: readonly ComponentDefinition[];
  readonly applicationSets: readonly ComponentApplicationSet[];
}

export function buildPlatform(input: PlatformConfig, components: readonly ComponentDefinition[] = COMPONENTS): PlatformTree {
  const c = normalize(input);
  const app = new App({ outdir: 'unused' });
  const mgmt = c.managementCluster.name;
  const argocdChart = new OutputChart(app, 'argocd', { outputDir: DistPaths.argocd, cluster: mgmt });
  const bootstrapChart = new OutputChart(app, 'bootstrap', { outputDir: DistPaths.bootstrap, cluster: mgmt });
  const applicationSets: ComponentApplicationSet[] = [];
  const enabled = enabledComponents(c, components);

  for (const def of buildOrder(enabled)) {
    const namespace = def.namespace(c);
    const targets = def.placement(c);
    for (const target of targets) {
      const chart = new OutputChart(app, `${target.cluster}-${def.name}`, {
        outputDir: DistPaths.clusterComponent(target.cluster, def.name),
        cluster: target.cluster,
      });
      if (namespace.podSecurity) {
        new PlatformNamespace(chart, 'namespace', {
          name: namespace.name,
          enforce: namespace.podSecurity,
          labels: {
            [Labels.partOf]: c.platform,
            [Labels.component]: def.name,
            ...(namespace.regionLabel && target.region ? { [Labels.region]: target.region.name } : {}),
          },
        });
      }
      new def.construct(chart, def.name, { config: c, target, namespace: namespace.name });
    }
    const application = def.application(c);
    applicationSets.push(
      new ComponentApplicationSet(argocdChart, def.name, {
        platform: c.platform,
        argocdNamespace: c.argocd.namespace,
        project: c.argocd.project,
        gitops: c.gitops,
        component: def.name,
        namespace: namespace.name,
        targets,
        ...(application.chart ? { helm: application.chart } : {}),
        manifests: application.manifests ?? true,
        syncOptions: application.syncOptions,
        ...(application.prune !== undefined ? { prune: application.prune } : {}),
        ...(application.syncWave !== undefined ? { syncWave: application.syncWave } : {}),
      }),
    );
  }

  new ArgoProject(argocdChart, 'project', {
    name: c.argocd.project,
    namespace: c.argocd.namespace,
    platform: c.platform,
    sourceRepos: applicationSets.flatMap((s) => s.sourceRepos),
    destinations: applicationSets.flatMap((s) => s.destinations),
    clusterResourceWhitelist: [{ group: '', kind: 'Namespace' }, ...enabled.flatMap((d) => d.clusterScopedKinds?.(c) ?? [])],
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

  return { app, config: c, components, applicationSets };
}
