/**
 * A line diff for the PR comment (`npm run plan -- --format markdown`): Myers' O(ND) shortest
 * edit script over lines, printed as unified-diff hunks (`@@ -a,b +c,d @@`, 3 lines of context
 * by default). Deterministic: the same two texts always give the same hunks.
 */

/** One line of a diff: kept (` `), removed (`-`) or added (`+`). */
export interface DiffLine {
  readonly op: ' ' | '-' | '+';
  readonly text: string;
}

/** The lines of `text`, without the empty line after a final newline. */
export function linesOf(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** The shortest edit script from `a` to `b` (Myers 1986, greedy forward search with a trace). */
export function diffLines(a: readonly string[], b: readonly string[]): DiffLine[] {
  const n = a.length;
  const m = b.length;
  const max = n + m;
  const offset = max + 1;
  let v: Int32Array = new Int32Array(2 * max + 3);
  const trace: Int32Array[] = [];
  let found = false;
  for (let d = 0; d <= max && !found; d++) {
    trace.push(v.slice());
    for (let k = -d; k <= d; k += 2) {
      let x = k === -d || (k !== d && v[offset + k - 1]! < v[offset + k + 1]!) ? v[offset + k + 1]! : v[offset + k - 1]! + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x++;
        y++;
      }
      v[offset + k] = x;
      if (x >= n && y >= m) {
        found = true;
        break;
      }
    }
  }
  // Walk the trace back from (n, m) to (0, 0).
  const out: DiffLine[] = [];
  let x = n;
  let y = m;
  for (let d = trace.length - 1; d >= 0; d--) {
    v = trace[d]!;
    const k = x - y;
    const prevK = k === -d || (k !== d && v[offset + k - 1]! < v[offset + k + 1]!) ? k + 1 : k - 1;
    const prevX = d === 0 ? 0 : v[offset + prevK]!;
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) {
      out.push({ op: ' ', text: a[--x]! });
      y--;
    }
    if (d > 0) {
      if (x === prevX) out.push({ op: '+', text: b[--y]! });
      else out.push({ op: '-', text: a[--x]! });
    }
  }
  return out.reverse();
}

/**
 * Unified-diff hunks of `before` -> `after` with `context` unchanged lines around each change;
 * empty when the texts have the same lines. A file that is added or removed is one hunk.
 */
export function unifiedDiff(before: string, after: string, context = 3): string {
  const a = linesOf(before);
  const b = linesOf(after);
  const lines = diffLines(a, b);
  const changed = lines.map((l, i) => (l.op === ' ' ? -1 : i)).filter((i) => i >= 0);
  if (changed.length === 0) return '';
  // Group changes whose context windows touch into one hunk.
  const groups: Array<[number, number]> = [];
  for (const i of changed) {
    const last = groups[groups.length - 1];
    if (last && i - last[1] <= 2 * context + 1) last[1] = i;
    else groups.push([i, i]);
  }
  // Line numbers before each diff line, in a and in b.
  const aAt: number[] = [];
  const bAt: number[] = [];
  let ai = 0;
  let bi = 0;
  for (const l of lines) {
    aAt.push(ai);
    bAt.push(bi);
    if (l.op !== '+') ai++;
    if (l.op !== '-') bi++;
  }
  const out: string[] = [];
  for (const [first, last] of groups) {
    const from = Math.max(0, first - context);
    const to = Math.min(lines.length - 1, last + context);
    const slice = lines.slice(from, to + 1);
    const aLen = slice.filter((l) => l.op !== '+').length;
    const bLen = slice.filter((l) => l.op !== '-').length;
    const aStart = aLen === 0 ? aAt[from]! : aAt[from]! + 1;
    const bStart = bLen === 0 ? bAt[from]! : bAt[from]! + 1;
    out.push(`@@ -${aStart},${aLen} +${bStart},${bLen} @@`);
    for (const l of slice) out.push(`${l.op}${l.text}`);
  }
  return out.join('\n');
}
