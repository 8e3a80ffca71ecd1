import { describe, expect, it } from 'vitest';
import { parseClientFrame, type ParseResult } from './frame-parser.js';
import { CLIENT_FRAME_TYPES, UNAUTHENTICATED_TYPES, isUuidV7, normalizeUsername } from './protocol.js';

const ROOM = '0190a000-0000-7000-8000-000000000001';
const MSG = '0190a000-0000-7abc-9000-000000000002';

function fail(r: ParseResult): { code: string; message: string; ref?: unknown } {
  if (r.ok) throw new Error(`expected a refusal, got ${JSON.stringify(r.frame)}`);
  return r;
}

describe('parseClientFrame', () => {
  it('accepts every frame type in its documented shape, with a ref', () => {
    const good: Array<Record<string, unknown>> = [
      { type: 'login.request', username: 'Ada' },
      { type: 'login.request', username: 'Ada', email: 'ada@example.org' },
      { type: 'login.verify', username: 'ada', code: '012345' },
      { type: 'auth', token: 'a'.repeat(43) },
      { type: 'room.create', name: 'general' },
      { type: 'room.create', name: 'general', visibility: 'public' },
      { type: 'room.create', name: 'secret', visibility: 'private' },
      { type: 'room.invite', roomId: ROOM, username: 'grace' },
      { type: 'room.join', roomId: ROOM },
      { type: 'room.join', roomId: ROOM, lastSeenMessageId: MSG },
      { type: 'room.leave', roomId: ROOM },
      { type: 'message.send', roomId: ROOM, clientMessageId: 'c-1', body: 'hello\nworld' },
      { type: 'typing', roomId: ROOM },
      { type: 'history', roomId: ROOM },
      { type: 'history', roomId: ROOM, before: MSG, limit: 100 },
      { type: 'ping' },
    ];
    expect(new Set(good.map((g) => g.type))).toEqual(new Set(CLIENT_FRAME_TYPES));
    for (const [i, g] of good.entries()) {
      for (const ref of [undefined, `ref-${i}`, i]) {
        const r = parseClientFrame(JSON.stringify(ref === undefined ? g : { ...g, ref }));
        expect(r.ok, JSON.stringify(g)).toBe(true);
        if (r.ok) expect(r.frame.ref).toBe(ref);
      }
    }
  });

  it.each([
    ['not JSON', '{"type":', 'bad_json'],
    ['empty', '', 'bad_json'],
    ['a JSON array', '[{"type":"ping"}]', 'bad_frame'],
    ['a JSON string', '"ping"', 'bad_frame'],
    ['null', 'null', 'bad_frame'],
    ['no type', '{"ref":"x"}', 'bad_frame'],
    ['numeric type', '{"type":7}', 'bad_frame'],
    ['unknown type', '{"type":"admin.drop"}', 'unknown_type'],
    ['unknown field', '{"type":"ping","admin":true}', 'bad_frame'],
    ['__proto__ key', '{"type":"ping","__proto__":{"isAdmin":true}}', 'bad_frame'],
    ['nested constructor key', '{"type":"room.create","name":{"constructor":{"prototype":1}}}', 'bad_frame'],
    ['__proto__ key spelled with a \\u escape', '{"type":"ping","\\u005f_proto__":{"isAdmin":true}}', 'bad_frame'],
    ['constructor key spelled with \\u escapes', '{"type":"ping","\\u0063onstru\\u0063tor":{"prototype":1}}', 'bad_frame'],
    ['wrong field type', `{"type":"message.send","roomId":"${ROOM}","clientMessageId":"c","body":42}`, 'bad_frame'],
    ['upper-case uuid', `{"type":"room.leave","roomId":"${ROOM.toUpperCase()}"}`, 'bad_frame'],
    ['blank body', `{"type":"message.send","roomId":"${ROOM}","clientMessageId":"c","body":"   "}`, 'bad_frame'],
    ['oversized body', `{"type":"message.send","roomId":"${ROOM}","clientMessageId":"c","body":"${'x'.repeat(4001)}"}`, 'bad_frame'],
    ['control character', `{"type":"message.send","roomId":"${ROOM}","clientMessageId":"c","body":"a\\u0007b"}`, 'bad_frame'],
    ['email list', '{"type":"login.request","username":"ada","email":"a,b@example.org"}', 'bad_frame'],
    ['email with a display name', '{"type":"login.request","username":"ada","email":"Ada <ada@example.org>"}', 'bad_frame'],
    ['email without a domain dot', '{"type":"login.request","username":"ada","email":"ada@localhost"}', 'bad_frame'],
    ['unknown visibility', '{"type":"room.create","name":"x","visibility":"secret"}', 'bad_frame'],
    ['lone surrogate', `{"type":"room.create","name":"a\\ud800b"}`, 'bad_frame'],
    ['bad client id', `{"type":"message.send","roomId":"${ROOM}","clientMessageId":"a b","body":"x"}`, 'bad_frame'],
    ['huge limit', `{"type":"history","roomId":"${ROOM}","limit":1e308}`, 'bad_frame'],
    ['limit over 100', `{"type":"history","roomId":"${ROOM}","limit":101}`, 'bad_frame'],
    ['fractional limit', `{"type":"history","roomId":"${ROOM}","limit":2.5}`, 'bad_frame'],
    ['infinite ref', '{"type":"ping","ref":1e400}', 'bad_frame'],
    ['object ref', '{"type":"ping","ref":{"a":1}}', 'bad_frame'],
    ['long ref', `{"type":"ping","ref":"${'r'.repeat(65)}"}`, 'bad_frame'],
    ['5-digit code', '{"type":"login.verify","username":"ada","code":"12345"}', 'bad_frame'],
    ['short token', '{"type":"auth","token":"abc"}', 'bad_frame'],
  ])('refuses %s', (_what, text, code) => {
    expect(fail(parseClientFrame(text)).code).toBe(code);
  });

  it('echoes a valid ref on refusals, and never a client value in the message', () => {
    const r = fail(parseClientFrame(`{"type":"message.send","ref":"abc","roomId":"${ROOM}","clientMessageId":"c","body":{"evil":"<script>"}}`));
    expect(r.ref).toBe('abc');
    expect(r.message).toMatch(/^body: /);
    expect(r.message).not.toContain('script');
    expect(fail(parseClientFrame('{"type":"nope","ref":9}')).ref).toBe(9);
    expect(fail(parseClientFrame('{"type":"nope","ref":{"x":1}}')).ref).toBeUndefined();
  });

  it.each([
    ['__proto__', '{"type":"ping","__proto__":{}}'],
    ['a nested prototype', '{"type":"room.create","name":{"prototype":1}}'],
    ['__proto__ spelled with a \\u escape', '{"type":"ping","\\u005f_proto__":{}}'],
    ['constructor spelled with \\u escapes', '{"type":"ping","\\u0063onstru\\u0063tor":{}}'],
  ])('names a forbidden key as such (%s), before any schema check', (_what, text) => {
    expect(fail(parseClientFrame(text)).message).toBe('forbidden key (__proto__, constructor or prototype)');
  });

  it('leaves Object.prototype alone', () => {
    parseClientFrame('{"type":"ping","__proto__":{"polluted":true}}');
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('survives deeply nested input', () => {
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    expect(fail(parseClientFrame(deep)).code).toMatch(/bad_json|bad_frame/);
  });

  it('lets unauthenticated connections only log in, authenticate and ping', () => {
    expect([...UNAUTHENTICATED_TYPES].sort()).toEqual(['auth', 'login.request', 'login.verify', 'ping']);
  });
});

describe('normalizeUsername / isUuidV7', () => {
  it('folds case and width, trims, and refuses what cannot be a name', () => {
    expect(normalizeUsername('  Ada.Lovelace ')).toBe('ada.lovelace');
    expect(normalizeUsername('ＡＤＡ_1')).toBe('ada_1'); // full-width letters (NFKC)
    for (const bad of ['ab', '-ada', 'a'.repeat(33), 'ada lovelace', 'ädä', '', 'ada\u0000']) expect(normalizeUsername(bad), bad).toBeUndefined();
  });

  it('recognises canonical UUIDv7 only', () => {
    expect(isUuidV7(MSG)).toBe(true);
    expect(isUuidV7(MSG.toUpperCase())).toBe(false);
    expect(isUuidV7('0190a000-0000-4abc-9000-000000000002')).toBe(false);
    expect(isUuidV7('0190a000-0000-7abc-c000-000000000002')).toBe(false);
    expect(isUuidV7('not-a-uuid')).toBe(false);
  });
});
