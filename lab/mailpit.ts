/**
 * The lab's SMTP server: Mailpit (github.com/axllent/mailpit), built once with `go install` into
 * the lab cache (./go-install.ts), started on loopback with an SMTP port and an HTTP API port.
 * Backends send login codes to it with the real smtp sender (app/chat/senders/smtp.ts); tests
 * read the codes back through its REST API (GET /api/v1/search, GET /api/v1/message/{ID}).
 *
 * Mailpit dies with its parent: it runs under `setpriv --pdeathsig SIGKILL` (util-linux) when
 * that is available, and every Mailpit this module started is killed at this process's exit or
 * on SIGINT/SIGTERM/SIGHUP. Its database is a file in the lab folder (removed on stop when the
 * folder was a temporary one), never Mailpit's own temporary file (left behind on SIGKILL).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, openSync, closeSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { extractLoginCode } from '../app/chat/senders/smtp.js';
import { ensureGoProgram, type GoProgram } from './go-install.js';
import { canListen, exitHook, pollUntil, tailFile, tcpOpen } from './process.js';

export const MAILPIT: GoProgram = { name: 'mailpit', module: 'github.com/axllent/mailpit', version: 'v1.33.1' };

/** Offsets of Mailpit's ports in a chat-lab port plan ([base, base+49], lab/chat-lab.ts labPortPlan). */
export const MAILPIT_PORT_OFFSETS = { smtp: 45, http: 46 } as const;

/** Mailpit's ports for the chat-lab plan starting at `base`. */
export function mailpitPortsFor(base: number): { smtp: number; http: number } {
  return { smtp: base + MAILPIT_PORT_OFFSETS.smtp, http: base + MAILPIT_PORT_OFFSETS.http };
}

/** The ports `npm run lab` uses (plan base 18080): SMTP 18125, HTTP API 18126. */
export const DEFAULT_MAILPIT_PORTS = mailpitPortsFor(18_080);

/** Most messages Mailpit keeps (it drops the oldest beyond): a bench logs in many users. */
const MAX_MESSAGES = 20_000;

export interface MailpitOptions {
  readonly smtpPort: number;
  readonly httpPort: number;
  /** Listen address (default 127.0.0.1). */
  readonly host?: string;
  /** Database and log folder (default a new temporary folder, removed on stop). */
  readonly dir?: string;
  /** TLS on the SMTP port with this certificate (PEM files): STARTTLS required, or with `implicit` TLS from the first byte. */
  readonly tls?: { readonly certFile: string; readonly keyFile: string; readonly implicit?: boolean };
  /** Bound of the start (default 20 s). */
  readonly startTimeoutMs?: number;
  /** Progress lines (install, start). */
  readonly log?: (line: string) => void;
}

export interface MailpitMessage {
  readonly id: string;
  readonly from: string;
  readonly to: readonly string[];
  readonly subject: string;
  /** When Mailpit received it. */
  readonly created: Date;
}

export interface MailpitHandle {
  readonly smtp: { readonly host: string; readonly port: number };
  /** The web UI and API, `http://127.0.0.1:<httpPort>`. */
  readonly httpUrl: string;
  readonly pid: number;
  readonly logFile: string;
  /**
   * The login code of the newest mail to `email` received at or after `since` (default: any
   * time), waiting for it up to `timeoutMs` (default 10 s). Rejects naming what it saw.
   */
  codeFor(email: string, opts?: { since?: Date; timeoutMs?: number }): Promise<string>;
  /** Every message to exactly `email` (case-insensitive), newest first. */
  messagesTo(email: string): Promise<MailpitMessage[]>;
  /** The text part of message `id`. */
  textOf(id: string): Promise<string>;
  /** Deletes every message. */
  clear(): Promise<void>;
  /** SIGTERM, then SIGKILL after 5 s; removes a temporary folder. Idempotent. */
  stop(): Promise<void>;
}

/** Mailpit's binary, built and cached on first use. */
export function ensureMailpit(log?: (line: string) => void): Promise<string> {
  return ensureGoProgram(MAILPIT, log);
}

let pdeathsigSupported: boolean | undefined;
/** True when `setpriv --pdeathsig` exists here (util-linux 2.33+). */
export function canUsePdeathsig(): boolean {
  pdeathsigSupported ??= (() => {
    const r = spawnSync('setpriv', ['--help'], { encoding: 'utf8', timeout: 5_000 });
    return r.status === 0 && r.stdout.includes('--pdeathsig');
  })();
  return pdeathsigSupported;
}

const live = new Set<ChildProcess>();
const installCleanup = exitHook(
  () => {
    for (const child of live) {
      try {
        child.kill('SIGKILL');
      } catch {
        /* already gone */
      }
    }
  },
  { signals: true },
);

/** The environment without Mailpit's own MP_* settings (they would override our flags). */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('MP_')));
}

interface SummaryJson {
  messages?: Array<{ ID: string; From?: { Address?: string } | null; To?: Array<{ Address?: string }> | null; Subject?: string; Created: string }>;
}

export async function startMailpit(opts: MailpitOptions): Promise<MailpitHandle> {
  const host = opts.host ?? '127.0.0.1';
  const log = opts.log ?? (() => undefined);
  for (const [what, port] of [['SMTP', opts.smtpPort], ['HTTP', opts.httpPort]] as const) {
    if (!(await canListen(host, port))) {
      throw new Error(`Mailpit's ${what} port ${host}:${port} is in use (a Mailpit left running? \`pgrep -af mailpit\`; or give other ports)`);
    }
  }
  const bin = await ensureMailpit(log);
  const tempDir = opts.dir === undefined;
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'regionmesh-mailpit-'));
  mkdirSync(dir, { recursive: true });
  const dbFile = join(dir, 'mailpit.db');
  rmSync(dbFile, { force: true });
  const logFile = join(dir, 'mailpit.log');
  const args = [
    '--smtp', `${host}:${opts.smtpPort}`,
    '--listen', `${host}:${opts.httpPort}`,
    '--database', dbFile,
    '--max', String(MAX_MESSAGES),
    '--disable-version-check',
    '--smtp-disable-rdns',
    ...(opts.tls ? ['--smtp-tls-cert', opts.tls.certFile, '--smtp-tls-key', opts.tls.keyFile, opts.tls.implicit ? '--smtp-require-tls' : '--smtp-require-starttls'] : []),
  ];
  const [cmd, argv] = canUsePdeathsig() ? ['setpriv', ['--pdeathsig', 'SIGKILL', '--', bin, ...args]] : [bin, args];
  const out = openSync(logFile, 'w');
  let child: ChildProcess;
  try {
    child = spawn(cmd, argv, { env: cleanEnv(), stdio: ['ignore', out, out] });
  } finally {
    closeSync(out);
  }
  installCleanup();
  live.add(child);
  let exitCode: number | null | undefined;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exitCode = code ?? (signal ? -1 : null);
      live.delete(child);
      resolve();
    });
    child.once('error', () => resolve());
  });
  const httpUrl = `http://${host}:${opts.httpPort}`;

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    if (exitCode === undefined) {
      child.kill('SIGTERM');
      const forced = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(forced);
    }
    if (tempDir) rmSync(dir, { recursive: true, force: true });
  };

  const why = await pollUntil(
    async () => {
      if (exitCode !== undefined) throw new Error(`Mailpit exited (code ${exitCode}) while starting; last lines of ${logFile}:\n${tailFile(logFile, 20)}`);
      try {
        const r = await fetch(`${httpUrl}/readyz`, { signal: AbortSignal.timeout(1_000) });
        if (r.status !== 200) return `HTTP /readyz answered ${r.status}`;
      } catch {
        return `HTTP ${httpUrl} not answering`;
      }
      return (await tcpOpen(host, opts.smtpPort)) ? undefined : `SMTP ${host}:${opts.smtpPort} not accepting`;
    },
    { timeoutMs: opts.startTimeoutMs ?? 20_000, intervalMs: 100 },
  ).catch(async (e: Error) => {
    await stop();
    throw e;
  });
  if (why !== undefined) {
    await stop();
    throw new Error(`Mailpit did not start within ${opts.startTimeoutMs ?? 20_000} ms (${why}); last lines of ${logFile}:\n${tailFile(logFile, 20)}`);
  }
  log(`mailpit: SMTP ${host}:${opts.smtpPort}, API ${httpUrl} (pid ${child.pid})`);

  const api = async <T>(path: string, init?: RequestInit): Promise<T> => {
    const r = await fetch(`${httpUrl}${path}`, { ...init, signal: AbortSignal.timeout(5_000) });
    if (!r.ok) throw new Error(`Mailpit API ${init?.method ?? 'GET'} ${path} answered ${r.status}: ${(await r.text()).slice(0, 200)}`);
    return (r.headers.get('content-type') ?? '').includes('json') ? ((await r.json()) as T) : (undefined as T);
  };

  const messagesTo = async (email: string): Promise<MailpitMessage[]> => {
    const want = email.toLowerCase();
    const body = await api<SummaryJson>(`/api/v1/search?query=${encodeURIComponent(`to:"${email}"`)}&limit=200`);
    return (body.messages ?? [])
      .map((m) => ({
        id: m.ID,
        from: m.From?.Address ?? '',
        to: (m.To ?? []).map((a) => a.Address ?? ''),
        subject: m.Subject ?? '',
        created: new Date(m.Created),
      }))
      // Mailpit's to: search is a substring match: keep exact recipients only.
      .filter((m) => m.to.some((a) => a.toLowerCase() === want))
      .sort((a, b) => b.created.getTime() - a.created.getTime());
  };

  const textOf = async (id: string): Promise<string> => (await api<{ Text?: string }>(`/api/v1/message/${encodeURIComponent(id)}`)).Text ?? '';

  const codeFor = async (email: string, o: { since?: Date; timeoutMs?: number } = {}): Promise<string> => {
    const timeoutMs = o.timeoutMs ?? 10_000;
    const since = o.since?.getTime() ?? 0;
    const deadline = Date.now() + timeoutMs;
    let seen = 0;
    for (;;) {
      const all = await messagesTo(email);
      seen = all.length;
      const newest = all.find((m) => m.created.getTime() >= since);
      if (newest) {
        const code = extractLoginCode(await textOf(newest.id));
        if (code === undefined) throw new Error(`the newest mail to ${email} (subject "${newest.subject}") has no "login code is: ..." line`);
        return code;
      }
      if (Date.now() >= deadline) break;
      await sleep(100);
    }
    const after = o.since ? ` received since ${o.since.toISOString()}` : '';
    throw new Error(`no login code mail to ${email}${after} within ${timeoutMs} ms (Mailpit ${httpUrl} has ${seen} message(s) to it in all; its log: ${logFile})`);
  };

  return {
    smtp: { host, port: opts.smtpPort },
    httpUrl,
    pid: child.pid!,
    logFile,
    codeFor,
    messagesTo,
    textOf,
    clear: async () => {
      await api('/api/v1/messages', { method: 'DELETE', headers: { 'content-type': 'application/json' }, body: '{}' });
    },
    stop,
  };
}
