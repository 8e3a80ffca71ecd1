/**
 * The component contract. A component is one folder under `constructs/` whose `component.ts`
 * exports one `ComponentDefinition`; `constructs/components.ts` lists them. Everything the
 * generator knows about a component comes from its definition: where it runs, its Namespace,
 * its ApplicationSet, what it writes per cluster, its TOPOLOGY.md part, what a change does
 * (plan), which identities it protects (STATE.json) and which changes are dangerous.
 * charts/ loops over the list and never names a component.
 */
import { Construct } from 'constructs';
import type { PinnedChart } from './argocd/component-application-set.js';
import { HelmValuesFile } from './output.js';
import { MANAGEMENT_TARGET } from '../regions/names.js';
import type { ConfigSlice, PlatformConfig, Region } from '../regions/schema.js';

/** One cluster a component is deployed to. */
export interface Target {
  /** Region name, or `management`: the suffix of the Application name. */
  readonly target: string;
  /** ArgoCD destination (cluster) name. */
  readonly cluster: string;
  /** The region; absent on the management cluster. */
  readonly region?: Region;
}

/** Pod Security Standard a Namespace enforces. */
export type PodSecurityLevel = 'restricted' | 'baseline' | 'privileged';

export interface ComponentNamespace {
  /** Namespace the component's Applications deploy to. */
  readonly name: string;
  /**
   * The Pod Security level of the Namespace this component creates (in its own folder, on
   * every target). Omit when another component on the same clusters creates the Namespace.
   */
  readonly podSecurity?: PodSecurityLevel;
  /** Also label the Namespace with the region. @default false */
  readonly regionLabel?: boolean;
}

export interface ComponentApplication {
  /** The pinned Helm chart, installed with `values/<cluster>/<chart>.yaml`. Omit for plain manifests. */
  readonly chart?: PinnedChart;
  /** Also sync the component's folder `clusters/<cluster>/<component>`. @default true */
  readonly manifests?: boolean;
  /** Sync options, e.g. `ServerSideApply=true` for big CRDs. */
  readonly syncOptions: readonly string[];
  /** Let automated sync delete objects that left Git. Off for databases. @default true */
  readonly prune?: boolean;
  /** `argocd.argoproj.io/sync-wave` of the ApplicationSet in the root app; none when omitted. */
  readonly syncWave?: number;
}

/** What a component's construct receives, once per target cluster. */
export interface ComponentProps {
  readonly config: PlatformConfig;
  readonly target: Target;
  /** The component's namespace (ComponentDefinition.namespace). */
  readonly namespace: string;
}

/** The construct a component adds to its folder chart of one target (values, manifests, Secret requirements). */
export type ComponentConstruct = new (scope: Construct, id: string, props: ComponentProps) => Construct;

/** A cluster-scoped kind an Application of the component creates (AppProject whitelist). */
export interface ClusterScopedKind {
  readonly group: string;
  readonly kind: string;
}

/** Cluster-scoped kinds every operator chart installs: CRDs, RBAC and admission webhooks. */
export const OPERATOR_CHART_KINDS: readonly ClusterScopedKind[] = [
  { group: 'apiextensions.k8s.io', kind: 'CustomResourceDefinition' },
  { group: 'rbac.authorization.k8s.io', kind: 'ClusterRole' },
  { group: 'rbac.authorization.k8s.io', kind: 'ClusterRoleBinding' },
  { group: 'admissionregistration.k8s.io', kind: 'ValidatingWebhookConfiguration' },
  { group: 'admissionregistration.k8s.io', kind: 'MutatingWebhookConfiguration' },
];

// ---------------------------------------------------------------------------------------
// TOPOLOGY.md

/** A column of the Regions table. */
export interface RegionColumn {
  readonly header: string;
  readonly cell: (c: PlatformConfig, r: Region) => string;
}

/**
 * A component's part of TOPOLOGY.md. Every hook is called whether or not the component is
 * enabled, so a disabled component can say so; each returns Markdown or Mermaid lines.
 */
export interface TopologyContribution {
  /** What the management cluster runs for this component, for the opening sentence ("the X control plane"). */
  readonly managementRole?: string;
  /** Bullet lines of the summary. */
  readonly summary?: (c: PlatformConfig) => string[];
  /** Mermaid lines inside the management cluster's subgraph. */
  readonly managementNodes?: (c: PlatformConfig) => string[];
  /** Mermaid node lines inside a region's subgraph (ids from `regionNodeId`). */
  readonly regionNodes?: (c: PlatformConfig, r: Region) => string[];
  /**
   * Mermaid edges inside a region's subgraph, from this component's node to others. Nodes of
   * components with such edges are drawn first (clients left of what they use).
   */
  readonly regionEdges?: (c: PlatformConfig, r: Region) => string[];
  /** Mermaid edges between two regions of the mesh (regions not leaving), once per pair. */
  readonly meshEdges?: (c: PlatformConfig, a: Region, b: Region) => string[];
  /** Mermaid edges from the management cluster's nodes to a region's. */
  readonly managementEdges?: (c: PlatformConfig, r: Region) => string[];
  /** Mermaid nodes outside every cluster (an object store...), drawn after the clusters. */
  readonly outsideNodes?: (c: PlatformConfig) => string[];
  /** Mermaid edges from a region's nodes to nodes outside every cluster. */
  readonly outsideEdges?: (c: PlatformConfig, r: Region) => string[];
  /** Columns of the Regions table. */
  readonly regionColumns?: readonly RegionColumn[];
  /** Markdown sections after the Regions table. */
  readonly sections?: (c: PlatformConfig) => string[];
}

/** The Mermaid id of `component`'s node in `region` (`<prefix>_<region>`, non-alphanumerics as `_`). */
export function regionNodeId(prefix: string, region: string): string {
  return mermaidId(`${prefix}_${region}`);
}

export function mermaidId(s: string): string {
  return s.replace(/[^a-zA-Z0-9]/g, '_');
}

// ---------------------------------------------------------------------------------------
// Plan

/** A parsed YAML document of dist/. */
export type DistObject = Record<string, any>;

/** One changed dist file: a values file or a manifest, parsed; one side absent when added or removed. */
export interface ObjectChange {
  /** Cluster the file is applied to. */
  readonly cluster: string;
  readonly before?: DistObject;
  readonly after?: DistObject;
}

/** What a change does to pods and data, in sentences for `npm run plan`. */
export type EffectsOf = (change: ObjectChange) => string[];

export interface PlanContribution {
  /** Effects of a changed values file; without it the plan says the chart's pods restart. */
  readonly values?: EffectsOf;
  /** Effects of a changed manifest, by kind (the plan knows Deployment and Job itself). */
  readonly kinds?: Readonly<Record<string, EffectsOf>>;
}

// ---------------------------------------------------------------------------------------
// STATE.json and dangerous changes

/** A region's entry of STATE.json: its identity plus the fields components add. */
export interface RegionState {
  readonly name: string;
  readonly ordinal: number;
  readonly cluster: string;
  readonly state: 'active' | 'joining' | 'leaving';
  readonly [field: string]: unknown;
}

/** STATE.json: the identities that must never change by accident. */
export interface PlatformState {
  readonly platform: string;
  readonly regions: readonly RegionState[];
  readonly [section: string]: unknown;
}

export interface StateContribution {
  /** This component's section of STATE.json. */
  readonly section?: {
    readonly key: string;
    readonly of: (c: PlatformConfig) => Record<string, unknown>;
    /**
     * Position among the sections (ascending, then list order). Only to keep the section where
     * existing STATE.json files have it, so a deployed file never reorders. @default 0
     */
    readonly order?: number;
  };
  /** Fields this component adds to every region's entry. */
  readonly region?: (r: Region) => Record<string, unknown>;
}

export interface DangerousChange {
  /** What to write in `acknowledgedChanges` to accept it. */
  readonly id: string;
  /** What happens if it goes ahead. */
  readonly message: string;
}

/** A danger rule: compares the deployed state with the next one. */
export type DangerRule = (base: PlatformState, next: PlatformState) => DangerousChange[];

export interface DangerContribution {
  /** This component's rules (each returns changes with exact ids). */
  readonly rules?: readonly DangerRule[];
  /** What a region of this component still holds when it is removed, e.g. `its Cassandra DC dc1`. */
  readonly regionData?: (r: RegionState) => string;
  /** What a region rename replaces in this component, e.g. `its NATS cluster and servers`. */
  readonly renamed?: string;
}

// ---------------------------------------------------------------------------------------

/** One component: the whole contract. Only `name`, `placement`, `namespace`, `application` and `construct` are required. */
export interface ComponentDefinition {
  /** DNS label: the ApplicationSet `<platform>-<name>`, the folder `clusters/<cluster>/<name>`. */
  readonly name: string;
  /** The part of the config this component owns (merged into the platform schema); others may read it. */
  readonly config?: ConfigSlice;
  /** Whether the config deploys it at all. @default always */
  readonly enabled?: (c: PlatformConfig) => boolean;
  /** Clusters it runs on, in order (see `Placement`). */
  readonly placement: (c: PlatformConfig) => readonly Target[];
  readonly namespace: (c: PlatformConfig) => ComponentNamespace;
  readonly application: (c: PlatformConfig) => ComponentApplication;
  /** Built once per target, in the target's folder chart. */
  readonly construct: ComponentConstruct;
  /**
   * Its construct reads what the other components' constructs added to the tree (e.g. their
   * SecretRequirements), so the synth builds it after every component without this flag,
   * wherever it sits in the list. Default false: built in list order.
   */
  readonly readsOtherComponents?: boolean;
  /** Cluster-scoped kinds its Applications create. */
  readonly clusterScopedKinds?: (c: PlatformConfig) => readonly ClusterScopedKind[];
  readonly topology?: TopologyContribution;
  readonly plan?: PlanContribution;
  readonly state?: StateContribution;
  readonly danger?: DangerContribution;
  /** Markdown lines for SECRETS.md "Creating one by hand" (how this component reads its Secrets' values). */
  readonly secretNotes?: readonly string[];
}

/** The order the synth builds `enabled` in: list order, those that read the others last. */
export function buildOrder(enabled: readonly ComponentDefinition[]): ComponentDefinition[] {
  return [...enabled.filter((d) => d.readsOtherComponents !== true), ...enabled.filter((d) => d.readsOtherComponents === true)];
}

/** The components of `list` that `config` deploys, in list order. */
export function enabledComponents(config: PlatformConfig, list: readonly ComponentDefinition[]): ComponentDefinition[] {
  return list.filter((d) => d.enabled?.(config) ?? true);
}

/** Where a component runs. */
export const Placement = {
  /** The management cluster only. */
  management: (c: PlatformConfig): Target[] => [{ target: MANAGEMENT_TARGET, cluster: c.managementCluster.name }],
  /** Every region (in ordinal order), optionally filtered. */
  regions: (c: PlatformConfig, keep: (r: Region) => boolean = () => true): Target[] =>
    c.regions.filter(keep).map((r) => ({ target: r.name, cluster: r.cluster, region: r })),
  /** The management cluster and every region. */
  everywhere: (c: PlatformConfig): Target[] => [...Placement.management(c), ...Placement.regions(c)],
} as const;

/** The target's region; throws with the component and cluster when it runs on the management cluster. */
export function regionOf(props: ComponentProps, component: string): Region {
  if (!props.target.region) throw new Error(`${component}: target ${props.target.cluster} is not a region (check its placement)`);
  return props.target.region;
}

/**
 * The construct of a component that is only a chart: one values file per target,
 * `values/<cluster>/<chart>.yaml`, from `values(props)`.
 */
export function chartValuesConstruct(chart: string, values: (props: ComponentProps) => Record<string, unknown>): ComponentConstruct {
  return class ChartValues extends Construct {
    constructor(scope: Construct, id: string, props: ComponentProps) {
      super(scope, id);
      new HelmValuesFile(this, 'values', { cluster: props.target.cluster, chart, values: values(props) });
    }
  };
}
