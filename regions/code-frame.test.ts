/** The code frame under a YAML syntax error: every expected frame is written out by hand. */
import { describe, expect, it } from 'vitest';
import { codeFrame } from './code-frame.js';

describe('codeFrame', () => {
  it('shows the line before, the line with a ">" and its number, and a caret under the column', () => {
    expect(codeFrame('a: 1\nb: [\nc: 3\n', 2, 4)).toEqual([
      '  1 | a: 1',
      '> 2 | b: [',
      '    |    ^',
    ]);
  });

  it('has no context line on line 1, and widens the gutter for the longest number', () => {
    expect(codeFrame('[\n', 1, 1)).toEqual(['> 1 | [', '    | ^']);
    const text = Array.from({ length: 10 }, (_, i) => `k${i + 1}: v`).join('\n');
    expect(codeFrame(text, 10, 2)).toEqual([
      '   9 | k9: v',
      '> 10 | k10: v',
      '     |  ^',
    ]);
  });

  it('shows tabs and carriage returns as one space, so the caret stays under its column', () => {
    expect(codeFrame('a:\r\n\tb: 1\r\n', 2, 2)).toEqual(['  1 | a:', '> 2 |  b: 1', '    |  ^']);
  });

  it('puts the caret after the last character for a position at the end of the text', () => {
    expect(codeFrame('a: [\n', 2, 1)).toEqual(['  1 | a: [', '> 2 |', '    | ^']);
    expect(codeFrame('a: [', 1, 9)).toEqual(['> 1 | a: [', '    |     ^']);
  });

  describe('a line longer than the width', () => {
    // 300 characters: "0123456789" thirty times, so every column can be read back.
    const long = '0123456789'.repeat(30);
    const text = `key: value\n${long}\n`;

    it('is cut on both sides around a column in the middle', () => {
      // Column 151 is index 150; the 100-character window starts 50 before it, at index 100.
      expect(codeFrame(text, 2, 151, { width: 100 })).toEqual([
        `  1 | ...`,
        `> 2 | ...${long.slice(100, 200)}...`,
        `    | ${' '.repeat(3 + 50)}^`,
      ]);
    });

    it('is cut only on the right near its start, and only on the left near its end', () => {
      expect(codeFrame(text, 2, 5, { width: 100 })).toEqual([
        '  1 | key: value',
        `> 2 | ${long.slice(0, 100)}...`,
        `    | ${' '.repeat(4)}^`,
      ]);
      expect(codeFrame(text, 2, 298, { width: 100 })).toEqual([
        '  1 | ...',
        `> 2 | ...${long.slice(200)}`,
        `    | ${' '.repeat(3 + 97)}^`,
      ]);
    });

    it('keeps the caret on the character of the column, for any column', () => {
      for (let col = 1; col <= long.length; col += 7) {
        const [, line, caret] = codeFrame(text, 2, col, { width: 60 });
        expect(line![caret!.indexOf('^')], `column ${col}`).toBe(long[col - 1]);
        expect(line!.length, `column ${col}`).toBeLessThanOrEqual('> 2 | '.length + 3 + 60 + 3);
      }
    });
  });
});
