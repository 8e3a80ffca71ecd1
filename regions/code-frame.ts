/**
 * A short code frame for one position in a text file: the line (and the one before it) with a
 * line-number gutter, and a caret under the column. Long lines are cut to a window around the
 * column so the frame stays readable in a terminal and in CI logs.
 */

export interface CodeFrameOptions {
  /** Lines of context shown before the line itself. Default 1. */
  readonly before?: number;
  /** Characters of source shown per line, without the `...` cut marks. Default 100. */
  readonly width?: number;
}

const CUT = '...';

/**
 * The frame for `line`/`col` (both 1-based, columns in UTF-16 code units as the yaml
 * LineCounter counts them), as lines without trailing newlines:
 *
 * ```
 *   1 | # comment
 * > 2 | [
 *     | ^
 * ```
 *
 * A position past the end of its line or of the text puts the caret after the last character.
 */
export function codeFrame(text: string, line: number, col: number, options: CodeFrameOptions = {}): string[] {
  const before = options.before ?? 1;
  const width = Math.max(10, options.width ?? 100);
  const lines = text.split('\n');
  const sourceLine = (n: number) => (lines[n - 1] ?? '').replace(/\r$/, '');
  const target = sourceLine(line);
  const index = Math.max(0, col - 1);

  // One window for every shown line, so the context line and the caret stay aligned.
  const start = target.length <= width ? 0 : Math.max(0, Math.min(index - Math.floor(width / 2), target.length - width));
  const cut = (s: string) => {
    const shown = s.slice(start, start + width);
    return (start > 0 && s.length > 0 ? CUT : '') + visible(shown) + (start + width < s.length ? CUT : '');
  };

  const first = Math.max(1, line - before);
  const gutter = String(line).length;
  const out: string[] = [];
  for (let n = first; n <= line; n++) {
    const marker = n === line ? '>' : ' ';
    out.push(`${marker} ${String(n).padStart(gutter)} | ${cut(sourceLine(n))}`.trimEnd());
  }
  const caretAt = (start > 0 ? CUT.length : 0) + Math.min(index, target.length) - start;
  out.push(`  ${' '.repeat(gutter)} | ${' '.repeat(Math.max(0, caretAt))}^`);
  return out;
}

/** Tabs and other control characters as one space each, so the caret stays under its column. */
function visible(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\x00-\x1f\x7f]/g, ' ');
}
