/**
 * room.create, room.invite, room.join and room.leave. Public rooms are joined by anyone; private
 * ones only by members the owner added with room.invite. A join subscribes first, replays what
 * the client missed after its cursor, then goes live (./resume.ts): no gap, no duplicate.
 */
import { v7 as uuidv7 } from 'uuid';
import type { Connection } from './connection.js';
import { Refusal } from './errors.js';
import { messageFrame } from './fanout.js';
import { needBus, needStore, type HandlerContext } from './handler-context.js';
import type { StoredMessage } from './history.js';
import { chatMessageOf, isUuidV7, normalizeUsername, type ChatMessage, type ClientFrame } from './protocol.js';
import { ResumeGate } from './resume.js';

/** Most messages one `room.join` replays; beyond that it answers `recovered: false` (use history). */
export const REPLAY_MAX = 1_000;

type Frame<T extends ClientFrame['type']> = Extract<ClientFrame, { type: T }>;

export async function roomCreate(ctx: HandlerContext, c: Connection, f: Frame<'room.create'>, userId: string): Promise<void> {
  const roomId = uuidv7();
  const name = f.name.trim();
  const visibility = f.visibility ?? 'private';
  await ctx.deps.db.createRoom(roomId, name, userId, visibility);
  ctx.membership.remember(roomId, userId);
  ctx.log.info('room created', { roomId, userId, visibility });
  c.reply(f.ref, { type: 'room.created', roomId, name, visibility });
}

export async function roomInvite(ctx: HandlerContext, c: Connection, f: Frame<'room.invite'>, userId: string): Promise<void> {
  const db = ctx.deps.db;
  const norm = normalizeUsername(f.username);
  const invitee = norm ? await db.userIdByUsername(norm) : undefined;
  if (!invitee) throw new Refusal('not_found', 'no such user');
  if (!(await db.addMember(f.roomId, userId, invitee))) {
    const access = await db.roomAccess(f.roomId, userId);
    if (access.kind === 'none') throw new Refusal('not_found', 'no such room, or it is private and you are not a member');
    throw new Refusal('not_owner', 'only the room owner can add members');
  }
  c.reply(f.ref, { type: 'room.invited', roomId: f.roomId, userId: invitee });
}

export async function roomJoin(ctx: HandlerContext, c: Connection, f: Frame<'room.join'>, userId: string): Promise<void> {
  const cursor = f.lastSeenMessageId;
  if (cursor !== undefined && !isUuidV7(cursor)) throw new Refusal('bad_cursor', 'lastSeenMessageId must be a message id (UUIDv7)');
  const store = needStore(ctx);
  const bus = needBus(ctx);
  const access = await ctx.deps.db.roomAccess(f.roomId, userId);
  if (access.kind === 'none') throw new Refusal('not_found', 'no such room, or it is private and you are not a member');
  if (access.kind === 'may_join' && !(await ctx.deps.db.joinPublicRoom(f.roomId, userId))) throw new Refusal('not_found', 'no such room');
  ctx.membership.remember(f.roomId, userId);
  // 1. live first (buffered), 2. replay, 3. flush the buffer without duplicates.
  const gate = new ResumeGate<ChatMessage>();
  ctx.rooms.attach(c, f.roomId, gate, bus);
  let replayed: StoredMessage[] = [];
  let recovered = true;
  try {
    await bus.flush();
    await ctx.hooks?.beforeReplay?.(f.roomId);
    if (cursor !== undefined) {
      replayed = await store.after(f.roomId, cursor, REPLAY_MAX + 1);
      if (replayed.length > REPLAY_MAX) {
        replayed = [];
        recovered = false;
      }
    }
    await ctx.hooks?.afterReplay?.(f.roomId);
  } catch (e) {
    ctx.rooms.detach(c, f.roomId, ctx.deps.bus);
    throw e;
  }
  if (c.rooms.get(f.roomId) !== gate) return; // left or re-joined meanwhile
  const toSend = gate.goLive(replayed.map(chatMessageOf));
  const replayIds = new Set(replayed.map((m) => m.messageId));
  for (const m of toSend) c.deliver(m, messageFrame(m), replayIds.has(m.messageId) ? 'replay' : 'live');
  c.reply(f.ref, { type: 'room.joined', roomId: f.roomId, replayed: replayed.length, recovered });
}

export async function roomLeave(ctx: HandlerContext, c: Connection, f: Frame<'room.leave'>, userId: string): Promise<void> {
  ctx.rooms.detach(c, f.roomId, ctx.deps.bus);
  await ctx.deps.db.leaveRoom(f.roomId, userId);
  ctx.membership.forget(f.roomId, userId);
  c.reply(f.ref, { type: 'room.left', roomId: f.roomId });
}
