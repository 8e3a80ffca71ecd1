/**
 * The lab as people run it, as real subprocesses, from the repository's regions/platform.yaml
 * (regions mn and fsn1, DCs dc1 and dc2). Its own directory and port plan (18180..18229, see
 * labPortPlan), distinct from `npm run lab` (18080..), the benchmark (18280..) and every other
 * test file. Holds the lab lock: `flock /tmp/rm/lab.lock npx vitest run lab/chat-lab.test.ts`.
 *
 * 1. `npm run lab` (`node --import tsx lab/main.ts`) is started, then killed with SIGKILL: every
 *    engine and backend it recorded is gone within seconds (they run under setpriv --pdeathsig),
 *    and every port of its plan is free again.
 * 2. `npm run lab -- --check` (`npx tsx lab/main.ts --check`) in the same directory, with a fake
 *    leftover (a `sleep` recorded as if it were a Cassandra JVM of the killed lab) added to the
 *    record: the start stops it and names it; both backends answer /readyz; logins read their
 *    codes from Mailpit; a message crosses regions; everything stops; no process of the lab is
 *    left. The engines it ran are the ones production runs: each nats-server's /varz version is
 *    the release of the config's NATS image tag, each Cassandra node's `release_version` is
 *    `cassandra.serverVersion`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfigFile } from '../constructs/platform-config.js';
import { postgresRegionNames } from '../regions/names.js';
import { BACKEND_NODE } from './backend-process.js';
import { labPortPlan, labProcesses } from './chat-lab.js';
import { commandLine, processStartTime, readProcessRecord, RECORD_FILE, stillRunning, type RecordedProcess } from './leftovers.js';
import { DEFAULT_LAB_DIR, REPO_ROOT } from './postgres.js';
import { parseArgs } from './main.js';
import { canListen } from './process.js';

const CHECK_DIR = join(DEFAULT_LAB_DIR, '..', 'chat-lab-check');
const PORT_BASE = 18_180;
const BOUND_MS = 6 * 60_000;

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/**
 * Runs the check in its own process group. It bounds itself (`--timeout`: stops the lab, exits 1);
 * past BOUND_MS the group gets SIGTERM (a graceful stop), 45 s later SIGKILL.
 */
function runCheck(): Promise<Run> {
  const t0 = Date.now();
  const child = spawn('npx', ['tsx', 'lab/main.ts', '--check', '--dir', CHECK_DIR, '--port-base', String(PORT_BASE), '--timeout', String(BOUND_MS / 1000 - 30)], {
    cwd: REPO_ROOT,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, FORCE_COLOR: '0' },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const group = (sig: NodeJS.Signals) => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, sig);
    } catch {
      /* gone */
    }
  };
  const term = setTimeout(() => group('SIGTERM'), BOUND_MS);
  const kill = setTimeout(() => group('SIGKILL'), BOUND_MS + 45_000);
  return new Promise((resolve) => {
    child.once('close', (code, signal) => {
      clearTimeout(term);
      clearTimeout(kill);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - t0 });
    });
  });
}

const CONFIG = loadConfigFile(join(REPO_ROOT, 'regions', 'platform.yaml'));
const REGIONS = [...CONFIG.regions].sort((a, b) => a.ordinal - b.ordinal);

/** Every process the lab records: engines, Mailpit and one backend per region. */
const EXPECTED_RECORD = [
  ...REGIONS.map((r) => `backend ${r.name}`),
  ...REGIONS.map((r) => `cassandra ${r.cassandra.datacenter}`),
  'mailpit',
  ...REGIONS.map((r) => `nats-server ${r.name}`),
  ...REGIONS.map((r) => `postgres ${postgresRegionNames(CONFIG, r).node}`),
].sort();

/** Every port of the plan (backends, NATS, Cassandra, Postgres, Mailpit) with its address. */
function planPorts(base: number): Array<[string, number]> {
  const p = labPortPlan(base);
  return [
    ...p.backends.map((x) => ['127.0.0.1', x] as [string, number]),
    ...[0, 1, 2, 3].map((i) => ['127.0.0.1', p.natsBase + i] as [string, number]),
    ['127.0.0.2', p.natsGateway!],
    ['127.0.0.3', p.natsGateway!],
    ...['127.0.0.1', '127.0.0.2'].flatMap((h) => [[h, p.cassandra.cqlPort], [h, p.cassandra.storagePort]] as Array<[string, number]>),
    ...p.cassandra.jmxPorts.map((x) => ['127.0.0.1', x] as [string, number]),
    ['127.0.0.1', p.postgresBase],
    ['127.0.0.1', p.postgresBase + 1],
    ['127.0.0.1', p.mailpit!.smtp],
    ['127.0.0.1', p.mailpit!.http],
  ];
}

let fakeLeftover: ChildProcess | undefined;

describe('npm run lab: nothing survives it; --check end to end', () => {
  afterAll(() => {
    // Never leave a lab behind, even when an assertion failed.
    for (const p of labProcesses(CHECK_DIR)) {
      try {
        process.kill(p.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    if (fakeLeftover?.exitCode === null && fakeLeftover.signalCode === null) fakeLeftover.kill('SIGKILL');
  });

  it('parses its flags (defaults: the repository config, port plan 18080, backends 18081/18082)', () => {
    const d = parseArgs([]);
    expect(d).toMatchObject({ check: false, portBase: 18_080, backendPorts: undefined });
    expect(d.configPath).toBe(join(REPO_ROOT, 'regions', 'platform.yaml'));
    expect(labPortPlan(d.portBase).backends).toEqual([18_081, 18_082]);
    expect(parseArgs(['--check', '--port-base=18180', '--ports', '9001,9002', '--dir', '/tmp/x'])).toMatchObject({
      check: true,
      portBase: 18_180,
      backendPorts: [9_001, 9_002],
      dir: '/tmp/x',
    });
    expect(() => parseArgs(['--ports', '1'])).toThrow(/two ports/);
    expect(() => parseArgs(['--nope'])).toThrow(/unknown argument --nope/);
  });

  it('kill -9 of the lab process: every engine and backend it recorded is gone within seconds, and its ports are free', async () => {
    expect(labProcesses(CHECK_DIR), 'lab processes before the run').toEqual([]);
    const child = spawn(BACKEND_NODE, ['--import', 'tsx', 'lab/main.ts', '--dir', CHECK_DIR, '--port-base', String(PORT_BASE)], {
      cwd: REPO_ROOT,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, FORCE_COLOR: '0' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
    const report = () => `--- stdout\n${stdout}\n--- stderr (last 40 lines)\n${stderr.split('\n').slice(-40).join('\n')}`;
    let recorded: readonly RecordedProcess[] = [];
    try {
      const deadline = Date.now() + BOUND_MS;
      while (!stdout.includes('Stop with Ctrl-C.')) {
        if (child.exitCode !== null || Date.now() > deadline) throw new Error(`the lab did not come up (exit ${child.exitCode})\n${report()}`);
        await sleep(250);
      }
      const record = readProcessRecord(CHECK_DIR);
      expect(record?.owner.pid, report()).toBe(child.pid);
      recorded = record!.processes;
      expect(recorded.map((p) => p.what).sort()).toEqual(EXPECTED_RECORD);
      expect(recorded.filter((p) => !stillRunning(p)), 'recorded processes not running while the lab is up').toEqual([]);
    } finally {
      // The lab process itself, not its group: its children must die because it died.
      child.kill('SIGKILL');
    }
    const t0 = Date.now();
    expect(await exited).toBe('SIGKILL');
    let left = recorded.filter(stillRunning);
    while (left.length > 0 && Date.now() - t0 < 5_000) {
      await sleep(50);
      left = recorded.filter(stillRunning);
    }
    const ms = Date.now() - t0;
    expect(left.map((p) => `${p.what} (pid ${p.pid})`), 'still running 5 s after kill -9 of the lab').toEqual([]);
    console.log(`kill -9 of the lab: all ${recorded.length} recorded processes gone ${ms} ms later`);
    // Postmasters' children, JVM threads: nothing holds a port of the plan a few seconds later.
    let busy: string[] = [];
    for (let i = 0; i < 50; i++) {
      busy = [];
      for (const [h, port] of planPorts(PORT_BASE)) if (!(await canListen(h, port))) busy.push(`${h}:${port}`);
      if (busy.length === 0) break;
      await sleep(100);
    }
    expect(busy, 'ports of the killed lab still taken').toEqual([]);
    expect(labProcesses(CHECK_DIR)).toEqual([]);
  }, BOUND_MS + 60_000);

  it('--check: stops and names a leftover, starts both regions, checks readiness, logs in through Mailpit, sends a message across regions, stops, exits 0 and leaves nothing running', async () => {
    expect(labProcesses(CHECK_DIR), 'lab processes before the run').toEqual([]);
    // A leftover of a lab that was killed: a process the record lists as an engine (here a
    // `sleep`), still running. The next start must stop it and say so.
    fakeLeftover = spawn('sleep', ['600'], { detached: true, stdio: 'ignore' });
    const pid = fakeLeftover.pid!;
    while (commandLine(pid) !== 'sleep 600') await sleep(20);
    const leftover: RecordedProcess = { what: 'cassandra dc1', pid, startTime: processStartTime(pid)!, cmdline: 'sleep 600' };
    mkdirSync(CHECK_DIR, { recursive: true });
    const previous = readProcessRecord(CHECK_DIR);
    const deadOwner = { what: 'lab', pid: 1, startTime: 0, cmdline: 'a lab that was killed' };
    writeFileSync(join(CHECK_DIR, RECORD_FILE), JSON.stringify({ owner: previous?.owner ?? deadOwner, processes: [...(previous?.processes ?? []), leftover] }));
    expect(stillRunning(previous?.owner ?? deadOwner)).toBe(false);
    const r = await runCheck();
    const report = `exit ${r.code} ${r.signal ?? ''} after ${r.ms} ms\n--- stdout\n${r.stdout}\n--- stderr (last 60 lines)\n${r.stderr.split('\n').slice(-60).join('\n')}`;
    console.log(`lab --check: ${r.stdout.trim()} (${(r.ms / 1000).toFixed(1)} s)`);
    expect(r.code, report).toBe(0);
    expect(r.stdout, report).toMatch(/^chat lab check OK: message [0-9a-f-]{36} sent in mn arrived in fsn1 after \d+ ms, and a reply came back$/m);
    // `leftovers` first: the fake leftover was stopped.
    expect(r.stdout).toMatch(/^start-up timings: leftovers [\d.]+ s, nats [\d.]+ s, .*mailpit [\d.]+ s, bootstrap-cassandra [\d.]+ s, backends [\d.]+ s, total [\d.]+ s$/m);
    // What the running engines reported, against regions/platform.yaml (the config the check ran).
    const config = CONFIG;
    const natsRelease = config.nats.image.tag.split('-')[0]!;
    const [first, second] = REGIONS;
    expect(r.stdout, report).toContain(
      `engine versions: nats-server ${first!.name} ${natsRelease}, ${second!.name} ${natsRelease}; ` +
        `cassandra ${first!.cassandra.datacenter} ${config.cassandra.serverVersion}, ${second!.cassandra.datacenter} ${config.cassandra.serverVersion}\n`,
    );
    expect(r.stderr).toContain('lab: backends: mn ws://127.0.0.1:18181/ws, fsn1 ws://127.0.0.1:18182/ws ready');
    expect(r.stderr).toContain('lab: chat lab stopped');
    expect(r.stderr, report).toContain(`stopped leftover cassandra dc1 (pid ${fakeLeftover!.pid}) from a previous lab\n`);
    expect(fakeLeftover!.signalCode).toBe('SIGTERM');
    expect(labProcesses(CHECK_DIR), 'lab processes after the run').toEqual([]);
  }, BOUND_MS + 90_000);
});
