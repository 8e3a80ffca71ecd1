/**
 * The hand checks must agree with the zod schemas they stand in front of: on every input below
 * (each field of a valid value swapped for edge cases, keys added and removed), the hand check
 * accepts exactly when zod accepts, and gives what zod gives.
 */
import { describe, expect, it } from 'vitest';
import { checkChatMessage, checkMessageSend, checkRef } from './fast-checks.js';
import { chatMessageSchema, clientFrameSchema, refSchema } from './protocol.js';

const ROOM = '0190a000-0000-7000-8000-000000000001';
const V7 = '0190a000-0000-7abc-9000-000000000002';

const refs: unknown[] = ['', 'r', 'a'.repeat(64), 'a'.repeat(65), 0, -0, 7, -1, 1.5, Number.MAX_SAFE_INTEGER, 2 ** 53, NaN, Infinity, null, true, {}, [], '7'];
const uuids: unknown[] = [ROOM, V7, ROOM.toUpperCase(), ROOM.slice(1), `${ROOM}0`, '0190a000-0000-7000-c000-000000000001', '0190a000000070008000000000000001xxxx', '', 5, null];
const texts: unknown[] = ['hi', ' x ', '', ' ', '\n\t', 'a\u0000b', 'a\u0007', 'a\u007fb', 'tab\there', 'line\r\n', '\ud83d\ude00', 'lone \ud83d', 'lone \ude00 x', 'é', 'x'.repeat(4000), 'x'.repeat(4001), 12, null, ['x']];
const clientIds: unknown[] = ['c-1', 'a.b:c_d-e', '', 'x'.repeat(64), 'x'.repeat(65), 'has space', 'ü', 'c/1', 3, null];
const booleans: unknown[] = [true, false, 'true', 0, 1, null];

/** Every variant of `base`: each field swapped for each candidate, dropped, and one unknown key added. */
function variants(base: Record<string, unknown>, candidates: Record<string, readonly unknown[]>): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [base];
  for (const [key, values] of Object.entries(candidates)) {
    for (const v of values) out.push({ ...base, [key]: v });
    const { [key]: _dropped, ...rest } = base;
    out.push(rest);
  }
  out.push({ ...base, extra: 1 }, { ...base, messageId: V7 });
  return out;
}

/** Asserts the hand check and zod agree on every input; returns how many were accepted. */
function agree(inputs: readonly unknown[], hand: (v: unknown) => unknown, schema: { safeParse(v: unknown): { success: boolean; data?: unknown } }): number {
  let accepted = 0;
  for (const input of inputs) {
    const z = schema.safeParse(input);
    const h = hand(input);
    expect(h !== undefined, JSON.stringify(input)?.slice(0, 200)).toBe(z.success);
    if (z.success) {
      expect(h).toEqual(z.data);
      accepted++;
    }
  }
  return accepted;
}

describe('hand checks agree with the zod schemas', () => {
  it('ref', () => {
    expect(agree(refs, checkRef, refSchema)).toBe(7); // 'r', 64 a's, 0, -0, 7, MAX_SAFE_INTEGER, '7'
  });

  it('message.send frames', () => {
    const base = { type: 'message.send', ref: 'r-1', roomId: ROOM, clientMessageId: 'c-1', body: 'hello', firstAttempt: true };
    const inputs = variants(base, { type: ['message.send', 'typing', 'message.sent', 1], ref: refs, roomId: uuids, clientMessageId: clientIds, body: texts, firstAttempt: booleans });
    const hand = (v: unknown) => checkMessageSend(v as Record<string, unknown>);
    expect(agree(inputs, hand, clientFrameSchema)).toBeGreaterThan(20);
  });

  it('messages on the bus', () => {
    const base = { roomId: ROOM, messageId: V7, authorId: ROOM, body: 'hello', originRegion: 'fsn1', createdAt: '2030-01-01T00:00:00.000Z' };
    const inputs: unknown[] = [
      ...variants(base, { roomId: uuids, messageId: uuids, authorId: uuids, body: texts, originRegion: ['', 'r', 'x'.repeat(63), 'x'.repeat(64), 1], createdAt: ['', 'x'.repeat(40), 'x'.repeat(41), 0] }),
      null,
      [base],
      'message',
    ];
    expect(agree(inputs, checkChatMessage, chatMessageSchema)).toBeGreaterThan(20);
  });
});
