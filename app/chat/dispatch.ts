/**
 * From a WebSocket frame to its handler. The frame is parsed first (cheap, bounded by
 * maxPayload) so that every refusal, rate limiting included, echoes its `ref`; then the flood
 * guard, the in-flight bound, and the connection's queue, which runs one frame at a time in
 * order. A handler may finish its in-order part and hand back the rest (`Later`): a
 * message.send is queued in the writer in frame order, then waits for durability OUTSIDE the
 * socket's queue, so a client's next sends join the same write batch instead of waiting a
 * Cassandra round trip each (its replies can then come after later frames' replies: clients
 * match replies by `ref`). Handler failures become error replies: a Refusal as is, a
 * dependency problem as `unavailable`, anything else as `internal` (logged, never echoed).
 */
import type { RawData } from 'ws';
import { auth, loginRequest, loginVerify } from './auth-handlers.js';
import type { Connection } from './connection.js';
import { Refusal, isUnavailableError } from './errors.js';
import type { HandlerContext, Later } from './handler-context.js';
import { history, messageSend, typing } from './message-handlers.js';
import { parseClientFrame } from './frame-parser.js';
import { CLOSE, UNAUTHENTICATED_TYPES, type ClientFrame } from './protocol.js';
import { roomCreate, roomInvite, roomJoin, roomLeave } from './room-handlers.js';

export interface DispatchState {
  /** True while the server shuts down: frames are refused with `shutting_down`. */
  readonly closing: () => boolean;
  /** Frames accepted and not yet answered, over all connections (shutdown waits for 0). */
  inflight: number;
}

async function handle(ctx: HandlerContext, c: Connection, f: ClientFrame): Promise<void | Later> {
  if (!UNAUTHENTICATED_TYPES.has(f.type) && c.userId === undefined) throw new Refusal('unauthenticated', 'authenticate first (auth or login.verify)');
  const userId = c.userId ?? '';
  switch (f.type) {
    case 'ping':
      return c.reply(f.ref, { type: 'pong' });
    case 'login.request':
      return loginRequest(ctx, c, f);
    case 'login.verify':
      return loginVerify(ctx, c, f);
    case 'auth':
      return auth(ctx, c, f);
    case 'room.create':
      return roomCreate(ctx, c, f, userId);
    case 'room.invite':
      return roomInvite(ctx, c, f, userId);
    case 'room.join':
      return roomJoin(ctx, c, f, userId);
    case 'room.leave':
      return roomLeave(ctx, c, f, userId);
    case 'message.send':
      return messageSend(ctx, c, f, userId);
    case 'typing':
      return typing(ctx, c, f, userId);
    case 'history':
      return history(ctx, c, f, userId);
  }
}

function decode(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}

/** One incoming frame of `c`. Never throws. */
export function onFrame(ctx: HandlerContext, state: DispatchState, c: Connection, data: RawData, isBinary: boolean): void {
  if (isBinary) {
    if (c.guard.check() === 'close') return floodClose(ctx, c);
    return c.error('binary_not_supported', 'only text frames carrying JSON are accepted');
  }
  const parsed = parseClientFrame(decode(data));
  const ref = parsed.ok ? parsed.frame.ref : parsed.ref;
  const verdict = c.guard.check();
  if (verdict === 'close') return floodClose(ctx, c);
  if (verdict === 'limited') {
    ctx.metrics.rateLimited.inc({ scope: 'connection' });
    return c.error('rate_limited', 'too many frames; slow down', ref);
  }
  if (!parsed.ok) return c.error(parsed.code, parsed.message, ref);
  if (state.closing()) return c.error('shutting_down', 'the server is restarting; reconnect', ref);
  if (c.pending >= ctx.settings.rateBurst) {
    ctx.metrics.rateLimited.inc({ scope: 'in_flight' });
    return c.error('rate_limited', 'too many requests in flight; wait for replies', ref);
  }
  c.pending++;
  state.inflight++;
  const frame = parsed.frame;
  const answered = () => {
    c.pending--;
    state.inflight--;
  };
  const fail = (e: unknown) => {
    if (e instanceof Refusal) c.error(e.code, e.message, frame.ref);
    else if (isUnavailableError(e)) {
      ctx.log.warn('dependency unavailable while handling a frame', { conn: c.id, frameType: frame.type, error: e });
      c.error('unavailable', 'a backing service did not answer; retry', frame.ref);
    } else {
      ctx.log.error('frame handler failed', { conn: c.id, frameType: frame.type, error: e });
      c.error('internal', 'internal error', frame.ref);
    }
  };
  c.queue = c.queue.then(async () => {
    let rest: Later | void = undefined;
    try {
      if (!c.closed) rest = await handle(ctx, c, frame);
    } catch (e) {
      fail(e);
    }
    if (rest) void rest.later.catch(fail).finally(answered);
    else answered();
  });
}

function floodClose(ctx: HandlerContext, c: Connection): void {
  ctx.metrics.rateLimited.inc({ scope: 'connection' });
  c.close(CLOSE.policy, 'rate limit exceeded');
}
