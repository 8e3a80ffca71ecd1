/**
 * Adding and removing a region on a real NATS super-cluster (real nats-server processes).
 *
 * A gateway-list change is never hot-reloaded (reference nats.md §3), so adding region r3 only
 * works once the old regions ROLL with the new list (the chart's config-checksum annotation):
 * before that, r1 and r2 refuse r3 (`reject_unknown_cluster`), and a reload of the new conf is
 * refused (shown on a probe server: a refused gateway reload logs the gateway credentials, which
 * is why the generated reloader never signals on a conf change; the lab's own servers never get
 * one, and their raw logs are checked for credentials at the end). After the roll, r3 carries messages both ways; applying the same config again rolls
 * nothing; marking r3 `leaving` rolls r1/r2 again, which then refuse it, while r1 <-> r2 keep
 * working; deleting it from the list stops it and rolls nobody.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { gatewayMergeBlock } from '../constructs/nats/gateway.js';
import type { PlatformConfig } from '../regions/schema.js';
import { configWithRegions } from '../test/helpers.js';
import { NatsLabFixture, parseConf } from '../test/nats-lab.js';
import {
  credentialLeaks,
  gatewayz,
  loopbackAddress,
  natsConfText,
  randomCredential,
  startRogueGateway,
  type Credentials,
  type NatsLabRegion,
  type NatsSuperCluster,
} from './nats.js';
import { freePort } from './process.js';

/** Log line of a server refusing an inbound gateway whose name is not in its list. */
const rejected = (gatewayName: string) => new RegExp(`Rejecting connection from gateway "${gatewayName}"`);
/** Gateway address of the reload probe (the lab's regions use 127.0.0.2..4). */
const PROBE_ADDRESS = '127.0.0.201';
const PROBE_LABEL = 'reload-probe';

describe('adding and removing a region on a real NATS super-cluster', () => {
  let gatewayPort = 0;
  const fixture = new NatsLabFixture('lab-add-region');
  /** Every server pid the lab ran, restarted runs included. */
  const pids = new Set<number>();
  const credentialsSeen = new Set<Credentials>();
  /** Throwaway gateway credentials of the reload probe (never a lab region's). */
  const probeCredentials: Credentials = { user: `probe${randomCredential(12)}`, password: randomCredential(32) };

  /** The generated config with `n` regions on the lab's DNS suffix and gateway port. */
  function labConfig(n: number, mutate?: (regions: Array<Record<string, unknown>>) => void): PlatformConfig {
    return configWithRegions(n, (c) => {
      c.dns.clusterSuffix = 'lab';
      c.nats!.gateway = { ...c.nats!.gateway, port: gatewayPort };
      mutate?.(c.regions as unknown as Array<Record<string, unknown>>);
    });
  }
  const config3Joining = () => labConfig(3, (rs) => Object.assign(rs[2]!, { state: 'joining', syncFrom: 'r1' }));
  const config3Leaving = () => labConfig(3, (rs) => Object.assign(rs[2]!, { state: 'leaving' }));

  /** The running cluster; records its servers' pids and credentials for the final checks. */
  function lab(): NatsSuperCluster {
    const cluster = fixture.lab();
    for (const r of cluster.regions) {
      pids.add(r.pid);
      credentialsSeen.add(r.credentials);
    }
    return cluster;
  }

  const client = (region: NatsLabRegion) => fixture.client(region, { reconnect: false });

  /** Counts messages on `subject` in `region` (subscription flushed before it returns). */
  async function counter(region: NatsLabRegion, subject: string): Promise<{ count: () => number }> {
    const nc = await client(region);
    let n = 0;
    nc.subscribe(subject, { callback: (err) => (err ? undefined : n++) });
    await nc.flush();
    return { count: () => n };
  }

  /**
   * Publishes from `from` every 100 ms until a subscriber in each of `to` got the message
   * (gateway interest propagates asynchronously), at most 15 s.
   */
  async function deliver(from: NatsLabRegion, to: readonly NatsLabRegion[], subject: string): Promise<number> {
    const subs = await Promise.all(to.map((r) => counter(r, subject)));
    const pub = await client(from);
    const started = Date.now();
    while (Date.now() - started < 15_000) {
      pub.publish(subject, new TextEncoder().encode(`from ${from.name}`));
      await sleep(100);
      if (subs.every((s) => s.count() > 0)) return Date.now() - started;
    }
    const missed = to.filter((_, i) => subs[i]!.count() === 0).map((r) => r.gatewayName);
    throw new Error(`no message from ${from.gatewayName} reached ${missed.join(', ')} on "${subject}" within 15 s`);
  }

  /**
   * Publishes from `from` every 100 ms for `ms`: a subscriber in `from` itself must get them
   * (the publisher works) while the one in `to` gets none.
   */
  async function expectNoDelivery(from: NatsLabRegion, to: NatsLabRegion, subject: string, ms: number): Promise<void> {
    const remote = await counter(to, subject);
    const local = await counter(from, subject);
    const pub = await client(from);
    const until = Date.now() + ms;
    while (Date.now() < until) {
      pub.publish(subject, new TextEncoder().encode(`from ${from.name}`));
      await sleep(100);
    }
    await pub.flush();
    expect(local.count(), `control: the subscriber in ${from.gatewayName} itself got nothing`).toBeGreaterThan(0);
    expect(remote.count(), `${to.gatewayName} received messages published in ${from.gatewayName}`).toBe(0);
  }

  async function waitForLog(path: string, re: RegExp, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (re.test(readFileSync(path, 'utf8'))) return true;
      await sleep(100);
    }
    return re.test(readFileSync(path, 'utf8'));
  }

  /** Gateway names in the `gateways` list of a conf file the lab wrote. */
  function confGatewayNames(confPath: string): string[] {
    const gateway = parseConf(readFileSync(confPath, 'utf8'))['gateway'] as { gateways: Array<{ name: string }> };
    return gateway.gateways.map((g) => g.name);
  }

  beforeAll(
    () =>
      fixture.start('regionmesh-nats-add-region-', async () => {
        gatewayPort = await freePort([...[1, 2, 3].map(loopbackAddress), PROBE_ADDRESS]);
        return labConfig(2);
      }),
    30_000,
  );
  afterEach((ctx) => fixture.afterEach(ctx));
  afterAll(() => fixture.stop(), 20_000);

  it('r3 is refused while r1 and r2 still run the 2-region conf (a reload does not apply it; the roll is required)', async () => {
    const c = lab();
    expect(c.regions.map((r) => r.name)).toEqual(['r1', 'r2']);
    const next = config3Joining();
    const [r1, r2] = [c.region('r1'), c.region('r2')];

    // The confs generated for 2 regions do not list r3; the 3-region ones do.
    for (const r of [r1, r2]) {
      expect(confGatewayNames(r.confPath)).toEqual(['astring-r1', 'astring-r2']);
      const nextBlock = gatewayMergeBlock(next, next.regions.find((x) => x.name === r.name)!);
      expect((nextBlock['gateways'] as Array<{ name: string }>).map((g) => g.name)).toEqual(['astring-r1', 'astring-r2', 'astring-r3']);
    }

    // What a config reloader would do with the new ConfigMap (SIGHUP = `nats-server --signal
    // reload`): nats-server refuses a gateway change on reload and keeps its old list. Its error
    // prints the old and new gateway options, credentials included, so it is shown on a probe
    // server with throwaway gateway credentials (same generated block, dialling nobody), never on
    // a lab region: the regions' logs must stay free of credentials (checked raw at the end).
    const probe = await startRogueGateway(c, { as: 'r1', pointAt: [], gatewayAuth: probeCredentials, label: PROBE_LABEL, address: PROBE_ADDRESS });
    try {
      const running = parseConf(readFileSync(probe.confPath, 'utf8'));
      expect((running['gateway'] as { gateways: unknown[] }).gateways).toEqual([]);
      const nextR1 = gatewayMergeBlock(next, next.regions.find((x) => x.name === 'r1')!);
      writeFileSync(probe.confPath, natsConfText({ ...running, gateway: { ...(running['gateway'] as Record<string, unknown>), gateways: nextR1['gateways'] } }));
      process.kill(probe.pid, 'SIGHUP');
      expect(await waitForLog(probe.logPath, /config reload not supported for Gateway/, 5_000), `${probe.logPath}: no refused reload`).toBe(true);
      expect(Object.keys((await gatewayz(probe.monitorUrl)).outbound_gateways ?? {}), 'the probe applied the reloaded gateway list').toEqual([]);
      // The hazard, in the raw log: the refused reload printed the gateway password.
      expect(readFileSync(probe.logPath, 'utf8')).toContain(probeCredentials.password);
    } finally {
      await probe.stop();
    }

    // Apply the change to r3 only: the old regions do not roll.
    const partial = await c.reconfigure(next, { only: ['r3'] });
    expect(partial).toEqual({ restarted: [], started: ['r3'], stopped: [] });
    const r3 = c.region('r3');
    pids.add(r3.pid);
    expect(r3.state).toBe('joining');
    expect(r3.gatewayAddress).toBe(`${loopbackAddress(3)}:${gatewayPort}`);
    expect([c.region('r1').pid, c.region('r2').pid]).toEqual([r1.pid, r2.pid]);
    expect(readFileSync(c.hostsPath, 'utf8')).toContain(`${loopbackAddress(3)} nats-headless.nats.astring-r3.lab`);

    // r3 dials both (its list names them) and each refuses it: r3 is not in their lists.
    for (const r of [r1, r2]) {
      expect(await waitForLog(r.logPath, rejected('astring-r3'), 10_000), `${r.logPath} never refused astring-r3`).toBe(true);
      const gz = await gatewayz(r.monitorUrl);
      expect(gz.inbound_gateways?.['astring-r3'], `${r.gatewayName} accepted an inbound gateway from astring-r3`).toBeUndefined();
      expect(gz.outbound_gateways?.['astring-r3'], `${r.gatewayName} dials astring-r3`).toBeUndefined();
    }
    await expectNoDelivery(r3, r1, 'lab.add.before-roll', 1_500);
  }, 30_000);

  it('reconfigure rolls r1 and r2 (same ports and credentials), leaves r3 alone, and r3 then carries messages both ways', async () => {
    const c = lab();
    const before = new Map(c.regions.map((r) => [r.name, r]));
    const next = config3Joining();
    const t0 = Date.now();
    const result = await c.reconfigure(next);
    const rollMs = Date.now() - t0;
    expect(result).toEqual({ restarted: ['r1', 'r2'], started: [], stopped: [] });
    expect(c.regions.map((r) => r.name)).toEqual(['r1', 'r2', 'r3']);
    for (const name of ['r1', 'r2']) {
      const old = before.get(name)!;
      const now = c.region(name);
      pids.add(now.pid);
      expect(now.pid, `${name} was not restarted`).not.toBe(old.pid);
      expect(() => process.kill(old.pid, 0), `the old ${name} server (${old.pid}) still runs`).toThrow();
      expect(now.run).toBe(2);
      expect({ clientUrl: now.clientUrl, monitorUrl: now.monitorUrl, gatewayAddress: now.gatewayAddress, credentials: now.credentials }).toEqual({
        clientUrl: old.clientUrl,
        monitorUrl: old.monitorUrl,
        gatewayAddress: old.gatewayAddress,
        credentials: old.credentials,
      });
      expect(confGatewayNames(now.confPath)).toEqual(['astring-r1', 'astring-r2', 'astring-r3']);
      // The previous run's conf and log are kept beside the new ones.
      expect(confGatewayNames(now.confPath.replace(/\.conf$/, '.run1.conf'))).toEqual(['astring-r1', 'astring-r2']);
    }
    expect(c.region('r3').pid).toBe(before.get('r3')!.pid);
    expect(c.region('r3').run).toBe(1);

    const t1 = Date.now();
    await c.waitForGateways(15_000);
    const settleMs = Date.now() - t1;
    const [r1, r2, r3] = [c.region('r1'), c.region('r2'), c.region('r3')];
    for (const r of [r1, r2]) {
      const gz = await gatewayz(r.monitorUrl);
      expect(gz.inbound_gateways?.['astring-r3']?.length ?? 0, `${r.gatewayName} has no inbound gateway from astring-r3`).toBeGreaterThan(0);
    }
    const r3Out = await deliver(r3, [r1, r2], 'lab.add.r3-to-all');
    const r1Out = await deliver(r1, [r3], 'lab.add.r1-to-r3');
    console.info(`roll of r1+r2: ${rollMs} ms; gateways settled ${settleMs} ms later; r3 -> r1+r2 in ${r3Out} ms, r1 -> r3 in ${r1Out} ms`);
  }, 40_000);

  it('applying the same config again restarts nothing', async () => {
    const c = lab();
    const before = c.regions.map((r) => [r.name, r.pid]);
    expect(await c.reconfigure(config3Joining())).toEqual({ restarted: [], started: [], stopped: [] });
    expect(c.regions.map((r) => [r.name, r.pid])).toEqual(before);
  });

  it('marking r3 leaving rolls r1 and r2, which then refuse it, while r1 <-> r2 keep working', async () => {
    const c = lab();
    const r3Before = c.region('r3');
    const result = await c.reconfigure(config3Leaving());
    // r3's own list still names itself and the others, so its conf is unchanged: no roll.
    expect(result).toEqual({ restarted: ['r1', 'r2'], started: [], stopped: [] });
    const [r1, r2, r3] = [c.region('r1'), c.region('r2'), c.region('r3')];
    for (const r of [r1, r2, r3]) pids.add(r.pid);
    expect(r3.pid).toBe(r3Before.pid);
    expect(r3.state).toBe('leaving');
    expect(r3.gatewayPeers).toEqual(['astring-r1', 'astring-r2']);
    expect(r1.gatewayPeers).toEqual(['astring-r2']);
    expect(r2.gatewayPeers).toEqual(['astring-r1']);
    for (const r of [r1, r2]) {
      expect(r.run).toBe(3);
      expect(confGatewayNames(r.confPath)).toEqual(['astring-r1', 'astring-r2']);
    }

    await c.waitForGateways(15_000);
    // Settled: r3 dialled the rolled servers again and each refused it (their current logs).
    for (const r of [r1, r2]) {
      expect(await waitForLog(r.logPath, rejected('astring-r3'), 10_000), `${r.logPath} never refused astring-r3`).toBe(true);
      const gz = await gatewayz(r.monitorUrl);
      expect(gz.inbound_gateways?.['astring-r3']).toBeUndefined();
      expect(gz.outbound_gateways?.['astring-r3']).toBeUndefined();
    }
    await expectNoDelivery(r3, r1, 'lab.leave.r3-to-r1', 2_000);
    await deliver(r1, [r2], 'lab.leave.r1-to-r2');
    await deliver(r2, [r1], 'lab.leave.r2-to-r1');
  }, 40_000);

  it('deleting the leaving region from the list stops it and rolls nobody', async () => {
    const c = lab();
    const before = c.regions;
    const r3 = c.region('r3');
    expect(await c.reconfigure(labConfig(2))).toEqual({ restarted: [], started: [], stopped: ['r3'] });
    expect(() => process.kill(r3.pid, 0), `r3 (${r3.pid}) still runs`).toThrow();
    expect(() => c.region('r3')).toThrow(/no lab region "r3"/);
    expect(c.regions.map((r) => [r.name, r.pid])).toEqual(before.filter((r) => r.name !== 'r3').map((r) => [r.name, r.pid]));
    expect(readFileSync(c.hostsPath, 'utf8')).not.toContain('astring-r3');
    await c.waitForGateways(5_000);
  });

  it('stop() ends every server the lab ran; no lab credential in any file, as written (raw); the real /etc/hosts is untouched', async () => {
    const c = lab();
    await c.stop();
    const credentials = [c.gatewayCredentials, ...credentialsSeen];
    const files = readdirSync(fixture.workDir!);
    expect(files).toEqual(expect.arrayContaining(['hosts', 'r1.conf', 'r1.log', 'r1.run1.conf', 'r1.run1.log', 'r1.run2.log', 'r3.log', `${PROBE_LABEL}.log`]));
    for (const f of files) {
      const text = readFileSync(join(fixture.workDir!, f), 'utf8');
      expect(credentialLeaks(text, credentials), `${f} shows a lab credential`).toEqual([]);
      // The probe's throwaway password is in its own log only (its refused reload, asserted above).
      if (f !== `${PROBE_LABEL}.log`) expect(text.includes(probeCredentials.password), `${f} contains the probe's gateway password`).toBe(false);
    }
    expect(pids.size).toBeGreaterThanOrEqual(7); // r1, r2: 3 runs each; r3: 1
    for (const pid of pids) expect(() => process.kill(pid, 0), `process ${pid} still running`).toThrow();
    expect(readFileSync('/etc/hosts', 'utf8')).toBe(fixture.etcHostsBefore);
  });
});
