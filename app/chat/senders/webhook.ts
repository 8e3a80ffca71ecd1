/**
 * Login codes by a signed HTTP POST (an SMS gateway, an internal notification service).
 *
 *   POST <CHAT_WEBHOOK_URL>
 *   Content-Type: application/json
 *   Idempotency-Key: <uuid, the same on every retry of one code>
 *   X-Regionmesh-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(key, "<t>.<raw body>")>
 *   {"username":"Alice","userId":"…","email":"alice@example.com","code":"123456","expiresAt":"2026-…Z"}
 *   (`email` only when the user has or gave one)
 *
 * A receiver verifies with verifyWebhookSignature(): recompute the HMAC over the RAW body bytes,
 * compare in constant time, and refuse a timestamp older than its tolerance (replays).
 * Any 2xx is success. 5xx, a timeout or a network error is retried (WEBHOOK_RETRY_DELAYS_MS,
 * with jitter); any other status (4xx, a redirect: redirects are not followed) fails at once.
 * The code and the key never appear in a log line or an error message.
 */
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import type { Logger } from '../../log.js';
import type { CodeRequest, CodeSender } from './types.js';
import type { WebhookSenderSettings } from './settings.js';

export const SIGNATURE_HEADER = 'X-Regionmesh-Signature';
export const IDEMPOTENCY_HEADER = 'Idempotency-Key';
/** Waits before the 2nd and 3rd attempt, ms (each ±20% jitter): at most 3 attempts. */
export const WEBHOOK_RETRY_DELAYS_MS: readonly number[] = [250, 1_000];
/** What a receiver should accept as clock skew + delivery delay, s (verifyWebhookSignature's default). */
export const SIGNATURE_TOLERANCE_SECONDS = 300;
/** Most of a response body we read (and discard), bytes. */
const MAX_RESPONSE_BYTES = 16_384;

/** `t=<t>,v1=<hex HMAC-SHA256(key, "<t>.<body>")>`. */
export function signWebhookBody(key: string, unixSeconds: number, rawBody: string | Buffer): string {
  const mac = createHmac('sha256', key).update(`${unixSeconds}.`).update(rawBody).digest('hex');
  return `t=${unixSeconds},v1=${mac}`;
}

export type SignatureCheck = { ok: true; timestamp: number } | { ok: false; reason: 'malformed' | 'mismatch' | 'stale' };

/**
 * What a receiver does with a request: `header` is X-Regionmesh-Signature, `rawBody` the exact
 * bytes received (before any JSON parsing). Refuses a timestamp more than `toleranceSeconds`
 * away from `now` either way.
 */
export function verifyWebhookSignature(opts: {
  header: string | undefined;
  rawBody: string | Buffer;
  key: string;
  now?: Date;
  toleranceSeconds?: number;
}): SignatureCheck {
  const m = /^t=(\d{1,12}),v1=([0-9a-f]{64})$/.exec(opts.header ?? '');
  if (!m) return { ok: false, reason: 'malformed' };
  const t = Number(m[1]);
  const expected = Buffer.from(signWebhookBody(opts.key, t, opts.rawBody).slice(`t=${t},v1=`.length), 'hex');
  if (!timingSafeEqual(expected, Buffer.from(m[2]!, 'hex'))) return { ok: false, reason: 'mismatch' };
  const now = Math.floor((opts.now ?? new Date()).getTime() / 1000);
  if (Math.abs(now - t) > (opts.toleranceSeconds ?? SIGNATURE_TOLERANCE_SECONDS)) return { ok: false, reason: 'stale' };
  return { ok: true, timestamp: t };
}

export interface WebhookSenderOptions {
  /** Waits between attempts, ms (default WEBHOOK_RETRY_DELAYS_MS; tests shorten them). */
  readonly retryDelaysMs?: readonly number[];
  /** Clock (tests). */
  readonly now?: () => Date;
}

/** One attempt's outcome: done, worth retrying, or final. */
type Attempt = { kind: 'ok'; status: number } | { kind: 'retry'; why: string } | { kind: 'fail'; why: string };

export class WebhookCodeSender implements CodeSender {
  readonly kind = 'webhook';
  readonly needsEmail = false;
  private readonly origin: string;

  constructor(
    private readonly s: WebhookSenderSettings,
    private readonly log: Logger,
    private readonly opts: WebhookSenderOptions = {},
  ) {
    this.origin = new URL(s.url).origin;
  }

  async send(req: CodeRequest): Promise<void> {
    const body = JSON.stringify({
      username: req.username,
      userId: req.userId,
      ...(req.email !== undefined ? { email: req.email } : {}),
      code: req.code,
      expiresAt: req.expiresAt.toISOString(),
    });
    const idempotencyKey = randomUUID();
    const delays = this.opts.retryDelaysMs ?? WEBHOOK_RETRY_DELAYS_MS;
    const whys: string[] = [];
    for (let attempt = 0; attempt <= delays.length; attempt++) {
      if (attempt > 0) await sleep(jitter(delays[attempt - 1]!));
      const started = Date.now();
      const r = await this.attempt(body, idempotencyKey);
      if (r.kind === 'ok') {
        this.log.info('login code posted', { userId: req.userId, receiver: this.origin, status: r.status, attempts: attempt + 1, ms: Date.now() - started });
        return;
      }
      whys.push(r.why);
      this.log.warn('login code webhook attempt failed', { userId: req.userId, receiver: this.origin, attempt: attempt + 1, reason: r.why, willRetry: r.kind === 'retry' && attempt < delays.length });
      if (r.kind === 'fail') break;
    }
    throw new Error(`webhook: ${this.origin} did not take the login code after ${whys.length} attempt(s): ${whys.join('; ')} (check CHAT_WEBHOOK_URL/KEY and the receiver)`);
  }

  private async attempt(body: string, idempotencyKey: string): Promise<Attempt> {
    const t = Math.floor((this.opts.now?.() ?? new Date()).getTime() / 1000);
    let res: Response;
    try {
      res = await fetch(this.s.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'regionmesh-chat',
          [IDEMPOTENCY_HEADER]: idempotencyKey,
          [SIGNATURE_HEADER]: signWebhookBody(this.s.key, t, body),
        },
        body,
        redirect: 'manual',
        signal: AbortSignal.timeout(this.s.timeoutMs),
      });
    } catch (err) {
      return { kind: 'retry', why: networkReason(err, this.s.timeoutMs) };
    }
    await discardBody(res);
    if (res.status >= 200 && res.status < 300) return { kind: 'ok', status: res.status };
    if (res.status >= 500) return { kind: 'retry', why: `HTTP ${res.status}` };
    if (res.status >= 300 && res.status < 400) return { kind: 'fail', why: `HTTP ${res.status} (redirects are not followed: give the final URL)` };
    return { kind: 'fail', why: `HTTP ${res.status}${res.status === 401 || res.status === 403 ? ' (does the receiver have the same key?)' : ''}` };
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function jitter(ms: number): number {
  return Math.round(ms * (0.8 + Math.random() * 0.4));
}

/** A fetch failure as `timeout after N ms` or the cause's errno code (never the URL's path or query). */
function networkReason(err: unknown, timeoutMs: number): string {
  const e = err as { name?: string; cause?: { code?: unknown; name?: string } };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return `timeout after ${timeoutMs} ms`;
  const code = e?.cause?.code;
  return typeof code === 'string' ? `network error ${code}` : `network error ${e?.cause?.name ?? e?.name ?? 'unknown'}`;
}

async function discardBody(res: Response): Promise<void> {
  if (!res.body) return;
  const reader = res.body.getReader();
  let read = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      read += value.byteLength;
      if (read > MAX_RESPONSE_BYTES) {
        await reader.cancel();
        return;
      }
    }
  } catch {
    // The status already decided the outcome.
  }
}
