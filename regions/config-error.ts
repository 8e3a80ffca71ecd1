/**
 * The error every invalid config ends in: a list of located problems, and a message that
 * prints them as `file:line:col path: problem (fix)`, each path once.
 */

/** One problem in a config file. */
export interface ConfigProblem {
  readonly file: string;
  /** 1-based. */
  readonly line: number;
  /** 1-based. */
  readonly col: number;
  /** Object path such as `regions[1].ordinal`, or `(yaml)` for syntax errors. */
  readonly path: string;
  readonly message: string;
}

export function formatProblem(p: ConfigProblem): string {
  return `${p.file}:${p.line}:${p.col} ${p.path}: ${p.message}`;
}

/** Prefix of the lines that carry a further problem of the path printed on the line above. */
export const ALSO = '  also: ';

/**
 * One line per problem; problems of the same path (same place) are grouped under the first,
 * which names the path, and the others follow as `  also: message` lines.
 */
export function formatProblems(problems: readonly ConfigProblem[]): string {
  const groups = new Map<string, ConfigProblem[]>();
  for (const p of problems) {
    const key = `${p.file}\0${p.path}\0${p.line}:${p.col}`;
    const group = groups.get(key);
    if (group) group.push(p);
    else groups.set(key, [p]);
  }
  return [...groups.values()]
    .flatMap(([first, ...rest]) => [formatProblem(first!), ...rest.map((p) => `${ALSO}${p.message}`)])
    .join('\n');
}

/** Problems without repeats: the same message at the same path and place is kept once. */
export function uniqueProblems<P extends ConfigProblem>(problems: readonly P[]): P[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.file}\0${p.path}\0${p.line}:${p.col}\0${p.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * Thrown for any invalid config. `problems` holds every problem; `message` is what a human
 * reads (default: formatProblems; YAML syntax errors pass a shorter report with a code frame).
 */
export class ConfigError extends Error {
  constructor(
    readonly problems: readonly ConfigProblem[],
    message: string = formatProblems(problems),
  ) {
    super(message);
    this.name = 'ConfigError';
  }
}
