/**
 * The credential-literal scan of charts/no-credentials.test.ts, as a module other tests can
 * import (importing a *.test.ts file would run its suite again). Same rules; the lead is asked
 * (/tmp/rm/requests/secrets.md) to make charts/no-credentials.test.ts import it, so one copy remains.
 */

/** Findings of credential literals in one file's text. */
export function credentialFindings(path: string, text: string): string[] {
  const findings: string[] = [];
  const rules: Array<[RegExp, string]> = [
    [/^\s*(- )?kind:\s*Secret\s*$/m, 'a Secret object'],
    // A Secret's (or ConfigMap's) payload sits at the top level; a nested `data:` is some other field.
    [/^(stringData|data):/m, 'a top-level data/stringData block'],
    [/-----BEGIN [A-Z ]*(PRIVATE KEY|CERTIFICATE)-----/, 'PEM material'],
    [/[a-z][a-z0-9+.-]*:\/\/[^/\s:@]+:[^/\s@]+@/i, 'credentials in a URL'],
    [/\b(password|passwd|pass|token|secret|apiKey|api_key)[ \t]*[:=][ \t]*(?!<< \$[A-Z_]+ >>)["']?[^\s"'{}]+/im, 'a literal credential value'],
    [/\bPGPASSWORD\b|\bpassword=/i, 'a password in a DSN or environment'],
  ];
  for (const [re, what] of rules) {
    const m = re.exec(text);
    if (m) findings.push(`${path}: ${what}: ${m[0].trim()}`);
  }
  return findings;
}
