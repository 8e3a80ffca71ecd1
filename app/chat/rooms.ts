/**
 * Which local connections are in which room, and the routing of the room's live events to them.
 * A connection attached to a room holds one reference on the room's NATS subscription
 * (./fanout.ts RoomBus), so the backend subscribes while at least one local member is online.
 * Live messages pass each connection's resume gate (buffered during a replay, de-duplicated
 * after it); typing events go to everyone but their author.
 */
import { countLiveDeliveries, type Connection } from './connection.js';
import type { BusEvent, RoomBus } from './fanout.js';
import type { ChatMetrics } from './metrics.js';
import { CLOSE, type ChatMessage } from './protocol.js';
import type { ResumeGate } from './resume.js';

export class RoomRegistry {
  private readonly byRoom = new Map<string, Set<Connection>>();

  /** @param region this backend's region (same- or cross-region deliveries in the metrics) */
  constructor(
    private readonly metrics: ChatMetrics,
    private readonly region: string,
  ) {}

  /** Adds `c` to the room with a fresh gate (re-joining replaces the gate; the subscription is kept). */
  attach(c: Connection, roomId: string, gate: ResumeGate<ChatMessage>, bus: RoomBus): void {
    const existed = c.rooms.has(roomId);
    c.rooms.set(roomId, gate);
    if (existed) return;
    let set = this.byRoom.get(roomId);
    if (!set) {
      set = new Set();
      this.byRoom.set(roomId, set);
    }
    set.add(c);
    bus.retain(roomId);
    this.metrics.roomSubscriptions.set(bus.subscriptionCount);
  }

  detach(c: Connection, roomId: string, bus: RoomBus | undefined): void {
    if (!c.rooms.delete(roomId)) return;
    const set = this.byRoom.get(roomId);
    set?.delete(c);
    if (set && set.size === 0) this.byRoom.delete(roomId);
    if (!bus) return;
    bus.release(roomId);
    this.metrics.roomSubscriptions.set(bus.subscriptionCount);
  }

  detachAll(c: Connection, bus: RoomBus | undefined): void {
    for (const roomId of [...c.rooms.keys()]) this.detach(c, roomId, bus);
  }

  /** Delivers one live event of `roomId` to the room's local connections. */
  route(roomId: string, ev: BusEvent): void {
    const conns = this.byRoom.get(roomId);
    if (!conns) return;
    let delivered = 0;
    for (const c of conns) {
      if (ev.kind === 'typing') {
        if (c.userId !== ev.event.userId) c.sendRaw(ev.frame);
        continue;
      }
      const gate = c.rooms.get(roomId);
      if (!gate) continue;
      const verdict = gate.offer(ev.message);
      if (verdict === 'send') {
        if (c.sendRaw(ev.frame)) delivered++;
      } else if (verdict === 'overflow') c.close(CLOSE.tryAgainLater, 'resume buffer overflow');
    }
    if (ev.kind === 'message') countLiveDeliveries(this.metrics, this.region, ev.message, ev.origin, delivered);
  }
}

/** Remembers confirmed memberships for `ttlMs` so a busy sender costs no Postgres query per message. */
export class MembershipCache {
  private readonly until = new Map<string, number>();

  constructor(
    private readonly ttlMs = 30_000,
    private readonly maxEntries = 100_000,
    private readonly now: () => number = Date.now,
  ) {}

  private key(roomId: string, userId: string): string {
    return `${roomId}:${userId}`;
  }

  has(roomId: string, userId: string): boolean {
    const t = this.until.get(this.key(roomId, userId));
    return t !== undefined && t > this.now();
  }

  remember(roomId: string, userId: string): void {
    if (this.until.size >= this.maxEntries) this.until.clear();
    this.until.set(this.key(roomId, userId), this.now() + this.ttlMs);
  }

  forget(roomId: string, userId: string): void {
    this.until.delete(this.key(roomId, userId));
  }
}
