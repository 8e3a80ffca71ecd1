/**
 * Real Apache Cassandra 5.0 with two datacenters on loopback, for tests and for people who
 * want the chat history store on one machine:
 *
 *   node 1: 127.0.0.1, DC `dc1`, rack `rack1`      node 2: 127.0.0.2, DC `dc2`, rack `rack1`
 *
 * - The release production runs: `cassandra.serverVersion` of regions/platform.yaml, installed
 *   from Maven Central (`org.apache.cassandra:cassandra-all` + its runtime jars, via
 *   `mvn dependency:copy-dependencies` on a generated pom) into the lab cache,
 *   `<lab cache>/cassandra/<version>/lib` (see lab/install.ts), shared by every lab directory.
 *   Java 17 and Maven are installed with apt when missing.
 * - Each node is a plain `java ... CassandraDaemon` with its own cassandra.yaml,
 *   cassandra-rackdc.properties (GossipingPropertyFileSnitch) and logback.xml under
 *   `.lab/cassandra/nodes/<dc>/`, PasswordAuthenticator + CassandraAuthorizer, both nodes seeds.
 * - Once both nodes are up the first time, the system keyspaces (system_auth,
 *   system_distributed, system_traces) are ALTERed to NetworkTopologyStrategy {dc1: 1, dc2: 1},
 *   as k8ssandra does, so each DC holds the roles and authenticates on its own.
 * - The lab superuser is `lab_admin` (created once with the default `cassandra` superuser). Why not
 *   `cassandra`: Cassandra reads and writes the default superuser's role at QUORUM of all
 *   replicas, so with one DC down `cassandra` cannot even log in; any other role uses
 *   `auth_read_consistency_level` (LOCAL_QUORUM), exactly like k8ssandra's own superuser.
 *   `cassandra`/`cassandra` still works while both DCs are up.
 *
 * - Every JVM thread runs with a 1 ms timer slack (lab/timer-slack.ts): Cassandra's idle workers
 *   park 10 µs at a time, which on a shared 2-core machine cost the lab about a core at a few
 *   hundred requests a second. Lab tuning only; the K8ssandraCluster we emit keeps the default.
 *
 * Started JVMs are detached (own process group) and found again by their command line
 * (`/proc/<pid>/cmdline` holds the node's conf dir), so `startCassandraLab` reuses nodes of the
 * same lab that are still running (after `npx tsx lab/cassandra.ts start`). A lab for tests (not
 * `persistent`) starts them through `setpriv --pdeathsig SIGKILL` (lab/leftovers.ts): they die
 * with the process that started them, even on kill -9, and a chat lab records their pids.
 *
 * CLI: `npx tsx lab/cassandra.ts start|stop|status|reset`.
 */
import { loadConfigFile } from '../constructs/platform-config.js';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import cassandra from 'cassandra-driver';
import { stringify as toYaml } from 'yaml';
import { DEFAULT_CONFIG_PATH, REPO_ROOT, ensureAptPackages, findExecutable, labCacheDir, runLogged, withInstallLock, type AptNeed } from './install.js';
import { describePortHolders, dieWithParent, forgetSpawn, recordSpawn } from './leftovers.js';
import { canListen, exitHook, pollUntil, processes, tailFile, tcpOpen } from './process.js';
import { CASSANDRA_TIMER_SLACK_NS, withTimerSlack } from './timer-slack.js';


/** The Cassandra release production runs, and so the lab: `cassandra.serverVersion` of regions/platform.yaml. */
export function configuredCassandraVersion(): string {
  return loadConfigFile(DEFAULT_CONFIG_PATH).cassandra.serverVersion;
}

/** Where the jars of Cassandra `version` are kept: `<lab cache>/cassandra/<version>/lib`. */
export function cassandraLibDir(version: string): string {
  return join(labCacheDir(), 'cassandra', version, 'lib');
}
/** Where the lab keeps jars, configs, data and logs (gitignored). */
export const DEFAULT_LAB_DIR = join(REPO_ROOT, '.lab', 'cassandra');

export const MAVEN_MISSING =
  'Maven (mvn) is not installed (the lab installs it with apt when it runs as root): the Cassandra lab downloads org.apache.cassandra:cassandra-all from Maven Central with it. Run `apt-get install maven` (Debian/Ubuntu) or set CASSANDRA_LAB_MVN';
export const JAVA_MISSING =
  'no Java 11 or 17 found (Cassandra 5.0 runs on those only; the lab installs Java 17 with apt when it runs as root): run `apt-get install openjdk-17-jre-headless` (Debian/Ubuntu) or set CASSANDRA_LAB_JAVA to a java binary';

/** The lab's superuser (see the module comment for why it is not `cassandra`). */
export const LAB_SUPERUSER = { username: 'lab_admin', password: 'lab_admin' } as const;
const DEFAULT_SUPERUSER = { username: 'cassandra', password: 'cassandra' } as const;

const CLUSTER_NAME = 'regionmesh-lab';

// ---------------------------------------------------------------------------------------------
// Options and the per-node layout

export interface CassandraLabOptions {
  /** Lab directory: configs, data, logs (default `<repo>/.lab/cassandra`, or $CASSANDRA_LAB_DIR). */
  readonly labDir?: string;
  /** Cassandra release (default: `cassandra.serverVersion` of regions/platform.yaml). */
  readonly version?: string;
  /** Where its jars are installed (default `cassandraLibDir(version)`, in the lab cache). */
  readonly libDir?: string;
  /** The two DC names (default: the first two regions' DCs of regions/platform.yaml). Node i listens on 127.0.0.<i+1>. */
  readonly dataCenters?: readonly [string, string];
  /** CQL port on each node's address (default 9042; the addresses differ, so one port is fine). */
  readonly cqlPort?: number;
  /** Internode (gossip/storage) port on each node's address (default 17000). */
  readonly storagePort?: number;
  /** Local JMX ports (bound on 127.0.0.1, so they must differ; default 17199, 17299). */
  readonly jmxPorts?: readonly [number, number];
  /** Max heap per node in MiB (default 512, at most 768). */
  readonly heapMb?: number;
  /**
   * Started for a human (CLI `start`): the JVMs outlive this process and `handle.stop()` leaves
   * them alone. Otherwise (tests) they are killed when this process exits and by `stop()`.
   */
  readonly persistent?: boolean;
  /** Progress lines (default: none). */
  readonly log?: (line: string) => void;
}

export interface CassandraLabNode {
  readonly dc: string;
  readonly rack: string;
  /** Listen, broadcast and CQL (rpc) address. */
  readonly address: string;
  readonly cqlPort: number;
  readonly storagePort: number;
  readonly jmxPort: number;
  /** `address:cqlPort`, a driver contact point. */
  readonly contactPoint: string;
  readonly dir: string;
  readonly confDir: string;
  readonly dataDir: string;
  /** Cassandra's own log (logback). */
  readonly systemLog: string;
  /** The JVM's stdout/stderr. */
  readonly stdoutLog: string;
}

interface ResolvedOptions {
  readonly labDir: string;
  readonly version: string;
  readonly libDir: string;
  readonly nodes: readonly [CassandraLabNode, CassandraLabNode];
  readonly heapMb: number;
  readonly persistent: boolean;
  readonly log: (line: string) => void;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,47}$/;

function resolveOptions(opts: CassandraLabOptions = {}): ResolvedOptions {
  const labDir = opts.labDir ?? process.env['CASSANDRA_LAB_DIR'] ?? DEFAULT_LAB_DIR;
  const version = opts.version ?? configuredCassandraVersion();
  if (!/^\d+\.\d+\.\d+$/.test(version)) throw new Error(`Cassandra version "${version}" is not an exact release (X.Y.Z)`);
  const [dc1, dc2] = opts.dataCenters ?? defaultDataCenters();
  for (const dc of [dc1, dc2]) if (!NAME.test(dc)) throw new Error(`invalid lab DC name ${JSON.stringify(dc)} (letters, digits, . _ -)`);
  if (dc1 === dc2) throw new Error(`the lab's two DC names must differ (got ${dc1} twice)`);
  const heapMb = opts.heapMb ?? 512;
  if (!Number.isInteger(heapMb) || heapMb < 256 || heapMb > 768) throw new Error(`heapMb must be 256..768 (got ${heapMb})`);
  const cqlPort = opts.cqlPort ?? 9042;
  const storagePort = opts.storagePort ?? 17000;
  const [jmx1, jmx2] = opts.jmxPorts ?? [17199, 17299];
  if (jmx1 === jmx2) throw new Error('the two JMX ports must differ (both bind 127.0.0.1)');
  const node = (dc: string, i: number, jmxPort: number): CassandraLabNode => {
    const dir = join(labDir, 'nodes', dc);
    const address = `127.0.0.${i + 1}`;
    return {
      dc,
      rack: 'rack1',
      address,
      cqlPort,
      storagePort,
      jmxPort,
      contactPoint: `${address}:${cqlPort}`,
      dir,
      confDir: join(dir, 'conf'),
      dataDir: join(dir, 'data'),
      systemLog: join(dir, 'logs', 'system.log'),
      stdoutLog: join(dir, 'logs', 'stdout.log'),
    };
  };
  return {
    labDir,
    version,
    libDir: opts.libDir ?? cassandraLibDir(version),
    nodes: [node(dc1, 0, jmx1), node(dc2, 1, jmx2)],
    heapMb,
    persistent: opts.persistent ?? false,
    log: opts.log ?? (() => {}),
  };
}

// ---------------------------------------------------------------------------------------------
// Java and Maven

/** Major version of a java binary (`17`), or undefined if it does not run. */
export function javaMajorVersion(bin: string): number | undefined {
  const r = spawnSync(bin, ['-version'], { encoding: 'utf8', timeout: 20_000 });
  if (r.error || r.status !== 0) return undefined;
  const m = /version "(?:1\.)?(\d+)/.exec(`${r.stderr}${r.stdout}`);
  return m ? Number(m[1]) : undefined;
}

/** A java binary Cassandra 5.0 supports (11 or 17), preferring 17; throws JAVA_MISSING. */
export function findJava(): string {
  const fromEnv = process.env['CASSANDRA_LAB_JAVA'];
  if (fromEnv) {
    const v = javaMajorVersion(fromEnv);
    if (v === 11 || v === 17) return fromEnv;
    throw new Error(`CASSANDRA_LAB_JAVA=${fromEnv} is Java ${v ?? '(does not run)'}; ${JAVA_MISSING}`);
  }
  const candidates: string[] = [];
  const jvmDir = '/usr/lib/jvm';
  if (existsSync(jvmDir)) {
    const dirs = readdirSync(jvmDir).sort();
    for (const d of dirs.filter((x) => /(^|-)17/.test(x))) candidates.push(join(jvmDir, d, 'bin', 'java'));
    for (const d of dirs.filter((x) => /(^|-)11/.test(x))) candidates.push(join(jvmDir, d, 'bin', 'java'));
  }
  const javaHome = process.env['JAVA_HOME'];
  if (javaHome) candidates.push(join(javaHome, 'bin', 'java'));
  const onPath = findExecutable('java');
  if (onPath) candidates.push(onPath);
  let fallback: string | undefined;
  for (const c of candidates) {
    if (!existsSync(c)) continue;
    const v = javaMajorVersion(c);
    if (v === 17) return c;
    if (v === 11) fallback ??= c;
  }
  if (fallback) return fallback;
  throw new Error(JAVA_MISSING);
}

/** Java 17 and Maven, installed with apt when missing (unless CASSANDRA_LAB_JAVA / CASSANDRA_LAB_MVN name them). */
export const CASSANDRA_LAB_APT: readonly AptNeed[] = [
  {
    pkg: 'openjdk-17-jre-headless',
    present: () => {
      if (process.env['CASSANDRA_LAB_JAVA']) return true; // findJava reports a wrong one
      try {
        findJava();
        return true;
      } catch {
        return false;
      }
    },
    why: 'Java 17, which runs Cassandra 5.0',
  },
  { pkg: 'maven', present: () => Boolean(process.env['CASSANDRA_LAB_MVN']) || findExecutable('mvn') !== undefined, why: 'mvn, which fetches Cassandra from Maven Central' },
];

function findMaven(): string {
  const fromEnv = process.env['CASSANDRA_LAB_MVN'];
  if (fromEnv) return fromEnv;
  const bin = findExecutable('mvn');
  if (!bin) throw new Error(MAVEN_MISSING);
  return bin;
}

/** The pom whose runtime dependencies are exactly Cassandra's (exported for tests). */
export function installPom(version: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>regionmesh.lab</groupId>
  <artifactId>cassandra-lab</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.cassandra</groupId>
      <artifactId>cassandra-all</artifactId>
      <version>${version}</version>
    </dependency>
  </dependencies>
</project>
`;
}

export interface CassandraInstall {
  readonly version: string;
  readonly libDir: string;
  readonly jars: number;
  /** False when the jars were already there. */
  readonly installedNow: boolean;
  readonly ms: number;
}

interface InstallMarker {
  readonly version: string;
  readonly jars: number;
}

function readMarker(libDir: string): InstallMarker | undefined {
  try {
    return JSON.parse(readFileSync(join(libDir, '.installed.json'), 'utf8')) as InstallMarker;
  } catch {
    return undefined;
  }
}

/**
 * Resolves cassandra-all `version` (default: the configured serverVersion) and its runtime jars
 * into the lab cache (idempotent: nothing to do when a complete install of that version is
 * there; safe from several processes at once). Installs Java 17 and Maven with apt when missing.
 * Maven's own cache (~/.m2) makes a reinstall cheap. Throws MAVEN_MISSING / JAVA_MISSING with
 * what to install when that is not possible.
 */
export async function ensureCassandraInstalled(opts: Pick<CassandraLabOptions, 'version' | 'libDir' | 'log'> = {}): Promise<CassandraInstall> {
  const started = Date.now();
  const { version, libDir, log } = resolveOptions({ dataCenters: ['dc1', 'dc2'], ...opts });
  const complete = () => {
    const marker = readMarker(libDir);
    return marker?.version === version && existsSync(join(libDir, `cassandra-all-${version}.jar`)) ? marker : undefined;
  };
  const already = complete();
  if (already) {
    findJava(); // fail early with a clear message
    return { version, libDir, jars: already.jars, installedNow: false, ms: Date.now() - started };
  }
  await ensureAptPackages(CASSANDRA_LAB_APT, log);
  findJava();
  return withInstallLock(`${libDir}.lock`, `Cassandra ${version}`, async () => {
    const marker = complete();
    if (marker) return { version, libDir, jars: marker.jars, installedNow: false, ms: Date.now() - started };
    const mvn = findMaven();
    const work = join(libDir, '..', 'install');
    mkdirSync(work, { recursive: true });
    writeFileSync(join(work, 'pom.xml'), installPom(version));
    const tmpLib = `${libDir}.tmp`;
    rmSync(tmpLib, { recursive: true, force: true });
    const mvnLog = join(work, 'mvn.log');
    log(`cassandra lab: resolving org.apache.cassandra:cassandra-all:${version} from Maven Central into ${libDir} (log: ${mvnLog})`);
    const code = await runLogged(
      mvn,
      ['-B', '-q', '-f', join(work, 'pom.xml'), 'dependency:copy-dependencies', `-DoutputDirectory=${tmpLib}`, '-DincludeScope=runtime'],
      mvnLog,
      20 * 60_000,
    ).catch((e: Error) => {
      throw new Error(`cannot run ${mvn}: ${e.message}; ${MAVEN_MISSING}`);
    });
    if (code !== 0) {
      throw new Error(`mvn dependency:copy-dependencies for cassandra-all:${version} failed (exit ${code}); last lines of ${mvnLog}:\n${tailFile(mvnLog, 30)}`);
    }
    const jars = readdirSync(tmpLib).filter((f) => f.endsWith('.jar'));
    if (!jars.includes(`cassandra-all-${version}.jar`)) throw new Error(`Maven did not deliver cassandra-all-${version}.jar into ${tmpLib}`);
    writeFileSync(join(tmpLib, '.installed.json'), JSON.stringify({ version, jars: jars.length } satisfies InstallMarker));
    rmSync(libDir, { recursive: true, force: true });
    renameSync(tmpLib, libDir);
    const ms = Date.now() - started;
    log(`cassandra lab: ${jars.length} jars in ${libDir} (${(ms / 1000).toFixed(1)} s)`);
    return { version, libDir, jars: jars.length, installedNow: true, ms };
  }, { log });
}

// ---------------------------------------------------------------------------------------------
// Node configuration

/** cassandra.yaml for one node (exported for tests). */
export function cassandraYaml(node: CassandraLabNode, seeds: readonly CassandraLabNode[]): string {
  const config: Record<string, unknown> = {
    cluster_name: CLUSTER_NAME,
    num_tokens: 16,
    partitioner: 'org.apache.cassandra.dht.Murmur3Partitioner',
    endpoint_snitch: 'GossipingPropertyFileSnitch',
    dynamic_snitch: false,
    seed_provider: [
      {
        class_name: 'org.apache.cassandra.locator.SimpleSeedProvider',
        parameters: [{ seeds: seeds.map((s) => `${s.address}:${s.storagePort}`).join(',') }],
      },
    ],
    listen_address: node.address,
    broadcast_address: node.address,
    storage_port: node.storagePort,
    rpc_address: node.address,
    start_native_transport: true,
    native_transport_port: node.cqlPort,
    // Both nodes are seeds of a brand-new cluster: nothing to stream at first start.
    auto_bootstrap: false,

    authenticator: 'PasswordAuthenticator',
    authorizer: 'CassandraAuthorizer',
    role_manager: 'CassandraRoleManager',
    network_authorizer: 'AllowAllNetworkAuthorizer',
    roles_validity: '2000ms',
    permissions_validity: '2000ms',
    credentials_validity: '2000ms',

    data_file_directories: [join(node.dataDir, 'data')],
    commitlog_directory: join(node.dataDir, 'commitlog'),
    saved_caches_directory: join(node.dataDir, 'saved_caches'),
    hints_directory: join(node.dataDir, 'hints'),
    cdc_raw_directory: join(node.dataDir, 'cdc_raw'),
    commitlog_sync: 'periodic',
    commitlog_sync_period: '10000ms',
    commitlog_segment_size: '8MiB',
    commitlog_total_space: '256MiB',

    // Small and quiet: two nodes and a test suite share 2 cores.
    concurrent_reads: 8,
    concurrent_writes: 8,
    concurrent_counter_writes: 4,
    concurrent_materialized_view_writes: 2,
    concurrent_compactors: 1,
    compaction_throughput: '16MiB/s',
    // Memtables off the 512 MiB heap and big enough that a benchmark's minute of writes is not
    // flushed and compacted while it is measured (with 64 MiB on heap, flushes every ~10 s at
    // 2,000 msg/s and their compactions took a quarter of a core per node).
    memtable_allocation_type: 'offheap_objects',
    memtable_heap_space: '64MiB',
    memtable_offheap_space: '192MiB',
    key_cache_size: '8MiB',
    counter_cache_size: '0MiB',
    prepared_statements_cache_size: '8MiB',
    file_cache_size: '32MiB',
    networking_cache_size: '16MiB',
    index_summary_capacity: '8MiB',
    native_transport_max_threads: 16,
    auto_snapshot: false,
    incremental_backups: false,
    snapshot_before_compaction: false,
    // Hints stay on: a node of the lab that is stopped for a test catches up when restarted.
    hinted_handoff_enabled: true,
    max_hint_window: '1h',
    write_request_timeout: '5000ms',
    read_request_timeout: '10000ms',
    default_keyspace_rf: 1,
    storage_compatibility_mode: 'NONE',
  };
  return `# Generated by lab/cassandra.ts for the ${node.dc} node of the regionmesh Cassandra lab.\n${toYaml(config)}`;
}

/** cassandra-rackdc.properties (GossipingPropertyFileSnitch). */
export function rackdcProperties(node: CassandraLabNode): string {
  return `dc=${node.dc}\nrack=${node.rack}\nprefer_local=true\n`;
}

/** logback.xml: everything at INFO into the node's system.log (rotated), nothing on stdout. */
export function logbackXml(node: CassandraLabNode): string {
  const base = node.systemLog.replace(/\.log$/, '');
  return `<configuration scan="false" debug="false">
  <jmxConfigurator />
  <appender name="SYSTEMLOG" class="ch.qos.logback.core.rolling.RollingFileAppender">
    <file>${node.systemLog}</file>
    <rollingPolicy class="ch.qos.logback.core.rolling.FixedWindowRollingPolicy">
      <fileNamePattern>${base}.%i.log.zip</fileNamePattern>
      <minIndex>1</minIndex>
      <maxIndex>3</maxIndex>
    </rollingPolicy>
    <triggeringPolicy class="ch.qos.logback.core.rolling.SizeBasedTriggeringPolicy">
      <maxFileSize>20MB</maxFileSize>
    </triggeringPolicy>
    <encoder>
      <pattern>%-5level [%thread] %date{ISO8601} %F:%L - %msg%n</pattern>
    </encoder>
  </appender>
  <root level="INFO">
    <appender-ref ref="SYSTEMLOG" />
  </root>
  <logger name="org.apache.cassandra" level="INFO"/>
  <logger name="com.thinkaurelius.thrift" level="ERROR"/>
</configuration>
`;
}

/** The JPMS flags of Cassandra 5.0's conf/jvm17-server.options: without them it does not start on Java 17. */
const JAVA17_MODULE_FLAGS = [
  '-Djdk.attach.allowAttachSelf=true',
  '--add-exports=java.base/jdk.internal.misc=ALL-UNNAMED',
  '--add-exports=java.management.rmi/com.sun.jmx.remote.internal.rmi=ALL-UNNAMED',
  '--add-exports=java.rmi/sun.rmi.registry=ALL-UNNAMED',
  '--add-exports=java.rmi/sun.rmi.server=ALL-UNNAMED',
  '--add-exports=java.sql/java.sql=ALL-UNNAMED',
  '--add-exports=java.base/java.lang.ref=ALL-UNNAMED',
  '--add-exports=jdk.unsupported/sun.misc=ALL-UNNAMED',
  '--add-exports=jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED',
  '--add-exports=jdk.attach/sun.tools.attach=ALL-UNNAMED',
  '--add-opens=java.base/java.lang.module=ALL-UNNAMED',
  '--add-opens=java.base/jdk.internal.loader=ALL-UNNAMED',
  '--add-opens=java.base/jdk.internal.ref=ALL-UNNAMED',
  '--add-opens=java.base/jdk.internal.reflect=ALL-UNNAMED',
  '--add-opens=java.base/jdk.internal.math=ALL-UNNAMED',
  '--add-opens=java.base/jdk.internal.module=ALL-UNNAMED',
  '--add-opens=java.base/jdk.internal.util.jar=ALL-UNNAMED',
  '--add-opens=jdk.management/com.sun.management.internal=ALL-UNNAMED',
  '--add-opens=java.base/sun.nio.ch=ALL-UNNAMED',
  '--add-opens=java.base/java.io=ALL-UNNAMED',
  '--add-opens=java.base/java.lang.reflect=ALL-UNNAMED',
  '--add-opens=jdk.compiler/com.sun.tools.javac=ALL-UNNAMED',
  '--add-opens=java.base/java.lang=ALL-UNNAMED',
  '--add-opens=java.base/java.util=ALL-UNNAMED',
  '--add-opens=java.base/java.nio=ALL-UNNAMED',
];

/** The JVM arguments for one node, before `-cp` (exported for tests). */
export function cassandraJvmOptions(node: CassandraLabNode, opts: { readonly heapMb: number; readonly libDir: string }): string[] {
  const jamm = existsSync(opts.libDir) ? readdirSync(opts.libDir).find((f) => /^jamm-.*\.jar$/.test(f)) : undefined;
  return [
    // Memory: bounded heap, direct memory and code cache; no pre-touch (a lab idles mostly).
    `-Xms${Math.min(256, opts.heapMb)}M`,
    `-Xmx${opts.heapMb}M`,
    '-XX:MaxDirectMemorySize=256M',
    '-XX:ReservedCodeCacheSize=96M',
    '-XX:MaxMetaspaceSize=256M',
    '-Xss256k',
    // CPU: the machine has 2 cores for two JVMs and the tests.
    '-XX:ActiveProcessorCount=2',
    '-Dcassandra.available_processors=2',
    '-XX:+UseG1GC',
    '-XX:ParallelGCThreads=2',
    '-XX:ConcGCThreads=1',
    '-XX:MaxGCPauseMillis=300',
    '-XX:CICompilerCount=2',
    '-XX:TieredStopAtLevel=1',
    '-XX:+UseThreadPriorities',
    '-XX:+PerfDisableSharedMem',
    '-XX:+HeapDumpOnOutOfMemoryError',
    `-XX:HeapDumpPath=${join(node.dir, 'logs')}`,
    '-XX:+CrashOnOutOfMemoryError',
    `-XX:ErrorFile=${join(node.dir, 'logs', 'hs_err_%p.log')}`,
    '-Djava.net.preferIPv4Stack=true',
    '-da:net.openhft...',
    ...JAVA17_MODULE_FLAGS,
    '-Dio.netty.tryReflectionSetAccessible=true',
    '-Dio.netty.allocator.useCacheForAllThreads=true',
    '-Dio.netty.allocator.maxOrder=11',
    ...(jamm ? [`-javaagent:${join(opts.libDir, jamm)}`] : []),
    // What bin/cassandra + cassandra-env.sh would pass.
    `-Dcassandra.config=file://${join(node.confDir, 'cassandra.yaml')}`,
    `-Dcassandra-rackdc.properties=file://${join(node.confDir, 'cassandra-rackdc.properties')}`,
    `-Dlogback.configurationFile=${join(node.confDir, 'logback.xml')}`,
    `-Dcassandra.logdir=${join(node.dir, 'logs')}`,
    `-Dcassandra.storagedir=${node.dataDir}`,
    `-Dcassandra-pidfile=${join(node.dir, 'cassandra.pid')}`,
    `-Dcassandra.jmx.local.port=${node.jmxPort}`,
    '-Dcassandra-foreground=yes',
    // Lab speed-ups: no 30 s gossip settling, default superuser set up 1 s after start.
    '-Dcassandra.skip_wait_for_gossip_to_settle=0',
    '-Dcassandra.superuser_setup_delay_ms=1000',
    // Stop faster: announce the shutdown for 0.2 s instead of 2 s.
    '-Dcassandra.shutdown_announce_in_ms=200',
  ];
}

// ---------------------------------------------------------------------------------------------
// Processes

function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 3 (after the parenthesised command) is the state; Z = zombie, X = dead.
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** The pid of the running JVM of `node` (found by its conf dir on the command line), if any. */
export function runningPid(node: CassandraLabNode): number | undefined {
  const marker = `-Dcassandra.config=file://${join(node.confDir, 'cassandra.yaml')}`;
  return processes().find((p) => p.argv.includes(marker) && p.argv.includes('org.apache.cassandra.service.CassandraDaemon') && isAlive(p.pid))?.pid;
}

// JVMs started by this process for a non-persistent lab: killed when the process exits.
const ephemeral = new Set<number>();
const installExitHook = exitHook(
  () => {
    for (const pid of ephemeral) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  },
  { signals: true },
);

async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  return (await pollUntil(async () => (isAlive(pid) ? 'running' : undefined), { timeoutMs, intervalMs: 100 })) === undefined;
}

/** SIGTERM (Cassandra drains and announces shutdown to gossip), SIGKILL after `graceMs`. */
async function killJvm(pid: number, graceMs = 30_000): Promise<void> {
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  if (!(await waitForExit(pid, graceMs))) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
    if (!(await waitForExit(pid, 10_000))) throw new Error(`Cassandra JVM ${pid} did not exit after SIGKILL`);
  }
  ephemeral.delete(pid);
}

// ---------------------------------------------------------------------------------------------
// Lab state (what the data dir was made for; whether the lab superuser exists)

interface LabState {
  readonly version: string;
  /** Topology the data dirs belong to; another one needs a wipe. */
  readonly fingerprint: string;
  readonly setupDone: boolean;
  /** True when started by the CLI for a human: tests then leave the JVMs running. */
  readonly persistent: boolean;
}

function statePath(o: ResolvedOptions): string {
  return join(o.labDir, 'nodes', 'lab-state.json');
}

function readState(o: ResolvedOptions): LabState | undefined {
  try {
    return JSON.parse(readFileSync(statePath(o), 'utf8')) as LabState;
  } catch {
    return undefined;
  }
}

function writeState(o: ResolvedOptions, s: LabState): void {
  mkdirSync(join(o.labDir, 'nodes'), { recursive: true });
  writeFileSync(statePath(o), `${JSON.stringify(s, null, 2)}\n`);
}

function fingerprint(o: ResolvedOptions): string {
  return JSON.stringify(o.nodes.map((n) => ({ dc: n.dc, rack: n.rack, address: n.address, storagePort: n.storagePort, cqlPort: n.cqlPort })));
}

// ---------------------------------------------------------------------------------------------
// Driver helpers

export interface Credentials {
  readonly username: string;
  readonly password: string;
}

/** A client whose local DC is `node.dc`, contact point `node.contactPoint` (not yet connected). */
export function labClient(node: CassandraLabNode, credentials: Credentials = LAB_SUPERUSER, extra: Partial<cassandra.ClientOptions> = {}): cassandra.Client {
  return new cassandra.Client({
    contactPoints: [node.contactPoint],
    localDataCenter: node.dc,
    credentials: { username: credentials.username, password: credentials.password },
    socketOptions: { connectTimeout: 3_000, readTimeout: 15_000 },
    queryOptions: { consistency: cassandra.types.consistencies.localQuorum },
    ...extra,
  });
}

function describeDriverError(e: unknown): string {
  const err = e as Error & { innerErrors?: Record<string, Error> };
  const inner = Object.entries(err?.innerErrors ?? {}).map(([h, ie]) => `${h}: ${ie?.message ?? String(ie)}`);
  return inner.length ? `${err.message} [${inner.join('; ')}]` : (err?.message ?? String(e));
}

async function withClient<T>(node: CassandraLabNode, credentials: Credentials, fn: (c: cassandra.Client) => Promise<T>): Promise<T> {
  const client = labClient(node, credentials, { pooling: { warmup: false } });
  try {
    await client.connect();
    return await fn(client);
  } finally {
    await client.shutdown().catch(() => {});
  }
}

interface NodeView {
  readonly dc: string;
  readonly bootstrapped: string;
  readonly schemaVersion: string;
  readonly peers: ReadonlyArray<{ readonly address: string; readonly dc: string; readonly schemaVersion: string }>;
  /** Gossip STATUS per peer address (`NORMAL`, `shutdown`, ...). */
  readonly gossipStatus: ReadonlyMap<string, string>;
  /** Gossip `generation:heartbeat` per address: it advances while that node is alive. */
  readonly heartbeat: ReadonlyMap<string, string>;
}

async function nodeView(client: cassandra.Client): Promise<NodeView> {
  const local = (await client.execute('SELECT data_center, bootstrapped, schema_version FROM system.local')).first();
  const peers = (await client.execute('SELECT peer, data_center, schema_version FROM system.peers_v2')).rows;
  const gossip = (await client.execute('SELECT address, status, status_with_port, generation, heartbeat FROM system_views.gossip_info')).rows;
  return {
    dc: String(local.get('data_center')),
    bootstrapped: String(local.get('bootstrapped')),
    schemaVersion: String(local.get('schema_version')),
    peers: peers.map((r) => ({ address: String(r.get('peer')), dc: String(r.get('data_center')), schemaVersion: String(r.get('schema_version')) })),
    gossipStatus: new Map(gossip.map((r) => [String(r.get('address')), String(r.get('status_with_port') ?? r.get('status') ?? '').split(',')[0] ?? ''])),
    heartbeat: new Map(gossip.map((r) => [String(r.get('address')), `${r.get('generation')}:${r.get('heartbeat')}`])),
  };
}

// ---------------------------------------------------------------------------------------------
// The lab

export interface CassandraLabHandle {
  readonly labDir: string;
  readonly nodes: readonly [CassandraLabNode, CassandraLabNode];
  /** The DC names, node order. */
  readonly dataCenters: readonly [string, string];
  /** Superuser to use (LOCAL_QUORUM auth reads, so it works with one DC down). */
  readonly superuser: Credentials;
  /** True when the JVMs belong to this handle (started or adopted by it): `stop()` ends them. */
  readonly owned: boolean;
  node(dc: string): CassandraLabNode;
  /** Resolves when both nodes are Up/Normal, see each other, agree on schema, and the driver sees both DCs. */
  waitUntilUp(timeoutMs?: number): Promise<void>;
  /** Stops one node (SIGTERM, then SIGKILL) and waits for the JVM to exit. */
  stopNode(dc: string): Promise<void>;
  /** Starts one node again (no wait; call waitUntilUp). */
  startNode(dc: string): Promise<void>;
  /** Stops the JVMs this handle owns and waits for them to exit. */
  stop(): Promise<void>;
}

function writeNodeConfig(o: ResolvedOptions, node: CassandraLabNode): void {
  for (const d of [node.confDir, node.dataDir, join(node.dir, 'logs')]) mkdirSync(d, { recursive: true });
  writeFileSync(join(node.confDir, 'cassandra.yaml'), cassandraYaml(node, o.nodes));
  writeFileSync(join(node.confDir, 'cassandra-rackdc.properties'), rackdcProperties(node));
  writeFileSync(join(node.confDir, 'logback.xml'), logbackXml(node));
}

async function spawnNode(o: ResolvedOptions, node: CassandraLabNode, java: string): Promise<number> {
  const existing = runningPid(node);
  if (existing !== undefined) return existing;
  for (const [host, port, what] of [
    [node.address, node.cqlPort, 'CQL'],
    [node.address, node.storagePort, 'storage'],
    ['127.0.0.1', node.jmxPort, 'JMX'],
  ] as const) {
    if (!(await canListen(host, port))) {
      throw new Error(`cassandra lab: ${what} port ${host}:${port} for ${node.dc} is taken by ${describePortHolders(host, port)}; free it or pass other ports to startCassandraLab`);
    }
  }
  writeNodeConfig(o, node);
  const args = [...cassandraJvmOptions(node, { heapMb: o.heapMb, libDir: o.libDir }), '-cp', `${node.confDir}:${o.libDir}/*`, 'org.apache.cassandra.service.CassandraDaemon'];
  // A lab for tests (not persistent): the JVM dies with this process, even on kill -9 (setpriv).
  // A 1 ms timer slack (lab/timer-slack.ts): Cassandra's idle workers park 10 µs at a time.
  const cmd = withTimerSlack(CASSANDRA_TIMER_SLACK_NS, o.persistent ? { bin: java, args } : dieWithParent(java, args));
  const out = openSync(node.stdoutLog, 'a');
  let child: ChildProcess;
  try {
    child = spawn(cmd.bin, cmd.args, { cwd: node.dir, detached: true, stdio: ['ignore', out, out], env: { ...process.env, LANG: 'C.UTF-8' } });
  } finally {
    closeSync(out);
  }
  child.unref();
  const pid = child.pid;
  if (pid === undefined) throw new Error(`cassandra lab: cannot start ${java} for ${node.dc}`);
  child.once('error', () => {});
  if (!o.persistent) {
    installExitHook();
    ephemeral.add(pid);
    recordSpawn(`cassandra ${node.dc}`, pid);
    child.once('exit', () => forgetSpawn(pid));
  }
  o.log(`cassandra lab: started ${node.dc} on ${node.contactPoint} (pid ${pid}, log ${node.systemLog})`);
  return pid;
}

/**
 * Starts (or reuses) the two-DC lab. Idempotent: nodes of this lab that are already running are
 * reused; a data dir made for another topology (other DC names/addresses) is wiped first, which
 * is refused while its nodes run. Does not wait: call `handle.waitUntilUp()`.
 */
/** The DC names of the default config's first two regions (by ordinal): the lab mirrors the platform. */
export function defaultDataCenters(): [string, string] {
  const regions = [...loadConfigFile(DEFAULT_CONFIG_PATH).regions].sort((a, b) => a.ordinal - b.ordinal);
  const [a, b] = regions.map((r) => r.cassandra.datacenter);
  if (!a || !b) throw new Error('regions/platform.yaml needs at least two regions for the two-DC Cassandra lab');
  return [a, b];
}

export async function startCassandraLab(opts: CassandraLabOptions = {}): Promise<CassandraLabHandle> {
  const o = resolveOptions(opts);
  const marker = readMarker(o.libDir);
  if (marker?.version !== o.version) throw new Error(`cassandra lab: Cassandra ${o.version} is not installed in ${o.libDir}; call ensureCassandraInstalled() first`);
  const java = findJava();
  const fp = fingerprint(o);
  let state = readState(o);
  const running = o.nodes.map((n) => runningPid(n));
  if (state && (state.fingerprint !== fp || state.version !== marker.version)) {
    if (running.some((p) => p !== undefined)) {
      throw new Error(`cassandra lab: nodes in ${o.labDir} run with another topology or version; stop them first (npx tsx lab/cassandra.ts stop)`);
    }
    o.log(`cassandra lab: data in ${join(o.labDir, 'nodes')} was made for another topology or version; wiping it`);
    rmSync(join(o.labDir, 'nodes'), { recursive: true, force: true });
    state = undefined;
  }
  if (running.every((p) => p === undefined)) {
    // Nothing runs: this start decides whether the JVMs outlive the process.
    state = { version: marker.version, fingerprint: fp, setupDone: state?.setupDone ?? false, persistent: o.persistent };
  } else {
    state = { version: marker.version, fingerprint: fp, setupDone: state?.setupDone ?? false, persistent: (state?.persistent ?? false) || o.persistent };
    o.log(`cassandra lab: reusing running node(s) ${o.nodes.filter((_, i) => running[i] !== undefined).map((n) => n.dc).join(', ')}`);
  }
  writeState(o, state);
  // JVMs belong to this handle unless a human started them with the CLI.
  const owned = !state.persistent || o.persistent;
  const pids = new Map<string, number>();
  for (const [i, n] of o.nodes.entries()) {
    const reused = running[i];
    if (reused !== undefined) {
      pids.set(n.dc, reused);
      if (owned && !o.persistent) {
        installExitHook();
        ephemeral.add(reused);
        recordSpawn(`cassandra ${n.dc}`, reused);
      }
    }
  }
  // Both are seeds: start them together.
  for (const n of o.nodes) if (!pids.has(n.dc)) pids.set(n.dc, await spawnNode(o, n, java));

  const nodeByDc = (dc: string): CassandraLabNode => {
    const n = o.nodes.find((x) => x.dc === dc);
    if (!n) throw new Error(`cassandra lab has no DC ${dc} (has ${o.nodes.map((x) => x.dc).join(', ')})`);
    return n;
  };

  const failIfDead = (n: CassandraLabNode) => {
    const pid = pids.get(n.dc);
    if (pid !== undefined && !isAlive(pid) && runningPid(n) === undefined) {
      throw new Error(
        `cassandra lab: the ${n.dc} JVM (pid ${pid}) is not running (it exited, or was stopped: call startNode('${n.dc}') first).\n--- ${n.systemLog}\n${tailFile(n.systemLog, 40)}\n--- ${n.stdoutLog}\n${tailFile(n.stdoutLog, 20)}`,
      );
    }
  };

  const setupOnce = async () => {
    if (readState(o)?.setupDone) return;
    const [first] = o.nodes;
    // The default superuser is read at QUORUM: both DCs are up at this point.
    await withClient(first, DEFAULT_SUPERUSER, async (c) => {
      const want = o.nodes.map((n) => `'${n.dc}': '1'`).join(', ');
      for (const ks of ['system_auth', 'system_distributed', 'system_traces']) {
        const row = (await c.execute('SELECT replication FROM system_schema.keyspaces WHERE keyspace_name = ?', [ks], { prepare: true })).first();
        const repl = (row?.get('replication') ?? {}) as Record<string, string>;
        const ok = String(repl['class'] ?? '').endsWith('NetworkTopologyStrategy') && o.nodes.every((n) => repl[n.dc] === '1');
        if (!ok) await c.execute(`ALTER KEYSPACE ${ks} WITH replication = {'class': 'NetworkTopologyStrategy', ${want}}`);
      }
      await c.execute(
        `CREATE ROLE IF NOT EXISTS ${LAB_SUPERUSER.username} WITH SUPERUSER = true AND LOGIN = true AND PASSWORD = '${LAB_SUPERUSER.password}'`,
        [],
        { consistency: cassandra.types.consistencies.all },
      );
    });
    const s = readState(o);
    if (s) writeState(o, { ...s, setupDone: true });
    o.log(`cassandra lab: superuser ${LAB_SUPERUSER.username} ready`);
  };

  // Heartbeats each node saw of the other at the previous check: a peer is alive (the "U" of
  // nodetool's UN) when its heartbeat advanced since then in the other node's gossip view.
  let previousHeartbeats = new Map<string, string>();

  /** Undefined when up, else why not. */
  const checkUp = async (): Promise<string | undefined> => {
    for (const n of o.nodes) {
      failIfDead(n);
      if (!(await tcpOpen(n.address, n.cqlPort))) return `${n.dc}: CQL port ${n.contactPoint} not open yet`;
    }
    const creds = readState(o)?.setupDone ? LAB_SUPERUSER : DEFAULT_SUPERUSER;
    const views: NodeView[] = [];
    for (const n of o.nodes) {
      try {
        views.push(await withClient(n, creds, nodeView));
      } catch (e) {
        const msg = describeDriverError(e);
        if (creds === LAB_SUPERUSER && /and\/or password are incorrect/.test(msg)) {
          // The lab superuser is gone (e.g. killed before its creation reached disk): set it up again.
          const s = readState(o);
          if (s) writeState(o, { ...s, setupDone: false });
        }
        return `${n.dc}: ${msg}`;
      }
    }
    for (const [i, n] of o.nodes.entries()) {
      const v = views[i]!;
      if (v.dc !== n.dc) return `${n.address} reports DC ${v.dc}, expected ${n.dc}`;
      if (v.bootstrapped !== 'COMPLETED') return `${n.dc}: bootstrapped=${v.bootstrapped}`;
      for (const other of o.nodes.filter((x) => x !== n)) {
        const peer = v.peers.find((p) => p.address === other.address);
        if (!peer) return `${n.dc} does not see ${other.dc} (${other.address}) yet`;
        const status = v.gossipStatus.get(other.address);
        if (status !== 'NORMAL') return `${n.dc} sees ${other.dc} as ${status ?? 'unknown'}`;
        if (peer.schemaVersion !== v.schemaVersion) return `${n.dc} and ${other.dc} disagree on schema`;
      }
    }
    const heartbeats = new Map(o.nodes.flatMap((n, i) => o.nodes.filter((x) => x !== n).map((x) => [`${n.dc}->${x.dc}`, views[i]!.heartbeat.get(x.address) ?? ''] as const)));
    const stale = [...heartbeats].filter(([k, hb]) => previousHeartbeats.get(k) === undefined || previousHeartbeats.get(k) === hb).map(([k]) => k);
    previousHeartbeats = heartbeats;
    if (stale.length > 0) return `waiting for gossip heartbeats (${stale.join(', ')})`;
    if (!readState(o)?.setupDone) {
      try {
        await setupOnce();
      } catch (e) {
        return `lab setup: ${(e as Error).message}`;
      }
    }
    // What an application sees: the driver's metadata lists both DCs, every host up.
    const [first] = o.nodes;
    try {
      const hosts = await withClient(first, LAB_SUPERUSER, async (c) => c.hosts.values().map((h) => ({ dc: h.datacenter, up: h.isUp() })));
      for (const n of o.nodes) if (!hosts.some((h) => h.dc === n.dc && h.up)) return `driver metadata has no up host in ${n.dc}`;
    } catch (e) {
      return `driver: ${(e as Error).message}`;
    }
    return undefined;
  };

  const waitUntilUp = async (timeoutMs = 240_000) => {
    const started = Date.now();
    let lastLogged = '';
    const why = await pollUntil(checkUp, {
      timeoutMs,
      intervalMs: 1_000,
      onWait: (reason) => {
        if (reason !== lastLogged) o.log(`cassandra lab: waiting: ${reason}`);
        lastLogged = reason;
      },
    });
    if (why !== undefined) {
      throw new Error(`cassandra lab not up within ${timeoutMs} ms: ${why}\n${o.nodes.map((n) => `--- ${n.systemLog}\n${tailFile(n.systemLog, 15)}`).join('\n')}`);
    }
    o.log(`cassandra lab: ${o.nodes.map((n) => `${n.dc}@${n.contactPoint}`).join(' + ')} up (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  };

  const stopNode = async (dc: string) => {
    const n = nodeByDc(dc);
    const pid = runningPid(n) ?? pids.get(dc);
    if (pid !== undefined && isAlive(pid)) {
      await killJvm(pid);
      o.log(`cassandra lab: stopped ${dc} (pid ${pid})`);
    }
  };

  const startNode = async (dc: string) => {
    const n = nodeByDc(dc);
    pids.set(dc, await spawnNode({ ...o, persistent: !owned || o.persistent }, n, java));
  };

  const stop = async () => {
    if (!owned) {
      o.log('cassandra lab: nodes were started by `lab/cassandra.ts start`; leaving them running');
      return;
    }
    await Promise.all(o.nodes.map((n) => stopNode(n.dc)));
  };

  return {
    labDir: o.labDir,
    nodes: o.nodes,
    dataCenters: [o.nodes[0].dc, o.nodes[1].dc],
    superuser: LAB_SUPERUSER,
    owned,
    node: nodeByDc,
    waitUntilUp,
    stopNode,
    startNode,
    stop,
  };
}

/** Stops every JVM of the lab, whoever started it (CLI `stop`). */
export async function stopCassandraLab(opts: CassandraLabOptions = {}): Promise<number> {
  const o = resolveOptions(opts);
  let stopped = 0;
  await Promise.all(
    o.nodes.map(async (n) => {
      const pid = runningPid(n);
      if (pid !== undefined) {
        await killJvm(pid);
        stopped++;
      }
    }),
  );
  const s = readState(o);
  if (s) writeState(o, { ...s, persistent: false });
  return stopped;
}

export interface CassandraLabStatus {
  readonly version: string;
  readonly libDir: string;
  readonly installed: boolean;
  readonly nodes: ReadonlyArray<{ readonly node: CassandraLabNode; readonly pid: number | undefined; readonly cqlOpen: boolean }>;
}

export async function cassandraLabStatus(opts: CassandraLabOptions = {}): Promise<CassandraLabStatus> {
  const o = resolveOptions(opts);
  return {
    version: o.version,
    libDir: o.libDir,
    installed: readMarker(o.libDir)?.version === o.version,
    nodes: await Promise.all(o.nodes.map(async (node) => ({ node, pid: runningPid(node), cqlOpen: await tcpOpen(node.address, node.cqlPort) }))),
  };
}

/** How to reach the lab, for humans. */
export function connectionHelp(nodes: readonly CassandraLabNode[]): string {
  const dcs = nodes.map((n) => n.dc).join(',');
  const [first] = nodes;
  return [
    ...nodes.map((n) => `  ${n.dc}: ${n.contactPoint} (localDataCenter '${n.dc}')   log: ${n.systemLog}`),
    `  superuser: ${LAB_SUPERUSER.username} / ${LAB_SUPERUSER.password}   (cassandra/cassandra works only while both DCs are up)`,
    '',
    '  cqlsh (pip install cqlsh):',
    `    cqlsh -u ${LAB_SUPERUSER.username} -p ${LAB_SUPERUSER.password} ${first?.address ?? '127.0.0.1'} ${first?.cqlPort ?? 9042}`,
    '  chat keyspace, app role and tables:',
    `    CASSANDRA_CONTACT_POINTS=${first?.contactPoint ?? ''} CASSANDRA_LOCAL_DC=${first?.dc ?? ''} CASSANDRA_DATACENTERS=${dcs} \\`,
    `    CASSANDRA_REPLICATION_FACTOR=1 CASSANDRA_SUPERUSER_USERNAME=${LAB_SUPERUSER.username} CASSANDRA_SUPERUSER_PASSWORD=${LAB_SUPERUSER.password} \\`,
    '    CASSANDRA_APP_USERNAME=chat_app CASSANDRA_APP_PASSWORD=<choose one> npx tsx app/main.ts bootstrap-cassandra',
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------
// CLI

async function cli(argv: readonly string[]): Promise<number> {
  const [cmd] = argv;
  const log = (line: string) => console.log(line);
  switch (cmd) {
    case 'start': {
      const t0 = Date.now();
      const inst = await ensureCassandraInstalled({ log });
      if (!inst.installedNow) log(`cassandra lab: Cassandra ${inst.version} already installed (${inst.jars} jars)`);
      const lab = await startCassandraLab({ persistent: true, log });
      await lab.waitUntilUp();
      log(`cassandra lab up in ${((Date.now() - t0) / 1000).toFixed(1)} s:\n${connectionHelp(lab.nodes)}\nstop with: npx tsx lab/cassandra.ts stop`);
      return 0;
    }
    case 'stop': {
      const n = await stopCassandraLab({ log });
      log(n === 0 ? 'cassandra lab: nothing running' : `cassandra lab: stopped ${n} node(s)`);
      return 0;
    }
    case 'reset': {
      await stopCassandraLab({ log });
      const o = resolveOptions();
      rmSync(join(o.labDir, 'nodes'), { recursive: true, force: true });
      log(`cassandra lab: removed ${join(o.labDir, 'nodes')} (jars kept)`);
      return 0;
    }
    case 'status': {
      const s = await cassandraLabStatus();
      log(`cassandra lab: Cassandra ${s.version} ${s.installed ? `installed in ${s.libDir}` : 'not installed'}`);
      for (const { node, pid, cqlOpen } of s.nodes) {
        log(`  ${node.dc}: ${pid === undefined ? 'stopped' : `running (pid ${pid})`}, CQL ${node.contactPoint} ${cqlOpen ? 'open' : 'closed'}`);
      }
      if (s.nodes.some((n) => n.pid !== undefined)) log(connectionHelp(s.nodes.map((n) => n.node)));
      return 0;
    }
    default:
      console.error('usage: npx tsx lab/cassandra.ts start|stop|status|reset');
      return 2;
  }
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (invokedDirectly) {
  cli(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      console.error((e as Error).message);
      process.exitCode = 1;
    },
  );
}
