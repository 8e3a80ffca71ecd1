/**
 * What frame handlers work with: settings, the region's dependencies, the room registry, the
 * membership cache and the session hooks of the server. The `need*` helpers turn a missing
 * dependency into an `unavailable` refusal.
 */
import type { Logger } from '../log.js';
import type { CodeSender } from './code-sender.js';
import type { Connection } from './connection.js';
import type { Dependencies } from './dependencies.js';
import { Refusal } from './errors.js';
import type { RoomBus } from './fanout.js';
import type { MessageStore } from './history.js';
import type { MessageWriter } from './message-writer.js';
import type { ChatMetrics } from './metrics.js';
import type { Debouncer } from './ratelimit.js';
import type { MembershipCache, RoomRegistry } from './rooms.js';
import type { ChatSettings } from './settings.js';

export interface ResumeHooks {
  /** After the room's live subscription is registered, before the replay read. */
  beforeReplay?: (roomId: string) => Promise<void>;
  /** After the replay read, before the buffer is flushed and the connection goes live. */
  afterReplay?: (roomId: string) => Promise<void>;
}

export interface HandlerContext {
  readonly settings: ChatSettings;
  readonly log: Logger;
  readonly metrics: ChatMetrics;
  readonly deps: Dependencies;
  readonly rooms: RoomRegistry;
  readonly membership: MembershipCache;
  readonly codeSender: CodeSender;
  readonly typing: Debouncer;
  /** Test seams, read at call time. */
  readonly hooks: ResumeHooks | undefined;
  /** Marks `c` authenticated as `userId` (per-user cap, auth deadline); throws a Refusal when over the cap. */
  authenticate(c: Connection, userId: string): void;
  /** Counts a failed login/auth; closes the socket after too many. */
  failedAuth(c: Connection): void;
}

export function needStore(ctx: HandlerContext): MessageStore {
  if (!ctx.deps.store) throw new Refusal('unavailable', 'history store is not connected; retry');
  return ctx.deps.store;
}

/** What a handler hands back when the rest of its work (and its reply) may run outside the socket's queue (./dispatch.ts). */
export interface Later {
  readonly later: Promise<void>;
}

export function needWriter(ctx: HandlerContext): MessageWriter {
  if (!ctx.deps.writer) throw new Refusal('unavailable', 'history store is not connected; retry');
  return ctx.deps.writer;
}

export function needBus(ctx: HandlerContext): RoomBus {
  if (!ctx.deps.bus || !ctx.deps.natsUp) throw new Refusal('unavailable', 'messaging is not connected; retry');
  return ctx.deps.bus;
}

/**
 * Members only. A stranger gets `not_found` for a private room (its existence is not revealed)
 * and `not_member` for a public one (join it first).
 */
export async function requireMember(ctx: HandlerContext, roomId: string, userId: string): Promise<void> {
  if (ctx.membership.has(roomId, userId)) return;
  const access = await ctx.deps.db.roomAccess(roomId, userId);
  if (access.kind === 'member') {
    ctx.membership.remember(roomId, userId);
    return;
  }
  ctx.membership.forget(roomId, userId);
  if (access.kind === 'may_join') throw new Refusal('not_member', 'you are not a member of this room; join it first');
  throw new Refusal('not_found', 'no such room, or it is private and you are not a member');
}
