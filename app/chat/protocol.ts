/**
 * The one JSON protocol between chat clients and a region's backend, validated with zod.
 *
 * Client -> server frames (discriminated on `type`; every frame may carry `ref`, a string of
 * 1-64 characters or a safe non-negative integer, echoed in the reply):
 *   login.request {username, email?}               -> login.code_sent (email: needed until one is bound)
 *   login.verify  {username, code}                 -> login.ok {token, userId, expiresAt}
 *   auth          {token}                          -> auth.ok {userId}
 *   room.create   {name, visibility?}              -> room.created {roomId, name, visibility} (default private)
 *   room.invite   {roomId, username}               -> room.invited {roomId, userId} (the owner adds a member)
 *   room.join     {roomId, lastSeenMessageId?}     -> (replayed `message` frames) room.joined
 *   room.leave    {roomId}                         -> room.left
 *   message.send  {roomId, clientMessageId, body, firstAttempt?} -> message.sent {clientMessageId, messageId}
 *   typing        {roomId}                         -> typing.ok (only when `ref` is given)
 *   history       {roomId, before?, limit?}        -> history.page {messages (newest first), nextBefore?}
 *   ping          {}                               -> pong
 * Every reply, errors included, carries the frame's `ref` when it had a readable one.
 * Server -> client events: hello, message, typing, error {code, message, ref?}, and
 * resync {roomIds}: the backend's NATS connection was re-established, so live messages may have
 * been missed (core NATS is at-most-once); re-join each room with its lastSeenMessageId.
 *
 * Objects are strict (unknown keys are refused), `__proto__`/`constructor`/`prototype` keys are
 * refused anywhere in a frame, and error messages never echo client values. Parsing a frame
 * (JSON, those keys, then these schemas): ./frame-parser.ts.
 */
import { z } from 'zod';

export const PROTOCOL_VERSION = 1;

export const ERROR_CODES = [
  'bad_json',
  'bad_frame',
  'unknown_type',
  'binary_not_supported',
  'frame_too_large',
  'bad_utf8',
  'unauthenticated',
  'already_authenticated',
  'auth_failed',
  'invalid_username',
  'email_required',
  'invalid_code',
  'too_many_codes',
  'not_found',
  'not_member',
  'not_owner',
  'bad_cursor',
  'rate_limited',
  'unavailable',
  'shutting_down',
  'internal',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

/**
 * WebSocket close codes the server uses. `regionUnavailable` (4001): this region lost NATS,
 * Cassandra or Postgres; reconnect to ANOTHER region (the global name) and resume with each
 * room's lastSeenMessageId.
 */
export const CLOSE = {
  normal: 1000,
  policy: 1008,
  tooBig: 1009,
  serviceRestart: 1012,
  tryAgainLater: 1013,
  regionUnavailable: 4001,
} as const;

export const LIMITS = {
  refLength: 64,
  usernameInput: 64,
  roomName: 100,
  body: 4_000,
  clientMessageId: 64,
  email: 254,
  historyDefault: 50,
  historyMax: 100,
} as const;

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const UUIDV7_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** Canonical (lower-case) RFC 9562 UUID. */
export function isUuid(s: string): boolean {
  return UUID_RE.test(s);
}
/** Canonical (lower-case) UUIDv7. */
export function isUuidV7(s: string): boolean {
  return UUIDV7_RE.test(s);
}

// C0 controls other than tab/newline/carriage return, DEL, and lone surrogates are refused in text.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
/** Text without C0 controls (other than tab, newline, carriage return), DEL or lone surrogates. */
export const cleanText = (s: string) => !CONTROL.test(s) && !LONE_SURROGATE.test(s);

export const refSchema = z.union([z.string().min(1).max(LIMITS.refLength), z.int().min(0).max(Number.MAX_SAFE_INTEGER)]);
export type Ref = z.infer<typeof refSchema>;

export const CLIENT_MESSAGE_ID_RE = /^[A-Za-z0-9_.:-]+$/;

const uuid = z.string().max(36).regex(UUID_RE, { message: 'must be a lower-case UUID' });
/** Cursors are checked semantically by the handlers (bad_cursor), so only their shape is bounded here. */
const cursor = z.string().max(64);
const text = (max: number) => z.string().max(max).refine(cleanText, { message: 'contains control characters' });

const frame = <T extends string, S extends z.ZodRawShape>(type: T, shape: S) =>
  z.strictObject({ type: z.literal(type), ref: refSchema.optional(), ...shape });

export const clientFrameSchema = z.discriminatedUnion('type', [
  frame('login.request', {
    username: text(LIMITS.usernameInput).min(1),
    // One plain ASCII address (RFC 5322 dot-atom local part, a dotted domain): no lists, comments or display names.
    email: z
      .string()
      .max(LIMITS.email)
      .regex(/^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,}$/, {
        message: 'must be one e-mail address',
      })
      .optional(),
  }),
  frame('login.verify', { username: text(LIMITS.usernameInput).min(1), code: z.string().regex(/^[0-9]{6}$/, { message: 'must be 6 digits' }) }),
  frame('auth', { token: z.string().regex(/^[A-Za-z0-9_-]{43}$/, { message: 'must be a session token' }) }),
  frame('room.create', {
    name: text(LIMITS.roomName).refine((s) => s.trim().length > 0, { message: 'must not be blank' }),
    visibility: z.enum(['public', 'private']).optional(),
  }),
  frame('room.invite', { roomId: uuid, username: text(LIMITS.usernameInput).min(1) }),
  frame('room.join', { roomId: uuid, lastSeenMessageId: cursor.optional() }),
  frame('room.leave', { roomId: uuid }),
  frame('message.send', {
    roomId: uuid,
    clientMessageId: z.string().min(1).max(LIMITS.clientMessageId).regex(CLIENT_MESSAGE_ID_RE, { message: 'must be 1-64 of A-Z a-z 0-9 _ . : -' }),
    body: text(LIMITS.body).refine((s) => s.trim().length > 0, { message: 'must not be blank' }),
    // true only on the first send of this clientMessageId (never on a resend): skips the retry lookup.
    firstAttempt: z.boolean().optional(),
  }),
  frame('typing', { roomId: uuid }),
  frame('history', { roomId: uuid, before: cursor.optional(), limit: z.int().min(1).max(LIMITS.historyMax).optional() }),
  frame('ping', {}),
]);
export type ClientFrame = z.infer<typeof clientFrameSchema>;
export type ClientFrameType = ClientFrame['type'];
export const CLIENT_FRAME_TYPES: readonly ClientFrameType[] = clientFrameSchema.options.map((o) => o.shape.type.value);

/** Frames an unauthenticated connection may send. */
export const UNAUTHENTICATED_TYPES: ReadonlySet<ClientFrameType> = new Set(['login.request', 'login.verify', 'auth', 'ping']);

// ---------------------------------------------------------------------------------------------
// Server -> client

/** A chat message as clients see it (and as it travels over NATS). */
export interface ChatMessage {
  readonly roomId: string;
  readonly messageId: string;
  readonly authorId: string;
  readonly body: string;
  readonly originRegion: string;
  /** ISO time of the UUIDv7's timestamp. */
  readonly createdAt: string;
}

/** Exactly the public fields of a message (a stored row or a bus event may carry more). */
export function chatMessageOf(m: ChatMessage): ChatMessage {
  return {
    roomId: m.roomId,
    messageId: m.messageId,
    authorId: m.authorId,
    body: m.body,
    originRegion: m.originRegion,
    createdAt: m.createdAt,
  };
}

export const chatMessageSchema = z.strictObject({
  roomId: uuid,
  messageId: z.string().regex(UUIDV7_RE),
  authorId: uuid,
  body: z.string().max(LIMITS.body),
  originRegion: z.string().min(1).max(63),
  createdAt: z.string().max(40),
});

export const typingEventSchema = z.strictObject({ roomId: uuid, userId: uuid });
export type TypingEvent = z.infer<typeof typingEventSchema>;

export type ServerFrame =
  | { type: 'hello'; region: string; protocol: number; maxFrameBytes: number }
  | { type: 'error'; code: ErrorCode; message: string; ref?: Ref }
  | { type: 'pong'; ref?: Ref }
  | { type: 'login.code_sent'; username: string; expiresInSeconds: number; ref?: Ref }
  | { type: 'login.ok'; token: string; userId: string; expiresAt: string; ref?: Ref }
  | { type: 'auth.ok'; userId: string; ref?: Ref }
  | { type: 'room.created'; roomId: string; name: string; visibility: 'public' | 'private'; ref?: Ref }
  | { type: 'room.invited'; roomId: string; userId: string; ref?: Ref }
  | { type: 'room.joined'; roomId: string; replayed: number; recovered: boolean; ref?: Ref }
  | { type: 'room.left'; roomId: string; ref?: Ref }
  | { type: 'message.sent'; roomId: string; clientMessageId: string; messageId: string; duplicate: boolean; ref?: Ref }
  | ({ type: 'message' } & ChatMessage)
  | { type: 'typing'; roomId: string; userId: string }
  | { type: 'resync'; roomIds: string[]; reason: string }
  | { type: 'typing.ok'; roomId: string; ref?: Ref }
  | { type: 'history.page'; roomId: string; messages: ChatMessage[]; nextBefore?: string; ref?: Ref };

/** Username as stored in the claim table's PK: NFKC, trimmed, lower-case; undefined if not allowed. */
export function normalizeUsername(input: string): string | undefined {
  const n = input.normalize('NFKC').trim().toLowerCase();
  return /^[a-z0-9][a-z0-9_.-]{2,31}$/.test(n) ? n : undefined;
}

export function errorFrame(code: ErrorCode, message: string, ref?: Ref): ServerFrame {
  return ref !== undefined ? { type: 'error', code, message, ref } : { type: 'error', code, message };
}
