/** The labs' shared process helpers (lab/process.ts), without any engine. */
import { spawn } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '../test/helpers.js';
import { canListen, EXIT_SIGNALS, exitHook, freePort, pollUntil, processes, tailFile, tailText, tcpOpen } from './process.js';

describe('log tails', () => {
  it('keeps the last lines, without the trailing newline', () => {
    const text = `${Array.from({ length: 30 }, (_, i) => `line ${i + 1}`).join('\n')}\n\n`;
    expect(tailText(text, 3)).toBe('line 28\nline 29\nline 30');
    expect(tailText(text).split('\n')).toHaveLength(20);
    expect(tailText('only\n')).toBe('only');
  });

  it('reads a file, and says so when there is none', () => {
    const dir = tempDir('regionmesh-process-');
    try {
      const file = join(dir, 'x.log');
      expect(tailFile(file)).toBe('(no log)');
      writeFileSync(file, 'a\nb\nc\n');
      expect(tailFile(file, 2)).toBe('b\nc');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('ports', () => {
  const servers: Server[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
  });

  it('a port a listener holds is open and cannot be listened on; once closed, the reverse', async () => {
    const port = await freePort();
    expect(await canListen('127.0.0.1', port)).toBe(true);
    expect(await tcpOpen('127.0.0.1', port)).toBe(false);
    const srv = createServer((s) => s.destroy());
    servers.push(srv);
    await new Promise<void>((resolve) => srv.listen({ host: '127.0.0.1', port }, resolve));
    expect(await canListen('127.0.0.1', port)).toBe(false);
    expect(await tcpOpen('127.0.0.1', port)).toBe(true);
  });

  it('freePort picks outside the kernel ephemeral range', async () => {
    const [lo, hi] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    for (let i = 0; i < 5; i++) {
      const port = await freePort(['127.0.0.1']);
      expect(port < lo! || port > hi!, `${port} in ${lo}-${hi}`).toBe(true);
    }
  });
});

describe('pollUntil', () => {
  it('resolves undefined once the check passes, after the reasons it gave', async () => {
    const reasons: string[] = [];
    let n = 0;
    const r = await pollUntil(async () => (++n < 3 ? `try ${n}` : undefined), { timeoutMs: 5_000, intervalMs: 1, onWait: (w) => reasons.push(w) });
    expect(r).toBeUndefined();
    expect(reasons).toEqual(['try 1', 'try 2']);
  });

  it('gives the last reason at the deadline, having checked at least once', async () => {
    let n = 0;
    const t0 = Date.now();
    expect(await pollUntil(async () => `try ${++n}`, { timeoutMs: 50, intervalMs: 10 })).toBe(`try ${n}`);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(50);
    expect(await pollUntil(async () => 'never', { timeoutMs: 0, intervalMs: 10 })).toBe('never');
  });

  it('stops at once when the check throws', async () => {
    await expect(pollUntil(async () => Promise.reject(new Error('server exited')), { timeoutMs: 5_000, intervalMs: 1 })).rejects.toThrow('server exited');
  });
});

describe('processes and exit hooks', () => {
  it('lists a child with the argv it was started with', async () => {
    const marker = `regionmesh-process-test-${process.pid}`;
    const child = spawn('sh', ['-c', 'sleep 30', marker], { stdio: 'ignore' });
    try {
      await new Promise((resolve) => child.once('spawn', resolve));
      expect(processes().find((p) => p.pid === child.pid)?.argv).toEqual(['sh', '-c', 'sleep 30', marker]);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('installs its listeners once, on exit and (with signals) on SIGINT, SIGTERM and SIGHUP', () => {
    const counts = () => ['exit', ...EXIT_SIGNALS].map((e) => process.listenerCount(e));
    const before = counts();
    const withSignals = exitHook(() => undefined, { signals: true });
    const exitOnly = exitHook(() => undefined, { signals: false });
    expect(counts()).toEqual(before);
    withSignals();
    withSignals();
    exitOnly();
    exitOnly();
    expect(counts()).toEqual([before[0]! + 2, ...before.slice(1).map((c) => c + 1)]);
    // Leave the process as it was.
    const added = (e: string, n: number) => process.listeners(e as NodeJS.Signals).slice(-n);
    for (const l of added('exit', 2)) process.off('exit', l);
    for (const sig of EXIT_SIGNALS) for (const l of added(sig, 1)) process.off(sig, l);
    expect(counts()).toEqual(before);
  });
});
