import { parse, validate, version } from 'uuid';
import { describe, expect, it } from 'vitest';
import { MessageIds } from './message-ids.js';

/** The Unix ms in a UUIDv7's first 48 bits (RFC 9562 §5.7), read independently of the generator. */
const msOf = (id: string) => parseInt(id.replace(/-/g, '').slice(0, 12), 16);

describe('MessageIds', () => {
  it('makes valid UUIDv7s carrying the clock, strictly increasing across pool refills', () => {
    const clock = 1_900_000_000_000;
    const ids = new MessageIds(() => clock);
    const made = Array.from({ length: 2_000 }, () => ids.next()); // about 8 refills of the pool
    for (const id of made) {
      expect(validate(id) && version(id)).toBe(7);
      expect(parse(id)[8]! >> 6).toBe(0b10); // RFC 9562 variant
    }
    expect(new Set(made).size).toBe(made.length);
    expect(made.every((id, i) => i === 0 || id > made[i - 1]!)).toBe(true);
    expect(msOf(made[0]!)).toBe(clock);
  });

  it('stays increasing when the clock stands still or goes back, and follows it when it moves on', () => {
    let clock = 1_900_000_000_500;
    const ids = new MessageIds(() => clock);
    const a = ids.next();
    clock -= 400; // e.g. an NTP step back
    const b = ids.next();
    clock += 1_000;
    const c = ids.next();
    expect(a < b && b < c).toBe(true);
    expect(msOf(b)).toBe(1_900_000_000_500);
    expect(msOf(c)).toBe(1_900_000_001_100);
  });

  it('draws fresh random bytes for every id (no two ids of one millisecond share their random tail)', () => {
    const ids = new MessageIds(() => 1_900_000_000_000);
    const tails = new Set(Array.from({ length: 1_000 }, () => ids.next().slice(-12)));
    expect(tails.size).toBe(1_000);
  });
});
