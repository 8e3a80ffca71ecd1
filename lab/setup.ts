/**
 * vitest globalSetup: installs every lab engine once, before any test file runs (test files may
 * run in parallel; installing here, once, keeps them from racing). Nothing to do when all is
 * cached. A failure stops the run with one message saying what could not be installed and why.
 */
import { ensureLabEngines } from './engines.js';

export default async function setup(): Promise<void> {
  const log = (line: string) => console.log(line);
  let e: Awaited<ReturnType<typeof ensureLabEngines>>;
  try {
    e = await ensureLabEngines({ log });
  } catch (err) {
    // One message, without a stack trace through vitest's internals.
    const failure = new Error(`lab engines could not be installed (lab/setup.ts, before any test): ${(err as Error).message}`);
    failure.stack = failure.message;
    throw failure;
  }
  if (e.ms > 2_000) log(`lab engines: nats-server ${e.natsServer.version} (${e.natsServer.path}), Cassandra ${e.cassandra.version} (${e.cassandra.libDir}), Mailpit ${e.mailpit.version}, ready in ${(e.ms / 1000).toFixed(1)} s`);
}
