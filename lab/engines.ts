/**
 * Every engine the tests and `npm run lab` need, installed (and cached) by the labs themselves,
 * so that `npm ci && npm test` is enough on a fresh machine. Versions come from
 * regions/platform.yaml, as production's do:
 * - nats-server at the NATS image's release (`nats.image.tag`), built with `go install` into the
 *   lab cache (lab/nats-server.ts);
 * - Cassandra `cassandra.serverVersion` from Maven Central into the lab cache, with Java 17 and
 *   Maven from apt when missing (lab/cassandra.ts);
 * - Mailpit (the lab's SMTP server for login codes) with `go install` into the lab cache (lab/mailpit.ts);
 * - PostgreSQL 15 + pglogical from apt (lab/postgres.ts); openssl (its certificates) and
 *   util-linux / mount (the NATS lab's private /etc/hosts) from apt when missing.
 * Idempotent and cheap once installed; serialized by install locks across processes.
 */
import { loadConfigFile } from '../constructs/platform-config.js';
import { CASSANDRA_LAB_APT, ensureCassandraInstalled } from './cassandra.js';
import { aptLockPath, DEFAULT_CONFIG_PATH, ensureAptPackages, findExecutable, withInstallLock, type AptNeed } from './install.js';
import { NATS_LAB_APT } from './nats.js';
import { ensureMailpit, MAILPIT } from './mailpit.js';
import { ensureNatsServer, natsServerVersionOf } from './nats-server.js';
import { ensurePostgresInstalled } from './postgres.js';

const OPENSSL: AptNeed = { pkg: 'openssl', present: () => findExecutable('openssl') !== undefined, why: "openssl, for the Postgres lab's certificates" };

export interface LabEngines {
  readonly natsServer: { readonly version: string; readonly path: string };
  readonly cassandra: { readonly version: string; readonly libDir: string };
  readonly mailpit: { readonly version: string; readonly path: string };
  /** Debian packages installed by this call (empty when everything was there). */
  readonly aptInstalled: readonly string[];
  readonly ms: number;
}

/** Installs what is missing of every lab engine, at the versions of `configPath` (default regions/platform.yaml). */
export async function ensureLabEngines(opts: { readonly configPath?: string; readonly log?: (line: string) => void } = {}): Promise<LabEngines> {
  const t0 = Date.now();
  const log = opts.log ?? (() => undefined);
  const config = loadConfigFile(opts.configPath ?? DEFAULT_CONFIG_PATH);
  // apt first (one `apt-get update`), so the Postgres install below finds fresh package lists.
  const aptInstalled = await ensureAptPackages([OPENSSL, ...NATS_LAB_APT, ...CASSANDRA_LAB_APT], log);
  const pg = await withInstallLock(aptLockPath(), 'apt', () => ensurePostgresInstalled(), { log });
  if (pg.installed.length > 0) log(`lab install: ${pg.installed.join(' ')} (${[...pg.notes].join('; ') || 'no notes'})`);
  const version = natsServerVersionOf(config);
  const path = await ensureNatsServer(version, log);
  const cas = await ensureCassandraInstalled({ version: config.cassandra.serverVersion, log });
  const mailpit = await ensureMailpit(log);
  return { natsServer: { version, path }, cassandra: { version: cas.version, libDir: cas.libDir }, mailpit: { version: MAILPIT.version, path: mailpit }, aptInstalled: [...aptInstalled, ...pg.installed], ms: Date.now() - t0 };
}
