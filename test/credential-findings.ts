/**
 * The credential-literal scan of dist/ (charts/no-credentials.test.ts, the output snapshots and
 * the External Secrets test use it): a file of synthesized output must never hold one.
 */
import { parseAllDocuments } from 'yaml';

/** Findings of credential literals in one file's text. */
export function credentialFindings(path: string, text: string): string[] {
  const findings: string[] = [];
  const rules: Array<[RegExp, string]> = [
    // A Secret's payload sits at the top level; a nested `data:` is some other field. A ConfigMap's
    // `data` is configuration (a Corefile): its keys are checked below, its text by every rule here.
    [/^stringData:/m, 'a top-level stringData block'],
    [/-----BEGIN [A-Z ]*(PRIVATE KEY|CERTIFICATE)-----/, 'PEM material'],
    [/[a-z][a-z0-9+.-]*:\/\/[^/\s:@]+:[^/\s@]+@/i, 'credentials in a URL'],
    [/\b(password|passwd|pass|token|secret|apiKey|api_key)[ \t]*[:=][ \t]*(?!<< \$[A-Z_]+ >>)["']?[^\s"'{}]+/im, 'a literal credential value'],
    [/\bPGPASSWORD\b|\bpassword=/i, 'a password in a DSN or environment'],
  ];
  // Parsed once, and only when a structural rule needs it (undefined: not YAML).
  let parsed: { docs: unknown[] | undefined } | undefined;
  const docs = () => (parsed ??= { docs: yamlDocuments(text) }).docs;
  if (/kind:[ \t]*Secret\b/.test(text) && holdsSecretObject(docs())) findings.push(`${path}: a Secret object: kind: Secret`);
  if (/^data:/m.test(text)) {
    const keys = configMapDataKeys(docs());
    if (keys === undefined) findings.push(`${path}: a top-level data/stringData block: data:`);
    else for (const k of keys.filter((x) => CREDENTIAL_KEY.test(x))) findings.push(`${path}: a credential-like ConfigMap key: ${k}`);
  }
  for (const [re, what] of rules) {
    const m = re.exec(text);
    if (m) findings.push(`${path}: ${what}: ${m[0].trim()}`);
  }
  return findings;
}

/** Every YAML document of `text` as plain data; undefined when it is not YAML. */
function yamlDocuments(text: string): unknown[] | undefined {
  try {
    return parseAllDocuments(text).map((d) => d.toJS());
  } catch {
    return undefined;
  }
}

/**
 * Whether any document, at any depth, is a Secret object: a mapping with `kind: Secret` and an
 * `apiVersion` (a values file's extra manifests count). A mapping with `kind: Secret` and no
 * `apiVersion` is a reference (a Gateway's certificateRefs). Text that is not YAML (undefined)
 * counts as one: it holds a `kind: Secret` line.
 */
function holdsSecretObject(docs: unknown[] | undefined): boolean {
  if (docs === undefined) return true;
  const walk = (v: unknown): boolean => {
    if (Array.isArray(v)) return v.some(walk);
    if (v === null || typeof v !== 'object') return false;
    const o = v as Record<string, unknown>;
    if (o['kind'] === 'Secret' && 'apiVersion' in o) return true;
    return Object.values(o).some(walk);
  };
  return docs.some(walk);
}

/** ConfigMap keys that name a credential. */
const CREDENTIAL_KEY = /pass|secret|token|credential|api[-_]?key|private|\.key$|\.pem$/i;

/** The `data` keys when every document with a top-level `data` is a ConfigMap; otherwise (or not YAML) undefined. */
function configMapDataKeys(docs: unknown[] | undefined): string[] | undefined {
  if (docs === undefined) return undefined;
  const keys: string[] = [];
  for (const d of docs) {
    if (d === null || typeof d !== 'object' || !('data' in d)) continue;
    const o = d as { kind?: unknown; data?: unknown };
    if (o.kind !== 'ConfigMap' || o.data === null || typeof o.data !== 'object') return undefined;
    keys.push(...Object.keys(o.data));
  }
  return keys;
}
