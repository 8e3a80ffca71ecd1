/**
 * What every lab does with the servers it runs: reads the end of their logs, probes and picks
 * loopback ports, waits (bounded) until they are up, finds them by command line, and kills what
 * is left when this process exits. One definition each, for lab/cassandra.ts, lab/nats.ts,
 * lab/postgres.ts, lab/chat-lab.ts and the installs (lab/install.ts).
 */
import { randomInt } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { connect as tcpConnect, createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

// ---------------------------------------------------------------------------------------------
// Logs

/** The last `lines` lines of `text` (trailing blank lines dropped). */
export function tailText(text: string, lines = 20): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

/** The last `lines` lines of `file`, or `(no log)` when it cannot be read. */
export function tailFile(file: string, lines = 20): string {
  try {
    return tailText(readFileSync(file, 'utf8'), lines);
  } catch {
    return '(no log)';
  }
}

// ---------------------------------------------------------------------------------------------
// Ports

/** True when a listener can bind `host:port` right now (exclusively; the probe is closed again). */
export function canListen(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen({ host, port, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

/** True when something accepts a TCP connection on `host:port` within `timeoutMs` (default 1 s). */
export function tcpOpen(host: string, port: number, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const s = tcpConnect({ host, port });
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

/** The kernel's ephemeral (outgoing) port range; a listener there can lose its port to a connect(). */
function ephemeralPortRange(): [number, number] {
  try {
    const [lo, hi] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (lo !== undefined && hi !== undefined && Number.isInteger(lo) && Number.isInteger(hi)) return [lo, hi];
  } catch {
    /* not Linux */
  }
  return [32768, 60999];
}

/**
 * A TCP port that is free on every one of `hosts` right now. It is taken outside the
 * ephemeral range, so the lab's own outgoing connections (gateway dials, clients) cannot grab
 * it between this check and the server's bind.
 */
export async function freePort(hosts: readonly string[] = ['127.0.0.1']): Promise<number> {
  const [lo, hi] = ephemeralPortRange();
  const windows: Array<[number, number]> = [];
  if (lo - 1 >= 20_000 + 1_000) windows.push([20_000, lo - 1]);
  if (65_535 - (hi + 1) >= 1_000) windows.push([hi + 1, 65_535]);
  if (windows.length === 0) windows.push([1_024, 65_535]);
  const targets = hosts.length > 0 ? hosts : ['127.0.0.1'];
  for (let attempt = 0; attempt < 200; attempt++) {
    const [from, to] = windows[attempt % windows.length]!;
    const port = from + randomInt(to - from + 1);
    let ok = true;
    for (const h of targets) {
      if (!(await canListen(h, port))) {
        ok = false;
        break;
      }
    }
    if (ok) return port;
  }
  throw new Error(`no TCP port free on all of ${targets.join(', ')}`);
}

// ---------------------------------------------------------------------------------------------
// Waiting

/**
 * Calls `check` until it returns `undefined` (ready), `intervalMs` apart, for at most `timeoutMs`
 * (it runs at least once, and once more at the deadline). Resolves `undefined` when ready, else
 * with the reason `check` gave last. `onWait` hears each reason. A `check` that throws ends the
 * wait with its error (e.g. the process waited for has exited).
 */
export async function pollUntil(
  check: () => Promise<string | undefined>,
  opts: { readonly timeoutMs: number; readonly intervalMs: number; readonly onWait?: (why: string) => void },
): Promise<string | undefined> {
  const deadline = Date.now() + opts.timeoutMs;
  while (true) {
    const why = await check();
    if (why === undefined) return undefined;
    opts.onWait?.(why);
    if (Date.now() >= deadline) return why;
    await sleep(opts.intervalMs);
  }
}

// ---------------------------------------------------------------------------------------------
// Processes

/** Every process's pid and argv, read from /proc (Linux); [] where there is none. */
export function processes(): Array<{ readonly pid: number; readonly argv: readonly string[] }> {
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((p) => /^\d+$/.test(p));
  } catch {
    return [];
  }
  const out: Array<{ pid: number; argv: string[] }> = [];
  for (const entry of entries) {
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    out.push({ pid: Number(entry), argv: cmdline.replace(/\0$/, '').split('\0') });
  }
  return out;
}

/** The signals after which the labs kill their servers at once (a killed test run leaks nothing). */
export const EXIT_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/**
 * Returns an installer (idempotent: the first call installs, later ones do nothing) of `cleanup`
 * as this process's last act: it runs on `exit` and, with `signals`, on SIGINT, SIGTERM and
 * SIGHUP too; after a signal its default action (terminate) follows unless another listener
 * handles it. `cleanup` must be synchronous: nothing asynchronous runs at exit.
 */
export function exitHook(cleanup: () => void, opts: { readonly signals: boolean }): () => void {
  let installed = false;
  return () => {
    if (installed) return;
    installed = true;
    process.on('exit', cleanup);
    if (!opts.signals) return;
    for (const sig of EXIT_SIGNALS) {
      const onSignal = () => {
        cleanup();
        process.removeListener(sig, onSignal);
        if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
      };
      process.on(sig, onSignal);
    }
  };
}
