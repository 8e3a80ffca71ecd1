/**
 * The one image, several commands:
 *   serve                the chat backend
 *   bootstrap-spock      this region's Spock node + subscriptions to every peer (idempotent)
 *   bootstrap-cassandra  chat keyspace replicated per DC, app role, tables (idempotent)
 *   wait-postgres-node   the chat backend's init container: waits until bootstrap-spock has made
 *                        this region's database a mesh node (so the migration runs after it)
 * Every command reads its settings from environment variables (see each command's env schema).
 */
import { EnvError } from './env.js';
import { createLogger } from './log.js';

type Command = (argv: readonly string[]) => Promise<number>;

const COMMANDS: Record<string, () => Promise<Command>> = {
  'bootstrap-cassandra': async () => (await import('./cassandra/bootstrap-command.js')).run,
  'bootstrap-spock': async () => (await import('./spock/bootstrap-command.js')).run,
  serve: async () => (await import('./chat/serve-command.js')).run,
  'wait-postgres-node': async () => (await import('./spock/wait-node-command.js')).run,
};

export async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  const load = name ? COMMANDS[name] : undefined;
  if (!load) {
    console.error(`usage: regionmesh-app <${Object.keys(COMMANDS).sort().join('|')}>`);
    return 2;
  }
  const log = createLogger({ command: name });
  try {
    return await (await load())(rest);
  } catch (e) {
    if (e instanceof EnvError) {
      log.error('invalid environment', { problems: e.problems });
      return 2;
    }
    log.error('command failed', { error: e });
    return 1;
  }
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (invokedDirectly) {
  // Exit as soon as the command is done: a finished Job or a drained `serve` must not linger on a
  // driver's reconnect timer (log lines are written synchronously, so nothing is lost).
  void main(process.argv.slice(2)).then((code) => process.exit(code));
}
