/**
 * Timer slack for a lab engine: how late (ns) the kernel may wake a thread from a timed sleep, so
 * that it can batch wake-ups (Linux `PR_SET_TIMERSLACK`; default 50,000 ns). A new thread
 * inherits its creator's slack, so setting it in the process that execs the engine covers every
 * thread the engine ever starts.
 *
 * Why the lab sets it for Cassandra: Cassandra's shared executor pool (SEPWorker.doWaitSpin in
 * 5.0) keeps an idle worker "spinning" by parking it 10 µs at a time, for up to 10 ms after the
 * last task, before it really sleeps; the constants are fixed in the code. At a few hundred
 * requests a second a worker is nearly always in that phase: ~16,000 wake-ups a second per JVM,
 * each a futex syscall and a context switch, which on this 2-core VM cost the two lab JVMs about
 * a core (bench/write-path.bench.ts: ~4 ms of Cassandra CPU per single-message batch). With a
 * 1 ms slack each of those parks lasts up to 1 ms: an order of magnitude fewer wake-ups, at the
 * price of up to 1 ms before a spinning worker picks up a new task. Production nodes have cores
 * of their own and keep the default; this is a property of the lab, not of regionmesh's output.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** The lab's Cassandra JVMs' timer slack, ns (1 ms; the kernel default is 50 µs). */
export const CASSANDRA_TIMER_SLACK_NS = 1_000_000;

/**
 * `bin args`, started through `/bin/sh` which sets its own timer slack to `ns` and then execs it
 * (same pid). A kernel without /proc/<pid>/timerslack_ns (before Linux 4.6) starts the engine
 * anyway and says so on its stderr.
 */
export function withTimerSlack(ns: number, cmd: { readonly bin: string; readonly args: readonly string[] }): { bin: string; args: string[] } {
  if (!Number.isInteger(ns) || ns < 1 || ns > 100_000_000) throw new Error(`timer slack must be a whole number of ns in 1..100000000, got ${ns}`);
  const script = `{ echo ${ns} > /proc/self/timerslack_ns; } 2>/dev/null || echo "lab: could not set the timer slack to ${ns} ns (/proc/self/timerslack_ns); starting anyway" >&2; exec "$@"`;
  return { bin: '/bin/sh', args: ['-c', script, 'sh', cmd.bin, ...cmd.args] };
}

/** The timer slack (ns) of every thread of `pid`, by thread id; empty when the process is gone. */
export function threadTimerSlacks(pid: number): Map<number, number> {
  const out = new Map<number, number>();
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      // Per thread it is /proc/<tid>/timerslack_ns (there is none under /proc/<pid>/task/<tid>/).
      out.set(Number(tid), Number(readFileSync(`/proc/${tid}/timerslack_ns`, 'utf8').trim()));
    } catch {
      /* the thread ended */
    }
  }
  return out;
}
