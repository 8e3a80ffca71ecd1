/** The writer's memory of recent sends: LRU bounded by entries, estimated bytes and age. */
import { describe, expect, it } from 'vitest';
import { RecentSends, type RecentSend } from './recent-sends.js';

const ROOM = '0190a000-0000-7000-8000-00000000000a';
const stored = (id: string): RecentSend => ({ state: 'stored', roomId: ROOM, messageId: `message-${id}` });

describe('RecentSends', () => {
  it('evicts the least recently used entry beyond maxEntries', () => {
    const r = new RecentSends({ maxEntries: 2, ttlMs: 1_000, now: () => 0 });
    r.set('a', stored('a'));
    r.set('b', stored('b'));
    expect(r.get('a')).toBeDefined(); // a is now the most recent
    r.set('c', stored('c'));
    expect([r.get('a') !== undefined, r.get('b') !== undefined, r.get('c') !== undefined]).toEqual([true, false, true]);
    expect(r.size).toBe(2);
  });

  it('evicts beyond maxBytes (200 bytes per entry + 2 per UTF-16 unit of its key; no body is kept)', () => {
    // A key of 50 units: 200 + 2 * 50 = 300 bytes per entry.
    const key = (i: number) => `${ROOM}:${String(i).padStart(13, '0')}`;
    expect(key(1)).toHaveLength(50);
    const r = new RecentSends({ maxBytes: 300 * 2, ttlMs: 1_000, now: () => 0 });
    r.set(key(1), stored('1'));
    r.set(key(2), stored('2'));
    expect(r.size).toBe(2);
    r.set(key(3), stored('3'));
    expect(r.size).toBe(2);
    expect(r.get(key(1))).toBeUndefined();
    expect(r.get(key(3))).toEqual({ state: 'stored', roomId: ROOM, messageId: 'message-3' });
  });

  it('forgets entries older than ttlMs (the de-duplication window)', () => {
    let now = 0;
    const r = new RecentSends({ ttlMs: 1_000, now: () => now });
    r.set('a', { state: 'uncertain', roomId: ROOM, messageId: 'm' });
    now = 999;
    expect(r.get('a')).toEqual({ state: 'uncertain', roomId: ROOM, messageId: 'm' });
    now = 1_000;
    expect(r.get('a')).toBeUndefined();
    expect(r.size).toBe(0);
  });
});
