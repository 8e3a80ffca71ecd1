/**
 * Redaction of Secret-like values before a dist file is shown in a PR comment (`npm run plan --
 * --format markdown`). The comment is public to everyone who can read the pull request, so
 * anything that may be a credential is replaced by `<redacted>` (on the after side by
 * `<redacted, changed>` when the value differs from the base, so a reviewer still sees that it
 * changed). The rule, also printed at the end of every comment (REDACTION_RULE):
 *
 * 1. In an object of `kind: Secret`, every value under `data` and `stringData`.
 * 2. Anywhere in a YAML or JSON file, a string or number directly under a key whose last word
 *    (camelCase, snake_case, kebab-case or dotted) is password, passwd, pwd, passphrase, secret,
 *    token, key, apikey, credential, auth (or their plurals), or which contains password or
 *    passphrase anywhere (`passwordHash`); every string or number in a list directly under such
 *    a key; and the `value` of a map whose `name` is such a key (an env var `{name: DB_PASSWORD,
 *    value: ...}`). Maps under such a key are walked with the same rule, so
 *    `NATS_PASSWORD: {valueFrom: {secretKeyRef: ...}}` still shows the reference. `key` (the
 *    *name* of a key in a Secret), `topologyKey`, references to variables
 *    (`<< $GATEWAY_PASSWORD >>`, `${VAR}`, `$(VAR)`), booleans and nulls stay. A key ending in
 *    `Secret` usually names a Secret (`clientCASecret`), but may hold one (`clientSecret`): it
 *    is redacted.
 * 3. In every string (multi-line values such as an embedded config file, and Markdown/text
 *    files): the password of a URL (`scheme://user:<redacted>@host`) and the value of a
 *    `password|passwd|secret|token|apikey|api_key|credentials: value` or `... = value` line.
 */
import { isMap, isScalar, isSeq, parseDocument, Scalar, type Document, type Node } from 'yaml';

export const REDACTED = '<redacted>';
export const REDACTED_CHANGED = '<redacted, changed>';

export const REDACTION_RULE =
  'Values are redacted (`<redacted>`; `<redacted, changed>` when it differs from the base): every value under `data`/`stringData` of a Secret; ' +
  'strings and numbers directly under keys whose last word is password, passwd, pwd, passphrase, secret, token, key, apikey, credential or auth (or a plural), or that contain password or passphrase, ' +
  'and the `value` next to such a `name` (env vars); not `key`, `topologyKey` or `<< $VAR >>`/`${VAR}` references; URL passwords; `password|secret|token|apikey|credentials: value` or `= value` inside text.';

const SECRET_LAST_WORDS = new Set(['password', 'passwords', 'passwd', 'pwd', 'passphrase', 'secret', 'secrets', 'token', 'tokens', 'key', 'keys', 'apikey', 'apikeys', 'credential', 'credentials', 'auth']);
/** Keys whose values name things, not credentials: the name of a key in a Secret, the Kubernetes scheduling field. */
const NOT_SECRET_KEYS = new Set(['key', 'topologyKey']);
const SECRET_ANYWHERE = /password|passphrase/i;

/** The words of a key: `secretAccessKey` -> secret, access, key; `NATS_PASSWORD` -> nats, password. */
export function keyWords(key: string): string[] {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((w) => w.toLowerCase());
}

/** Whether a value under `key` may be a credential (rule 2). */
export function isSecretKey(key: string): boolean {
  if (NOT_SECRET_KEYS.has(key)) return false;
  if (SECRET_ANYWHERE.test(key)) return true;
  const words = keyWords(key);
  return words.length > 0 && SECRET_LAST_WORDS.has(words[words.length - 1]!);
}

/** A reference to a variable, which holds no credential itself. */
const VARIABLE_REFERENCE = /^\s*(?:<<\s*\$[A-Za-z_][A-Za-z0-9_]*\s*>>|\$\{[A-Za-z_][A-Za-z0-9_]*\}|\$\([A-Za-z_][A-Za-z0-9_]*\)|\$[A-Za-z_][A-Za-z0-9_]*)\s*$/;

const URL_PASSWORD = /([a-z][a-z0-9+.-]*:\/\/[^\s:/@'"]*:)([^\s@/'"]+)(@)/gi;
const TEXT_ASSIGNMENT = /\b((?:[A-Za-z0-9_-]*?)(?:password|passwd|secret|token|apikey|api_key|credentials))(["']?\s*[:=]\s*)(?!\s*$)(?!<redacted)([^\s,;#]+)/gi;

/** Rule 3: URL passwords and `password: value` / `token = value` assignments inside text. */
export function redactText(text: string): string {
  return text.replace(URL_PASSWORD, `$1${REDACTED}$3`).replace(TEXT_ASSIGNMENT, (whole, key: string, sep: string, value: string) =>
    VARIABLE_REFERENCE.test(value) ? whole : `${key}${sep}${REDACTED}`,
  );
}

type Path = ReadonlyArray<string | number>;

/** The plain value at `path` of `doc`, or undefined. */
function valueAt(doc: Document | undefined, path: Path): unknown {
  if (!doc) return undefined;
  const node = doc.getIn(path, true);
  return isScalar(node) ? node.value : node === undefined ? undefined : JSON.stringify(node);
}

/** Replaces a scalar node's value by the redaction marker (rule 1 and 2). */
function redactScalar(node: Scalar, path: Path, other: Document | undefined, markChanges: boolean): void {
  if (typeof node.value !== 'string' && typeof node.value !== 'number' && typeof node.value !== 'bigint') return;
  if (typeof node.value === 'string' && (VARIABLE_REFERENCE.test(node.value) || node.value === REDACTED || node.value === REDACTED_CHANGED)) return;
  const changed = markChanges && valueAt(other, path) !== node.value;
  node.value = changed ? REDACTED_CHANGED : REDACTED;
  node.type = Scalar.PLAIN;
}

function walk(node: Node | null | undefined, path: Path, secret: boolean, other: Document | undefined, markChanges: boolean): void {
  if (isMap(node)) {
    // `{name: DB_PASSWORD, value: ...}`: an environment variable (or any name/value pair) named like a credential.
    const name = node.get('name');
    const namedSecret = typeof name === 'string' && isSecretKey(name);
    for (const pair of node.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : undefined;
      if (key === undefined) continue;
      walk(pair.value as Node, [...path, key], isSecretKey(key) || (namedSecret && key === 'value'), other, markChanges);
    }
  } else if (isSeq(node)) {
    // A list directly under a secret-like key (`apiKeys: [...]`) is redacted item by item; maps in it are walked on their own.
    node.items.forEach((item, i) => walk(item as Node, [...path, i], secret && isScalar(item), other, markChanges));
  } else if (isScalar(node)) {
    if (secret) redactScalar(node, path, other, markChanges);
    else if (typeof node.value === 'string') {
      const text = redactText(node.value);
      if (text !== node.value) node.value = text;
    }
  }
}

/** Rule 1: a Secret's data and stringData, wholesale. */
function redactSecretData(doc: Document, other: Document | undefined, markChanges: boolean): void {
  if (doc.get('kind') !== 'Secret') return;
  for (const field of ['data', 'stringData']) {
    const map = doc.get(field, true);
    if (!isMap(map)) continue;
    for (const pair of map.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : '';
      if (isScalar(pair.value)) redactScalar(pair.value, [field, key], other, markChanges);
    }
  }
}

const parsed = (text: string | undefined): Document | undefined => {
  if (text === undefined) return undefined;
  const doc = parseDocument(text);
  return doc.errors.length > 0 ? undefined : doc;
};

/**
 * `text` (the content of dist file `path`) as it may be shown, redacted. `other` is the same
 * file on the other side of the change: with `markChanges` a redacted value that differs from
 * it becomes `<redacted, changed>`. YAML files keep their layout and comments; JSON files are
 * printed back with 2-space indentation (both sides alike); anything else, and a file that does
 * not parse, gets the text rule only.
 */
export function redactFile(path: string, text: string, other?: string, markChanges = false): string {
  if (path.endsWith('.json')) return redactJson(text, other, markChanges);
  if (!path.endsWith('.yaml') && !path.endsWith('.yml')) return redactText(text);
  const doc = parsed(text);
  if (!doc) return redactText(text);
  const otherDoc = parsed(other);
  redactSecretData(doc, otherDoc, markChanges);
  walk(doc.contents as Node, [], false, otherDoc, markChanges);
  return doc.toString({ lineWidth: 0 });
}

/** JSON files (STATE.json): the same rules on the parsed value, printed back with 2-space indentation. */
function redactJson(text: string, other: string | undefined, markChanges: boolean): string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return redactText(text);
  }
  let otherValue: unknown;
  try {
    otherValue = other === undefined ? undefined : JSON.parse(other);
  } catch {
    otherValue = undefined;
  }
  const at = (v: unknown, path: Path): unknown => path.reduce<unknown>((o, k) => (o !== null && typeof o === 'object' ? (o as Record<string | number, unknown>)[k] : undefined), v);
  const go = (v: unknown, path: Path, secret: boolean): unknown => {
    if (Array.isArray(v)) return v.map((x, i) => go(x, [...path, i], secret && (x === null || typeof x !== 'object')));
    if (v !== null && typeof v === 'object') {
      const named = typeof (v as { name?: unknown }).name === 'string' && isSecretKey((v as { name: string }).name);
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, go(x, [...path, k], isSecretKey(k) || (named && k === 'value'))]));
    }
    if (secret && (typeof v === 'number' || (typeof v === 'string' && !VARIABLE_REFERENCE.test(v)))) {
      return markChanges && at(otherValue, path) !== v ? REDACTED_CHANGED : REDACTED;
    }
    return typeof v === 'string' ? redactText(v) : v;
  };
  return `${JSON.stringify(go(value, [], false), null, 2)}\n`;
}
