/** The code-sender port (re-exported by ../code-sender.ts, which also picks the sender). */

export interface CodeRequest {
  /** As the user typed it (trimmed, NFC). */
  readonly username: string;
  readonly usernameNorm: string;
  readonly userId: string;
  /** Where to send it: the user's bound address, else the one given with login.request. */
  readonly email?: string;
  readonly code: string;
  readonly expiresAt: Date;
}

export interface CodeSender {
  /** log | memory | smtp | webhook. */
  readonly kind: string;
  /** True when a code can only be delivered to an e-mail address (checked before a code is issued). */
  readonly needsEmail: boolean;
  /** Resolves once the code was handed over (accepted by the relay / the receiver). */
  send(req: CodeRequest): Promise<void>;
  /** Releases connections (the SMTP pool); the sender is unusable afterwards. */
  close?(): Promise<void>;
}

/** Thrown by a sender that needs an address (e-mail) it was not given. */
export class NoContactAddress extends Error {
  constructor(readonly sender: string) {
    super(`the ${sender} code sender needs an e-mail address and the request has none`);
    this.name = 'NoContactAddress';
  }
}
