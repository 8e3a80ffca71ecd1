/**
 * A small Prometheus registry with the text exposition format (version 0.0.4): counters,
 * gauges and histograms with labels. No client library: the format is a few rules
 * (https://prometheus.io/docs/instrumenting/exposition_formats/):
 *   # HELP <name> <help with \\ and \n escaped>
 *   # TYPE <name> counter|gauge|histogram
 *   <name>{label="value with \\ \" \n escaped",...} <value>
 * Histograms expose cumulative `_bucket{le="..."}` series ending in `le="+Inf"`, then `_sum`
 * and `_count`.
 */

export const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export type Labels = Readonly<Record<string, string>>;

export function escapeLabelValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

export function escapeHelp(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

export function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

function labelText(names: readonly string[], values: readonly string[], extra?: [string, string]): string {
  const parts = names.map((n, i) => `${n}="${escapeLabelValue(values[i] ?? '')}"`);
  if (extra) parts.push(`${extra[0]}="${escapeLabelValue(extra[1])}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
}

abstract class Metric {
  abstract readonly type: 'counter' | 'gauge' | 'histogram';
  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
  ) {
    if (!METRIC_NAME.test(name)) throw new Error(`invalid metric name ${name}`);
    for (const l of labelNames) if (!LABEL_NAME.test(l) || l === 'le') throw new Error(`invalid label name ${l} on ${name}`);
  }

  protected key(labels: Labels = {}): { key: string; values: string[] } {
    const given = Object.keys(labels);
    for (const g of given) if (!this.labelNames.includes(g)) throw new Error(`metric ${this.name} has no label ${g}`);
    const values = this.labelNames.map((n) => {
      const v = labels[n];
      if (v === undefined) throw new Error(`metric ${this.name} needs label ${n}`);
      return v;
    });
    return { key: JSON.stringify(values), values };
  }

  abstract samples(): string[];

  render(): string {
    return [`# HELP ${this.name} ${escapeHelp(this.help)}`, `# TYPE ${this.name} ${this.type}`, ...this.samples()].join('\n');
  }
}

class SimpleMetric extends Metric {
  protected readonly series = new Map<string, { values: string[]; value: number }>();
  constructor(
    readonly type: 'counter' | 'gauge',
    name: string,
    help: string,
    labelNames: readonly string[],
  ) {
    super(name, help, labelNames);
    if (labelNames.length === 0) this.series.set('[]', { values: [], value: 0 });
  }

  protected update(labels: Labels | undefined, f: (v: number) => number): void {
    const { key, values } = this.key(labels);
    const s = this.series.get(key) ?? { values, value: 0 };
    s.value = f(s.value);
    this.series.set(key, s);
  }

  get(labels?: Labels): number {
    return this.series.get(this.key(labels).key)?.value ?? 0;
  }

  samples(): string[] {
    return [...this.series.values()].map((s) => `${this.name}${labelText(this.labelNames, s.values)} ${formatValue(s.value)}`);
  }
}

export class Counter extends SimpleMetric {
  constructor(name: string, help: string, labelNames: readonly string[] = []) {
    super('counter', name, help, labelNames);
  }
  inc(labels?: Labels, by = 1): void {
    if (!(by >= 0)) throw new Error(`counter ${this.name} can only go up`);
    this.update(labels, (v) => v + by);
  }
}

export class Gauge extends SimpleMetric {
  constructor(name: string, help: string, labelNames: readonly string[] = []) {
    super('gauge', name, help, labelNames);
  }
  set(value: number, labels?: Labels): void {
    this.update(labels, () => value);
  }
  inc(labels?: Labels, by = 1): void {
    this.update(labels, (v) => v + by);
  }
  dec(labels?: Labels, by = 1): void {
    this.update(labels, (v) => v - by);
  }
}

export class Histogram extends Metric {
  readonly type = 'histogram' as const;
  private readonly series = new Map<string, { values: string[]; counts: number[]; sum: number; count: number }>();
  readonly buckets: readonly number[];

  constructor(name: string, help: string, labelNames: readonly string[], buckets: readonly number[]) {
    super(name, help, labelNames);
    const sorted = [...buckets].filter((b) => Number.isFinite(b)).sort((a, b) => a - b);
    if (sorted.length === 0 || new Set(sorted).size !== sorted.length) throw new Error(`histogram ${name} needs distinct finite buckets`);
    this.buckets = sorted;
  }

  observe(value: number, labels?: Labels): void {
    const { key, values } = this.key(labels);
    let s = this.series.get(key);
    if (!s) {
      s = { values, counts: this.buckets.map(() => 0), sum: 0, count: 0 };
      this.series.set(key, s);
    }
    // Non-cumulative per bucket here; cumulated when rendered.
    const i = this.buckets.findIndex((b) => value <= b);
    if (i >= 0) s.counts[i]!++;
    s.sum += value;
    s.count++;
  }

  /** Observations so far for `labels`. */
  count(labels?: Labels): number {
    return this.series.get(this.key(labels).key)?.count ?? 0;
  }

  samples(): string[] {
    const out: string[] = [];
    for (const s of this.series.values()) {
      let cumulative = 0;
      this.buckets.forEach((b, i) => {
        cumulative += s.counts[i]!;
        out.push(`${this.name}_bucket${labelText(this.labelNames, s.values, ['le', formatValue(b)])} ${cumulative}`);
      });
      out.push(`${this.name}_bucket${labelText(this.labelNames, s.values, ['le', '+Inf'])} ${s.count}`);
      out.push(`${this.name}_sum${labelText(this.labelNames, s.values)} ${formatValue(s.sum)}`);
      out.push(`${this.name}_count${labelText(this.labelNames, s.values)} ${s.count}`);
    }
    return out;
  }
}

export class Registry {
  private readonly metrics = new Map<string, Metric>();

  private add<M extends Metric>(m: M): M {
    if (this.metrics.has(m.name)) throw new Error(`metric ${m.name} registered twice`);
    this.metrics.set(m.name, m);
    return m;
  }

  counter(name: string, help: string, labelNames: readonly string[] = []): Counter {
    return this.add(new Counter(name, help, labelNames));
  }
  gauge(name: string, help: string, labelNames: readonly string[] = []): Gauge {
    return this.add(new Gauge(name, help, labelNames));
  }
  histogram(name: string, help: string, labelNames: readonly string[], buckets: readonly number[]): Histogram {
    return this.add(new Histogram(name, help, labelNames, buckets));
  }

  /** The whole exposition, newline-terminated. */
  render(): string {
    return `${[...this.metrics.values()].map((m) => m.render()).join('\n')}\n`;
  }
}

/** Delivery latency buckets (seconds): 1 ms .. 10 s. */
export const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

/** The chat backend's metrics. */
export function chatMetrics(registry = new Registry()) {
  return {
    registry,
    connections: registry.gauge('chat_connections', 'Open WebSocket connections.'),
    messagesIn: registry.counter('chat_messages_in_total', 'Chat messages accepted from clients and stored (retries not counted).'),
    messagesOut: registry.counter('chat_messages_out_total', 'Chat message frames written to sockets (live and replayed).', ['kind']),
    deliveryLatency: registry.histogram(
      'chat_delivery_latency_seconds',
      'Time from the message id (UUIDv7) timestamp to the socket write of a live delivery.',
      ['path'],
      LATENCY_BUCKETS,
    ),
    protocolErrors: registry.counter('chat_protocol_errors_total', 'Error frames and protocol-level closes, by error code.', ['code']),
    natsUp: registry.gauge('chat_nats_up', '1 when the NATS connection is established.'),
    cassandraUp: registry.gauge('chat_cassandra_up', '1 when the local Cassandra DC answers.'),
    postgresUp: registry.gauge('chat_postgres_up', '1 when the local Postgres answers.'),
    roomSubscriptions: registry.gauge('chat_room_subscriptions', 'NATS room subjects this backend subscribes to.'),
  };
}
export type ChatMetrics = ReturnType<typeof chatMetrics>;
