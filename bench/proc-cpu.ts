/**
 * CPU time of a process and of the whole machine, from Linux's /proc (the benchmark reads it
 * before and after each phase; the difference is what that phase cost).
 *
 * Process: /proc/<pid>/stat fields 14 and 15 (utime, stime: every thread of the process, in
 * clock ticks, `getconf CLK_TCK`, normally 100 per second, so a 10 ms resolution).
 * Machine: the `cpu` line of /proc/stat (all cores; busy = everything but idle and iowait).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

let ticksPerSecond: number | undefined;

/** Clock ticks per second of /proc's CPU counters (`getconf CLK_TCK`). */
export function clockTicksPerSecond(): number {
  if (ticksPerSecond === undefined) {
    const out = execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim();
    const n = Number(out);
    if (!Number.isInteger(n) || n <= 0) throw new Error(`getconf CLK_TCK printed "${out}", not a positive integer`);
    ticksPerSecond = n;
  }
  return ticksPerSecond;
}

/** utime + stime in ticks from the text of /proc/<pid>/stat (the command name may hold spaces and parentheses). */
export function parseProcStatTicks(stat: string): number {
  const close = stat.lastIndexOf(')');
  if (close < 0) throw new Error('not a /proc/<pid>/stat line: no ")" after the command name');
  // After ") ": field 3 (state) is index 0, so utime (field 14) is index 11 and stime index 12.
  const rest = stat.slice(close + 2).trim().split(/\s+/);
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error('not a /proc/<pid>/stat line: utime/stime are not numbers');
  return utime + stime;
}

/** CPU seconds (user + system, all threads) `pid` has used so far. */
export function processCpuSeconds(pid: number): number {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch (e) {
    throw new Error(`cannot read /proc/${pid}/stat (${(e as NodeJS.ErrnoException).code ?? String(e)}): the process is gone, or this is not Linux`);
  }
  return parseProcStatTicks(text) / clockTicksPerSecond();
}

/** Busy and total CPU seconds of the whole machine (all cores) from the text of /proc/stat. */
export function parseMachineTicks(procStat: string): { busy: number; total: number } {
  const line = procStat.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) throw new Error('no "cpu " line in /proc/stat');
  // user nice system idle iowait irq softirq steal (guest time is already counted in user).
  const v = line.trim().split(/\s+/).slice(1, 9).map(Number);
  const total = v.reduce((a, b) => a + b, 0);
  const idle = (v[3] ?? 0) + (v[4] ?? 0);
  return { busy: total - idle, total };
}

/** Busy and total CPU seconds of the machine so far (all cores together). */
export function machineCpuSeconds(): { busy: number; total: number } {
  const t = parseMachineTicks(readFileSync('/proc/stat', 'utf8'));
  const hz = clockTicksPerSecond();
  return { busy: t.busy / hz, total: t.total / hz };
}
