/**
 * Which login-code sender `serve` uses, from the environment:
 *
 *   CHAT_CODE_SENDER         smtp | webhook (production) | log (lab/development) | memory (tests); required
 *   smtp:    CHAT_SMTP_HOST (required), CHAT_SMTP_PORT (default by TLS mode: implicit 465, starttls 587,
 *            none 25), CHAT_SMTP_TLS implicit | starttls | none (default starttls; starttls REQUIRES the
 *            upgrade), CHAT_SMTP_FROM (required, e.g. "Chat <no-reply@example.com>"),
 *            CHAT_SMTP_USER + CHAT_SMTP_PASSWORD (both or neither; never with tls none)
 *   webhook: CHAT_WEBHOOK_URL (required, http:// or https://, no user:password@),
 *            CHAT_WEBHOOK_KEY (required, at least 32 characters: the HMAC-SHA256 key),
 *            CHAT_WEBHOOK_TIMEOUT_MS (default 5000: one attempt's bound)
 *   log:     CHAT_DEV_PRINT_CODES true | false (default false): also print codes to stderr
 *
 * Problems name the variable, never its value.
 */
import { z } from 'zod';
import { intString } from '../../env.js';

export type SmtpTlsMode = 'implicit' | 'starttls' | 'none';

export interface SmtpSenderSettings {
  readonly kind: 'smtp';
  readonly host: string;
  readonly port: number;
  /** implicit: TLS from the first byte (465); starttls: plain then a REQUIRED upgrade (587); none: lab only. */
  readonly tls: SmtpTlsMode;
  /** The From header, e.g. `Chat <no-reply@example.com>`. */
  readonly from: string;
  readonly user?: string | undefined;
  readonly password?: string | undefined;
}

export interface WebhookSenderSettings {
  readonly kind: 'webhook';
  readonly url: string;
  /** HMAC-SHA256 key of X-Regionmesh-Signature. */
  readonly key: string;
  /** Bound of one attempt (connect + response), ms. */
  readonly timeoutMs: number;
}

export type CodeSenderSettings =
  | { readonly kind: 'log'; readonly devPrintCodes: boolean }
  | { readonly kind: 'memory' }
  | SmtpSenderSettings
  | WebhookSenderSettings;

export const SENDER_DEFAULTS = {
  smtpTls: 'starttls',
  smtpPort: { implicit: 465, starttls: 587, none: 25 },
  webhookTimeoutMs: 5_000,
  webhookKeyMinLength: 32,
} as const;

const boolString = z.enum(['true', 'false'], { message: 'must be true or false' }).transform((v) => v === 'true');

/** The sender variables, to merge into the serve env schema. */
export const senderEnvShape = {
  CHAT_CODE_SENDER: z.enum(['log', 'memory', 'smtp', 'webhook'], { message: 'must be smtp, webhook, log or memory' }).optional(),
  CHAT_DEV_PRINT_CODES: boolString.optional(),
  CHAT_SMTP_HOST: z.string().regex(/^[A-Za-z0-9.\-_[\]:]+$/, { message: 'must be a host name or IP address' }).optional(),
  CHAT_SMTP_PORT: intString(1, 65_535).optional(),
  CHAT_SMTP_TLS: z.enum(['implicit', 'starttls', 'none'], { message: 'must be implicit, starttls or none' }).optional(),
  CHAT_SMTP_FROM: z
    .string()
    .refine((v) => !/[\r\n]/.test(v) && /(^|<)[^\s<>@]+@[^\s<>@]+\.[^\s<>@]+>?$/.test(v), { message: 'must be an address like no-reply@example.com or "Chat <no-reply@example.com>"' })
    .optional(),
  CHAT_SMTP_USER: z.string().optional(),
  CHAT_SMTP_PASSWORD: z.string().optional(),
  CHAT_WEBHOOK_URL: z.string().optional(),
  CHAT_WEBHOOK_KEY: z.string().optional(),
  CHAT_WEBHOOK_TIMEOUT_MS: intString(100, 60_000).optional(),
} as const;

type SenderEnv = z.output<z.ZodObject<typeof senderEnvShape>>;

/** The reason `url` is not a usable webhook URL, or undefined (never repeats the URL). */
function webhookUrlProblem(url: string): string | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return 'is not a URL';
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') return 'must start with https:// (or http:// inside the cluster)';
  if (u.username !== '' || u.password !== '') return 'must not contain user:password@ (the request is signed with CHAT_WEBHOOK_KEY)';
  return undefined;
}

/** The sender settings, or pushes problems (each naming its variable). */
export function codeSenderFromEnv(e: SenderEnv, problems: string[]): CodeSenderSettings | undefined {
  const kind = e.CHAT_CODE_SENDER;
  if (kind === undefined) {
    problems.push('CHAT_CODE_SENDER: is required (smtp or webhook in production, log in a lab, memory in tests)');
    return undefined;
  }
  if (e.CHAT_DEV_PRINT_CODES === true && kind !== 'log') problems.push('CHAT_DEV_PRINT_CODES: only applies to CHAT_CODE_SENDER=log (unset it)');
  switch (kind) {
    case 'log':
      return { kind, devPrintCodes: e.CHAT_DEV_PRINT_CODES ?? false };
    case 'memory':
      return { kind };
    case 'smtp': {
      const before = problems.length;
      const tls = e.CHAT_SMTP_TLS ?? SENDER_DEFAULTS.smtpTls;
      if (e.CHAT_SMTP_HOST === undefined) problems.push('CHAT_SMTP_HOST: is required with CHAT_CODE_SENDER=smtp');
      if (e.CHAT_SMTP_FROM === undefined) problems.push('CHAT_SMTP_FROM: is required with CHAT_CODE_SENDER=smtp (e.g. no-reply@example.com)');
      if ((e.CHAT_SMTP_USER === undefined) !== (e.CHAT_SMTP_PASSWORD === undefined)) problems.push('CHAT_SMTP_USER/CHAT_SMTP_PASSWORD: set both or neither');
      if (e.CHAT_SMTP_USER !== undefined && tls === 'none') {
        problems.push('CHAT_SMTP_TLS: none would send CHAT_SMTP_PASSWORD in clear text (use starttls or implicit)');
      }
      if (problems.length > before) return undefined;
      return {
        kind,
        host: e.CHAT_SMTP_HOST!,
        port: e.CHAT_SMTP_PORT ?? SENDER_DEFAULTS.smtpPort[tls],
        tls,
        from: e.CHAT_SMTP_FROM!,
        ...(e.CHAT_SMTP_USER !== undefined ? { user: e.CHAT_SMTP_USER, password: e.CHAT_SMTP_PASSWORD } : {}),
      };
    }
    case 'webhook': {
      const before = problems.length;
      if (e.CHAT_WEBHOOK_URL === undefined) problems.push('CHAT_WEBHOOK_URL: is required with CHAT_CODE_SENDER=webhook');
      else {
        const p = webhookUrlProblem(e.CHAT_WEBHOOK_URL);
        if (p) problems.push(`CHAT_WEBHOOK_URL: ${p}`);
      }
      if (e.CHAT_WEBHOOK_KEY === undefined) problems.push('CHAT_WEBHOOK_KEY: is required with CHAT_CODE_SENDER=webhook');
      else if (e.CHAT_WEBHOOK_KEY.length < SENDER_DEFAULTS.webhookKeyMinLength) {
        problems.push(`CHAT_WEBHOOK_KEY: must be at least ${SENDER_DEFAULTS.webhookKeyMinLength} characters (e.g. openssl rand -hex 32)`);
      }
      if (problems.length > before) return undefined;
      return { kind, url: e.CHAT_WEBHOOK_URL!, key: e.CHAT_WEBHOOK_KEY!, timeoutMs: e.CHAT_WEBHOOK_TIMEOUT_MS ?? SENDER_DEFAULTS.webhookTimeoutMs };
    }
  }
}

/** What is safe to log about the sender: no password, no key, the webhook's origin only (its path or query may hold a token). */
export function codeSenderSummary(s: CodeSenderSettings): Record<string, unknown> {
  switch (s.kind) {
    case 'log':
      return { kind: s.kind, devPrintCodes: s.devPrintCodes };
    case 'memory':
      return { kind: s.kind };
    case 'smtp':
      return { kind: s.kind, host: s.host, port: s.port, tls: s.tls, from: s.from, auth: s.user !== undefined };
    case 'webhook':
      return { kind: s.kind, origin: new URL(s.url).origin, timeoutMs: s.timeoutMs };
  }
}
