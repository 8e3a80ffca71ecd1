import { describe, expect, it } from 'vitest';
import { BUCKET_MS, bucketOf } from '../cassandra/schema.js';
import { MAX_BUCKETS, bucketWalk, createdAtOf, roomFloorBucket } from './history.js';

/** A UUIDv7 with the given Unix milliseconds. */
function v7At(ms: number, tail = '7abc-8def-0123456789ab'): string {
  const hex = ms.toString(16).padStart(12, '0');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${tail}`;
}

describe('bucket walks', () => {
  it('visits buckets in order in both directions, inclusive', () => {
    expect(bucketWalk({ from: 3, to: 6 })).toEqual([3, 4, 5, 6]);
    expect(bucketWalk({ from: 6, to: 3 })).toEqual([6, 5, 4, 3]);
    expect(bucketWalk({ from: 5, to: 5 })).toEqual([5]);
  });

  it('never visits more than MAX_BUCKETS', () => {
    expect(bucketWalk({ from: 0, to: 1_000_000 })).toHaveLength(MAX_BUCKETS);
  });

  it('starts a room at its creation bucket (room ids are UUIDv7) and bounds hostile ones', () => {
    const now = Date.UTC(2030, 0, 1);
    const room = v7At(now - 25 * 24 * 3600 * 1000);
    expect(roomFloorBucket(room, now)).toBe(bucketOf(room));
    expect(roomFloorBucket(room, now)).toBe(Math.floor((now - 25 * 24 * 3600 * 1000) / BUCKET_MS));
    // A room id that is not v7 (or from 1970) cannot make a read scan back to the epoch.
    expect(roomFloorBucket('0190a000-0000-4abc-8def-0123456789ab', now)).toBeGreaterThan(Math.floor(now / BUCKET_MS) - MAX_BUCKETS);
    expect(roomFloorBucket(v7At(1), now)).toBeGreaterThan(Math.floor(now / BUCKET_MS) - MAX_BUCKETS);
  });

  it('derives createdAt from the message id', () => {
    expect(createdAtOf(v7At(Date.UTC(2030, 0, 1, 12)))).toBe('2030-01-01T12:00:00.000Z');
  });
});

