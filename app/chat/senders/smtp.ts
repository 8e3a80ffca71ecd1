/**
 * Login codes by e-mail through an SMTP relay (nodemailer, pooled). Every timeout and TLS
 * choice is explicit:
 *   implicit  TLS from the first byte (port 465)
 *   starttls  plain connect, then STARTTLS is REQUIRED: a relay that does not offer it fails the send
 *   none      no TLS at all (a lab relay on loopback; credentials are refused with it, see settings)
 * The mail is plain text + HTML with the code and its expiry; the code is never in the subject
 * (relays log subjects), in a log line, or in an error message.
 */
import { isIP } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import nodemailer, { type Transporter } from 'nodemailer';
import type { Logger } from '../../log.js';
import { NoContactAddress, type CodeRequest, type CodeSender } from './types.js';
import type { SmtpSenderSettings } from './settings.js';

/** Bounds of one SMTP exchange, ms. */
export const SMTP_TIMEOUTS = {
  /** TCP connect. */
  connectionMs: 10_000,
  /** From connect to the server's 220 greeting. */
  greetingMs: 10_000,
  /** Inactivity on an open connection (a command without a reply). */
  socketMs: 20_000,
  /** DNS resolution of the relay's host. */
  dnsMs: 10_000,
} as const;

/** Pool size: at most this many connections to the relay; each carries at most POOL_MAX_MESSAGES mails. */
export const POOL_MAX_CONNECTIONS = 3;
export const POOL_MAX_MESSAGES = 100;

/** A single plain address (no display name, no list): what a client may give and we send to. */
const PLAIN_ADDRESS = /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?)+$/;

/** The address is not one we can send to (a list, a display name, non-ASCII, too long). */
export class UnusableContactAddress extends NoContactAddress {
  constructor(sender: string) {
    super(sender);
    this.message = `the ${sender} code sender cannot send to the given e-mail address (one plain ASCII address like name@example.com)`;
    this.name = 'UnusableContactAddress';
  }
}

export interface SmtpSenderOptions {
  /** Extra TLS options (tests: a private CA). Certificate checks stay on. */
  readonly tls?: ConnectionOptions;
  /** The product name in the mail (default "Chat"). */
  readonly productName?: string;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

/** How the text part states the code (`... login code is: 123456`); the lab reads codes back with it. */
export const LOGIN_CODE_LINE = /login code is: (\S+)/;

/** The login code in a mail's text part, or undefined. */
export function extractLoginCode(text: string): string | undefined {
  return LOGIN_CODE_LINE.exec(text)?.[1];
}

/** The mail for `req`: subject, text and HTML (exported for tests). */
export function loginCodeMail(req: CodeRequest, now: Date, productName = 'Chat'): { subject: string; text: string; html: string } {
  const minutes = Math.max(1, Math.round((req.expiresAt.getTime() - now.getTime()) / 60_000));
  const expiry = `${req.expiresAt.toISOString().replace('T', ' ').slice(0, 16)} UTC`;
  const subject = `Your ${productName} login code`;
  const text = [
    `Hello ${req.username},`,
    '',
    `your ${productName} login code is: ${req.code}`,
    '',
    `It expires in ${minutes} minute${minutes === 1 ? '' : 's'} (at ${expiry}) and works once.`,
    'If you did not ask for it, ignore this mail: nobody can log in without the code.',
    '',
  ].join('\n');
  const html = [
    '<!doctype html><html><body style="font-family:sans-serif">',
    `<p>Hello ${escapeHtml(req.username)},</p>`,
    `<p>your ${escapeHtml(productName)} login code is:</p>`,
    `<p style="font-size:28px;font-weight:bold;letter-spacing:4px">${escapeHtml(req.code)}</p>`,
    `<p>It expires in ${minutes} minute${minutes === 1 ? '' : 's'} (at ${escapeHtml(expiry)}) and works once.</p>`,
    '<p>If you did not ask for it, ignore this mail: nobody can log in without the code.</p>',
    '</body></html>',
  ].join('\n');
  return { subject, text, html };
}

/** The relay's answer as an operator needs it, with the code masked should a relay echo it. */
function describeSmtpError(err: unknown, code: string): string {
  const e = (err ?? {}) as { code?: unknown; responseCode?: unknown; command?: unknown; message?: unknown };
  const parts = [
    typeof e.code === 'string' ? e.code : undefined,
    typeof e.responseCode === 'number' ? `reply ${e.responseCode}` : undefined,
    typeof e.command === 'string' ? `after ${e.command.split(' ')[0]}` : undefined,
  ].filter((p): p is string => p !== undefined);
  const first = typeof e.message === 'string' ? e.message.split('\n')[0]!.split(code).join('***').slice(0, 200) : 'unknown error';
  return `${parts.join(', ')}${parts.length > 0 ? ': ' : ''}${first}`;
}

export class SmtpCodeSender implements CodeSender {
  readonly kind = 'smtp';
  readonly needsEmail = true;
  private readonly transport: Transporter;
  private readonly where: string;

  constructor(
    private readonly s: SmtpSenderSettings,
    private readonly log: Logger,
    private readonly opts: SmtpSenderOptions = {},
  ) {
    this.where = `${s.host}:${s.port} (tls ${s.tls})`;
    this.transport = nodemailer.createTransport({
      pool: true,
      maxConnections: POOL_MAX_CONNECTIONS,
      maxMessages: POOL_MAX_MESSAGES,
      host: s.host,
      port: s.port,
      secure: s.tls === 'implicit',
      requireTLS: s.tls === 'starttls',
      ignoreTLS: s.tls === 'none',
      opportunisticTLS: false,
      // SNI only for a name (RFC 6066 forbids an IP); the certificate is checked against host either way.
      tls: { minVersion: 'TLSv1.2', rejectUnauthorized: true, ...(isIP(s.host) === 0 ? { servername: s.host } : {}), ...opts.tls },
      ...(s.user !== undefined ? { auth: { user: s.user, pass: s.password ?? '' } } : {}),
      connectionTimeout: SMTP_TIMEOUTS.connectionMs,
      greetingTimeout: SMTP_TIMEOUTS.greetingMs,
      socketTimeout: SMTP_TIMEOUTS.socketMs,
      dnsTimeout: SMTP_TIMEOUTS.dnsMs,
      logger: false,
      debug: false,
      transactionLog: false,
    });
  }

  async send(req: CodeRequest): Promise<void> {
    if (req.email === undefined) throw new NoContactAddress(this.kind);
    if (req.email.length > 254 || !PLAIN_ADDRESS.test(req.email)) throw new UnusableContactAddress(this.kind);
    const mail = loginCodeMail(req, new Date(), this.opts.productName);
    const started = Date.now();
    try {
      await this.transport.sendMail({
        from: this.s.from,
        to: { name: '', address: req.email },
        envelope: { from: this.envelopeFrom(), to: [req.email] },
        subject: mail.subject,
        text: mail.text,
        html: mail.html,
        headers: { 'Auto-Submitted': 'auto-generated', 'X-Auto-Response-Suppress': 'All' },
        disableUrlAccess: true,
        disableFileAccess: true,
      });
    } catch (err) {
      const why = describeSmtpError(err, req.code);
      this.log.warn('login code mail not sent', { userId: req.userId, relay: this.where, reason: why });
      throw new Error(`smtp: the relay ${this.where} did not take the login code mail: ${why} (check CHAT_SMTP_HOST/PORT/TLS and the credentials Secret)`);
    }
    this.log.info('login code mailed', { userId: req.userId, relay: this.where, ms: Date.now() - started });
  }

  /** The bare address of `from` ("Chat <a@b>" -> a@b), for MAIL FROM. */
  private envelopeFrom(): string {
    return /<([^<>]+)>\s*$/.exec(this.s.from)?.[1] ?? this.s.from.trim();
  }

  async close(): Promise<void> {
    this.transport.close();
  }
}
