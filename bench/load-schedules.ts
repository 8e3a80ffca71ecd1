/**
 * When the load generator sends (./chat-phases.ts): an open-loop paced schedule and a closed-loop
 * saturating one. `send(sender, seq)` sends one message and resolves with its reply.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { PhaseSpec } from './chat-phases.js';
import { nowMs, type Frame } from './load-client.js';

export type Send = (sender: number, seq: number) => Promise<Frame>;

/** Open loop: send j goes at t0 + j/rate, from sender j mod S (each sender at rate/S, evenly spaced). */
export async function paced(spec: PhaseSpec, senders: number, send: Send): Promise<void> {
  const rate = spec.rate!;
  const total = Math.round(rate * spec.seconds);
  const interval = 1000 / rate;
  const t0 = nowMs();
  const seqs = new Array<number>(senders).fill(0);
  for (let j = 0; j < total; ) {
    const now = nowMs();
    while (j < total && t0 + j * interval <= now) {
      const s = j % senders;
      void send(s, seqs[s]!++);
      j++;
    }
    if (j < total) await sleep(Math.max(0, t0 + j * interval - nowMs()));
  }
}

/**
 * Closed loop: each sender keeps `window` sends unanswered, at most `maxPerSenderRate`/s, until
 * `seconds` are up; then waits for its last replies, at most `drainMs` (a reply that never comes
 * must not hang the run).
 */
export async function saturated(spec: PhaseSpec, senders: number, send: Send, drainMs: number): Promise<void> {
  const window = spec.window ?? 8;
  const gap = 1000 / (spec.maxPerSenderRate ?? 45);
  const t0 = nowMs();
  const end = t0 + spec.seconds * 1000;
  await Promise.all(
    Array.from({ length: senders }, (_, s) => {
      let seq = 0;
      let inFlight = 0;
      let next = t0 + (s / senders) * gap; // staggered starts
      return new Promise<void>((resolve) => {
        let timer: NodeJS.Timeout | undefined;
        const giveUp = setTimeout(() => done(), end - t0 + drainMs);
        const done = () => {
          clearTimeout(giveUp);
          if (timer) clearTimeout(timer);
          resolve();
        };
        const pump = (): void => {
          timer = undefined;
          for (;;) {
            const now = nowMs();
            if (now >= end) {
              if (inFlight === 0) done();
              return;
            }
            if (inFlight >= window) return;
            if (now < next) {
              timer ??= setTimeout(pump, next - now);
              return;
            }
            next = Math.max(next, now) + gap; // never faster than 1/gap, no catch-up burst after a stall
            inFlight++;
            void send(s, seq++).then((r) => {
              inFlight--;
              if (r.type === 'error' && r.code === 'rate_limited') next = Math.max(next, nowMs() + 500);
              if (!timer) pump();
            });
          }
        };
        pump();
      });
    }),
  );
}
