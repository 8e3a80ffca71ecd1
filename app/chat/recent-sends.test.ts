/** The writer's memory of recent sends: LRU bounded by entries, estimated bytes and age. */
import { describe, expect, it } from 'vitest';
import type { StoredMessage } from './history.js';
import { RecentSends } from './recent-sends.js';

const ROOM = '0190a000-0000-7000-8000-00000000000a';
const stored = (id: string, body = 'x'): { state: 'stored'; roomId: string; message: StoredMessage } => ({
  state: 'stored',
  roomId: ROOM,
  message: { roomId: ROOM, messageId: id, authorId: 'a', clientMessageId: id, body, originRegion: 'eu', createdAt: '' },
});

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

  it('evicts beyond maxBytes (200 bytes per entry + 2 per UTF-16 unit of key, body and client id)', () => {
    // Entry 'k1' with body of 100 units and client id 'k1': 200 + 2 * (2 + 100 + 2) = 408 bytes.
    const r = new RecentSends({ maxBytes: 408 * 2, ttlMs: 1_000, now: () => 0 });
    r.set('k1', stored('k1', 'b'.repeat(100)));
    r.set('k2', stored('k2', 'b'.repeat(100)));
    expect(r.size).toBe(2);
    r.set('k3', stored('k3', 'b'.repeat(100)));
    expect(r.size).toBe(2);
    expect(r.get('k1')).toBeUndefined();
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
