/**
 * The code senders without an engine: the choice by settings, the log sender's discretion, the
 * mail's content, and what the smtp sender refuses before it connects. The smtp sender against
 * a real SMTP server (Mailpit) is in lab/mailpit.test.ts; the webhook sender in ./senders/webhook.test.ts.
 */
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../log.js';
import { createCodeSender, LogCodeSender, MemoryCodeSender, NoContactAddress, type CodeRequest } from './code-sender.js';
import { extractLoginCode, loginCodeMail, SmtpCodeSender, UnusableContactAddress } from './senders/smtp.js';
import { WebhookCodeSender } from './senders/webhook.js';

const CODE = '093417';
const REQ: CodeRequest = {
  username: 'Bob <script>',
  usernameNorm: 'bob',
  userId: 'u-1',
  email: 'bob@example.com',
  code: CODE,
  expiresAt: new Date('2030-01-01T00:05:00.000Z'),
};

function capture() {
  const lines: string[] = [];
  return { lines, log: createLogger({}, { level: 'debug', write: (l) => lines.push(l) }) };
}

const SMTP = { kind: 'smtp', host: '127.0.0.1', port: 1, tls: 'none', from: 'Chat <no-reply@example.com>' } as const;

describe('createCodeSender', () => {
  it('builds the sender the settings name', async () => {
    const { log } = capture();
    expect(createCodeSender({ kind: 'log', devPrintCodes: false }, log)).toBeInstanceOf(LogCodeSender);
    expect(createCodeSender({ kind: 'memory' }, log)).toBeInstanceOf(MemoryCodeSender);
    const smtp = createCodeSender(SMTP, log);
    expect(smtp).toBeInstanceOf(SmtpCodeSender);
    await smtp.close?.();
    expect(createCodeSender({ kind: 'webhook', url: 'https://x.example/h', key: 'k'.repeat(32), timeoutMs: 1_000 }, log)).toBeInstanceOf(WebhookCodeSender);
  });
});

describe('log sender', () => {
  it('logs that a code was issued, never the code', async () => {
    const { lines, log } = capture();
    const printed: string[] = [];
    await new LogCodeSender(log, false, (l) => printed.push(l)).send(REQ);
    expect(lines.join('\n')).toContain('login code issued');
    expect(lines.join('\n')).not.toContain(CODE);
    expect(printed).toEqual([]);
  });

  it('prints the code to its stderr writer only with devPrintCodes', async () => {
    const { lines, log } = capture();
    const printed: string[] = [];
    await new LogCodeSender(log, true, (l) => printed.push(l)).send(REQ);
    expect(printed).toEqual([`[development] login code for bob: ${CODE}`]);
    expect(lines.join('\n')).not.toContain(CODE);
  });
});

describe('login code mail', () => {
  const now = new Date('2030-01-01T00:00:00.000Z');
  const mail = loginCodeMail(REQ, now, 'Chat');

  it('has the code and its expiry in text and HTML, never in the subject', () => {
    expect(mail.subject).toBe('Your Chat login code');
    expect(mail.text).toContain(`your Chat login code is: ${CODE}`);
    expect(mail.text).toContain('It expires in 5 minutes (at 2030-01-01 00:05 UTC)');
    expect(mail.html).toContain(CODE);
    expect(mail.html).toContain('2030-01-01 00:05 UTC');
  });

  it('escapes the username in HTML', () => {
    expect(mail.html).toContain('Bob &#60;script&#62;');
    expect(mail.html).not.toContain('<script>');
  });

  it('states the code in a line the lab reads back', () => {
    expect(extractLoginCode(mail.text)).toBe(CODE);
    expect(extractLoginCode('no code here')).toBeUndefined();
  });
});

describe('smtp sender, before it connects', () => {
  it('needs an address', async () => {
    const { log } = capture();
    const s = new SmtpCodeSender(SMTP, log);
    const { email: _, ...noEmail } = REQ;
    await expect(s.send(noEmail)).rejects.toBeInstanceOf(NoContactAddress);
    await s.close();
  });

  it('sends to one plain address only (no list, no display name, no header injection)', async () => {
    const { log } = capture();
    const s = new SmtpCodeSender(SMTP, log);
    for (const email of ['a,b@example.com', 'Bob <bob@example.com>', 'bob@example.com\r\nBcc: x@y.z', 'bøb@example.com', 'bob@localhost', `${'a'.repeat(65)}@example.com`]) {
      await expect(s.send({ ...REQ, email })).rejects.toBeInstanceOf(UnusableContactAddress);
    }
    await s.close();
  });

  it('reports a relay that does not answer, naming it, without the code', async () => {
    // A port with nothing listening: bind one, note it, close it.
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((r) => probe.close(r));
    const { lines, log } = capture();
    const s = new SmtpCodeSender({ ...SMTP, port }, log);
    const err = await s.send(REQ).then(() => undefined, (e: Error) => e);
    await s.close();
    expect(err?.message).toContain(`the relay 127.0.0.1:${port} (tls none) did not take the login code mail: `);
    expect(err?.message).toContain('ECONNREFUSED');
    expect(err?.message).not.toContain(CODE);
    expect(lines.join('\n')).toContain('login code mail not sent');
    expect(lines.join('\n')).not.toContain(CODE);
  });
});
