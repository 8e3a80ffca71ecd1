/**
 * How login codes reach people. Production plugs in a real channel (mail, SMS, push) behind
 * `CodeSender`; this module has the two built-in ones:
 *   log     development: logs that a code was issued (never the code); with
 *           CHAT_DEV_PRINT_CODES=true it also prints the code to stderr for a developer
 *   memory  tests: keeps codes in memory where the test can read them
 */
import type { Logger } from '../log.js';

export interface CodeDelivery {
  /** As the user typed it (trimmed). */
  readonly username: string;
  readonly usernameNorm: string;
  readonly code: string;
  readonly expiresAt: Date;
}

export interface CodeSender {
  send(delivery: CodeDelivery): Promise<void>;
}

export class LogCodeSender implements CodeSender {
  constructor(
    private readonly log: Logger,
    private readonly printCodes = false,
    private readonly stderr: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
  ) {}

  async send(d: CodeDelivery): Promise<void> {
    this.log.info('login code issued', { username: d.usernameNorm, expiresAt: d.expiresAt.toISOString() });
    if (this.printCodes) this.stderr(`[development] login code for ${d.usernameNorm}: ${d.code}`);
  }
}

export class MemoryCodeSender implements CodeSender {
  readonly sent: CodeDelivery[] = [];
  private waiters: Array<{ usernameNorm: string; resolve: (code: string) => void }> = [];

  async send(d: CodeDelivery): Promise<void> {
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
