/**
 * The Cassandra lab's own pieces, without starting Cassandra (app/cassandra/bootstrap.test.ts
 * runs the real two-DC cluster): generated configs, JVM flags, and clear failures when the lab
 * cannot be installed or was not.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfigFile } from '../constructs/platform-config.js';
import { labCacheDir } from './install.js';
import { DEFAULT_CONFIG_PATH } from '../test/helpers.js';
import {
  cassandraJvmOptions,
  cassandraLibDir,
  configuredCassandraVersion,
  cassandraYaml,
  ensureCassandraInstalled,
  installPom,
  logbackXml,
  rackdcProperties,
  startCassandraLab,
  type CassandraLabNode,
} from './cassandra.js';

function node(dc: string, i: number): CassandraLabNode {
  const dir = `/lab/nodes/${dc}`;
  return {
    dc,
    rack: 'rack1',
    address: `127.0.0.${i + 1}`,
    cqlPort: 9042,
    storagePort: 17000,
    jmxPort: 17199 + 100 * i,
    contactPoint: `127.0.0.${i + 1}:9042`,
    dir,
    confDir: `${dir}/conf`,
    dataDir: `${dir}/data`,
    systemLog: `${dir}/logs/system.log`,
    stdoutLog: `${dir}/logs/stdout.log`,
  };
}

const nodes = [node('dc1', 0), node('dc2', 1)];

describe('generated node configuration', () => {
  it('cassandra.yaml: own address, both seeds, GossipingPropertyFileSnitch, auth, 16 tokens, small caches', () => {
    const y = parse(cassandraYaml(nodes[1]!, nodes)) as Record<string, unknown>;
    expect(y).toMatchObject({
      cluster_name: 'regionmesh-lab',
      num_tokens: 16,
      endpoint_snitch: 'GossipingPropertyFileSnitch',
      listen_address: '127.0.0.2',
      rpc_address: '127.0.0.2',
      native_transport_port: 9042,
      storage_port: 17000,
      authenticator: 'PasswordAuthenticator',
      authorizer: 'CassandraAuthorizer',
      role_manager: 'CassandraRoleManager',
      concurrent_compactors: 1,
      memtable_heap_space: '64MiB',
      auto_snapshot: false,
      data_file_directories: ['/lab/nodes/dc2/data/data'],
      commitlog_directory: '/lab/nodes/dc2/data/commitlog',
    });
    expect(y['seed_provider']).toEqual([
      { class_name: 'org.apache.cassandra.locator.SimpleSeedProvider', parameters: [{ seeds: '127.0.0.1:17000,127.0.0.2:17000' }] },
    ]);
    // Options removed in Cassandra 4/5 would stop the node at start-up.
    expect(y).not.toHaveProperty('start_rpc');
    expect(y).not.toHaveProperty('rpc_port');
  });

  it('cassandra-rackdc.properties and logback.xml', () => {
    expect(rackdcProperties(nodes[0]!)).toBe('dc=dc1\nrack=rack1\nprefer_local=true\n');
    const xml = logbackXml(nodes[0]!);
    expect(xml).toContain('<file>/lab/nodes/dc1/logs/system.log</file>');
    expect(xml).not.toContain('ConsoleAppender');
  });

  it('JVM flags: bounded heap, Java 17 module access, per-node config, JMX port', () => {
    const flags = cassandraJvmOptions(nodes[1]!, { heapMb: 512, libDir: '/nonexistent' });
    expect(flags).toContain('-Xmx512M');
    const xmx = Number(/^-Xmx(\d+)M$/.exec(flags.find((f) => f.startsWith('-Xmx')) ?? '')?.[1]);
    expect(xmx).toBeLessThanOrEqual(768);
    for (const f of [
      '--add-exports=java.base/jdk.internal.misc=ALL-UNNAMED',
      '--add-opens=java.base/java.lang=ALL-UNNAMED',
      '--add-opens=java.base/sun.nio.ch=ALL-UNNAMED',
      '-Djdk.attach.allowAttachSelf=true',
      '-Dcassandra.config=file:///lab/nodes/dc2/conf/cassandra.yaml',
      '-Dcassandra.storagedir=/lab/nodes/dc2/data',
      '-Dcassandra.jmx.local.port=17299',
      '-Dcassandra-foreground=yes',
      '-Dlogback.configurationFile=/lab/nodes/dc2/conf/logback.xml',
    ]) {
      expect(flags).toContain(f);
    }
    expect(new Set(flags).size).toBe(flags.length);
  });

  it("installs regions/platform.yaml's cassandra.serverVersion: the pom asks for exactly cassandra-all at it, into a per-version cache dir", () => {
    const serverVersion = loadConfigFile(DEFAULT_CONFIG_PATH).cassandra.serverVersion;
    expect(serverVersion).toMatch(/^5\.0\.\d+$/);
    expect(configuredCassandraVersion()).toBe(serverVersion);
    const pom = installPom(serverVersion);
    expect(pom).toContain('<groupId>org.apache.cassandra</groupId>');
    expect(pom).toContain('<artifactId>cassandra-all</artifactId>');
    expect(pom.match(/<version>[^<]*<\/version>/g)).toEqual(['<version>1</version>', `<version>${serverVersion}</version>`]);
    // Under the lab cache ($REGIONMESH_CACHE_DIR, else ~/.cache/regionmesh), one folder per version.
    expect(cassandraLibDir(serverVersion)).toBe(join(labCacheDir(), 'cassandra', serverVersion, 'lib'));
  });
});

describe('clear failures', () => {
  const dirs: string[] = [];
  const saved = process.env['CASSANDRA_LAB_MVN'];
  afterEach(() => {
    if (saved === undefined) delete process.env['CASSANDRA_LAB_MVN'];
    else process.env['CASSANDRA_LAB_MVN'] = saved;
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('install fails with what to do when Maven cannot run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cassandra-lab-'));
    dirs.push(dir);
    process.env['CASSANDRA_LAB_MVN'] = join(dir, 'no-such-mvn');
    await expect(ensureCassandraInstalled({ libDir: join(dir, 'lib') })).rejects.toThrow(/apt-get install maven/);
  });

  it('start fails with what to do when the lab is not installed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cassandra-lab-'));
    dirs.push(dir);
    await expect(startCassandraLab({ labDir: dir, libDir: join(dir, 'lib') })).rejects.toThrow(/not installed in .* ensureCassandraInstalled/);
  });

  it('rejects bad lab options', async () => {
    await expect(startCassandraLab({ dataCenters: ['dc1', 'dc1'] })).rejects.toThrow(/must differ/);
    await expect(startCassandraLab({ dataCenters: ["dc'1", 'dc2'] })).rejects.toThrow(/invalid lab DC name/);
    await expect(startCassandraLab({ heapMb: 2048 })).rejects.toThrow(/heapMb/);
  });
});
