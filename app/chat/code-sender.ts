/**
 * How login codes reach people: the `CodeSender` port and the sender chosen by the settings
 * (CHAT_CODE_SENDER, see ./settings.ts):
 *   smtp     production: an e-mail through an SMTP relay (./senders/smtp.ts)
 *   webhook  production: a signed HTTP POST to an SMS gateway or an internal service (./senders/webhook.ts)
 *   log      lab/development only: logs that a code was issued (never the code); with
 *            devPrintCodes it also prints the code to stderr for a developer
 *   memory   tests: keeps codes in memory where the test can read them
 */
import type { Logger } from '../log.js';
import { SmtpCodeSender } from './senders/smtp.js';
import { WebhookCodeSender } from './senders/webhook.js';
import type { CodeSenderSettings } from './settings.js';
import type { CodeRequest, CodeSender } from './senders/types.js';

export { NoContactAddress, type CodeRequest, type CodeSender } from './senders/types.js';

/** @deprecated the former name of CodeRequest. */
export type CodeDelivery = CodeRequest;

/** The sender `s` describes. */
export function createCodeSender(s: CodeSenderSettings, log: Logger): CodeSender {
  const senderLog = log.child({ component: 'code-sender', sender: s.kind });
  switch (s.kind) {
    case 'log':
      return new LogCodeSender(senderLog, s.devPrintCodes);
    case 'memory':
      return new MemoryCodeSender();
    case 'smtp':
      return new SmtpCodeSender(s, senderLog);
    case 'webhook':
      return new WebhookCodeSender(s, senderLog);
  }
}

/** Logs that a code was issued; the code itself only to stderr and only with `printCodes`. */
export class LogCodeSender implements CodeSender {
  readonly kind = 'log';
  readonly needsEmail = false;
  constructor(
    private readonly log: Logger,
    private readonly printCodes = false,
    private readonly stderr: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
  ) {}

  async send(d: CodeRequest): Promise<void> {
    this.log.info('login code issued', { username: d.usernameNorm, userId: d.userId, expiresAt: d.expiresAt.toISOString() });
    if (this.printCodes) this.stderr(`[development] login code for ${d.usernameNorm}: ${d.code}`);
  }
}

/** Keeps every code in memory (tests read them with lastCode/nextCode). */
export class MemoryCodeSender implements CodeSender {
  readonly kind = 'memory';
  readonly needsEmail = false;
  readonly sent: CodeRequest[] = [];
  private waiters: Array<{ usernameNorm: string; resolve: (code: string) => void }> = [];

  async send(d: CodeRequest): Promise<void> {
    this.sent.push(d);
    const ready = this.waiters.filter((w) => w.usernameNorm === d.usernameNorm);
    this.waiters = this.waiters.filter((w) => w.usernameNorm !== d.usernameNorm);
    for (const w of ready) w.resolve(d.code);
  }

  /** The newest code sent for a (normalized) username. */
  lastCode(usernameNorm: string): string | undefined {
    for (let i = this.sent.length - 1; i >= 0; i--) if (this.sent[i]!.usernameNorm === usernameNorm) return this.sent[i]!.code;
    return undefined;
  }

  /** Resolves with the next code sent for `usernameNorm` (or rejects after `timeoutMs`). */
  nextCode(usernameNorm: string, timeoutMs = 10_000): Promise<string> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.resolve !== done);
        reject(new Error(`no login code sent for ${usernameNorm} within ${timeoutMs} ms`));
      }, timeoutMs);
      const done = (code: string) => {
        clearTimeout(timer);
        resolve(code);
      };
      this.waiters.push({ usernameNorm, resolve: done });
    });
  }
}
