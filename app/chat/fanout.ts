/**
 * Fan-out over the NATS super-cluster: one subject per room, `chat.room.<roomId>`. A backend
 * subscribes to a room's subject while at least one local connection has joined the room
 * (reference-counted), so gateways (interest-only) carry a room's traffic only to regions that
 * have members of it online. Core NATS is at-most-once; Cassandra is the durable log and resume
 * fills gaps.
 *
 * Headers: `Chat-Kind`, `Chat-Origin-Region`. Kinds and payloads (JSON):
 *  - `messages`: the messages one write batch made durable in one room, an array in id order.
 *    A write batch is one NATS message, not one per chat message: at a few thousand messages a
 *    second the per-message publish, header encoding and parse were a fifth of a backend's CPU.
 *    Bounded by the writer's batch (64 messages, 32 KiB of bodies by default) and split when
 *    it would exceed the server's max_payload.
 *  - `message`: one message (with a `Chat-Message-Id` header), what versions before batches
 *    published; still accepted, so a region that upgrades later keeps delivering.
 *  - `typing`: one typing event.
 * Payloads are validated on receipt (another region may run another version) and each client
 * frame is serialized once per message, not once per socket.
 *
 * The connection is opened with `noEcho`: the server does not send a backend its own
 * publications back. Its local members get them straight from publishMessage/publishTyping,
 * already valid and serialized, in the order it publishes them (so a room's messages from this
 * backend stay in id order); only other backends' events cross NATS into this process. That
 * halves a backend's NATS receive, parse and validation work in a two-region room.
 */
import { headers, type Msg, type NatsConnection, type Subscription } from 'nats';
import type { Logger } from '../log.js';
import { checkChatMessage } from './fast-checks.js';
import { chatMessageOf, chatMessageSchema, typingEventSchema, type ChatMessage, type TypingEvent } from './protocol.js';

export const ROOM_SUBJECT_PREFIX = 'chat.room.';
export const roomSubject = (roomId: string): string => `${ROOM_SUBJECT_PREFIX}${roomId}`;

export const HEADERS = {
  kind: 'Chat-Kind',
  origin: 'Chat-Origin-Region',
  messageId: 'Chat-Message-Id',
} as const;

/** Most messages in one `messages` event a backend accepts (the writer's batch bound is 64 by default). */
export const MAX_BUS_BATCH = 1_000;
/** NATS's default max_payload, bytes: used until the server's INFO says otherwise. */
const DEFAULT_MAX_PAYLOAD = 1024 * 1024;

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

/** A message of the bus: checked by hand, or by chatMessageSchema when the hand check declines (./fast-checks.ts). */
function chatMessage(v: unknown): ChatMessage | undefined {
  const fast = checkChatMessage(v);
  if (fast) return fast;
  const r = chatMessageSchema.safeParse(v);
  return r.success ? r.data : undefined;
}

/** Decodes one NATS message of `roomId`'s subject into its events (in order), or why it is not valid (nothing of it is delivered). */
export function decodeBusMessage(roomId: string, data: Uint8Array, hdrs: { get(k: string): string } | undefined): readonly BusEvent[] | { invalid: string } {
  const kind = hdrs?.get(HEADERS.kind) || 'message';
  const origin = hdrs?.get(HEADERS.origin) ?? '';
  let json: unknown;
  try {
    json = JSON.parse(decoder.decode(data));
  } catch {
    return { invalid: 'payload is not JSON' };
  }
  if (kind === 'messages') {
    if (!Array.isArray(json) || json.length === 0 || json.length > MAX_BUS_BATCH) return { invalid: 'bad message batch' };
    const events: BusEvent[] = [];
    for (const item of json) {
      const m = chatMessage(item);
      if (!m || m.roomId !== roomId) return { invalid: 'bad message batch' };
      events.push(messageEvent(m, origin || m.originRegion));
    }
    return events;
  }
  if (kind === 'typing') {
    const t = typingEventSchema.safeParse(json);
    if (!t.success || t.data.roomId !== roomId) return { invalid: 'bad typing event' };
    return [{ kind: 'typing', event: t.data, origin, frame: typingFrame(t.data) }];
  }
  if (kind !== 'message') return { invalid: `unknown kind ${kind.slice(0, 20)}` };
  const m = chatMessage(json);
  if (!m || m.roomId !== roomId) return { invalid: 'bad message event' };
  const hid = hdrs?.get(HEADERS.messageId);
  if (hid && hid !== m.messageId) return { invalid: 'message id header does not match the payload' };
  return [messageEvent(m, origin || m.originRegion)];
}

function messageEvent(message: ChatMessage, origin: string): BusEvent {
  return { kind: 'message', message, origin, frame: messageFrame(message) };
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

  /**
   * Publishes one room's newly written messages (in id order) to the other backends as one
   * `messages` event (split only to stay under the server's max_payload), and hands them to
   * this backend's members of the room (noEcho).
   */
  publishMessages(roomId: string, messages: readonly ChatMessage[]): void {
    if (messages.length === 0) return;
    const own = messages.map((m) => {
      if (m.roomId !== roomId) throw new Error(`publishMessages: message ${m.messageId} is of room ${m.roomId}, not ${roomId}`);
      return chatMessageOf(m);
    });
    for (let i = 0; i < own.length; i += MAX_BUS_BATCH) this.publishBatch(roomId, own.slice(i, i + MAX_BUS_BATCH));
    if (this.subs.has(roomId)) for (const message of own) this.onEvent(roomId, messageEvent(message, this.region));
  }

  private publishBatch(roomId: string, messages: readonly ChatMessage[]): void {
    const payload = encoder.encode(JSON.stringify(messages));
    const max = this.nc.info?.max_payload ?? DEFAULT_MAX_PAYLOAD;
    if (payload.length > max - 1024 && messages.length > 1) {
      const half = Math.ceil(messages.length / 2);
      this.publishBatch(roomId, messages.slice(0, half));
      this.publishBatch(roomId, messages.slice(half));
      return;
    }
    const h = headers();
    h.set(HEADERS.kind, 'messages');
    h.set(HEADERS.origin, this.region);
    this.nc.publish(roomSubject(roomId), payload, { headers: h });
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
    const events = decodeBusMessage(roomId, msg.data, msg.headers);
    if ('invalid' in events) {
      this.onInvalid(events.invalid);
      this.log.warn('dropped an invalid event from NATS', { roomId, why: events.invalid });
      return;
    }
    for (const ev of events) this.onEvent(roomId, ev);
  }
}
