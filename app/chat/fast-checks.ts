/**
 * Hand-written checks of the shapes every chat message passes through, in front of their zod
 * schemas (./protocol.ts), which stay the definition: each check returns a value only when its
 * schema would accept the input and give that same value (./fast-checks.test.ts compares them
 * on valid and invalid inputs); otherwise it returns undefined and the caller asks zod, which
 * decides and words the error. zod's generic parse was about a tenth of a busy backend's CPU.
 */
import { CLIENT_MESSAGE_ID_RE, LIMITS, cleanText, isUuid, isUuidV7, type ChatMessage, type ClientFrame, type Ref } from './protocol.js';

type MessageSend = Extract<ClientFrame, { type: 'message.send' }>;

const MESSAGE_SEND_KEYS = new Set(['type', 'ref', 'roomId', 'clientMessageId', 'body', 'firstAttempt']);
const CHAT_MESSAGE_KEYS = ['roomId', 'messageId', 'authorId', 'body', 'originRegion', 'createdAt'] as const;

const uuidString = (v: unknown): v is string => typeof v === 'string' && isUuid(v);

/** `refSchema`: a string of 1-64 characters or a safe non-negative integer. */
export function checkRef(v: unknown): Ref | undefined {
  if (typeof v === 'string') return v.length >= 1 && v.length <= LIMITS.refLength ? v : undefined;
  if (typeof v === 'number') return Number.isSafeInteger(v) && v >= 0 ? v : undefined;
  return undefined;
}

/** The `message.send` frame of clientFrameSchema (undefined: let zod decide). */
export function checkMessageSend(o: Record<string, unknown>): MessageSend | undefined {
  for (const k in o) if (!MESSAGE_SEND_KEYS.has(k)) return undefined;
  if (o['type'] !== 'message.send') return undefined;
  if ('ref' in o && checkRef(o['ref']) === undefined) return undefined;
  if (!uuidString(o['roomId'])) return undefined;
  const id = o['clientMessageId'];
  if (typeof id !== 'string' || id.length < 1 || id.length > LIMITS.clientMessageId || !CLIENT_MESSAGE_ID_RE.test(id)) return undefined;
  const body = o['body'];
  if (typeof body !== 'string' || body.length > LIMITS.body || !cleanText(body) || body.trim().length === 0) return undefined;
  if ('firstAttempt' in o && typeof o['firstAttempt'] !== 'boolean') return undefined;
  return o as MessageSend;
}

/** chatMessageSchema: a message as it travels over NATS (undefined: let zod decide). */
export function checkChatMessage(v: unknown): ChatMessage | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
  const o = v as Record<string, unknown>;
  let keys = 0;
  for (const k in o) {
    if (!(CHAT_MESSAGE_KEYS as readonly string[]).includes(k)) return undefined;
    keys++;
  }
  if (keys !== CHAT_MESSAGE_KEYS.length) return undefined;
  if (!uuidString(o['roomId']) || !uuidString(o['authorId'])) return undefined;
  const id = o['messageId'];
  if (typeof id !== 'string' || !isUuidV7(id)) return undefined;
  const { body, originRegion: region, createdAt } = o;
  if (typeof body !== 'string' || body.length > LIMITS.body) return undefined;
  if (typeof region !== 'string' || region.length < 1 || region.length > 63) return undefined;
  if (typeof createdAt !== 'string' || createdAt.length > 40) return undefined;
  return o as unknown as ChatMessage;
}
