import { describe, expect, it } from 'vitest';
import { Registry, chatMetrics, escapeLabelValue, formatValue } from './metrics.js';

/** A strict reader of the text format: every sample line belongs to a declared family. */
function parseExposition(text: string): Map<string, { type: string; samples: Array<{ name: string; labels: string; value: string }> }> {
  expect(text.endsWith('\n')).toBe(true);
  const families = new Map<string, { type: string; samples: Array<{ name: string; labels: string; value: string }> }>();
  let current: string | undefined;
  for (const line of text.trimEnd().split('\n')) {
    const help = /^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
    if (help) {
      current = help[1]!;
      continue;
    }
    const type = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (type) {
      expect(type[1]).toBe(current);
      families.set(type[1]!, { type: type[2]!, samples: [] });
      continue;
    }
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*",?)*\})? (-?[0-9.e+-]+|\+Inf|-Inf|NaN)$/.exec(line);
    expect(sample, `malformed line: ${line}`).not.toBeNull();
    const name = sample![1]!;
    const family = [...families.keys()].find((f) => name === f || name === `${f}_bucket` || name === `${f}_sum` || name === `${f}_count`);
    expect(family, `sample ${name} without # TYPE`).toBeDefined();
    families.get(family!)!.samples.push({ name, labels: sample![2] ?? '', value: sample![3]! });
  }
  return families;
}

describe('Prometheus text exposition', () => {
  it('renders counters, gauges and labelled histograms in the 0.0.4 format', () => {
    const r = new Registry();
    const c = r.counter('t_requests_total', 'Requests.\nSecond line with \\ backslash.', ['code']);
    const g = r.gauge('t_up', 'Up.');
    const h = r.histogram('t_latency_seconds', 'Latency.', ['path'], [0.1, 0.01, 1]);
    c.inc({ code: 'bad_json' });
    c.inc({ code: 'bad_json' }, 2);
    c.inc({ code: 'we"ird\\\nlabel' });
    g.set(1);
    h.observe(0.005, { path: 'same_region' });
    h.observe(0.05, { path: 'same_region' });
    h.observe(5, { path: 'same_region' });
    h.observe(0.5, { path: 'cross_region' });
    const text = r.render();
    const fams = parseExposition(text);
    expect(fams.get('t_requests_total')?.type).toBe('counter');
    expect(text).toContain('# HELP t_requests_total Requests.\\nSecond line with \\\\ backslash.');
    expect(text).toContain('t_requests_total{code="bad_json"} 3');
    expect(text).toContain('t_requests_total{code="we\\"ird\\\\\\nlabel"} 1');
    expect(text).toContain('t_up 1');
    expect(text).toContain(
      [
        't_latency_seconds_bucket{path="same_region",le="0.01"} 1',
        't_latency_seconds_bucket{path="same_region",le="0.1"} 2',
        't_latency_seconds_bucket{path="same_region",le="1"} 2',
        't_latency_seconds_bucket{path="same_region",le="+Inf"} 3',
        't_latency_seconds_sum{path="same_region"} 5.055',
        't_latency_seconds_count{path="same_region"} 3',
      ].join('\n'),
    );
    expect(text).toContain('t_latency_seconds_bucket{path="cross_region",le="1"} 1');
  });

  it('refuses invalid names, unknown or missing labels, and decreasing counters', () => {
    const r = new Registry();
    expect(() => r.counter('bad-name', 'x')).toThrow();
    expect(() => r.histogram('h', 'x', ['le'], [1])).toThrow();
    const c = r.counter('ok_total', 'x', ['a']);
    expect(() => c.inc({ b: '1' } as never)).toThrow();
    expect(() => c.inc()).toThrow();
    expect(() => c.inc({ a: '1' }, -1)).toThrow();
    expect(() => r.counter('ok_total', 'again')).toThrow();
  });

  it('escapes and formats values as the format requires', () => {
    expect(escapeLabelValue('a"b\\c\nd')).toBe('a\\"b\\\\c\\nd');
    expect([formatValue(Infinity), formatValue(-Infinity), formatValue(NaN), formatValue(0.25)]).toEqual(['+Inf', '-Inf', 'NaN', '0.25']);
  });

  it('exposes every chat metric the backend promises', () => {
    const m = chatMetrics();
    m.connections.set(2);
    m.messagesOut.inc({ kind: 'live' });
    m.deliveryLatency.observe(0.002, { path: 'cross_region' });
    m.protocolErrors.inc({ code: 'rate_limited' });
    const fams = parseExposition(m.registry.render());
    expect(Object.fromEntries([...fams].map(([k, v]) => [k, v.type]))).toEqual({
      chat_connections: 'gauge',
      chat_messages_in_total: 'counter',
      chat_messages_out_total: 'counter',
      chat_delivery_latency_seconds: 'histogram',
      chat_protocol_errors_total: 'counter',
      chat_nats_up: 'gauge',
      chat_cassandra_up: 'gauge',
      chat_postgres_up: 'gauge',
      chat_room_subscriptions: 'gauge',
    });
  });
});
