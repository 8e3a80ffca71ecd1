/**
 * The raw NATS baseline of bench:chat: publish in region A, subscribe in region B, through the
 * same two nats-servers (and their gateway link) the chat backends use. Run by the load
 * generator (./chat-load.ts), so publisher and subscriber share one clock.
 *
 *   paced      `rate` msg/s for `seconds` s: latency (publish call -> subscriber callback);
 *   saturated  publish as fast as the client takes it for `saturatedSeconds` s (a flush, i.e. a
 *              round trip to the server, every 1,000 messages so the client's buffer stays
 *              bounded): messages/s received in B.
 * Payload: `payloadBytes` (default 330, the size of a chat `message` frame), the send time and
 * sequence number up front.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { connect, type NatsConnection } from 'nats';
import { nowMs } from './load-client.js';
import { Samples, type Summary } from './stats.js';

export interface NatsEndpoint {
  readonly region: string;
  readonly url: string;
  readonly user?: string;
  readonly password?: string;
}

export interface NatsBaselineSpec {
  readonly publish: NatsEndpoint;
  readonly subscribe: NatsEndpoint;
  readonly rate: number;
  readonly seconds: number;
  readonly saturatedSeconds: number;
  readonly payloadBytes?: number;
}

export interface NatsBaselineResult {
  readonly from: string;
  readonly to: string;
  readonly paced: { readonly rate: number; readonly sent: number; readonly received: number; readonly latencyMs: Summary };
  readonly saturated: { readonly sent: number; readonly received: number; readonly seconds: number; readonly publishedPerSec: number; readonly receivedPerSec: number; readonly latencyMs: Summary };
}

const DRAIN_MS = 10_000;

export async function natsBaseline(spec: NatsBaselineSpec, run: string, say: (line: string) => void): Promise<NatsBaselineResult> {
  const size = Math.max(16, spec.payloadBytes ?? 330);
  const conns: NatsConnection[] = [];
  const open = async (e: NatsEndpoint) => {
    const nc = await connect({ servers: e.url, name: `bench-${run}-${e.region}`, ...(e.user !== undefined ? { user: e.user, pass: e.password ?? '' } : {}) });
    conns.push(nc);
    return nc;
  };
  try {
    const pub = await open(spec.publish);
    const sub = await open(spec.subscribe);
    const subject = `bench.nats.${run}`;
    let phase = 0;
    let received = 0;
    let lastAt = 0;
    let latency = new Samples();
    sub.subscribe(subject, {
      callback: (_err, msg) => {
        const at = nowMs();
        const d = msg.data;
        if (d.byteLength < 16) return;
        const view = new DataView(d.buffer, d.byteOffset, d.byteLength);
        if (view.getUint8(12) !== phase) return;
        received++;
        lastAt = at;
        latency.push(at - view.getFloat64(0));
      },
    });
    await sub.flush();
    const payload = (seq: number): Uint8Array => {
      const buf = new Uint8Array(size);
      const view = new DataView(buf.buffer);
      view.setUint32(8, seq);
      view.setUint8(12, phase);
      view.setFloat64(0, nowMs());
      return buf;
    };
    const drained = async (want: number) => {
      const until = Date.now() + DRAIN_MS;
      while (received < want && Date.now() < until) await sleep(10);
    };

    // Interest crosses the gateway asynchronously: publish probes until B hears A.
    phase = 1;
    const deadline = Date.now() + 20_000;
    for (let seq = 0; received === 0; seq++) {
      if (Date.now() > deadline) throw new Error(`NATS: nothing published in ${spec.publish.region} reached ${spec.subscribe.region} within 20 s (gateway interest)`);
      pub.publish(subject, payload(seq));
      await sleep(50);
    }

    phase = 2;
    received = 0;
    latency = new Samples();
    const count = Math.round(spec.rate * spec.seconds);
    say(`NATS paced: ${spec.rate} msg/s for ${spec.seconds} s, ${spec.publish.region} -> ${spec.subscribe.region}`);
    const interval = 1000 / spec.rate;
    const t0 = nowMs();
    for (let j = 0; j < count; ) {
      const now = nowMs();
      while (j < count && t0 + j * interval <= now) pub.publish(subject, payload(j++));
      if (j < count) await sleep(Math.max(0, t0 + j * interval - nowMs()));
    }
    await pub.flush();
    await drained(count);
    const paced = { rate: spec.rate, sent: count, received, latencyMs: latency.summary() };

    phase = 3;
    received = 0;
    latency = new Samples();
    say(`NATS saturated: as fast as possible for ${spec.saturatedSeconds} s`);
    const s0 = nowMs();
    const end = s0 + spec.saturatedSeconds * 1000;
    let sent = 0;
    while (nowMs() < end) {
      for (let k = 0; k < 1000; k++) pub.publish(subject, payload(sent++));
      await pub.flush();
    }
    const publishSeconds = (nowMs() - s0) / 1000;
    await drained(sent);
    const seconds = (lastAt - s0) / 1000;
    return {
      from: spec.publish.region,
      to: spec.subscribe.region,
      paced,
      saturated: { sent, received, seconds, publishedPerSec: sent / publishSeconds, receivedPerSec: received / seconds, latencyMs: latency.summary() },
    };
  } finally {
    await Promise.all(conns.map((c) => c.close().catch(() => undefined)));
  }
}
