import { register as globalRegistry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { BATCH_MESSAGES_BUCKETS, CONTENT_TYPE, LATENCY_BUCKETS, REFUSED_REASONS, chatMetrics } from './metrics.js';

type Sample = { name: string; labels: Record<string, string>; value: number };
type Family = { type: string; help: string; samples: Sample[] };

/** Label values as the text format escapes them: \\ \" \n. */
function parseLabels(text: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!text) return out;
  for (const m of text.slice(1, -1).matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"/g)) {
    out[m[1]!] = m[2]!.replace(/\\(["\\n])/g, (_, c: string) => (c === 'n' ? '\n' : c));
  }
  return out;
}

/**
 * A strict reader of the Prometheus text format 0.0.4: every line is a HELP, a TYPE right after
 * the HELP of the same family, a sample of a declared family (histograms: _bucket/_sum/_count),
 * or empty (the format ignores empty lines).
 */
function parseExposition(text: string): Map<string, Family> {
  expect(text.endsWith('\n')).toBe(true);
  const families = new Map<string, Family>();
  let help: { name: string; text: string } | undefined;
  for (const line of text.trimEnd().split('\n')) {
    if (line === '') continue;
    const h = /^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
    if (h) {
      help = { name: h[1]!, text: h[2]! };
      continue;
    }
    const t = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (t) {
      expect(t[1], `TYPE without its HELP: ${line}`).toBe(help?.name);
      expect(families.has(t[1]!), `family declared twice: ${t[1]}`).toBe(false);
      families.set(t[1]!, { type: t[2]!, help: help!.text, samples: [] });
      continue;
    }
    const s = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*",?)*\})? (-?[0-9.]+(?:e[+-]?[0-9]+)?|\+Inf|-Inf|NaN)$/.exec(line);
    expect(s, `malformed line: ${line}`).not.toBeNull();
    const name = s![1]!;
    const family = [...families.entries()].find(([f, fam]) => name === f || (fam.type === 'histogram' && [`${f}_bucket`, `${f}_sum`, `${f}_count`].includes(name)));
    expect(family, `sample ${name} without # TYPE`).toBeDefined();
    family![1].samples.push({ name, labels: parseLabels(s![2]), value: Number(s![3]!.replace('+Inf', 'Infinity')) });
  }
  return families;
}

const CHAT_FAMILIES = {
  chat_connections: 'gauge',
  chat_messages_in_total: 'counter',
  chat_messages_out_total: 'counter',
  chat_delivery_latency_seconds: 'histogram',
  chat_protocol_errors_total: 'counter',
  chat_nats_up: 'gauge',
  chat_cassandra_up: 'gauge',
  chat_postgres_up: 'gauge',
  chat_room_subscriptions: 'gauge',
  chat_connections_refused_total: 'counter',
  chat_rate_limited_total: 'counter',
  chat_region_unavailable_closes_total: 'counter',
  chat_write_batch_messages: 'histogram',
  chat_write_latency_seconds: 'histogram',
};

describe('chat metrics on prom-client', () => {
  it('expose every chat metric with its type and a help text that names the unit, in a parseable text format', async () => {
    const m = chatMetrics();
    m.connections.set(2);
    m.messagesIn.inc();
    m.messagesOut.inc({ kind: 'live' });
    m.messagesOut.inc({ kind: 'live' }, 2);
    m.deliveryLatency.observe(0.002, { path: 'cross_region' });
    m.protocolErrors.inc({ code: 'we"ird\\\nlabel' });
    m.natsUp.set(1);
    m.connectionsRefused.inc({ reason: 'address_cap' });
    m.rateLimited.inc({ scope: 'in_flight' });
    m.regionUnavailableCloses.inc();
    m.writeBatchMessages.observe(12);
    m.writeLatency.observe(0.004);
    expect(m.contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(CONTENT_TYPE).toBe(m.contentType);

    const fams = parseExposition(await m.render());
    const chat = Object.fromEntries([...fams].filter(([k]) => k.startsWith('chat_')).map(([k, v]) => [k, v.type]));
    expect(chat).toEqual(CHAT_FAMILIES);
    for (const name of Object.keys(CHAT_FAMILIES)) expect(fams.get(name)!.help, name).toMatch(/\((seconds|count|messages)\)\.$|1 when .*, else 0\.$/);

    const value = (family: string, name: string, labels: Record<string, string> = {}) =>
      fams.get(family)!.samples.find((s) => s.name === name && JSON.stringify(s.labels) === JSON.stringify(labels))?.value;
    expect(value('chat_connections', 'chat_connections')).toBe(2);
    expect(value('chat_messages_in_total', 'chat_messages_in_total')).toBe(1);
    expect(value('chat_messages_out_total', 'chat_messages_out_total', { kind: 'live' })).toBe(3);
    expect(value('chat_protocol_errors_total', 'chat_protocol_errors_total', { code: 'we"ird\\\nlabel' })).toBe(1);
    expect(value('chat_nats_up', 'chat_nats_up')).toBe(1);
    expect(value('chat_cassandra_up', 'chat_cassandra_up')).toBe(0);
    expect(value('chat_region_unavailable_closes_total', 'chat_region_unavailable_closes_total')).toBe(1);
    expect(value('chat_write_batch_messages', 'chat_write_batch_messages_sum')).toBe(12);
    expect(value('chat_delivery_latency_seconds', 'chat_delivery_latency_seconds_count', { path: 'cross_region' })).toBe(1);
    // Known reasons and scopes are there from the start, at 0.
    const refused = fams.get('chat_connections_refused_total')!.samples;
    expect(Object.fromEntries(refused.map((s) => [s.labels['reason'], s.value]))).toEqual({
      address_cap: 1,
      user_cap: 0,
      handshake_timeout: 0,
      auth_timeout: 0,
      draining: 0,
      region_unavailable: 0,
    });
    expect(Object.fromEntries(fams.get('chat_rate_limited_total')!.samples.map((s) => [s.labels['scope'], s.value]))).toEqual({ connection: 0, in_flight: 1 });
    expect(REFUSED_REASONS).toEqual(['address_cap', 'user_cap', 'handshake_timeout', 'auth_timeout', 'draining', 'region_unavailable']);
  });

  it('include the default process and Node metrics dashboards expect', async () => {
    const text = await chatMetrics().render();
    // prom-client spells NaN `Nan` (the event-loop mean before its first sample); render() writes NaN.
    expect(text).not.toMatch(/ Nan$/m);
    const fams = parseExposition(text);
    expect(fams.get('process_cpu_seconds_total')?.type).toBe('counter');
    expect(fams.get('process_cpu_seconds_total')!.samples[0]!.value).toBeGreaterThan(0);
    expect(fams.get('process_resident_memory_bytes')?.type).toBe('gauge');
    expect(fams.get('process_resident_memory_bytes')!.samples[0]!.value).toBeGreaterThan(1_000_000);
    expect(fams.get('nodejs_eventloop_lag_seconds')?.type).toBe('gauge');
    expect(fams.get('nodejs_heap_size_used_bytes')?.type).toBe('gauge');
    expect(fams.get('nodejs_gc_duration_seconds')?.type).toBe('histogram');
  });

  it('histograms have the chosen buckets, cumulative, fine enough to read a p99 near 25 ms and 100 ms', async () => {
    const m = chatMetrics();
    const observed = [0.0004, 0.012, 0.024, 0.025, 0.026, 0.099, 0.101, 0.3, 20];
    for (const v of observed) m.writeLatency.observe(v);
    for (const n of [1, 3, 64, 65, 5000]) m.writeBatchMessages.observe(n);
    const fams = parseExposition(await m.render());
    const buckets = (family: string) =>
      fams
        .get(family)!
        .samples.filter((s) => s.name === `${family}_bucket`)
        .map((s) => [Number(s.labels['le']!.replace('+Inf', 'Infinity')), s.value] as const);

    const latency = buckets('chat_write_latency_seconds');
    expect(latency.map(([le]) => le)).toEqual([...LATENCY_BUCKETS, Infinity]);
    // An independent model: a bucket counts the observations <= its bound.
    for (const [le, count] of latency) expect(count, `le=${le}`).toBe(observed.filter((v) => v <= le).length);
    const bounds = latency.map(([le]) => le);
    for (const target of [0.025, 0.1]) {
      const i = bounds.indexOf(target);
      expect(i, `${target} s is a bucket bound`).toBeGreaterThan(0);
      expect(target - bounds[i - 1]!, `bound below ${target}`).toBeLessThanOrEqual(target * 0.1 + 1e-12);
      expect(bounds[i + 1]! - target, `bound above ${target}`).toBeLessThanOrEqual(target * 0.1 + 1e-12);
    }
    // Every bound of the earlier hand-written histogram is kept (dashboards may query them).
    for (const old of [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]) expect(bounds).toContain(old);

    const batch = buckets('chat_write_batch_messages');
    expect(batch.map(([le]) => le)).toEqual([...BATCH_MESSAGES_BUCKETS, Infinity]);
    expect(Object.fromEntries(batch.map(([le, n]) => [le, n]))).toMatchObject({ 1: 1, 2: 1, 4: 2, 64: 3, 128: 4, 1024: 4, Infinity: 5 });
    expect(await m.writeBatchMessages.count()).toBe(5);
  });

  it('two instances share no state, and neither uses prom-client’s global registry', async () => {
    const a = chatMetrics();
    const b = chatMetrics();
    a.messagesIn.inc({}, 5);
    a.connections.set(3);
    a.deliveryLatency.observe(0.01, { path: 'same_region' });
    a.connectionsRefused.inc({ reason: 'draining' });
    expect(a.registry).not.toBe(b.registry);
    expect([await a.messagesIn.get(), await b.messagesIn.get()]).toEqual([5, 0]);
    expect([await a.connections.get(), await b.connections.get()]).toEqual([3, 0]);
    expect([await a.deliveryLatency.count({ path: 'same_region' }), await b.deliveryLatency.count({ path: 'same_region' })]).toEqual([1, 0]);
    expect([await a.connectionsRefused.get({ reason: 'draining' }), await b.connectionsRefused.get({ reason: 'draining' })]).toEqual([1, 0]);
    const bText = await b.render();
    expect(bText).toContain('chat_messages_in_total 0\n');
    expect(bText).not.toContain('path="same_region"');
    expect(globalRegistry.getSingleMetric('chat_messages_in_total')).toBeUndefined();
    expect(globalRegistry.getSingleMetric('process_cpu_seconds_total')).toBeUndefined();
  });

  it('keep the call shapes and refuse misuse: a counter never goes down, labels must be declared ones', () => {
    const m = chatMetrics();
    m.connections.inc();
    m.connections.dec();
    expect(() => m.messagesIn.inc(undefined, -1)).toThrow(/not possible to decrease a counter/);
    expect(() => m.protocolErrors.inc({ bogus: 'x' } as never)).toThrow(/bogus/);
  });
});
