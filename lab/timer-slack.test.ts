import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { threadTimerSlacks, withTimerSlack } from './timer-slack.js';

/** Starts `cmd`, returns what it printed on stdout. */
function run(cmd: { bin: string; args: string[] }): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd.bin, cmd.args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`exit ${code}: ${out}`))));
  });
}

describe('withTimerSlack', () => {
  it('the started process and every thread it starts later run with the slack (same pid: exec, no wrapper left)', async () => {
    // A Node process that starts a worker thread, then reports its own pid and every thread's slack.
    const script = `
      const { Worker } = require('node:worker_threads');
      const w = new Worker('setTimeout(() => {}, 2000)', { eval: true });
      w.on('online', () => {
        const { readdirSync, readFileSync } = require('node:fs');
        const slacks = readdirSync('/proc/self/task').map((t) => Number(readFileSync('/proc/' + t + '/timerslack_ns', 'utf8')));
        console.log(JSON.stringify({ pid: process.pid, ppidComm: readFileSync('/proc/' + process.ppid + '/comm', 'utf8').trim(), slacks }));
        process.exit(0);
      });`;
    const out = JSON.parse(await run(withTimerSlack(777_000, { bin: process.execPath, args: ['-e', script] }))) as { pid: number; ppidComm: string; slacks: number[] };
    expect(out.slacks.length).toBeGreaterThan(3); // main, worker, libuv and V8 threads
    expect(new Set(out.slacks)).toEqual(new Set([777_000]));
    expect(out.ppidComm).not.toBe('sh'); // the shell exec'd the engine: its parent is this test, not a shell
  });

  it('leaves the slack alone without it (the kernel default), so the test above shows the wrapper did it', async () => {
    const out = await run({ bin: process.execPath, args: ['-e', "console.log(require('node:fs').readFileSync('/proc/self/timerslack_ns','utf8'))"] });
    expect(Number(out)).not.toBe(777_000);
  });

  it('refuses a slack that is not a sane number of ns', () => {
    expect(() => withTimerSlack(0, { bin: 'x', args: [] })).toThrow(/timer slack .* got 0/);
    expect(() => withTimerSlack(1.5, { bin: 'x', args: [] })).toThrow(/got 1.5/);
  });

  it('threadTimerSlacks reads each thread of a live process; nothing for a gone one', () => {
    const mine = threadTimerSlacks(process.pid);
    expect(mine.size).toBeGreaterThan(1);
    expect(mine.get(process.pid)).toBe(Number(readFileSync('/proc/self/timerslack_ns', 'utf8')));
    expect(threadTimerSlacks(2 ** 22 + 12345).size).toBe(0);
  });

});
