/**
 * The backend supervisor (lab/backend-process.ts) with a stand-in backend: a small Node HTTP
 * server answering /readyz, no engine. What a Deployment does for a pod: a killed process comes
 * back on the same port after a back-off that doubles per consecutive crash; stop() ends it with
 * SIGTERM for good; the process sees only the environment it was given.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { REPO_ROOT, tempDir } from '../test/helpers.js';
import { backendProcess, BACKEND_NODE, type BackendProcess } from './backend-process.js';
import { freePort } from './process.js';

const FAKE_BACKEND = `
const http = require('node:http');
const started = Date.now();
const readyAfter = Number(process.env.READY_AFTER_MS || 0);
if (process.env.EXIT_AT_ONCE) { console.error('fake backend: exiting with ' + process.env.EXIT_AT_ONCE); process.exit(Number(process.env.EXIT_AT_ONCE)); }
http.createServer((req, res) => {
  if (req.url !== '/readyz') { res.statusCode = 404; return res.end(); }
  res.statusCode = Date.now() - started >= readyAfter ? 200 : 503;
  res.end(JSON.stringify({ pid: process.pid, env: Object.keys(process.env).sort() }));
}).listen(Number(process.env.CHAT_PORT), '127.0.0.1', () => console.log('fake backend listening'));
process.on('SIGTERM', () => { console.log('fake backend: graceful shutdown'); process.exit(0); });
`;

const dirs: string[] = [];
const backends: BackendProcess[] = [];

afterEach(async () => {
  await Promise.all(backends.splice(0).map((b) => b.stop()));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function fake(env: Record<string, string> = {}, opts: { stableAfterMs?: number } = {}): Promise<{ backend: BackendProcess; lines: string[] }> {
  const dir = tempDir('regionmesh-backend-');
  dirs.push(dir);
  const script = join(dir, 'fake-backend.cjs');
  writeFileSync(script, FAKE_BACKEND);
  const port = await freePort();
  const lines: string[] = [];
  const backend = backendProcess({
    region: 'mn',
    port,
    env: { CHAT_PORT: String(port), ...env },
    logFile: join(dir, 'logs', 'backend-mn.log'),
    command: { bin: BACKEND_NODE, args: [script] },
    progress: (l) => lines.push(l),
    ...opts,
  });
  backends.push(backend);
  return { backend, lines };
}

async function readyzPid(b: BackendProcess): Promise<{ pid: number; env: string[] }> {
  return (await (await fetch(`${b.httpUrl}/readyz`)).json()) as { pid: number; env: string[] };
}

describe('backendProcess', () => {
  it('starts, waits for /readyz 200, and runs with exactly the given environment', async () => {
    process.env['REGIONMESH_TEST_PARENT_ONLY'] = 'not for the backend';
    try {
      const { backend } = await fake({ READY_AFTER_MS: '700', SOME_SETTING: 'x' });
      const t0 = Date.now();
      await backend.start(20_000);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(700);
      const r = await readyzPid(backend);
      expect(r.pid).toBe(backend.pid());
      expect(r.env).toEqual(['CHAT_PORT', 'READY_AFTER_MS', 'SOME_SETTING']);
      expect(backend.url).toBe(`ws://127.0.0.1:${backend.port}/ws`);
      expect(readFileSync(backend.logFile, 'utf8')).toMatch(/^--- lab: \S+ starting backend mn \(run 1\): .*fake-backend\.cjs\nfake backend listening\n/);
    } finally {
      delete process.env['REGIONMESH_TEST_PARENT_ONLY'];
    }
  });

  it('kill(SIGKILL) kills the process alone; it is restarted on the same port after 0.5 s', async () => {
    const { backend, lines } = await fake();
    await backend.start(20_000);
    const first = backend.pid();
    await backend.kill('SIGKILL');
    expect(backend.exits).toEqual([expect.objectContaining({ pid: first, code: null, signal: 'SIGKILL' })]);
    expect(() => backend.pid()).toThrow(/backend mn is not running \(waiting to restart/);
    await backend.ready(20_000);
    const second = backend.pid();
    expect(second).not.toBe(first);
    expect((await readyzPid(backend)).pid).toBe(second);
    expect(backend.restarts).toBe(1);
    expect(lines).toEqual([expect.stringMatching(new RegExp(`^backend mn \\(pid ${first}\\) exited SIGKILL after [\\d.]+ s; restarting in 0\\.5 s$`))]);
    expect(readFileSync(backend.logFile, 'utf8')).toContain(`backend mn (pid ${first}) exited SIGKILL`);
  });

  it('a crash loop backs off 0.5, 1, 2 s ...; ready() times out naming the exits and the log', async () => {
    const { backend, lines } = await fake({ EXIT_AT_ONCE: '1' });
    await expect(backend.start(4_500)).rejects.toThrow(/backend mn not ready on http:\/\/127\.0\.0\.1:\d+\/readyz within 4500 ms .*exits: pid \d+ code 1 .*fake backend: exiting with 1/s);
    const delays = lines.map((l) => /restarting in ([\d.]+) s$/.exec(l)?.[1]);
    expect(delays.slice(0, 3)).toEqual(['0.5', '1.0', '2.0']);
    const starts = backend.exits.map((x) => x.at - x.ranMs);
    // Each start came at least its back-off after the previous exit.
    for (const [i, d] of [500, 1_000, 2_000].entries()) if (starts[i + 1] !== undefined) expect(starts[i + 1]! - backend.exits[i]!.at).toBeGreaterThanOrEqual(d - 20);
  });

  it('a refused environment (exit 2) fails ready() at once', async () => {
    const { backend } = await fake({ EXIT_AT_ONCE: '2' });
    const t0 = Date.now();
    await expect(backend.start(30_000)).rejects.toThrow(/backend mn refused its environment \(exit 2\).*fake backend: exiting with 2/s);
    expect(Date.now() - t0).toBeLessThan(10_000);
  });

  it('stop() ends it with SIGTERM (graceful) and it stays stopped', async () => {
    const { backend } = await fake();
    await backend.start(20_000);
    await backend.stop();
    expect(backend.exits.at(-1)).toMatchObject({ code: 0, signal: null });
    expect(readFileSync(backend.logFile, 'utf8')).toContain('fake backend: graceful shutdown');
    await new Promise((r) => setTimeout(r, 1_000));
    expect(backend.running()).toBe(false);
    expect(backend.restarts).toBe(0);
    await expect(backend.ready(1_000)).rejects.toThrow(/backend mn is stopped/);
    await backend.stop(); // idempotent
    // And it can be started again.
    await backend.start(20_000);
    expect(backend.running()).toBe(true);
  });
});

describe('the Node the backends run', () => {
  it('is the image\'s Node: node_modules/.bin/node, the `node` devDependency and both stages of app/Dockerfile are one release, 24.x', () => {
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };
    const release = pkg.devDependencies['node']!;
    expect(release).toMatch(/^24\.\d+\.\d+$/);
    expect(spawnSync(BACKEND_NODE, ['--version'], { encoding: 'utf8' }).stdout.trim()).toBe(`v${release}`);
    const froms = readFileSync(join(REPO_ROOT, 'app', 'Dockerfile'), 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('FROM '));
    expect(froms).toEqual([`FROM node:${release}-bookworm-slim AS build`, `FROM node:${release}-bookworm-slim`]);
  });
});
