/**
 * One client text frame -> a ClientFrame of ./protocol.ts, or the error to answer (with the
 * frame's `ref` when it had a readable one). JSON.parse (with a reviver refusing
 * `__proto__`/`constructor`/`prototype` keys when the text could hold one), then the frame's
 * zod schema, except for `message.send` frames that ./fast-checks.ts accepts by hand: the
 * schema would accept them unchanged (fast-checks.test.ts holds that), and zod was a tenth of
 * a busy backend's CPU. Whatever the fast check declines goes to zod, which also words the error.
 */
import type { z } from 'zod';
import { checkMessageSend, checkRef } from './fast-checks.js';
import { CLIENT_FRAME_TYPES, clientFrameSchema, type ClientFrame, type ErrorCode, type Ref } from './protocol.js';

export type ParseResult =
  | { readonly ok: true; readonly frame: ClientFrame }
  | { readonly ok: false; readonly code: ErrorCode; readonly message: string; readonly ref?: Ref };

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
/**
 * Text that may hold one of FORBIDDEN_KEYS: the words themselves, or a `\u` escape (which could
 * spell one). Only such frames pay for JSON.parse's reviver (5 µs a frame; JSON.parse alone is 1).
 */
const MAY_HOLD_FORBIDDEN_KEY = /proto|constructor|\\u/;
const noForbiddenKeys = (key: string, v: unknown): unknown => {
  if (FORBIDDEN_KEYS.has(key)) throw new ForbiddenKey();
  return v;
};

class ForbiddenKey extends Error {}

/** Where and what, never the value: `body: must not be blank`. */
function describeIssue(issue: z.core.$ZodIssue | undefined): string {
  if (!issue) return 'invalid frame';
  const path = issue.path.map(String).join('.');
  let msg = issue.message;
  if (issue.code === 'unrecognized_keys') msg = `unknown field(s) ${issue.keys.slice(0, 5).map((k) => k.slice(0, 32)).join(', ')}`;
  else if (issue.code === 'invalid_type') msg = `expected ${issue.expected}`;
  else if (issue.code === 'too_big') msg = `too big (max ${String(issue.maximum)})`;
  else if (issue.code === 'too_small') msg = `too small (min ${String(issue.minimum)})`;
  return path ? `${path}: ${msg}` : msg;
}

/** Parses one text frame. Never throws. */
export function parseClientFrame(data: string): ParseResult {
  let value: unknown;
  try {
    value = MAY_HOLD_FORBIDDEN_KEY.test(data) ? JSON.parse(data, noForbiddenKeys) : JSON.parse(data);
  } catch (e) {
    if (e instanceof ForbiddenKey) return { ok: false, code: 'bad_frame', message: 'forbidden key (__proto__, constructor or prototype)' };
    return { ok: false, code: 'bad_json', message: 'frame is not valid JSON' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, code: 'bad_frame', message: 'frame must be a JSON object' };
  }
  const obj = value as Record<string, unknown>;
  const ref = checkRef(obj['ref']);
  const withRef = ref !== undefined ? { ref } : {};
  const type = obj['type'];
  if (typeof type !== 'string') return { ok: false, code: 'bad_frame', message: 'type: expected string', ...withRef };
  if (type === 'message.send') {
    const fast = checkMessageSend(obj);
    if (fast) return { ok: true, frame: fast };
  }
  if (!(CLIENT_FRAME_TYPES as readonly string[]).includes(type)) return { ok: false, code: 'unknown_type', message: 'unknown frame type', ...withRef };
  const parsed = clientFrameSchema.safeParse(obj);
  if (!parsed.success) return { ok: false, code: 'bad_frame', message: describeIssue(parsed.error.issues[0]), ...withRef };
  return { ok: true, frame: parsed.data };
}
