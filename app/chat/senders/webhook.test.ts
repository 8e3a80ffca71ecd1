/**
 * The webhook sender against a real local HTTP receiver (node:http on 127.0.0.1, a free port):
 * the receiver checks the signature with its OWN HMAC computation (not the module's), and
 * refuses a wrong key or a stale timestamp. verifyWebhookSignature is tested separately against
 * hand-computed signatures.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../log.js';
import type { CodeRequest } from '../code-sender.js';
import { signWebhookBody, verifyWebhookSignature, WebhookCodeSender } from './webhook.js';

const KEY = 'webhook-test-key-0123456789abcdef-XYZ';
const CODE = '482913';
const REQ: CodeRequest = {
  username: 'Alice',
  usernameNorm: 'alice',
  userId: '7f0c2a52-6a43-4e59-9a7b-9d0e8f1b2c3d',
  email: 'alice@example.com',
  code: CODE,
  expiresAt: new Date('2030-01-01T00:05:00.000Z'),
};

interface Received {
  readonly headers: IncomingMessage['headers'];
  readonly raw: string;
}

/** What the receiver decides about one request (status code), given what it got. */
type Policy = (r: Received, n: number) => number | 'hang';

/** The receiver's own check: t within 300 s, v1 = HMAC-SHA256(key, "<t>.<raw body>"). */
function receiverAccepts(header: string | undefined, raw: string, key: string, nowSeconds = Math.floor(Date.now() / 1000)): boolean {
  const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header ?? '');
  if (!m) return false;
  const want = createHmac('sha256', key).update(`${m[1]}.${raw}`).digest();
  return timingSafeEqual(want, Buffer.from(m[2]!, 'hex')) && Math.abs(nowSeconds - Number(m[1])) <= 300;
}

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

async function receiver(policy: Policy): Promise<{ url: string; got: Received[] }> {
  const got: Received[] = [];
  const srv = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r = { headers: req.headers, raw: Buffer.concat(chunks).toString('utf8') };
      got.push(r);
      const status = policy(r, got.length);
      if (status === 'hang') return;
      res.writeHead(status, status >= 300 && status < 400 ? { location: 'http://127.0.0.1:9/elsewhere' } : {});
      res.end(status >= 400 ? 'nope' : '');
    });
  });
  servers.push(srv);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(srv.address() as AddressInfo).port}/hooks/login-code?token=Q1`, got };
}

function sender(url: string, opts: { key?: string; timeoutMs?: number; now?: () => Date } = {}) {
  const lines: string[] = [];
  const log = createLogger({}, { level: 'debug', write: (l) => lines.push(l) });
  const s = new WebhookCodeSender({ kind: 'webhook', url, key: opts.key ?? KEY, timeoutMs: opts.timeoutMs ?? 2_000 }, log, {
    retryDelaysMs: [20, 40],
    ...(opts.now ? { now: opts.now } : {}),
  });
  return { s, lines };
}

const verifying: Policy = (r) => (receiverAccepts(r.headers['x-regionmesh-signature'] as string | undefined, r.raw, KEY) ? 204 : 401);

describe('webhook code sender', () => {
  it('posts the code as signed JSON with an idempotency key, and logs neither code nor key', async () => {
    const rx = await receiver(verifying);
    const { s, lines } = sender(rx.url);
    await s.send(REQ);
    expect(rx.got).toHaveLength(1);
    const r = rx.got[0]!;
    expect(JSON.parse(r.raw)).toEqual({ username: 'Alice', userId: REQ.userId, email: 'alice@example.com', code: CODE, expiresAt: '2030-01-01T00:05:00.000Z' });
    expect(r.headers['content-type']).toBe('application/json');
    expect(r.headers['idempotency-key']).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(lines.join('\n')).toContain('login code posted');
    expect(lines.join('\n')).not.toContain(CODE);
    expect(lines.join('\n')).not.toContain(KEY);
    expect(lines.join('\n')).not.toContain('token=Q1');
  });

  it('leaves email out when the request has none', async () => {
    const rx = await receiver(verifying);
    const { email: _, ...noEmail } = REQ;
    await sender(rx.url).s.send(noEmail);
    expect(Object.keys(JSON.parse(rx.got[0]!.raw))).toEqual(['username', 'userId', 'code', 'expiresAt']);
  });

  it('is refused by a receiver with another key, at once (no retry on 4xx), without the code or key in the error', async () => {
    const rx = await receiver(verifying);
    const { s, lines } = sender(rx.url, { key: 'another-key-of-enough-length-0123456789' });
    const err = await s.send(REQ).then(() => undefined, (e: Error) => e);
    expect(err?.message).toContain('HTTP 401 (does the receiver have the same key?)');
    expect(rx.got).toHaveLength(1);
    for (const text of [err!.message, lines.join('\n')]) {
      expect(text).not.toContain(CODE);
      expect(text).not.toContain('another-key');
      expect(text).not.toContain('token=Q1');
    }
  });

  it('is refused with a stale timestamp (a replay 10 minutes late)', async () => {
    const rx = await receiver(verifying);
    const { s } = sender(rx.url, { now: () => new Date(Date.now() - 600_000) });
    await expect(s.send(REQ)).rejects.toThrow(/HTTP 401/);
  });

  it('retries 5xx with the same idempotency key and a fresh signature, then succeeds', async () => {
    const rx = await receiver((r, n) => (n < 3 ? 503 : verifying(r, n)));
    await sender(rx.url).s.send(REQ);
    expect(rx.got).toHaveLength(3);
    expect(new Set(rx.got.map((g) => g.headers['idempotency-key'])).size).toBe(1);
    expect(new Set(rx.got.map((g) => g.raw)).size).toBe(1);
  });

  it('gives up after 3 attempts of 5xx, naming each', async () => {
    const rx = await receiver(() => 500);
    await expect(sender(rx.url).s.send(REQ)).rejects.toThrow(/after 3 attempt\(s\): HTTP 500; HTTP 500; HTTP 500/);
    expect(rx.got).toHaveLength(3);
  });

  it('does not follow a redirect (the code would go elsewhere)', async () => {
    const rx = await receiver(() => 302);
    await expect(sender(rx.url).s.send(REQ)).rejects.toThrow(/HTTP 302 \(redirects are not followed/);
    expect(rx.got).toHaveLength(1);
  });

  it('bounds each attempt by its timeout and retries it', async () => {
    const rx = await receiver(() => 'hang');
    const t0 = Date.now();
    await expect(sender(rx.url, { timeoutMs: 200 }).s.send(REQ)).rejects.toThrow(/timeout after 200 ms; timeout after 200 ms; timeout after 200 ms/);
    expect(Date.now() - t0).toBeLessThan(3_000);
    expect(rx.got).toHaveLength(3);
  });

  it('retries a refused connection and names its errno', async () => {
    const rx = await receiver(verifying);
    const url = rx.url;
    const srv = servers.pop()!;
    await new Promise((r) => srv.close(r));
    await expect(sender(url).s.send(REQ)).rejects.toThrow(/network error ECONNREFUSED; network error ECONNREFUSED; network error ECONNREFUSED/);
  });
});

describe('verifyWebhookSignature (what a receiver runs)', () => {
  const body = '{"code":"1"}';
  const t = 1_900_000_000;
  const mac = createHmac('sha256', KEY).update(`${t}.${body}`).digest('hex');
  const at = new Date(t * 1000 + 30_000);

  it('signs as documented: t=<seconds>,v1=<hex HMAC-SHA256(key, "<t>.<body>")>', () => {
    expect(signWebhookBody(KEY, t, body)).toBe(`t=${t},v1=${mac}`);
  });

  it('accepts the right signature within the tolerance', () => {
    expect(verifyWebhookSignature({ header: `t=${t},v1=${mac}`, rawBody: body, key: KEY, now: at })).toEqual({ ok: true, timestamp: t });
    expect(verifyWebhookSignature({ header: `t=${t},v1=${mac}`, rawBody: Buffer.from(body), key: KEY, now: at }).ok).toBe(true);
  });

  it('refuses another key, a changed body, a stale or future timestamp, a malformed header', () => {
    const check = (o: Partial<Parameters<typeof verifyWebhookSignature>[0]>) =>
      verifyWebhookSignature({ header: `t=${t},v1=${mac}`, rawBody: body, key: KEY, now: at, ...o });
    expect(check({ key: `${KEY}!` })).toEqual({ ok: false, reason: 'mismatch' });
    expect(check({ rawBody: '{"code":"2"}' })).toEqual({ ok: false, reason: 'mismatch' });
    expect(check({ header: `t=${t + 1},v1=${mac}` })).toEqual({ ok: false, reason: 'mismatch' });
    expect(check({ now: new Date((t + 301) * 1000) })).toEqual({ ok: false, reason: 'stale' });
    expect(check({ now: new Date((t - 301) * 1000) })).toEqual({ ok: false, reason: 'stale' });
    expect(check({ now: new Date((t + 3_600) * 1000), toleranceSeconds: 3_600 }).ok).toBe(true);
    expect(check({ header: undefined })).toEqual({ ok: false, reason: 'malformed' });
    expect(check({ header: `v1=${mac},t=${t}` })).toEqual({ ok: false, reason: 'malformed' });
    expect(check({ header: `t=${t},v1=${mac.toUpperCase()}` })).toEqual({ ok: false, reason: 'malformed' });
  });
});
