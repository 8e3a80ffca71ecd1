/**
 * Signals and a running lab: the engine modules (NATS, Cassandra, Mailpit) install
 * SIGINT/SIGTERM/SIGHUP handlers that kill their servers at once; a lab that stops gracefully on
 * a signal takes them over (`takeOverSignals`) and installs its own (`signalHandler`,
 * `stopOnSignals`). Users: lab/main.ts, the benchmark. Re-exported by ./chat-lab.ts.
 */
import { EXIT_SIGNALS } from './process.js';

/** The signals the NATS and Cassandra labs kill their servers on (lab/process.ts). */
export const SIGNALS = EXIT_SIGNALS;

type SignalListener = readonly [NodeJS.Signals, (...args: unknown[]) => void];
const engineSignalListeners = new WeakMap<object, readonly SignalListener[]>();

/** The signal listeners installed right now. */
export function signalListeners(): SignalListener[] {
  return SIGNALS.flatMap((sig) => process.listeners(sig).map((l) => [sig, l as (...args: unknown[]) => void] as const));
}

/** Remembers, for `lab`, the listeners the engine modules installed while it started (listening now, not in `before`). */
export function rememberEngineListeners(lab: object, before: readonly SignalListener[]): void {
  engineSignalListeners.set(
    lab,
    signalListeners().filter(([sig, l]) => !before.some(([s0, l0]) => s0 === sig && l0 === l)),
  );
}

/**
 * The NATS and Cassandra lab modules install SIGINT/SIGTERM/SIGHUP handlers that SIGKILL their
 * servers at once (so that a killed test run leaks nothing). A caller that stops the lab
 * gracefully on a signal calls this once the lab is up: those handlers are removed (their `exit`
 * hooks stay as the backstop). Returns a function that puts them back.
 */
export function takeOverSignals(lab: object): () => void {
  const listeners = engineSignalListeners.get(lab) ?? [];
  for (const [sig, l] of listeners) process.off(sig, l);
  return () => {
    for (const [sig, l] of listeners) if (!process.listeners(sig).includes(l)) process.on(sig, l);
  };
}

/**
 * A signal handler for "stop gracefully on the first signal, give up on a real second one" that
 * survives wrappers. Ctrl-C reaches every process of the terminal's process group at once, and
 * the tsx CLI (`npm run lab` = `tsx lab/main.ts`) relays it to its child again unless the child
 * confirms it within 30 ms over tsx's IPC channel, and SIGKILLs the child if it does not confirm
 * the relayed one either (which would leak the engines). So `first` runs after `delayMs` (the event
 * loop stays free for tsx's confirmation meanwhile; the engines' stop blocks it, e.g. `pg_ctl
 * stop` runs synchronously), repeats within `dedupeMs` of the first count as the same request,
 * and only a later signal calls `again`.
 */
export function signalHandler(handlers: { first: (signal: NodeJS.Signals) => void; again: (signal: NodeJS.Signals) => void }, opts: { delayMs?: number; dedupeMs?: number } = {}) {
  let firstAt: number | undefined;
  return (signal: NodeJS.Signals): void => {
    const now = Date.now();
    if (firstAt === undefined) {
      firstAt = now;
      setTimeout(() => handlers.first(signal), opts.delayMs ?? 250);
      return;
    }
    if (now - firstAt < (opts.dedupeMs ?? 2_000)) return;
    handlers.again(signal);
  };
}

/**
 * On SIGINT, SIGTERM or SIGHUP: `lab.stop()`, then exit with `exitCode` (default 0: stopping on
 * request is success). A second signal while stopping exits at once (the engines' exit hooks still
 * kill what is left). Returns a function that removes the handlers.
 */
export function stopOnSignals(lab: { stop(): Promise<void> }, opts: { exitCode?: number; onSignal?: (signal: NodeJS.Signals) => void } = {}): () => void {
  const restore = takeOverSignals(lab);
  const handler = signalHandler({
    first: (signal) => {
      opts.onSignal?.(signal);
      void lab.stop().finally(() => process.exit(opts.exitCode ?? 0));
    },
    again: () => process.exit(opts.exitCode ?? 0),
  });
  for (const s of SIGNALS) process.on(s, handler);
  return () => {
    for (const s of SIGNALS) process.off(s, handler);
    restore();
  };
}

