import { describe, expect, it } from 'vitest';
import { REPLAY_MEMORY_MS, ResumeGate, mergeResume } from './resume.js';

const m = (id: string) => ({ messageId: id });
const ids = (xs: ReadonlyArray<{ messageId: string }>) => xs.map((x) => x.messageId);

describe('mergeResume', () => {
  it('sends the replay, then buffered messages that were not replayed, each id once', () => {
    expect(ids(mergeResume([m('a'), m('b'), m('c')], [m('b'), m('c'), m('d'), m('e')]))).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('keeps buffered messages that arrived but were not in the replay (e.g. not yet replicated)', () => {
    expect(ids(mergeResume([m('a'), m('c')], [m('b'), m('d')]))).toEqual(['a', 'c', 'b', 'd']);
  });

  it('drops duplicates inside the buffer and ids already sent', () => {
    expect(ids(mergeResume([m('a')], [m('x'), m('x'), m('a'), m('y')], new Set(['y'])))).toEqual(['a', 'x']);
  });

  it('handles empty inputs', () => {
    expect(mergeResume([], [])).toEqual([]);
    expect(ids(mergeResume([], [m('a')]))).toEqual(['a']);
    expect(ids(mergeResume([m('a')], []))).toEqual(['a']);
  });

  it('does not modify its inputs', () => {
    const sent = new Set(['q']);
    const replay = [m('a')];
    const buf = [m('a'), m('b')];
    mergeResume(replay, buf, sent);
    expect([...sent]).toEqual(['q']);
    expect(ids(buf)).toEqual(['a', 'b']);
  });

  it('never loses or duplicates: property over random interleavings', () => {
    for (let trial = 0; trial < 500; trial++) {
      const all = Array.from({ length: 30 }, (_, i) => `id${String(i).padStart(3, '0')}`);
      const cut = Math.floor(Math.random() * 31);
      const replay = all.slice(0, cut);
      // The live buffer holds a suffix that overlaps the replay by a random amount, possibly repeated.
      const overlap = Math.floor(Math.random() * (cut + 1));
      const buffer = all.slice(cut - overlap).flatMap((x) => (Math.random() < 0.2 ? [x, x] : [x]));
      const out = ids(mergeResume(replay.map(m), buffer.map(m)));
      expect(out).toEqual(all);
    }
  });
});

describe('ResumeGate', () => {
  it('buffers until live, then sends, and drops replayed ids that show up live later', () => {
    let now = 0;
    const g = new ResumeGate<{ messageId: string }>(100, () => now);
    expect(g.buffering).toBe(true);
    expect(g.offer(m('c'))).toBe('buffered');
    expect(g.offer(m('d'))).toBe('buffered');
    expect(ids(g.goLive([m('a'), m('b'), m('c')]))).toEqual(['a', 'b', 'c', 'd']);
    expect(g.buffering).toBe(false);
    expect(g.offer(m('b'))).toBe('duplicate'); // stored before the replay read, published after it
    expect(g.offer(m('e'))).toBe('send');
    now += REPLAY_MEMORY_MS + 1;
    expect(g.offer(m('b'))).toBe('send'); // memory is bounded in time
  });

  it('reports overflow instead of growing without bound', () => {
    const g = new ResumeGate<{ messageId: string }>(2);
    expect(g.offer(m('a'))).toBe('buffered');
    expect(g.offer(m('b'))).toBe('buffered');
    expect(g.offer(m('c'))).toBe('overflow');
  });
});
