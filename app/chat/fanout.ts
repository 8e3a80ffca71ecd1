/**
 * Fan-out over the NATS super-cluster: one subject per room, `chat.room.<roomId>`. A backend
 * subscribes to a room's subject while at least one local connection has joined the room
 * (reference-counted), so gateways (interest-only) carry a room's traffic only to regions that
 * have members of it online. Core NATS is at-most-once; Cassandra is the durable log and resume
 * fills gaps.
 *
 * Headers: `Chat-Kind` (message | typing), `Chat-Origin-Region`, `Chat-Message-Id`. The payload
 * is the event's JSON; it is validated on receipt (another region may run another version) and
 * the client frame is serialized once per NATS message, not once per socket.
 *
 * The connection is opened with `noEcho`: the server does not send a backend its own
 * publications back. Its local members get them straight from publishMessage/publishTyping,
 * already valid and serialized, in the order it publishes them (so a room's messages from this
 * backend stay in id order); only other backends' events cross NATS into this process. That
 * halves a backend's NATS receive, parse and validation work in a two-region room.
 */
import { headers, type Msg, type NatsConnection, type Subscription } from 'nats';
import type { Logger } from '../log.js';
import { chatMessageOf, chatMessageSchema, typingEventSchema, type ChatMessage, type TypingEvent } from './protocol.js';

export const ROOM_SUBJECT_PREFIX = 'chat.room.';
export const roomSubject = (roomId: string): string => `${ROOM_SUBJECT_PREFIX}${roomId}`;

export const HEADERS = {
  kind: 'Chat-Kind',
  origin: 'Chat-Origin-Region',
  messageId: 'Chat-Message-Id',
} as const;

export type BusEvent =
  | { readonly kind: 'message'; readonly message: ChatMessage; readonly origin: string; readonly frame: string }
  | { readonly kind: 'typing'; readonly event: TypingEvent; readonly origin: string; readonly frame: string };

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The `message` frame clients get, serialized once. */
export function messageFrame(m: ChatMessage): string {
  return JSON.stringify({ type: 'message', ...chatMessageOf(m) });
}

/** The `typing` frame clients get, serialized once. */
export function typingFrame(e: TypingEvent): string {
  return JSON.stringify({ type: 'typing', roomId: e.roomId, userId: e.userId });
}

/** Decodes one NATS message of `roomId`'s subject; undefined (with a reason) when it is not valid. */
export function decodeBusMessage(roomId: string, data: Uint8Array, hdrs: { get(k: string): string } | undefined): BusEvent | { invalid: string } {
  const kind = hdrs?.get(HEADERS.kind) || 'message';
  const origin = hdrs?.get(HEADERS.origin) ?? '';
  let json: unknown;
  try {
    json = JSON.parse(decoder.decode(data));
  } catch {
    return { invalid: 'payload is not JSON' };
  }
  if (kind === 'typing') {
    const t = typingEventSchema.safeParse(json);
    if (!t.success || t.data.roomId !== roomId) return { invalid: 'bad typing event' };
    return { kind: 'typing', event: t.data, origin, frame: typingFrame(t.data) };
  }
  if (kind !== 'message') return { invalid: `unknown kind ${kind.slice(0, 20)}` };
  const m = chatMessageSchema.safeParse(json);
  if (!m.success || m.data.roomId !== roomId) return { invalid: 'bad message event' };
  const hid = hdrs?.get(HEADERS.messageId);
  if (hid && hid !== m.data.messageId) return { invalid: 'message id header does not match the payload' };
  return { kind: 'message', message: m.data, origin: origin || m.data.originRegion, frame: messageFrame(m.data) };
}

export class RoomBus {
  private readonly subs = new Map<string, { sub: Subscription; refs: number }>();

  constructor(
    private readonly nc: NatsConnection,
    private readonly region: string,
    private readonly onEvent: (roomId: string, ev: BusEvent) => void,
    private readonly log: Logger,
    private readonly onInvalid: (why: string) => void = () => {},
  ) {
    // NatsConnectionImpl keeps its ConnectionOptions in `options` (not in the NatsConnection type).
    if ((nc as { options?: { noEcho?: boolean } }).options?.noEcho !== true) throw new Error('RoomBus needs a NATS connection opened with noEcho: true (it delivers its own publications locally; with echo, local members would get them twice)');
  }

  get subscriptionCount(): number {
    return this.subs.size;
  }

  /** One more local holder of `roomId`: subscribes on the first. */
  retain(roomId: string): void {
    const s = this.subs.get(roomId);
    if (s) {
      s.refs++;
      return;
    }
    const sub = this.nc.subscribe(roomSubject(roomId), {
      callback: (err, msg) => {
        if (err) {
          this.log.warn('room subscription error', { roomId, error: err });
          return;
        }
        this.receive(roomId, msg);
      },
    });
    this.subs.set(roomId, { sub, refs: 1 });
  }

  /** One fewer holder: unsubscribes after the last. */
  release(roomId: string): void {
    const s = this.subs.get(roomId);
    if (!s) return;
    if (--s.refs > 0) return;
    this.subs.delete(roomId);
    try {
      s.sub.unsubscribe();
    } catch {
      /* connection closing */
    }
  }

  /** Resolves once the server has processed everything sent so far (subscriptions included). */
  async flush(): Promise<void> {
    await this.nc.flush();
  }

  /** Publishes to the other backends, and hands it to this backend's members of the room (noEcho). */
  publishMessage(m: ChatMessage): void {
    const message = chatMessageOf(m);
    const h = headers();
    h.set(HEADERS.kind, 'message');
    h.set(HEADERS.origin, this.region);
    h.set(HEADERS.messageId, m.messageId);
    this.nc.publish(roomSubject(m.roomId), encoder.encode(JSON.stringify(message)), { headers: h });
    if (this.subs.has(m.roomId)) this.onEvent(m.roomId, { kind: 'message', message, origin: this.region, frame: messageFrame(message) });
  }

  /** Publishes to the other backends, and hands it to this backend's members of the room (noEcho). */
  publishTyping(e: TypingEvent): void {
    const event = { roomId: e.roomId, userId: e.userId };
    const h = headers();
    h.set(HEADERS.kind, 'typing');
    h.set(HEADERS.origin, this.region);
    this.nc.publish(roomSubject(e.roomId), encoder.encode(JSON.stringify(event)), { headers: h });
    if (this.subs.has(e.roomId)) this.onEvent(e.roomId, { kind: 'typing', event, origin: this.region, frame: typingFrame(event) });
  }

  private receive(roomId: string, msg: Msg): void {
    const ev = decodeBusMessage(roomId, msg.data, msg.headers);
    if ('invalid' in ev) {
      this.onInvalid(ev.invalid);
      this.log.warn('dropped an invalid event from NATS', { roomId, why: ev.invalid });
      return;
    }
    this.onEvent(roomId, ev);
  }
}
