/**
 * `npm run lab -- --check` as a real subprocess (`npx tsx lab/main.ts --check`): the whole
 * two-region lab starts from the repository's regions/platform.yaml (regions mn and fsn1, DCs dc1
 * and dc2), both backends answer /readyz, a message crosses regions, everything stops, and no
 * process of the lab is left. Its own directory and port plan (18180..18229, see labPortPlan),
 * distinct from `npm run lab` (18080..), the benchmark (18280..) and every other test file.
 * The engines it ran are the ones production runs: each nats-server's /varz version is the release
 * of the config's NATS image tag, each Cassandra node's `release_version` is `cassandra.serverVersion`.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfigFile } from '../constructs/platform-config.js';
import { labPortPlan, labProcesses } from './chat-lab.js';
import { DEFAULT_LAB_DIR, REPO_ROOT } from './postgres.js';
import { parseArgs } from './main.js';

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

describe('npm run lab -- --check', () => {
  afterAll(() => {
    // Never leave a lab behind, even when an assertion failed.
    for (const p of labProcesses(CHECK_DIR)) {
      try {
        process.kill(p.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
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

  it('starts both regions, checks readiness, sends a message across regions, stops, exits 0 and leaves nothing running', async () => {
    expect(labProcesses(CHECK_DIR), 'lab processes before the run').toEqual([]);
    const r = await runCheck();
    const report = `exit ${r.code} ${r.signal ?? ''} after ${r.ms} ms\n--- stdout\n${r.stdout}\n--- stderr (last 60 lines)\n${r.stderr.split('\n').slice(-60).join('\n')}`;
    console.log(`lab --check: ${r.stdout.trim()} (${(r.ms / 1000).toFixed(1)} s)`);
    expect(r.code, report).toBe(0);
    expect(r.stdout, report).toMatch(/^chat lab check OK: message [0-9a-f-]{36} sent in mn arrived in fsn1 after \d+ ms, and a reply came back$/m);
    expect(r.stdout).toMatch(/^start-up timings: nats [\d.]+ s, .*total [\d.]+ s$/m);
    // What the running engines reported, against regions/platform.yaml (the config the check ran).
    const config = loadConfigFile(join(REPO_ROOT, 'regions', 'platform.yaml'));
    const natsRelease = config.nats.image.tag.split('-')[0]!;
    const [first, second] = [...config.regions].sort((a, b) => a.ordinal - b.ordinal);
    expect(r.stdout, report).toContain(
      `engine versions: nats-server ${first!.name} ${natsRelease}, ${second!.name} ${natsRelease}; ` +
        `cassandra ${first!.cassandra.datacenter} ${config.cassandra.serverVersion}, ${second!.cassandra.datacenter} ${config.cassandra.serverVersion}\n`,
    );
    expect(r.stderr).toContain('lab: backends: mn ws://127.0.0.1:18181/ws, fsn1 ws://127.0.0.1:18182/ws ready');
    expect(r.stderr).toContain('lab: chat lab stopped');
    expect(labProcesses(CHECK_DIR), 'lab processes after the run').toEqual([]);
  }, BOUND_MS + 90_000);
});
