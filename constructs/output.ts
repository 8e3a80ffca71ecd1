/**
 * Building blocks that tell the dist writer where things go. A construct tree is the
 * single source of dist/: ApiObjects inside an `OutputChart`, Helm values in
 * `HelmValuesFile`s, and `SecretRequirement`s that become dist/SECRETS.md.
 */
import { Chart, type ChartProps } from 'cdk8s';
import { Construct } from 'constructs';
import { DistPaths } from '../regions/names.js';

export interface OutputChartProps extends ChartProps {
  /** Folder inside dist/ that receives one file per object, e.g. `clusters/astring-mn/nats`. */
  readonly outputDir: string;
  /** Cluster the objects are applied to (for the synth summary and docs). */
  readonly cluster: string;
}

/** A cdk8s Chart whose objects land in one dist/ folder, one file per object. */
export class OutputChart extends Chart {
  public readonly outputDir: string;
  public readonly cluster: string;

  constructor(scope: Construct, id: string, props: OutputChartProps) {
    super(scope, id, { disableResourceNameHashes: true, ...props });
    this.outputDir = props.outputDir;
    this.cluster = props.cluster;
  }

  static isOutputChart(x: unknown): x is OutputChart {
    return x instanceof OutputChart;
  }
}

export interface HelmValuesFileProps {
  /** Cluster the chart is installed in; the file lands in `values/<cluster>/<chart>.yaml`. */
  readonly cluster: string;
  /** Chart name (file name of the values file). */
  readonly chart: string;
  /** The values, written as YAML in insertion order. */
  readonly values: Record<string, unknown>;
  /** One-line comment written at the top of the file (a formula, a warning). */
  readonly comment?: string;
}

/** A Helm values file that an ApplicationSet passes to a pinned chart via `$values/...`. */
export class HelmValuesFile extends Construct {
  public readonly cluster: string;
  public readonly chart: string;
  public readonly values: Record<string, unknown>;
  public readonly comment: string | undefined;
  /** Path relative to the dist root. */
  public readonly distPath: string;

  constructor(scope: Construct, id: string, props: HelmValuesFileProps) {
    super(scope, id);
    this.cluster = props.cluster;
    this.chart = props.chart;
    this.values = props.values;
    this.comment = props.comment;
    this.distPath = DistPaths.values(props.cluster, props.chart);
  }

  static isHelmValuesFile(x: unknown): x is HelmValuesFile {
    return x instanceof HelmValuesFile;
  }
}

export interface SecretRequirementProps {
  /** Cluster the Secret must exist in. */
  readonly cluster: string;
  readonly namespace: string;
  readonly name: string;
  /** Keys the readers use. */
  readonly keys: readonly string[];
  /** Who reads it (workload or operator). */
  readonly usedBy: string;
  /** Who creates it: `you` (out of band, e.g. External Secrets) or the issuing controller. @default 'you' */
  readonly createdBy?: string;
  /** Set when the value must be byte-identical across clusters (shared credentials, CA). */
  readonly sameAcross?: string;
  /**
   * With `sameAcross`: how far the copies of this Secret (same name) must agree. `platform`: one
   * value in every cluster; `cluster`: the copies within one cluster agree, each cluster has its
   * own. A secret store then keeps one remote key per group. @default 'platform'
   */
  readonly sameWithin?: 'platform' | 'cluster';
  /**
   * Set when the value is random and nobody needs to know it (a password the platform alone
   * uses): a generator may make it. `key` holds the random value; `fixed` gives the other keys
   * their non-secret values (a user name). Absent: a person (or a store) supplies the value.
   */
  readonly generated?: GeneratedValue;
}

/** A Secret whose value is random: which key is generated, and the other keys' fixed values. */
export interface GeneratedValue {
  /** The key that holds the random value (letters only, 32 characters when a generator makes it). */
  readonly key: string;
  /** Non-secret values of the other keys, e.g. `{ username: 'astring-superuser' }`. @default {} */
  readonly fixed?: Readonly<Record<string, string>>;
}

/** Where a Secret's value comes from when something other than a person provides it (SECRETS.md). */
export interface SecretSource {
  /** The phrase SECRETS.md shows, e.g. "from store key `astring/shared/nats-gateway-auth`". */
  readonly description: string;
  /** The secret store's key the value is read from (one property per Secret key), if any. */
  readonly storeKey?: string;
}

/** A Secret that must exist for the platform to run. Never holds a value: dist/ carries no credentials. */
export class SecretRequirement extends Construct {
  public readonly cluster: string;
  public readonly namespace: string;
  public readonly secretName: string;
  public readonly keys: readonly string[];
  public readonly usedBy: string;
  public readonly createdBy: string;
  public readonly sameAcross: string | undefined;
  public readonly sameWithin: 'platform' | 'cluster';
  public readonly generated: GeneratedValue | undefined;
  private sourceOf: SecretSource | undefined;

  constructor(scope: Construct, id: string, props: SecretRequirementProps) {
    super(scope, id);
    if (props.keys.length === 0) throw new Error(`SecretRequirement ${props.namespace}/${props.name} lists no keys`);
    this.cluster = props.cluster;
    this.namespace = props.namespace;
    this.secretName = props.name;
    this.keys = [...props.keys];
    this.usedBy = props.usedBy;
    this.createdBy = props.createdBy ?? 'you';
    this.sameAcross = props.sameAcross;
    this.sameWithin = props.sameWithin ?? 'platform';
    this.generated = props.generated;
    if (props.generated) {
      const covered = [props.generated.key, ...Object.keys(props.generated.fixed ?? {})].sort();
      if (covered.join() !== [...props.keys].sort().join()) {
        throw new Error(
          `SecretRequirement ${props.namespace}/${props.name}: generated covers keys [${covered.join(', ')}] but the Secret has [${props.keys.join(', ')}] (name every key once: the random one in generated.key, the others in generated.fixed)`,
        );
      }
    }
  }

  /** Where the value comes from, once something provides it (an ExternalSecret); undefined: `createdBy`. */
  get source(): SecretSource | undefined {
    return this.sourceOf;
  }

  /** Records who provides this Secret (called by the component that emits its ExternalSecret); once only. */
  provide(source: SecretSource): void {
    if (this.sourceOf) throw new Error(`SecretRequirement ${this.namespace}/${this.secretName} in ${this.cluster} is provided twice (${this.sourceOf.description}; ${source.description})`);
    this.sourceOf = source;
  }

  static isSecretRequirement(x: unknown): x is SecretRequirement {
    return x instanceof SecretRequirement;
  }
}
