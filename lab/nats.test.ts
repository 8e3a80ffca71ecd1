/**
 * The lab against real nats-server processes: the generated gateway block joins three regions
 * into a super-cluster that carries messages both ways, and refuses a gateway that comes
 * without credentials (while the same code with credentials gets in).
 */
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect, headers, type Msg } from 'nats';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { envReference, gatewayMergeBlock } from '../constructs/nats/gateway.js';
import { NatsEnv } from '../regions/names.js';
import type { PlatformConfig } from '../regions/schema.js';
import { loadConfigFile } from '../constructs/platform-config.js';
import { configWithRegions, DEFAULT_CONFIG_PATH } from '../test/helpers.js';
import { NatsLabFixture, parseConf } from '../test/nats-lab.js';
import { ensureNatsServer, natsServerVersionOf } from './nats-server.js';
import {
  credentialLeaks,
  gatewayz,
  inboundServerIds,
  loopbackAddress,
  natsConfText,
  startRogueGateway,
  type NatsLabRegion,
} from './nats.js';
import { canListen, freePort } from './process.js';

describe('natsConfText', () => {
  it('unquotes << $VAR >> references the way the chart does, leaving other strings quoted', () => {
    const text = natsConfText({
      gateway: {
        name: 'astring-r1',
        authorization: { user: envReference(NatsEnv.gatewayUser), password: envReference(NatsEnv.gatewayPassword), timeout: 2 },
        gateways: [{ name: 'astring-r2', urls: ['nats://nats-headless.nats.astring-r2.lab:7522'] }],
      },
    });
    expect(text).toContain('"user": $GATEWAY_USER,');
    expect(text).toContain('"password": $GATEWAY_PASSWORD,');
    expect(text).not.toContain('<<');
    expect(text).not.toContain('>>');
    expect(text).not.toContain('"$GATEWAY_USER"');
    expect(text).toContain('"name": "astring-r1"');
    expect(text).toContain('"nats://nats-headless.nats.astring-r2.lab:7522"');
  });

  it('leaves a string that is not exactly a << X >> reference alone', () => {
    expect(natsConfText({ a: 'x << $Y >>', b: '<<$Z>>' })).toBe('{\n  "a": "x << $Y >>",\n  "b": "<<$Z>>"\n}\n');
  });
});

describe('credentialLeaks', () => {
  const cred = { user: 'clientAbc', password: 'Pw123secret' };
  it('flags a password on any line, and a user name anywhere but nats-server\'s failed-login line', () => {
    expect(credentialLeaks('[1] [ERR] 127.0.0.1:1 - cid:5 - authentication error - User "clientAbc"\n', [cred])).toEqual([]);
    expect(credentialLeaks('x\nconfig reload not supported for Gateway: old={clientAbc Pw123secret}', [cred])).toEqual(['line 2: the password of user clientAbc']);
    expect(credentialLeaks('authorization { user: clientAbc }\n', [cred])).toEqual(['line 1: user name clientAbc']);
    expect(credentialLeaks('authentication error - User "clientAbc" password Pw123secret', [cred])).toEqual(['line 1: the password of user clientAbc']);
  });
});

describe('the nats-server the lab runs', () => {
  it("is the release of the NATS image tag, whatever the image variant; a tag that names no release is refused", () => {
    const withTag = (tag: string) => ({ nats: { ...configWithRegions(2).nats, image: { repository: 'nats', tag } } });
    expect(natsServerVersionOf(withTag('2.14.2-alpine'))).toBe('v2.14.2');
    expect(natsServerVersionOf(withTag('2.14.2'))).toBe('v2.14.2');
    expect(natsServerVersionOf(withTag('2.10.29-scratch'))).toBe('v2.10.29');
    expect(() => natsServerVersionOf(withTag('latest'))).toThrow(/nats.image.tag "latest" names no nats-server release/);
    expect(() => natsServerVersionOf(withTag('alpine3.20'))).toThrow(/"alpine3.20"/);
  });

  it('refuses a binary of another release (such as Debian\'s 2.9) with one message that says which and what to do', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'regionmesh-nats-bin-'));
    const saved = process.env['NATS_SERVER_BIN'];
    try {
      const fake = join(dir, 'nats-server');
      writeFileSync(fake, '#!/bin/sh\necho "nats-server: v2.9.10"\n');
      chmodSync(fake, 0o755);
      process.env['NATS_SERVER_BIN'] = fake;
      const want = natsServerVersionOf(loadConfigFile(DEFAULT_CONFIG_PATH));
      await expect(ensureNatsServer(want)).rejects.toThrow(`nats-server ${fake} (NATS_SERVER_BIN) reports "nats-server: v2.9.10", but the config's NATS image needs ${want}`);
      process.env['NATS_SERVER_BIN'] = join(dir, 'missing');
      await expect(ensureNatsServer(want)).rejects.toThrow(/\(NATS_SERVER_BIN\) does not run .*unset NATS_SERVER_BIN/);
    } finally {
      if (saved === undefined) delete process.env['NATS_SERVER_BIN'];
      else process.env['NATS_SERVER_BIN'] = saved;
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

const REGIONS = 3;
/** Loopback addresses of the extra servers (rogue, control, unknown). */
const EXTRA_ADDRESSES = ['127.0.0.201', '127.0.0.202', '127.0.0.203'] as const;

describe('NATS super-cluster from the generated gateway block (real nats-server)', () => {
  let config: PlatformConfig;
  const fixture = new NatsLabFixture('lab-test');
  const lab = () => fixture.lab();
  const client = (region: NatsLabRegion) => fixture.client(region);

  /**
   * Subscribes in `to`, then publishes from `from` every 100 ms until the message arrives
   * (gateway interest propagation is asynchronous), at most 15 s.
   */
  async function deliver(from: NatsLabRegion, to: NatsLabRegion, subject: string, payload: string, header: string): Promise<Msg> {
    const pub = await client(from);
    const subConn = await client(to);
    const sub = subConn.subscribe(subject, { max: 1 });
    await subConn.flush();
    const received = (async () => {
      for await (const m of sub) return m;
      return undefined;
    })();
    const deadline = Date.now() + 15_000;
    let got: Msg | undefined;
    let attempts = 0;
    while (Date.now() < deadline && got === undefined) {
      const h = headers();
      h.set('X-Regionmesh-Lab', header);
      pub.publish(subject, new TextEncoder().encode(payload), { headers: h });
      attempts++;
      got = await Promise.race([received, sleep(100).then(() => undefined)]);
    }
    if (!got) {
      sub.unsubscribe();
      throw new Error(`no message from ${from.gatewayName} reached ${to.gatewayName} on "${subject}" within 15 s (${attempts} publishes)`);
    }
    return got;
  }

  // Never skip silently: a nats-server that cannot be installed fails every test here with why.
  beforeAll(
    () =>
      fixture.start('regionmesh-nats-lab-', async () => {
        const loopbacks = Array.from({ length: REGIONS }, (_, i) => loopbackAddress(i + 1));
        const gatewayPort = await freePort([...loopbacks, ...EXTRA_ADDRESSES]);
        config = configWithRegions(REGIONS, (c) => {
          c.dns.clusterSuffix = 'lab';
          c.nats!.gateway = { ...c.nats!.gateway, port: gatewayPort };
        });
        return config;
      }),
    40_000,
  );
  afterEach((ctx) => fixture.afterEach(ctx));
  afterAll(() => fixture.stop(), 20_000);

  it("runs the nats-server release of regions/platform.yaml's NATS image tag (each server's /varz)", async () => {
    const c = lab();
    // Expected from the config itself: the image tag `2.14.2-alpine` carries release 2.14.2.
    const tag = loadConfigFile(DEFAULT_CONFIG_PATH).nats.image.tag;
    const release = tag.split('-')[0]!;
    expect(release).toMatch(/^\d+\.\d+\.\d+$/);
    for (const r of c.regions) {
      const varz = (await (await fetch(`${r.monitorUrl}/varz`)).json()) as { version: string };
      expect(varz.version, `${r.name} (${c.natsServer})`).toBe(release);
    }
    expect(c.natsServerVersion).toBe(`v${release}`);
  });

  it('joins every region with the generated block, listening on its own loopback address', async () => {
    const c = lab();
    expect(c.regions.map((r) => r.gatewayName)).toEqual(['astring-r1', 'astring-r2', 'astring-r3']);
    for (const r of c.regions) {
      expect(r.gatewayAddress).toBe(`${loopbackAddress(r.ordinal)}:${config.nats.gateway.port}`);
      const gz = await gatewayz(r.monitorUrl);
      expect(gz.name).toBe(r.gatewayName);
      const peers = c.regions.filter((p) => p !== r).map((p) => p.gatewayName).sort();
      expect(Object.keys(gz.outbound_gateways ?? {}).sort()).toEqual(peers);
      expect(Object.keys(gz.inbound_gateways ?? {}).sort()).toEqual(peers);
      // The conf carries exactly the generator's block (plus host/port), env references unquoted.
      const conf = readFileSync(r.confPath, 'utf8');
      const region = config.regions.find((x) => x.name === r.name)!;
      expect(parseConf(conf)['gateway']).toEqual({
        ...gatewayMergeBlock(config, region),
        host: loopbackAddress(r.ordinal),
        port: config.nats.gateway.port,
      });
    }
  });

  it('carries a message with a header from region 1 to region 3, and from region 3 to region 2', async () => {
    const c = lab();
    const [r1, r2, r3] = [c.region('r1'), c.region('r2'), c.region('r3')];
    const m13 = await deliver(r1, r3, 'lab.hello.r1-to-r3', 'hello from r1', 'r1');
    expect(new TextDecoder().decode(m13.data)).toBe('hello from r1');
    expect(m13.headers?.get('X-Regionmesh-Lab')).toBe('r1');

    const m32 = await deliver(r3, r2, 'lab.hello.r3-to-r2', 'hello from r3', 'r3');
    expect(new TextDecoder().decode(m32.data)).toBe('hello from r3');
    expect(m32.headers?.get('X-Regionmesh-Lab')).toBe('r3');
  }, 35_000);

  it('refuses clients without the client credentials from the environment', async () => {
    const r1 = lab().region('r1');
    await expect(connect({ servers: r1.clientUrl, timeout: 3_000, reconnect: false })).rejects.toThrow(/authorization/i);
    await expect(
      connect({ servers: r1.clientUrl, user: r1.credentials.user, pass: 'wrong', timeout: 3_000, reconnect: false }),
    ).rejects.toThrow(/authorization/i);
  });

  it('refuses a gateway without credentials, and accepts the same code with the gateway credentials', async () => {
    const c = lab();
    const r1 = c.region('r1');
    const rogue = await startRogueGateway(c, { as: 'r2', pointAt: ['r1'], gatewayAuth: false, label: 'rogue', address: EXTRA_ADDRESSES[0] });
    const control = await startRogueGateway(c, {
      as: 'r2',
      pointAt: ['r1'],
      gatewayAuth: c.gatewayCredentials,
      label: 'control',
      address: EXTRA_ADDRESSES[1],
    });
    try {
      const authError = /authorization/i;
      let rogueSeen = false;
      let controlAccepted = false;
      let authErrorSeen = false;
      const poll = async () => {
        const ids = inboundServerIds(await gatewayz(r1.monitorUrl), rogue.gatewayName);
        if (ids.includes(rogue.serverId)) rogueSeen = true;
        if (ids.includes(control.serverId)) controlAccepted = true;
        authErrorSeen = authError.test(readFileSync(rogue.logPath, 'utf8')) || authError.test(readFileSync(r1.logPath, 'utf8'));
      };
      // Until the control is in and the refusal is logged (bounded), then ~2.5 s more, which
      // spans at least two more reconnect attempts of the rogue (nats-server retries every 1 s).
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline && !(controlAccepted && authErrorSeen) && !rogueSeen) {
        await poll();
        await sleep(100);
      }
      const observeUntil = Date.now() + 2_500;
      while (Date.now() < observeUntil && !rogueSeen) {
        await poll();
        await sleep(100);
      }

      expect(rogueSeen, 'region 1 listed the credential-less gateway as an inbound connection').toBe(false);
      expect(authErrorSeen, `no authorization error in ${rogue.logPath} or ${r1.logPath}`).toBe(true);
      expect(controlAccepted, 'the positive control (same block, right credentials) was not accepted by region 1').toBe(true);
      const rogueLog = readFileSync(rogue.logPath, 'utf8');
      expect(rogueLog.match(/Authorization Violation/gi)?.length ?? 0, 'the rogue was refused on each attempt').toBeGreaterThanOrEqual(2);
      expect(readFileSync(control.logPath, 'utf8')).not.toMatch(authError);

      // Same generated block and gateway name; only the credentials differ.
      const rogueGateway = parseConf(readFileSync(rogue.confPath, 'utf8'))['gateway'] as Record<string, unknown>;
      const controlGateway = parseConf(readFileSync(control.confPath, 'utf8'))['gateway'] as Record<string, unknown>;
      expect(rogueGateway['name']).toBe('astring-r2');
      expect(rogueGateway['authorization']).toBeUndefined();
      expect(JSON.stringify(rogueGateway['gateways'])).not.toContain('@');
      expect(rogueGateway['gateways']).toEqual([{ name: 'astring-r1', urls: [`nats://nats-headless.nats.astring-r1.lab:${config.nats.gateway.port}`] }]);
      const { authorization: controlAuth, ...controlRest } = controlGateway;
      expect({ ...controlRest, host: rogueGateway['host'] }).toEqual(rogueGateway);
      expect(controlAuth).toEqual(gatewayMergeBlock(config, config.regions.find((x) => x.name === 'r2')!)['authorization']);
    } finally {
      await Promise.all([rogue.stop(), control.stop()]);
    }
  }, 30_000);

  it('rejects a gateway with the right credentials but a name outside the list (reject_unknown_cluster)', async () => {
    const c = lab();
    const r1 = c.region('r1');
    const stranger = await startRogueGateway(c, {
      as: 'r2',
      pointAt: ['r1'],
      gatewayAuth: c.gatewayCredentials,
      gatewayName: 'astring-r9',
      label: 'unknown',
      address: EXTRA_ADDRESSES[2],
    });
    try {
      const refused = /Rejecting connection from gateway "astring-r9"/;
      const deadline = Date.now() + 5_000;
      let seen = false;
      while (Date.now() < deadline && !refused.test(readFileSync(r1.logPath, 'utf8'))) {
        if ((await gatewayz(r1.monitorUrl)).inbound_gateways?.['astring-r9']) seen = true;
        await sleep(100);
      }
      expect(readFileSync(r1.logPath, 'utf8')).toMatch(refused);
      const gz = await gatewayz(r1.monitorUrl);
      expect(seen || gz.inbound_gateways?.['astring-r9'] !== undefined).toBe(false);
      expect(Object.values(gz.inbound_gateways ?? {}).flat().map((x) => x.connection?.name)).not.toContain(stranger.serverId);
    } finally {
      await stranger.stop();
    }
  }, 20_000);

  it('keeps credentials out of conf and log files, and never touches the real /etc/hosts', () => {
    const c = lab();
    const credentials = [c.gatewayCredentials, ...c.regions.map((r) => r.credentials)];
    const workDir = fixture.workDir!;
    const files = readdirSync(workDir);
    expect(files).toEqual(expect.arrayContaining(['hosts', 'r1.conf', 'r1.log', 'r2.conf', 'r3.log', 'rogue.log']));
    for (const f of files) {
      // Raw, as written: no password anywhere; a user name only in nats-server's failed-login line.
      expect(credentialLeaks(readFileSync(join(workDir, f), 'utf8'), credentials), `${f} shows a credential`).toEqual([]);
    }
    const hosts = readFileSync('/etc/hosts', 'utf8');
    expect(hosts).toBe(fixture.etcHostsBefore);
    expect(hosts).not.toContain('astring-r1.lab');
  });

  it('stop() ends every server and frees the gateway addresses', async () => {
    const c = lab();
    const pids = c.regions.map((r) => r.pid);
    await c.stop();
    for (const pid of pids) expect(() => process.kill(pid, 0), `process ${pid} still running`).toThrow();
    const port = config.nats.gateway.port;
    for (const r of c.regions) {
      await expect(fetch(`${r.monitorUrl}/healthz`, { signal: AbortSignal.timeout(1_000) })).rejects.toThrow();
      expect(await canListen(loopbackAddress(r.ordinal), port), `gateway port still held on ${r.gatewayAddress}`).toBe(true);
    }
  });
});
