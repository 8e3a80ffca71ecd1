/**
 * What the NATS lab tests (lab/nats.test.ts, lab/nats-add-region.test.ts) share: one
 * super-cluster per file, reached through `lab()` (a start that failed fails every test with its
 * reason: nothing skips); client connections to its regions, closed after each test; its files,
 * kept for inspection when a test failed; the real /etc/hosts as it was before; and nats.conf
 * read back as data.
 */
import { readFileSync, rmSync } from 'node:fs';
import { connect, type ConnectionOptions, type NatsConnection } from 'nats';
import type { TestContext } from 'vitest';
import type { PlatformConfig } from '../regions/schema.js';
import { startNatsSuperCluster, type NatsLabRegion, type NatsSuperCluster } from '../lab/nats.js';
import { tempDir } from './helpers.js';

export class NatsLabFixture {
  /** /etc/hosts before the lab started (the lab must never change it). */
  etcHostsBefore = '';
  workDir: string | undefined;
  private cluster: NatsSuperCluster | undefined;
  private startError: unknown;
  private failed = false;
  private readonly connections: NatsConnection[] = [];

  /** `clientName`: prefix of the connection names (`<clientName>-<region>`). */
  constructor(private readonly clientName: string) {}

  /**
   * For beforeAll: reads /etc/hosts, gets the config from `prepare` (which may pick ports), starts
   * its super-cluster in a new temp dir (`workDirPrefix`) and waits up to 15 s for every gateway
   * link. A failure is kept for `lab()` to throw.
   */
  async start(workDirPrefix: string, prepare: () => Promise<PlatformConfig>): Promise<void> {
    try {
      this.etcHostsBefore = readFileSync('/etc/hosts', 'utf8');
      const config = await prepare();
      this.workDir = tempDir(workDirPrefix);
      this.cluster = await startNatsSuperCluster({ config, workDir: this.workDir });
      await this.cluster.waitForGateways(15_000);
    } catch (e) {
      this.startError = e;
    }
  }

  /** The running super-cluster; throws why it did not start. */
  lab(): NatsSuperCluster {
    if (this.startError) throw this.startError;
    if (!this.cluster) throw new Error('the super-cluster did not start');
    return this.cluster;
  }

  /** A client connection to `region` with its credentials (5 s connect timeout; `opts` win), closed after the test. */
  async client(region: NatsLabRegion, opts: Partial<ConnectionOptions> = {}): Promise<NatsConnection> {
    const nc = await connect({
      servers: region.clientUrl,
      user: region.credentials.user,
      pass: region.credentials.password,
      name: `${this.clientName}-${region.name}`,
      timeout: 5_000,
      ...opts,
    });
    this.connections.push(nc);
    return nc;
  }

  /** For afterEach: notes a failed test (the files are then kept) and closes the test's connections. */
  async afterEach(ctx: TestContext): Promise<void> {
    if (ctx.task.result?.state === 'fail') this.failed = true;
    await this.closeConnections();
  }

  /** For afterAll: closes connections, stops every server, removes the files unless a test failed or the start did. */
  async stop(): Promise<void> {
    await this.closeConnections();
    await this.cluster?.stop();
    if (this.workDir) {
      if (this.failed || !this.cluster) console.error(`NATS lab files kept for inspection: ${this.workDir}`);
      else rmSync(this.workDir, { recursive: true, force: true });
    }
  }

  private async closeConnections(): Promise<void> {
    await Promise.all(this.connections.splice(0).map((nc) => nc.close().catch(() => undefined)));
  }
}

/** nats.conf text back to data: the inverse of natsConfText for `$VAR` values. */
export function parseConf(text: string): Record<string, unknown> {
  return JSON.parse(text.replace(/: (\$[A-Za-z_][A-Za-z0-9_]*)(,?)$/gm, ': "<< $1 >>"$2')) as Record<string, unknown>;
}
