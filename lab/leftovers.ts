/**
 * Nothing a lab starts may outlive it. Two lines of defence:
 *
 * 1. Every long-running engine and backend is spawned through `setpriv --pdeathsig SIGKILL`
 *    (`dieWithParent`): the kernel kills it when the lab process dies, `kill -9` included.
 * 2. A lab that owns a directory records, in `<dir>/processes.json`, itself (the owner) and every
 *    process it started: pid, start time (clock ticks after boot, /proc/<pid>/stat field 22, so a
 *    reused pid is never mistaken for ours) and command line. The next start in that directory
 *    stops what is still alive from that list (SIGTERM, then SIGKILL) and names each one
 *    (`stopped leftover cassandra dc1 (pid 1234) from a previous lab`).
 *
 * Engine modules call `recordSpawn` / `forgetSpawn` for every process they start or see exit;
 * that is a no-op unless a lab opened a record (`openProcessRecord`).
 *
 * And when a port is taken by something else, `describePortHolders` names the process
 * (/proc/net/tcp{,6} socket inode -> /proc/<pid>/fd), not just "port in use".
 */
import { readdirSync, readFileSync, readlinkSync, renameSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { findExecutable } from './install.js';

// ---------------------------------------------------------------------------------------------
// Process identity

/** Start time of `pid` in clock ticks after boot (/proc/<pid>/stat field 22); undefined when gone or a zombie. */
export function processStartTime(pid: number): number | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // Fields after the parenthesised command: state is field 3, starttime field 22.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  if (rest[0] === 'Z' || rest[0] === 'X') return undefined;
  const start = Number(rest[19]);
  return Number.isFinite(start) ? start : undefined;
}

/** The command line of `pid` (arguments joined by spaces), '' when unreadable. */
export function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0$/, '').split('\0').join(' ');
  } catch {
    return '';
  }
}

/** One process as a lab recorded it. */
export interface RecordedProcess {
  /** What it is, for messages: `cassandra dc1`, `nats-server mn`, `postgres n1`, `backend mn`. */
  readonly what: string;
  readonly pid: number;
  /** processStartTime(pid) when recorded. */
  readonly startTime: number;
  /** Its command line when recorded. */
  readonly cmdline: string;
}

/** True while `p` runs: alive, not a zombie, and the same process (same start time), not a reused pid. */
export function stillRunning(p: Pick<RecordedProcess, 'pid' | 'startTime'>): boolean {
  return processStartTime(p.pid) === p.startTime;
}

function describeSelf(what: string, pid: number): RecordedProcess | undefined {
  const startTime = processStartTime(pid);
  return startTime === undefined ? undefined : { what, pid, startTime, cmdline: commandLine(pid) };
}

// ---------------------------------------------------------------------------------------------
// Dying with the parent

/**
 * `[setpriv, --pdeathsig, SIGKILL, bin, ...args]`: the program runs as itself (setpriv execs it,
 * same pid) and the kernel SIGKILLs it when the process that spawned it dies. Spawn it from the
 * main thread (the signal follows the spawning thread) and after any uid change (a credential
 * change clears it: Node's `uid` option applies before setpriv runs, which is right). Throws when
 * util-linux setpriv is missing.
 */
export function dieWithParent(bin: string, args: readonly string[]): { bin: string; args: string[] } {
  const setpriv = findExecutable('setpriv');
  if (!setpriv) throw new Error('setpriv (util-linux) is needed so that lab engines die with the lab: apt-get install util-linux');
  return { bin: setpriv, args: ['--pdeathsig', 'SIGKILL', bin, ...args] };
}

// ---------------------------------------------------------------------------------------------
// The record file

interface RecordFile {
  readonly owner: RecordedProcess;
  readonly processes: readonly RecordedProcess[];
}

export const RECORD_FILE = 'processes.json';

/** The processes a lab in `dir` recorded (owner first), or undefined when there is no record. */
export function readProcessRecord(dir: string): RecordFile | undefined {
  try {
    const r = JSON.parse(readFileSync(join(dir, RECORD_FILE), 'utf8')) as RecordFile;
    return r && typeof r === 'object' && r.owner && Array.isArray(r.processes) ? r : undefined;
  } catch {
    return undefined;
  }
}

/** An open record: what this process starts is written to `<dir>/processes.json` as it happens. */
export interface ProcessRecord {
  readonly file: string;
  add(what: string, pid: number): void;
  remove(pid: number): void;
  /** The processes recorded now. */
  entries(): readonly RecordedProcess[];
  /** Stops recording and removes the file (call once everything recorded has stopped). */
  close(): void;
}

const openRecords = new Set<ProcessRecord>();

/** Adds `pid` to every open record (no-op without one). Call right after spawning. */
export function recordSpawn(what: string, pid: number | undefined): void {
  if (pid === undefined) return;
  for (const r of openRecords) r.add(what, pid);
}

/** Removes `pid` from every open record (it exited). */
export function forgetSpawn(pid: number | undefined): void {
  if (pid === undefined) return;
  for (const r of openRecords) r.remove(pid);
}

/**
 * Opens the record of `dir` for this process (owner: this pid). Fails when another live lab owns
 * the directory. Call `stopLeftovers(dir)` first: an earlier record is overwritten.
 */
export function openProcessRecord(dir: string, ownerWhat = 'lab'): ProcessRecord {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, RECORD_FILE);
  const previous = readProcessRecord(dir);
  if (previous && previous.owner.pid !== process.pid && stillRunning(previous.owner)) {
    throw new Error(`another lab (pid ${previous.owner.pid}: ${commandLine(previous.owner.pid)}) is running in ${dir}: stop it first, or use another lab directory`);
  }
  const owner = describeSelf(ownerWhat, process.pid);
  if (!owner) throw new Error('cannot read /proc/self/stat: the lab needs Linux /proc to record its processes');
  let processes: RecordedProcess[] = [];
  const write = () => {
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify({ owner, processes } satisfies RecordFile, null, 2)}\n`);
    renameSync(tmp, file);
  };
  write();
  const record: ProcessRecord = {
    file,
    add(what, pid) {
      const p = describeSelf(what, pid);
      if (!p) return; // already gone
      processes = [...processes.filter((x) => x.pid !== pid), p];
      write();
    },
    remove(pid) {
      if (!processes.some((x) => x.pid === pid)) return;
      processes = processes.filter((x) => x.pid !== pid);
      write();
    },
    entries: () => processes,
    close() {
      openRecords.delete(record);
      rmSync(file, { force: true });
    },
  };
  openRecords.add(record);
  return record;
}

/**
 * Stops what a previous lab in `dir` recorded and left running: SIGTERM, then SIGKILL after
 * `graceMs` (default 5 s), all at once; waits until they are gone. Each one is named through
 * `say` (default: stderr). A record whose owner still runs (another live lab) is refused.
 * Returns the lines said; removes the record.
 */
export async function stopLeftovers(dir: string, opts: { readonly graceMs?: number; readonly say?: (line: string) => void } = {}): Promise<string[]> {
  const record = readProcessRecord(dir);
  if (!record) return [];
  if (record.owner.pid !== process.pid && stillRunning(record.owner)) {
    throw new Error(`another lab (pid ${record.owner.pid}: ${commandLine(record.owner.pid)}) is running in ${dir}: stop it first, or use another lab directory`);
  }
  const say = opts.say ?? ((line: string) => process.stderr.write(`${line}\n`));
  const graceMs = opts.graceMs ?? 5_000;
  const alive = record.processes.filter((p) => p.pid !== process.pid && stillRunning(p));
  const lines = await Promise.all(
    alive.map(async (p) => {
      const how = await terminate(p, graceMs);
      const line = `stopped leftover ${p.what} (pid ${p.pid}) from a previous lab${how === 'SIGKILL' ? ' (SIGKILL: it ignored SIGTERM)' : ''}`;
      say(line);
      return line;
    }),
  );
  rmSync(join(dir, RECORD_FILE), { force: true });
  return lines;
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    /* gone */
  }
}

async function gone(p: RecordedProcess, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (stillRunning(p)) {
    if (Date.now() >= deadline) return false;
    await sleep(50);
  }
  return true;
}

/** SIGTERM, SIGKILL after `graceMs`; which one ended it. Throws if even SIGKILL does not within 10 s. */
async function terminate(p: RecordedProcess, graceMs: number): Promise<'SIGTERM' | 'SIGKILL'> {
  signal(p.pid, 'SIGTERM');
  if (await gone(p, graceMs)) return 'SIGTERM';
  signal(p.pid, 'SIGKILL');
  if (await gone(p, 10_000)) return 'SIGKILL';
  throw new Error(`leftover ${p.what} (pid ${p.pid}) from a previous lab survives SIGKILL (state in /proc/${p.pid}/status)`);
}

// ---------------------------------------------------------------------------------------------
// Who holds a port

interface SocketEntry {
  readonly address: string;
  readonly port: number;
  readonly listening: boolean;
  readonly inode: number;
}

/** `0100007F:4E20` (IPv4) or the 32-hex-digit IPv6 form -> address text (IPv4-mapped IPv6 as IPv4) and port. */
function parseAddress(hex: string): { address: string; port: number } {
  const [addr = '', port = '0'] = hex.split(':');
  // Each 32-bit word is in host (little-endian) byte order.
  const bytes = (addr.match(/.{8}/g) ?? []).flatMap((w) => w.match(/../g)!.reverse().map((b) => parseInt(b, 16)));
  let address: string;
  if (bytes.length === 4) address = bytes.join('.');
  else if (bytes.every((b) => b === 0)) address = '::';
  else if (bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff) address = bytes.slice(12).join('.');
  else if (bytes.slice(0, 15).every((b) => b === 0) && bytes[15] === 1) address = '::1';
  else address = Array.from({ length: 8 }, (_, i) => ((bytes[2 * i]! << 8) | bytes[2 * i + 1]!).toString(16)).join(':');
  return { address, port: parseInt(port, 16) };
}

function sockets(): SocketEntry[] {
  const out: SocketEntry[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10) continue;
      const { address, port } = parseAddress(f[1]!);
      out.push({ address, port, listening: f[3] === '0A', inode: Number(f[9]) });
    }
  }
  return out;
}

/** Pid of every process with an open fd on one of `inodes`. */
function socketOwners(inodes: ReadonlySet<number>): Map<number, number[]> {
  const owners = new Map<number, number[]>();
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((p) => /^\d+$/.test(p));
  } catch {
    return owners;
  }
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      let target: string;
      try {
        target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      const m = /^socket:\[(\d+)\]$/.exec(target);
      if (!m || !inodes.has(Number(m[1]))) continue;
      const list = owners.get(Number(m[1])) ?? [];
      if (!list.includes(Number(pid))) list.push(Number(pid));
      owners.set(Number(m[1]), list);
    }
  }
  return owners;
}

/** The processes holding TCP `port` on `host` (or on a wildcard address), listeners first. */
export function portHolders(host: string, port: number): Array<{ pid: number; cmdline: string; listening: boolean }> {
  const wildcard = new Set(['0.0.0.0', '::']);
  const matching = sockets().filter((s) => s.port === port && (s.address === host || wildcard.has(s.address) || host === '0.0.0.0') && s.inode !== 0);
  const owners = socketOwners(new Set(matching.map((s) => s.inode)));
  const out: Array<{ pid: number; cmdline: string; listening: boolean }> = [];
  for (const s of [...matching].sort((a, b) => Number(b.listening) - Number(a.listening))) {
    for (const pid of owners.get(s.inode) ?? []) {
      if (!out.some((o) => o.pid === pid)) out.push({ pid, cmdline: commandLine(pid), listening: s.listening });
    }
  }
  return out;
}

/** `pid 1234 (nats-server -c /x.conf)`, the holders of `host:port`, or why none is named. */
export function describePortHolders(host: string, port: number): string {
  const holders = portHolders(host, port);
  if (holders.length === 0) return 'held by no process this user can see (another user or network namespace, or a socket closing)';
  return holders.map((h) => `pid ${h.pid} (${h.cmdline.length > 160 ? `${h.cmdline.slice(0, 157)}...` : h.cmdline || '?'})`).join(', ');
}
