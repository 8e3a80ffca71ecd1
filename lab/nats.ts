/**
 * A real NATS super-cluster on loopback: one nats-server per region, joined by exactly the
 * gateway block the Helm values carry (`gatewayMergeBlock`). Used by tests and by people who
 * want to poke at the platform's messaging without a Kubernetes cluster.
 *
 * How it maps the generated world onto one machine:
 * - every region listens for gateways on its own loopback address 127.0.0.<ordinal+1>, on the
 *   configured gateway port (the same in every region, as in production);
 * - the generated gateway hostnames (`nats-headless.nats.<cluster>.<suffix>`) resolve to those
 *   addresses through a generated hosts file, bind-mounted over /etc/hosts inside a private
 *   mount namespace per server (`unshare -m`); the real /etc/hosts is never touched. This needs
 *   root (or CAP_SYS_ADMIN) and util-linux `unshare`;
 * - client and monitor ports are picked free on 127.0.0.1;
 * - the nats-server is the release of the config's NATS image (`nats.image.tag`), built and
 *   cached by `ensureNatsServer` (lab/nats-server.ts) on first use;
 * - credentials are random, live only in the child processes' environment and are expanded by
 *   nats-server from the `<< $VAR >>` references, exactly as in the pods;
 * - `reconfigure(nextConfig)` plays ArgoCD + the chart's config-checksum roll: a region whose
 *   generated conf changed is restarted (same ports and credentials), new regions are started,
 *   removed ones stopped, unchanged ones left alone.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { envReference, gatewayMergeBlock } from '../constructs/nats/gateway.js';
import { NatsEnv, natsRegionNames, regionByName } from '../regions/names.js';
import type { PlatformConfig, Region } from '../regions/schema.js';
import { ensureAptPackages, findExecutable, SYSTEM_DIRS, type AptNeed } from './install.js';
import { ensureNatsServer, natsServerVersionOf } from './nats-server.js';
import { describePortHolders, dieWithParent, forgetSpawn, recordSpawn } from './leftovers.js';
import { canListen, exitHook, freePort, pollUntil, tailFile } from './process.js';

/** A user/password pair. */
export interface Credentials {
  readonly user: string;
  readonly password: string;
}

/**
 * Where `text` (a conf or log file, as written) shows any of `credentials`: every line holding a
 * password, and every line holding a user name other than nats-server's own report of a failed
 * client login (`authentication error - User "<name>"`, logged since 2.10 when a client sends a
 * known user with a wrong password: the name identifies, it does not authenticate). [] = clean.
 */
export function credentialLeaks(text: string, credentials: readonly Credentials[]): string[] {
  const out: string[] = [];
  for (const [i, line] of text.split('\n').entries()) {
    for (const { user, password } of credentials) {
      if (line.includes(password)) out.push(`line ${i + 1}: the password of user ${user}`);
      else if (line.includes(user) && !line.endsWith(`authentication error - User "${user}"`)) out.push(`line ${i + 1}: user name ${user}`);
    }
  }
  return out;
}

/** The chart's rule: a JSON string `"<< X >>"` becomes the raw text X in nats.conf. */
const RAW_VALUE = /"<<\s+(.*?)\s+>>"/g;

/**
 * nats.conf text for `obj`, produced the way the NATS Helm chart does it: pretty JSON, then
 * every `"<< X >>"` string replaced by the raw X (so `"<< $GATEWAY_USER >>"` becomes the
 * environment reference `$GATEWAY_USER`, expanded by nats-server at start-up).
 */
export function natsConfText(obj: Record<string, unknown>): string {
  return `${JSON.stringify(obj, null, 2).replace(RAW_VALUE, '$1')}\n`;
}

const LETTERS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';
const ALNUM = `${LETTERS}0123456789`;

/**
 * A random credential: letters and digits, starting with a letter. nats-server parses an
 * expanded `$VAR` like any config value, so a value such as `123` or `true` would not be a
 * string; a leading letter (and no punctuation) keeps it one.
 */
export function randomCredential(length = 24): string {
  let out = LETTERS[randomInt(LETTERS.length)]!;
  while (out.length < length) out += ALNUM[randomInt(ALNUM.length)]!;
  return out;
}

function randomCredentials(userPrefix: string): Credentials {
  return { user: `${userPrefix}${randomCredential(12)}`, password: randomCredential(32) };
}

/** What each server's private /etc/hosts needs (util-linux and mount are in every Debian, but not every image). */
export const NATS_LAB_APT: readonly AptNeed[] = [
  { pkg: 'util-linux', present: () => findExecutable('unshare') !== undefined, why: "unshare, for the NATS lab's private /etc/hosts" },
  { pkg: 'mount', present: () => findExecutable('mount') !== undefined, why: "mount --bind, for the NATS lab's private /etc/hosts" },
  { pkg: 'util-linux', present: () => findExecutable('setpriv') !== undefined, why: 'setpriv --pdeathsig, so that lab engines die with the lab' },
];

/** The loopback address of the region with `ordinal`: 127.0.0.<ordinal+1>. */
export function loopbackAddress(ordinal: number): string {
  if (!Number.isInteger(ordinal) || ordinal < 1 || ordinal > 253) throw new Error(`ordinal ${ordinal} has no lab loopback address (1..253)`);
  return `127.0.0.${ordinal + 1}`;
}

// ---------------------------------------------------------------------------------------------
// Child processes: every nats-server this module starts is tracked, so a crashed test run does
// not leak servers (killed on exit and on SIGINT/SIGTERM/SIGHUP).

const live = new Set<ChildProcess>();
const installCleanup = exitHook(
  () => {
    for (const child of live) {
      try {
        child.kill('SIGKILL');
      } catch {
        /* already gone */
      }
    }
  },
  { signals: true },
);

interface ServerProcess {
  readonly pid: number;
  /** Resolves when the process has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  readonly isRunning: () => boolean;
  readonly stop: () => Promise<void>;
}

const PRIVATE_HOSTS_SCRIPT = 'mount --bind "$1" /etc/hosts && exec "$2" -c "$3"';

const NEEDS_ROOT =
  'the NATS lab gives each nats-server a private /etc/hosts with `unshare -m` + `mount --bind`: this needs root (CAP_SYS_ADMIN) and util-linux unshare';

/** Fails with NEEDS_ROOT unless a private /etc/hosts works here (and never leaks to the real one). */
function checkPrivateHosts(workDir: string): void {
  const marker = `regionmesh-lab-probe-${randomCredential(12)}`;
  const probe = join(workDir, '.hosts-probe');
  writeFileSync(probe, `127.0.0.1 ${marker}\n`);
  try {
    const r = spawnSync('unshare', ['-m', 'sh', '-c', 'mount --bind "$1" /etc/hosts && cat /etc/hosts', 'sh', probe], {
      encoding: 'utf8',
      timeout: 10_000,
    });
    if (r.error || r.status !== 0 || !r.stdout.includes(marker)) {
      const why = r.error?.message ?? (r.stderr.trim() || `exit status ${r.status}`);
      throw new Error(`${NEEDS_ROOT} (probe failed: ${why})`);
    }
    if (readFileSync('/etc/hosts', 'utf8').includes(marker)) {
      throw new Error('the private /etc/hosts leaked into the real one: mount propagation is shared here; refusing to start the lab');
    }
  } finally {
    rmSync(probe, { force: true });
  }
}

function childEnv(vars: Record<string, string>): Record<string, string> {
  return { PATH: SYSTEM_DIRS.join(':'), LANG: 'C', ...vars };
}

/**
 * `setpriv --pdeathsig SIGKILL unshare -m sh -c 'mount --bind ... && exec nats-server'`: one pid
 * from setpriv to nats-server (each execs the next), killed by the kernel if this process dies,
 * in its own process group (a Ctrl-C on the terminal reaches the lab, which stops it in order).
 */
function spawnServer(opts: { bin: string; what: string; confPath: string; hostsPath: string; logPath: string; env: Record<string, string> }): ServerProcess {
  installCleanup();
  const cmd = dieWithParent('unshare', ['-m', 'sh', '-c', PRIVATE_HOSTS_SCRIPT, 'sh', opts.hostsPath, opts.bin, opts.confPath]);
  const log = openSync(opts.logPath, 'w');
  let child: ChildProcess;
  try {
    child = spawn(cmd.bin, cmd.args, {
      stdio: ['ignore', log, log],
      env: childEnv(opts.env),
      detached: true,
    });
  } finally {
    closeSync(log);
  }
  recordSpawn(opts.what, child.pid);
  let running = true;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('error', () => {
      running = false;
      live.delete(child);
      forgetSpawn(child.pid);
      resolve({ code: -1, signal: null });
    });
    child.once('exit', (code, signal) => {
      running = false;
      live.delete(child);
      forgetSpawn(child.pid);
      resolve({ code, signal });
    });
  });
  if (child.pid === undefined) {
    throw new Error(`cannot start unshare for ${opts.confPath}: ${NEEDS_ROOT}`);
  }
  live.add(child);
  const pid = child.pid;
  const stop = async () => {
    if (!running) return;
    child.kill('SIGTERM');
    const forced = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(forced);
  };
  return { pid, exited, isRunning: () => running, stop };
}

/** Polls `<monitorUrl>/healthz` until the server answers; fails early if the process dies. */
async function waitHealthy(p: ServerProcess, monitorUrl: string, what: string, logPath: string, timeoutMs: number): Promise<void> {
  const lastError = await pollUntil(
    async () => {
      if (!p.isRunning()) {
        const log = tailFile(logPath, 30);
        // No nats-server banner: unshare or the bind mount failed before exec.
        const hint = /Starting nats-server/.test(log) ? '' : ` (${NEEDS_ROOT})`;
        throw new Error(`${what} exited during start-up${hint}; last lines of ${logPath}:\n${log}`);
      }
      try {
        const res = await fetch(`${monitorUrl}/healthz`, { signal: AbortSignal.timeout(1_000) });
        return res.ok ? undefined : `HTTP ${res.status}`;
      } catch (e) {
        return (e as Error).message;
      }
    },
    { timeoutMs, intervalMs: 50 },
  );
  if (lastError !== undefined) throw new Error(`${what} not healthy on ${monitorUrl} within ${timeoutMs} ms (${lastError}); last lines of ${logPath}:\n${tailFile(logPath, 30)}`);
}

interface LaunchedServer {
  readonly proc: ServerProcess;
  readonly clientPort: number;
  readonly monitorPort: number;
  readonly monitorUrl: string;
}

/**
 * Writes the conf for a client/monitor port pair, starts the server and waits until it is
 * healthy. Picked ports that were taken in the meantime are picked again (up to 3 times);
 * `fixedPorts` are never changed. On failure the process is stopped before throwing.
 */
async function launchServer(opts: {
  readonly bin: string;
  readonly what: string;
  readonly confPath: string;
  readonly logPath: string;
  readonly hostsPath: string;
  readonly env: Record<string, string>;
  readonly conf: (clientPort: number, monitorPort: number) => Record<string, unknown>;
  readonly fixedPorts?: { readonly client: number; readonly monitor: number } | undefined;
  readonly timeoutMs: number;
  readonly onSpawn: (p: ServerProcess) => void;
}): Promise<LaunchedServer> {
  for (let attempt = 1; ; attempt++) {
    const clientPort = opts.fixedPorts?.client ?? (await freePort());
    const monitorPort = opts.fixedPorts?.monitor ?? (await freePort());
    writeFileSync(opts.confPath, natsConfText(opts.conf(clientPort, monitorPort)));
    const proc = spawnServer({ bin: opts.bin, what: opts.what, confPath: opts.confPath, hostsPath: opts.hostsPath, logPath: opts.logPath, env: opts.env });
    opts.onSpawn(proc);
    const monitorUrl = `http://127.0.0.1:${monitorPort}`;
    try {
      await waitHealthy(proc, monitorUrl, opts.what, opts.logPath, opts.timeoutMs);
      return { proc, clientPort, monitorPort, monitorUrl };
    } catch (e) {
      await proc.stop();
      const lostPort = tailFile(opts.logPath, 30)
        .split('\n')
        .some((l) => /address already in use/.test(l) && [clientPort, monitorPort].some((port) => l.includes(`127.0.0.1:${port}`)));
      if (opts.fixedPorts || !lostPort || attempt >= 3) throw e;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Monitoring

/** One connection as /gatewayz reports it (the fields the lab uses). */
export interface GatewayConnInfo {
  readonly cid?: number;
  readonly ip?: string;
  readonly port?: number;
  /** For gateway connections: the remote server's ID. */
  readonly name?: string;
  readonly [k: string]: unknown;
}

export interface RemoteGatewayz {
  readonly configured?: boolean;
  readonly connection?: GatewayConnInfo;
}

/** The parts of nats-server's /gatewayz the lab reads. */
export interface Gatewayz {
  readonly server_id: string;
  readonly name: string;
  readonly outbound_gateways?: Record<string, RemoteGatewayz>;
  readonly inbound_gateways?: Record<string, RemoteGatewayz[]>;
}

/** GET `<monitorUrl>/gatewayz`. */
export async function gatewayz(monitorUrl: string): Promise<Gatewayz> {
  const res = await fetch(`${monitorUrl}/gatewayz`, { signal: AbortSignal.timeout(2_000) });
  if (!res.ok) throw new Error(`GET ${monitorUrl}/gatewayz: HTTP ${res.status}`);
  return (await res.json()) as Gatewayz;
}

/** Server IDs of the inbound gateway connections from `gatewayName` in `gz`. */
export function inboundServerIds(gz: Gatewayz, gatewayName: string): string[] {
  return (gz.inbound_gateways?.[gatewayName] ?? []).map((r) => r.connection?.name ?? '').filter(Boolean);
}

async function serverId(monitorUrl: string): Promise<string> {
  const res = await fetch(`${monitorUrl}/varz`, { signal: AbortSignal.timeout(2_000) });
  if (!res.ok) throw new Error(`GET ${monitorUrl}/varz: HTTP ${res.status}`);
  return ((await res.json()) as { server_id: string }).server_id;
}

// ---------------------------------------------------------------------------------------------
// The super-cluster

/** One region's server in the lab. */
export interface NatsLabRegion {
  /** Region name (`r1`). */
  readonly name: string;
  readonly ordinal: number;
  /** Gateway (= cluster) name (`astring-r1`). */
  readonly gatewayName: string;
  readonly serverName: string;
  /** `nats://127.0.0.1:<port>` (needs `credentials`). */
  readonly clientUrl: string;
  /** `http://127.0.0.1:<port>`. */
  readonly monitorUrl: string;
  /** `127.0.0.<ordinal+1>:<gateway port>`. */
  readonly gatewayAddress: string;
  /** Client credentials of this region (the gateway ones are shared: `gatewayCredentials`). */
  readonly credentials: Credentials;
  readonly confPath: string;
  /** Log of the current run; earlier runs (before a restart) are kept as `<name>.run<k>.log`. */
  readonly logPath: string;
  readonly pid: number;
  /** The region's state in the config it was last (re)configured with. */
  readonly state: Region['state'];
  /** Gateway names in this server's `gateways` list, other than its own (the regions it dials and accepts). */
  readonly gatewayPeers: readonly string[];
  /** 1 for the first run; +1 per restart by `reconfigure`. */
  readonly run: number;
}

/** What `reconfigure` did, by region name (each list sorted by ordinal). */
export interface NatsReconfigureResult {
  /** Running regions whose generated conf changed: stopped and started again on the same ports and credentials. */
  readonly restarted: string[];
  /** Regions new in the config: started on their own loopback address. */
  readonly started: string[];
  /** Regions no longer in the config: stopped. */
  readonly stopped: string[];
}

export interface NatsReconfigureOptions {
  /**
   * Apply the change to these regions only (a partial roll-out, like syncing some of the
   * ArgoCD Applications): the others keep running their current conf and are neither started,
   * restarted nor stopped. Every name must be in the new config or running.
   */
  readonly only?: readonly string[];
  /** Per-server start-up bound (default: the one given to `startNatsSuperCluster`). */
  readonly startTimeoutMs?: number;
}

export interface NatsSuperCluster {
  /** The config last given to `startNatsSuperCluster` or `reconfigure`. */
  readonly config: PlatformConfig;
  readonly workDir: string;
  /** The generated hosts file every server sees as /etc/hosts. */
  readonly hostsPath: string;
  /** The running regions, sorted by ordinal (current after every `reconfigure`). */
  readonly regions: readonly NatsLabRegion[];
  /** The gateway user/password, identical in every region (as the nats-gateway-auth Secret). */
  readonly gatewayCredentials: Credentials;
  /** Path of the nats-server binary every server runs. */
  readonly natsServer: string;
  /** Its release (`v2.14.2`): the one of the config's NATS image tag. */
  readonly natsServerVersion: string;
  region(name: string): NatsLabRegion;
  /**
   * Polls every server's /gatewayz until each pair of running regions that list each other
   * (with every region active: all pairs) has an outbound and an inbound gateway connection
   * both ways. Pairs where one side does not list the other (a leaving region, a region not
   * rolled yet) are not waited for. Throws naming the missing links on timeout.
   */
  waitForGateways(timeoutMs?: number): Promise<void>;
  /**
   * Applies `nextConfig` the way ArgoCD plus the chart's config-checksum roll do: a gateway
   * list change is never hot-reloaded, so every running region whose generated conf changed is
   * stopped and started again (same client/monitor ports, same credentials, like a pod roll);
   * regions new in the config are started; regions gone from it are stopped. Unchanged regions
   * keep running untouched. The hosts file is rewritten (in place) before anything starts.
   */
  reconfigure(nextConfig: PlatformConfig, opts?: NatsReconfigureOptions): Promise<NatsReconfigureResult>;
  /**
   * An outage of one region's NATS: stops its server (SIGTERM, waits for exit). The region stays
   * known (its handle keeps the old pid) until `startRegion`; `waitForGateways` fails meanwhile.
   */
  stopRegion(name: string): Promise<void>;
  /** Starts a stopped region's server again on the same ports, credentials and conf (no-op if it runs); waits until healthy. */
  startRegion(name: string, timeoutMs?: number): Promise<void>;
  /** Stops every server this cluster started (regions and extra gateways) and waits for exit. */
  stop(): Promise<void>;
}

export interface StartNatsSuperClusterOptions {
  readonly config: PlatformConfig;
  /** Conf, hosts and log files go here (created if missing). */
  readonly workDir: string;
  /**
   * Fixed client/monitor ports: region i (0-based, by ordinal) gets client basePort+2i and
   * monitor basePort+2i+1. Without it, free ports are picked. Regions added later by
   * `reconfigure` always get free ports.
   */
  readonly basePort?: number;
  /** Per-server start-up bound. */
  readonly startTimeoutMs?: number;
  /** Progress lines (e.g. a nats-server build on first use); default: none. */
  readonly log?: (line: string) => void;
}

interface Internal {
  readonly bin: string;
  readonly extras: Set<ServerProcess>;
  extraCount: number;
}
const internals = new WeakMap<NatsSuperCluster, Internal>();

/** Client authorization as the values file writes it (`config.merge.authorization`). */
function clientAuthorization(): Record<string, string> {
  return { user: envReference(NatsEnv.clientUser), password: envReference(NatsEnv.clientPassword) };
}

/** Hosts file text: each region's generated gateway hostname (under its own config) -> its loopback address. */
function hostsFileText(entries: ReadonlyArray<{ readonly config: PlatformConfig; readonly region: Region }>): string {
  const lines = ['127.0.0.1 localhost', '::1 localhost ip6-localhost ip6-loopback'];
  for (const { config, region } of [...entries].sort((a, b) => a.region.ordinal - b.region.ordinal)) {
    const line = `${loopbackAddress(region.ordinal)} ${natsRegionNames(config, region).gatewayHost}`;
    if (!lines.includes(line)) lines.push(line);
  }
  return `# regionmesh NATS lab: generated gateway hostnames -> loopback addresses\n${lines.join('\n')}\n`;
}

async function checkGatewayPortFree(port: number, hosts: readonly string[]): Promise<void> {
  const busy: string[] = [];
  for (const h of hosts) if (!(await canListen(h, port))) busy.push(`${h}:${port} (${describePortHolders(h, port)})`);
  if (busy.length > 0) {
    throw new Error(`gateway port ${port} (config.nats.gateway.port) is in use on ${busy.join(', ')}: stop what holds it or choose another port`);
  }
}

/** The nats.conf object of `region` under `config`: the generator's gateway block plus lab listen addresses. */
function regionConf(config: PlatformConfig, region: Region, clientPort: number, monitorPort: number): Record<string, unknown> {
  return {
    server_name: natsRegionNames(config, region).serverNames[0]!,
    listen: `127.0.0.1:${clientPort}`,
    http: `127.0.0.1:${monitorPort}`,
    authorization: clientAuthorization(),
    gateway: { ...gatewayMergeBlock(config, region), host: loopbackAddress(region.ordinal), port: config.nats.gateway.port },
  };
}

/** A region's running server and what it was started with. */
interface RegionRuntime {
  readonly handle: NatsLabRegion;
  readonly proc: ServerProcess;
  readonly config: PlatformConfig;
  readonly region: Region;
  readonly clientPort: number;
  readonly monitorPort: number;
  /** The exact nats.conf text the server runs. */
  readonly confText: string;
}

interface ClusterContext {
  readonly bin: string;
  readonly workDir: string;
  readonly hostsPath: string;
  readonly gatewayCredentials: Credentials;
  /** Every server process started for regions (stopped ones included: stop() is idempotent). */
  readonly procs: Set<ServerProcess>;
}

function regionHandle(
  config: PlatformConfig,
  region: Region,
  rt: { readonly clientPort: number; readonly monitorPort: number; readonly pid: number; readonly run: number; readonly credentials: Credentials },
  workDir: string,
): NatsLabRegion {
  const names = natsRegionNames(config, region);
  const peers = (gatewayMergeBlock(config, region)['gateways'] as Array<{ name: string }>).map((g) => g.name).filter((n) => n !== names.gatewayName);
  return {
    name: region.name,
    ordinal: region.ordinal,
    gatewayName: names.gatewayName,
    serverName: names.serverNames[0]!,
    clientUrl: `nats://127.0.0.1:${rt.clientPort}`,
    monitorUrl: `http://127.0.0.1:${rt.monitorPort}`,
    gatewayAddress: `${loopbackAddress(region.ordinal)}:${config.nats.gateway.port}`,
    credentials: rt.credentials,
    confPath: join(workDir, `${region.name}.conf`),
    logPath: join(workDir, `${region.name}.log`),
    pid: rt.pid,
    state: region.state,
    gatewayPeers: peers,
    run: rt.run,
  };
}

/**
 * Starts (or, with `previous`, restarts on the same ports and credentials) the server of one
 * region. A restart keeps the previous run's conf and log as `<name>.run<k>.conf|log`.
 */
async function launchRegion(
  ctx: ClusterContext,
  config: PlatformConfig,
  region: Region,
  opts: {
    readonly fixedPorts?: { readonly client: number; readonly monitor: number } | undefined;
    readonly previous?: NatsLabRegion;
    readonly timeoutMs: number;
  },
): Promise<RegionRuntime> {
  const confPath = join(ctx.workDir, `${region.name}.conf`);
  const logPath = join(ctx.workDir, `${region.name}.log`);
  const prev = opts.previous;
  if (prev) {
    for (const [from, ext] of [[confPath, 'conf'], [logPath, 'log']] as const) {
      if (existsSync(from)) renameSync(from, join(ctx.workDir, `${region.name}.run${prev.run}.${ext}`));
    }
  }
  const credentials = prev?.credentials ?? randomCredentials('client');
  const fixedPorts = prev ? { client: Number(new URL(prev.clientUrl).port), monitor: Number(new URL(prev.monitorUrl).port) } : opts.fixedPorts;
  const { proc, clientPort, monitorPort } = await launchServer({
    bin: ctx.bin,
    what: `nats-server ${region.name}`,
    confPath,
    logPath,
    hostsPath: ctx.hostsPath,
    env: {
      [NatsEnv.clientUser]: credentials.user,
      [NatsEnv.clientPassword]: credentials.password,
      [NatsEnv.gatewayUser]: ctx.gatewayCredentials.user,
      [NatsEnv.gatewayPassword]: ctx.gatewayCredentials.password,
    },
    conf: (client, monitor) => regionConf(config, region, client, monitor),
    fixedPorts,
    timeoutMs: opts.timeoutMs,
    onSpawn: (p) => ctx.procs.add(p),
  });
  return {
    handle: regionHandle(config, region, { clientPort, monitorPort, pid: proc.pid, run: (prev?.run ?? 0) + 1, credentials }, ctx.workDir),
    proc,
    config,
    region,
    clientPort,
    monitorPort,
    confText: natsConfText(regionConf(config, region, clientPort, monitorPort)),
  };
}

function byOrdinal<T extends { readonly ordinal: number }>(xs: Iterable<T>): T[] {
  return [...xs].sort((a, b) => a.ordinal - b.ordinal);
}

/** Starts one nats-server per region of `config` and returns handles; see the module comment. */
export async function startNatsSuperCluster(opts: StartNatsSuperClusterOptions): Promise<NatsSuperCluster> {
  const { workDir } = opts;
  const defaultStartTimeoutMs = opts.startTimeoutMs ?? 10_000;
  const natsServerVersion = natsServerVersionOf(opts.config);
  const bin = await ensureNatsServer(natsServerVersion, opts.log);
  await ensureAptPackages(NATS_LAB_APT, opts.log);
  mkdirSync(workDir, { recursive: true });
  checkPrivateHosts(workDir);

  let config = opts.config;
  const regions = byOrdinal(config.regions);
  await checkGatewayPortFree(config.nats.gateway.port, regions.map((r) => loopbackAddress(r.ordinal)));

  const hostsPath = join(workDir, 'hosts');
  writeFileSync(hostsPath, hostsFileText(regions.map((region) => ({ config, region }))));
  const ctx: ClusterContext = { bin, workDir, hostsPath, gatewayCredentials: randomCredentials('gw'), procs: new Set() };

  /** Running regions by name. */
  const runtimes = new Map<string, RegionRuntime>();
  const stopAll = async () => {
    await Promise.all([...ctx.procs].map((p) => p.stop()));
  };
  try {
    for (const [i, region] of regions.entries()) {
      const fixedPorts = opts.basePort !== undefined ? { client: opts.basePort + 2 * i, monitor: opts.basePort + 2 * i + 1 } : undefined;
      runtimes.set(region.name, await launchRegion(ctx, config, region, { fixedPorts, timeoutMs: defaultStartTimeoutMs }));
    }
  } catch (e) {
    await stopAll();
    throw e;
  }

  const handles = (): NatsLabRegion[] => byOrdinal([...runtimes.values()].map((rt) => rt.handle));
  let reconfiguring = false;
  const extras = new Set<ServerProcess>();
  const cluster: NatsSuperCluster = {
    get config() {
      return config;
    },
    workDir,
    hostsPath,
    get regions() {
      return handles();
    },
    gatewayCredentials: ctx.gatewayCredentials,
    natsServer: bin,
    natsServerVersion,
    region(name: string) {
      const r = runtimes.get(name)?.handle;
      if (!r) throw new Error(`no lab region "${name}" running (known: ${handles().map((h) => h.name).join(', ')})`);
      return r;
    },
    async waitForGateways(timeoutMs = 15_000) {
      const missingLinks = async (): Promise<string | undefined> => {
        const missing: string[] = [];
        const current = handles();
        for (const r of current) {
          let gz: Gatewayz;
          try {
            gz = await gatewayz(r.monitorUrl);
          } catch (e) {
            missing.push(`${r.gatewayName}: /gatewayz unreadable (${(e as Error).message})`);
            continue;
          }
          for (const peer of current) {
            if (peer === r) continue;
            // A link exists only between servers that list each other (reject_unknown_cluster).
            if (!r.gatewayPeers.includes(peer.gatewayName) || !peer.gatewayPeers.includes(r.gatewayName)) continue;
            if (!gz.outbound_gateways?.[peer.gatewayName]?.connection) missing.push(`${r.gatewayName} -> ${peer.gatewayName} (outbound)`);
            if ((gz.inbound_gateways?.[peer.gatewayName] ?? []).length === 0) missing.push(`${r.gatewayName} <- ${peer.gatewayName} (inbound)`);
          }
        }
        return missing.length === 0 ? undefined : missing.join('\n  ');
      };
      const missing = await pollUntil(missingLinks, { timeoutMs, intervalMs: 100 });
      if (missing !== undefined) throw new Error(`NATS gateways not fully connected within ${timeoutMs} ms; missing links:\n  ${missing}\n(logs in ${workDir})`);
    },
    async reconfigure(nextConfig: PlatformConfig, ropts: NatsReconfigureOptions = {}) {
      if (reconfiguring) throw new Error('reconfigure is already running on this lab cluster');
      reconfiguring = true;
      try {
        const timeoutMs = ropts.startTimeoutMs ?? defaultStartTimeoutMs;
        const nextRegions = byOrdinal(nextConfig.regions);
        const nextNames = new Set(nextRegions.map((r) => r.name));
        if (ropts.only) {
          const unknown = ropts.only.filter((n) => !nextNames.has(n) && !runtimes.has(n));
          if (unknown.length > 0) throw new Error(`reconfigure only: ${unknown.join(', ')} neither in the new config nor running`);
        }
        const inScope = (name: string) => ropts.only === undefined || ropts.only.includes(name);
        const result: NatsReconfigureResult = { restarted: [], started: [], stopped: [] };

        // 1. Regions gone from the config.
        for (const rt of [...runtimes.values()].sort((a, b) => a.region.ordinal - b.region.ordinal)) {
          if (nextNames.has(rt.region.name) || !inScope(rt.region.name)) continue;
          await rt.proc.stop();
          runtimes.delete(rt.region.name);
          result.stopped.push(rt.region.name);
        }

        // 2. The hosts file, in place (same inode, so running servers see it too): every region
        //    of the new config plus the out-of-scope ones that keep running under their old config.
        const entries = nextRegions.map((region) => ({ config: nextConfig, region }));
        for (const rt of runtimes.values()) if (!nextNames.has(rt.region.name)) entries.push({ config: rt.config, region: rt.region });
        writeFileSync(hostsPath, hostsFileText(entries));

        // 3. New regions, then 4. running regions whose generated conf changed (a pod roll).
        const added = nextRegions.filter((r) => inScope(r.name) && !runtimes.has(r.name));
        await checkGatewayPortFree(nextConfig.nats.gateway.port, added.map((r) => loopbackAddress(r.ordinal)));
        for (const region of added) {
          runtimes.set(region.name, await launchRegion(ctx, nextConfig, region, { timeoutMs }));
          result.started.push(region.name);
        }
        for (const region of nextRegions) {
          const rt = runtimes.get(region.name);
          if (!rt || !inScope(region.name) || result.started.includes(region.name)) continue;
          const nextText = natsConfText(regionConf(nextConfig, region, rt.clientPort, rt.monitorPort));
          if (nextText === rt.confText) {
            // Same conf: nothing to roll; the handle follows the new config (e.g. its state).
            const handle = regionHandle(nextConfig, region, { ...rt, pid: rt.handle.pid, run: rt.handle.run, credentials: rt.handle.credentials }, workDir);
            runtimes.set(region.name, { ...rt, config: nextConfig, region, handle });
            continue;
          }
          await rt.proc.stop();
          runtimes.delete(region.name);
          runtimes.set(region.name, await launchRegion(ctx, nextConfig, region, { previous: rt.handle, timeoutMs }));
          result.restarted.push(region.name);
        }
        config = nextConfig;
        return result;
      } finally {
        reconfiguring = false;
      }
    },
    async stopRegion(name: string) {
      const rt = runtimes.get(name);
      if (!rt) throw new Error(`no lab region "${name}" (known: ${handles().map((h) => h.name).join(', ')})`);
      await rt.proc.stop();
    },
    async startRegion(name: string, timeoutMs = defaultStartTimeoutMs) {
      const rt = runtimes.get(name);
      if (!rt) throw new Error(`no lab region "${name}" (known: ${handles().map((h) => h.name).join(', ')})`);
      if (rt.proc.isRunning()) return;
      runtimes.set(name, await launchRegion(ctx, rt.config, rt.region, { previous: rt.handle, timeoutMs }));
    },
    async stop() {
      await Promise.all([...ctx.procs, ...extras].map((p) => p.stop()));
    },
  };
  internals.set(cluster, { bin, extras, extraCount: 0 });
  return cluster;
}

// ---------------------------------------------------------------------------------------------
// Extra (rogue / control) gateways

export interface ExtraGatewayOptions {
  /** Region whose generated gateway block (and so gateway name) the extra server uses. */
  readonly as: string;
  /** Regions it dials (its `gateways` list is filtered to these); default: every other region. */
  readonly pointAt?: readonly string[];
  /**
   * `false`: the gateway block loses its `authorization` (URLs carry no userinfo either), so the
   * server dials with no credentials. Credentials: the block is left exactly as generated and
   * these values go into GATEWAY_USER/GATEWAY_PASSWORD of the process.
   */
  readonly gatewayAuth: false | Credentials;
  /** Override the gateway name (e.g. to test `reject_unknown_cluster`). */
  readonly gatewayName?: string;
  /** Loopback address to listen on for gateways; default 127.0.0.<200+n>. */
  readonly address?: string;
  /** File and server-name label; default `extra<n>`. */
  readonly label?: string;
}

export interface ExtraGateway {
  readonly label: string;
  readonly gatewayName: string;
  readonly serverName: string;
  /** This server's ID, as peers list it in /gatewayz connections. */
  readonly serverId: string;
  readonly gatewayAddress: string;
  readonly clientUrl: string;
  readonly monitorUrl: string;
  readonly confPath: string;
  readonly logPath: string;
  readonly pid: number;
  stop(): Promise<void>;
}

/**
 * Starts one more nats-server next to `cluster` that joins (or tries to join) it with the
 * generator's gateway block for region `as`, optionally without gateway credentials. It sees the
 * same hosts file and is stopped by `cluster.stop()` too.
 */
export async function startRogueGateway(cluster: NatsSuperCluster, opts: ExtraGatewayOptions): Promise<ExtraGateway> {
  const internal = internals.get(cluster);
  if (!internal) throw new Error('startRogueGateway needs a cluster returned by startNatsSuperCluster');
  const n = ++internal.extraCount;
  const label = opts.label ?? `extra${n}`;
  if (!/^[a-z][a-z0-9-]*$/.test(label)) throw new Error(`label "${label}" must be a lowercase name`);
  const config = cluster.config;
  const region = regionByName(config, opts.as);
  const targets = new Set(
    (opts.pointAt ?? config.regions.filter((r) => r.name !== opts.as).map((r) => r.name)).map((name) => natsRegionNames(config, regionByName(config, name)).gatewayName),
  );
  const block: Record<string, unknown> = { ...gatewayMergeBlock(config, region) };
  block['gateways'] = (block['gateways'] as Array<{ name: string; urls: string[] }>).filter((g) => targets.has(g.name));
  if (opts.gatewayName !== undefined) block['name'] = opts.gatewayName;
  if (opts.gatewayAuth === false) delete block['authorization'];
  const address = opts.address ?? `127.0.0.${Math.min(200 + n, 254)}`;
  const gwPort = config.nats.gateway.port;
  await checkGatewayPortFree(gwPort, [address]);
  const serverName = `${natsRegionNames(config, region).serverNamePrefix}${label}`;
  const confPath = join(cluster.workDir, `${label}.conf`);
  const logPath = join(cluster.workDir, `${label}.log`);
  const client = randomCredentials('client');
  const env: Record<string, string> = { [NatsEnv.clientUser]: client.user, [NatsEnv.clientPassword]: client.password };
  if (opts.gatewayAuth !== false) {
    env[NatsEnv.gatewayUser] = opts.gatewayAuth.user;
    env[NatsEnv.gatewayPassword] = opts.gatewayAuth.password;
  }
  const { proc, clientPort, monitorUrl } = await launchServer({
    bin: internal.bin,
    what: `extra nats-server "${label}"`,
    confPath,
    logPath,
    hostsPath: cluster.hostsPath,
    env,
    conf: (clientPort, monitorPort) => ({
      server_name: serverName,
      listen: `127.0.0.1:${clientPort}`,
      http: `127.0.0.1:${monitorPort}`,
      authorization: clientAuthorization(),
      gateway: { ...block, host: address, port: gwPort },
    }),
    timeoutMs: 10_000,
    onSpawn: (p) => internal.extras.add(p),
  });
  try {
    const id = await serverId(monitorUrl);
    return {
      label,
      gatewayName: block['name'] as string,
      serverName,
      serverId: id,
      gatewayAddress: `${address}:${gwPort}`,
      clientUrl: `nats://127.0.0.1:${clientPort}`,
      monitorUrl,
      confPath,
      logPath,
      pid: proc.pid,
      stop: proc.stop,
    };
  } catch (e) {
    await proc.stop();
    throw e;
  }
}
