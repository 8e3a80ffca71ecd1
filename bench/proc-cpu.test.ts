import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { machineCpuSeconds, parseMachineTicks, parseProcStatTicks, processCpuSeconds } from './proc-cpu.js';

describe('parseProcStatTicks', () => {
  it('adds utime (field 14) and stime (field 15)', () => {
    // A real line of `cat` with utime and stime replaced by 1234 and 56.
    const line = '5971 (cat) R 5969 5969 2741 0 -1 4194304 99 0 0 0 1234 56 0 0 20 0 1 0 2022990 3133440 381 18446744073709551615';
    expect(parseProcStatTicks(line)).toBe(1290);
  });

  it('reads past a command name with spaces and parentheses', () => {
    const line = '77 (node (a) b) S 1 77 77 0 -1 4194560 1 0 0 0 7 3 0 0 20 0 11 0 100 1000 50';
    expect(parseProcStatTicks(line)).toBe(10);
  });

  it('refuses text that is not a stat line', () => {
    expect(() => parseProcStatTicks('hello')).toThrow(/no "\)"/);
  });
});

describe('parseMachineTicks', () => {
  it('busy = total minus idle and iowait, over the first 8 fields', () => {
    const t = parseMachineTicks('cpu  100 1 20 300 4 0 5 6 0 0\ncpu0 1 2 3 4 5 6 7 8 0 0\n');
    expect(t).toEqual({ total: 436, busy: 132 });
  });
});

describe('processCpuSeconds', () => {
  it('grows by about the CPU a busy child burns (10 ms ticks)', async () => {
    const child = spawn(process.execPath, ['-e', 'const end = Date.now() + 400; while (Date.now() < end);'], { stdio: 'ignore' });
    const pid = child.pid!;
    const before = processCpuSeconds(pid);
    await new Promise((r) => setTimeout(r, 250));
    const mid = processCpuSeconds(pid);
    await new Promise((r) => child.once('exit', r));
    // Spinning for 250 ms on a shared 2-core box: at least some of it on a core.
    expect(mid - before).toBeGreaterThan(0.02);
    expect(mid - before).toBeLessThan(0.5);
    expect(() => processCpuSeconds(pid)).toThrow(/process is gone/);
  });

  it('machine counters only grow', () => {
    const a = machineCpuSeconds();
    const b = machineCpuSeconds();
    expect(b.total).toBeGreaterThanOrEqual(a.total);
    expect(b.busy).toBeGreaterThanOrEqual(a.busy);
  });
});
