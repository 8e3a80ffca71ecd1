/**
 * The WebSocket floor of bench:chat: what a bare Node WebSocket server (./ws-floor-server.ts:
 * parse each frame, send one reply, nothing else) costs per message under the load ONE chat
 * backend gets in the saturated phase: half its senders (they alternate regions), each keeping
 * `window` sends unanswered at most `rate`/s, the same frame and body size, sockets from the same
 * loopback source addresses. Run by the load generator (./chat-load.ts) between the parent's CPU
 * marks, like a chat phase; the parent reads the bare server's CPU from /proc.
 *
 * A backend's CPU per accepted message divided by this floor says how much of it is the chat
 * work (de-duplication, the Cassandra write, NATS, fan-out, validation, metrics) and how much
 * any Node WebSocket server pays to receive a frame and answer it on this machine.
 */
import { LoadClient } from './load-client.js';
import { saturated } from './load-schedules.js';
import { Samples, type Summary } from './stats.js';
import type { PhaseSpec } from './chat-phases.js';

export interface WsFloorSpec {
  /** The bare server's URL. */
  readonly url: string;
  /** Sockets (one sender each). */
  readonly senders: number;
  /** Most sends per second per socket. */
  readonly rate: number;
  /** Most unanswered sends per socket. */
  readonly window: number;
  readonly seconds: number;
  /** Body size, characters (as the chat phases'). */
  readonly bodyBytes: number;
}

export interface WsFloorResult {
  readonly senders: number;
  /** Most unanswered sends per socket, and most sends per second per socket (as the spec said). */
  readonly window: number;
  readonly rate: number;
  readonly sent: number;
  readonly answered: number;
  /** First send to last reply, s. */
  readonly seconds: number;
  readonly answeredPerSec: number;
  readonly replyMs: Summary;
}

const DRAIN_MS = 10_000;

/**
 * Opens the sockets (`sourceOf(k)` = source address of socket k), calls `mark('start')`, runs
 * the saturated schedule, waits for the last replies, calls `mark('end')`, closes.
 */
export async function wsFloor(spec: WsFloorSpec, sourceOf: (k: number) => string | undefined, mark: (edge: 'start' | 'end') => Promise<void>): Promise<WsFloorResult> {
  const clients: LoadClient[] = [];
  try {
    for (let k = 0; k < spec.senders; k++) {
      const localAddress = sourceOf(k);
      clients.push(await LoadClient.connect(spec.url, localAddress ? { localAddress } : {}));
    }
    const body = 'x'.repeat(spec.bodyBytes);
    const roomId = '01900000-0000-7000-8000-000000000000';
    const replyMs = new Samples();
    let sent = 0;
    let answered = 0;
    let first = Number.POSITIVE_INFINITY;
    let last = 0;
    const send = (s: number, seq: number) =>
      new Promise<{ type: string }>((resolve) => {
        const at = performance.now();
        if (at < first) first = at;
        sent++;
        clients[s]!.send({ type: 'message.send', roomId, clientMessageId: `floor-${s}-${seq}`, body, firstAttempt: true }, (reply) => {
          const now = performance.now();
          if (reply.type === 'message.sent') {
            answered++;
            replyMs.push(now - at);
            last = now;
          }
          resolve(reply);
        });
      });
    const schedule: PhaseSpec = { name: 'wsFloor', kind: 'saturated', senders: spec.senders, seconds: spec.seconds, window: spec.window, maxPerSenderRate: spec.rate };
    await mark('start');
    await saturated(schedule, spec.senders, send, DRAIN_MS);
    await mark('end');
    const seconds = answered > 0 ? (last - first) / 1000 : 0;
    return { senders: spec.senders, window: spec.window, rate: spec.rate, sent, answered, seconds, answeredPerSec: seconds > 0 ? answered / seconds : 0, replyMs: replyMs.summary() };
  } finally {
    await Promise.all(clients.map((c) => c.close()));
  }
}
