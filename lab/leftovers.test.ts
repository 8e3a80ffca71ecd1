/**
 * lab/leftovers.ts without any engine: processes that die with their parent, the record of what
 * a lab started, stopping a previous lab's leftovers (a `sleep` recorded as if it were an engine),
 * and naming the process that holds a port.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '../test/helpers.js';
import {
  commandLine,
  describePortHolders,
  dieWithParent,
  forgetSpawn,
  openProcessRecord,
  portHolders,
  processStartTime,
  readProcessRecord,
  RECORD_FILE,
  recordSpawn,
  stillRunning,
  stopLeftovers,
  type RecordedProcess,
} from './leftovers.js';
import { freePort } from './process.js';

const dirs: string[] = [];
const children: ChildProcess[] = [];
const servers: Server[] = [];

afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function dir(): string {
  const d = tempDir('regionmesh-leftovers-');
  dirs.push(d);
  return d;
}

/** A detached child running `cmd` (its own process group, so nothing here signals it by accident). */
function start(cmd: string, args: readonly string[]): ChildProcess {
  const c = spawn(cmd, [...args], { detached: true, stdio: 'ignore' });
  children.push(c);
  return c;
}

async function until(what: string, f: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!f()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(20);
  }
}

function recorded(what: string, pid: number): RecordedProcess {
  return { what, pid, startTime: processStartTime(pid)!, cmdline: commandLine(pid) };
}

/** A record as a lab that is gone left it: its owner is a process that has exited. */
async function leftRecord(d: string, processes: RecordedProcess[]): Promise<void> {
  const owner = start('true', []);
  const ownerPid = owner.pid!;
  const ownerStart = processStartTime(ownerPid) ?? 1;
  await new Promise((resolve) => owner.once('exit', resolve));
  writeFileSync(join(d, RECORD_FILE), JSON.stringify({ owner: { what: 'lab', pid: ownerPid, startTime: ownerStart, cmdline: 'true' }, processes }));
}

describe('process identity', () => {
  it('a live process has a start time; a pid that is gone has none, and a zombie counts as gone', async () => {
    expect(processStartTime(process.pid)).toBeGreaterThan(0);
    expect(stillRunning({ pid: process.pid, startTime: processStartTime(process.pid)! })).toBe(true);
    // Same pid, other start time: a reused pid is not "the same process".
    expect(stillRunning({ pid: process.pid, startTime: processStartTime(process.pid)! + 1 })).toBe(false);
    const c = spawn('true', [], { stdio: 'ignore' });
    const pid = c.pid!;
    await new Promise((resolve) => c.once('exit', resolve));
    expect(processStartTime(pid)).toBeUndefined();
    expect(commandLine(process.pid)).toContain('node');
  });
});

describe('dieWithParent (setpriv --pdeathsig SIGKILL)', () => {
  it('the grandchild is killed when its parent is killed with SIGKILL', async () => {
    const { bin, args } = dieWithParent('sleep', ['300']);
    expect(args.slice(0, 3)).toEqual(['--pdeathsig', 'SIGKILL', 'sleep']);
    // A parent process that starts `sleep` through setpriv and reports its pid.
    const script = `const c=require('child_process').spawn(${JSON.stringify(bin)},${JSON.stringify(args)},{stdio:'ignore',detached:true});process.stdout.write(String(c.pid)+'\\n');setInterval(()=>{},1e6);`;
    const parent = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'ignore'] });
    children.push(parent);
    const pid = await new Promise<number>((resolve) => parent.stdout!.once('data', (d: Buffer) => resolve(Number(String(d).trim()))));
    const grandchild = { pid, startTime: processStartTime(pid)! };
    await until('sleep started under setpriv', () => commandLine(pid) === 'sleep 300');
    expect(stillRunning(grandchild)).toBe(true);
    parent.kill('SIGKILL');
    await until('the grandchild died with its parent', () => !stillRunning(grandchild), 3_000);
  });
});

describe('the process record', () => {
  it('lists the owner and what was started, forgets what exited, and is removed on close', () => {
    const d = dir();
    const record = openProcessRecord(d);
    try {
      const a = start('sleep', ['300']);
      const b = start('sleep', ['301']);
      recordSpawn('cassandra dc1', a.pid);
      recordSpawn('backend mn', b.pid);
      forgetSpawn(b.pid);
      const onDisk = readProcessRecord(d)!;
      expect(onDisk.owner).toMatchObject({ pid: process.pid, startTime: processStartTime(process.pid) });
      expect(onDisk.processes.map((p) => [p.what, p.pid, p.cmdline])).toEqual([['cassandra dc1', a.pid, 'sleep 300']]);
      expect(onDisk.processes[0]!.startTime).toBe(processStartTime(a.pid!));
    } finally {
      record.close();
    }
    expect(existsSync(join(d, RECORD_FILE))).toBe(false);
    // Recording without an open record is a no-op.
    recordSpawn('nothing', process.pid);
    expect(existsSync(join(d, RECORD_FILE))).toBe(false);
  });

  it('a live owner\'s directory is refused to another lab, naming the owner', async () => {
    const d = dir();
    const owner = start('sleep', ['302']);
    await until('owner started', () => commandLine(owner.pid!) === 'sleep 302');
    writeFileSync(join(d, RECORD_FILE), JSON.stringify({ owner: recorded('lab', owner.pid!), processes: [] }));
    expect(() => openProcessRecord(d)).toThrow(`another lab (pid ${owner.pid}: sleep 302) is running in ${d}`);
    await expect(stopLeftovers(d)).rejects.toThrow(`another lab (pid ${owner.pid}: sleep 302) is running in ${d}`);
  });
});

describe('stopLeftovers: what a lab that was killed left running', () => {
  it('stops each recorded process still alive (SIGTERM), names it, and leaves reused pids alone', async () => {
    const d = dir();
    const engine = start('sleep', ['303']);
    const stranger = start('sleep', ['304']); // a pid recorded with another start time: not ours any more
    await until('sleeps started', () => commandLine(engine.pid!) === 'sleep 303' && commandLine(stranger.pid!) === 'sleep 304');
    const gone = spawn('true', [], { stdio: 'ignore' });
    const gonePid = gone.pid!;
    await new Promise((resolve) => gone.once('exit', resolve));
    await leftRecord(d, [
      recorded('cassandra dc1', engine.pid!),
      { ...recorded('nats-server mn', stranger.pid!), startTime: processStartTime(stranger.pid!)! - 1 },
      { what: 'postgres n1', pid: gonePid, startTime: 1, cmdline: 'postgres -D x' },
    ]);
    const said: string[] = [];
    const lines = await stopLeftovers(d, { say: (l) => said.push(l) });
    expect(lines).toEqual([`stopped leftover cassandra dc1 (pid ${engine.pid}) from a previous lab`]);
    expect(said).toEqual(lines);
    expect(stillRunning(recorded('x', stranger.pid!))).toBe(true);
    await until('engine reaped', () => engine.exitCode !== null || engine.signalCode !== null);
    expect(engine.signalCode).toBe('SIGTERM');
    expect(existsSync(join(d, RECORD_FILE))).toBe(false);
    expect(await stopLeftovers(d)).toEqual([]);
  });

  it('SIGKILLs a leftover that ignores SIGTERM after the grace period', async () => {
    const d = dir();
    const stubborn = spawn(process.execPath, ['-e', "process.on('SIGTERM',()=>{});setInterval(()=>{},1e6);console.log('ignoring SIGTERM')"], { detached: true, stdio: ['ignore', 'pipe', 'ignore'] });
    children.push(stubborn);
    await new Promise((resolve) => stubborn.stdout!.once('data', resolve)); // its handler is installed
    await leftRecord(d, [recorded('backend fsn1', stubborn.pid!)]);
    const t0 = Date.now();
    const lines = await stopLeftovers(d, { graceMs: 500, say: () => undefined });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(500);
    expect(lines).toEqual([`stopped leftover backend fsn1 (pid ${stubborn.pid}) from a previous lab (SIGKILL: it ignored SIGTERM)`]);
  });
});

describe('who holds a port', () => {
  it('names the listening process and its command line', async () => {
    const port = await freePort();
    const srv = createServer();
    servers.push(srv);
    await new Promise<void>((resolve) => srv.listen(port, '127.0.0.1', resolve));
    expect(portHolders('127.0.0.1', port)).toEqual([{ pid: process.pid, cmdline: commandLine(process.pid), listening: true }]);
    expect(describePortHolders('127.0.0.1', port)).toMatch(new RegExp(`^pid ${process.pid} \\(.*node`));
  });

  it('finds a listener on the wildcard address from another process, and says when nobody holds the port', async () => {
    const port = await freePort();
    const other = start(process.execPath, ['-e', `require('net').createServer().listen(${port},'0.0.0.0',()=>console.log('up'));setInterval(()=>{},1e6)`]);
    await until('other process listening', () => portHolders('127.0.0.1', port).length > 0);
    expect(portHolders('127.0.0.1', port).map((h) => h.pid)).toEqual([other.pid]);
    const free = await freePort();
    expect(describePortHolders('127.0.0.1', free)).toMatch(/^held by no process this user can see/);
    expect(readFileSync('/proc/net/tcp', 'utf8')).toContain('local_address');
  });
});
