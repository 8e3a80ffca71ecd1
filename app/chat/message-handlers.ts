/**
 * message.send, typing and history: members only. A send is answered `message.sent` after the
 * message is durable at LOCAL_QUORUM and published (./message-writer.ts); a retry with the same
 * clientMessageId gets the same messageId with `duplicate: true`.
 */
import type { Connection } from './connection.js';
import { Refusal } from './errors.js';
import { needBus, needStore, needWriter, requireMember, type HandlerContext, type Later } from './handler-context.js';
import { ClientMessageIdReused, type SendOutcome } from './message-writer.js';
import { LIMITS, chatMessageOf, isUuidV7, type ClientFrame } from './protocol.js';

type Frame<T extends ClientFrame['type']> = Extract<ClientFrame, { type: T }>;

/**
 * In the socket's queue: the membership check and handing the message to the writer, so a
 * socket's sends reach the writer (and get their ids, storage and live order) in frame order.
 * The wait for durability and the reply are `later`, outside the queue (./dispatch.ts).
 */
export async function messageSend(ctx: HandlerContext, c: Connection, f: Frame<'message.send'>, userId: string): Promise<Later> {
  const writer = needWriter(ctx);
  needBus(ctx);
  await requireMember(ctx, f.roomId, userId);
  const sent = writer.send({
    roomId: f.roomId,
    authorId: userId,
    clientMessageId: f.clientMessageId,
    body: f.body,
    ...(f.firstAttempt === true ? { firstAttempt: true } : {}),
  });
  return { later: replyWhenDurable(ctx, c, f, sent) };
}

async function replyWhenDurable(ctx: HandlerContext, c: Connection, f: Frame<'message.send'>, sent: Promise<SendOutcome>): Promise<void> {
  let outcome;
  try {
    outcome = await sent;
  } catch (e) {
    if (e instanceof ClientMessageIdReused) throw new Refusal('bad_frame', 'clientMessageId was already used for another room');
    throw e;
  }
  if (!outcome.duplicate) ctx.metrics.messagesIn.inc();
  c.reply(f.ref, { type: 'message.sent', roomId: f.roomId, clientMessageId: f.clientMessageId, messageId: outcome.messageId, duplicate: outcome.duplicate });
}

export async function typing(ctx: HandlerContext, c: Connection, f: Frame<'typing'>, userId: string): Promise<void> {
  const bus = needBus(ctx);
  await requireMember(ctx, f.roomId, userId);
  if (ctx.typing.allow(`${userId}:${f.roomId}`)) bus.publishTyping({ roomId: f.roomId, userId });
  if (f.ref !== undefined) c.reply(f.ref, { type: 'typing.ok', roomId: f.roomId });
}

export async function history(ctx: HandlerContext, c: Connection, f: Frame<'history'>, userId: string): Promise<void> {
  if (f.before !== undefined && !isUuidV7(f.before)) throw new Refusal('bad_cursor', 'before must be a message id (UUIDv7)');
  const store = needStore(ctx);
  await requireMember(ctx, f.roomId, userId);
  const limit = f.limit ?? LIMITS.historyDefault;
  const page = await store.before(f.roomId, f.before, limit);
  const last = page[page.length - 1];
  c.reply(f.ref, {
    type: 'history.page',
    roomId: f.roomId,
    messages: page.map(chatMessageOf),
    ...(page.length === limit && last ? { nextBefore: last.messageId } : {}),
  });
}
