/**
 * YAML rendering for dist/. One document is `toYaml(value)`; many documents (a platform of
 * dozens of regions renders thousands) are split with one helper thread that runs the same
 * `yaml` package with the same options, so the bytes never depend on which thread wrote them.
 * The caller waits synchronously (Atomics.wait), so rendering stays a plain function.
 */
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { MessageChannel, type MessagePort, receiveMessageOnPort, Worker } from 'node:worker_threads';
import { stringify } from 'yaml';

/**
 * YAML 1.1 quoting (as Helm and kubectl read it), no line folding, insertion order kept.
 * `directives: false` gives the bytes of the default (a new document has no `%` directives and
 * no `---`) without the default's walk over the whole document looking for tag handles.
 */
const TO_YAML = { version: '1.1', lineWidth: 0, minContentWidth: 0, aliasDuplicateObjects: false, directives: false } as const;

/** One value as a YAML document (see TO_YAML). */
export function toYaml(value: unknown): string {
  return stringify(value, TO_YAML);
}

/** One document to render: `prefix` (header comments) followed by `value` as YAML. */
export interface YamlJob {
  readonly prefix: string;
  readonly value: unknown;
}

/**
 * Below this many documents one thread is faster: a helper thread costs about 60 ms to start
 * and load `yaml` (the default config renders ~70 documents in ~120 ms).
 */
const PARALLEL_MIN_DOCUMENTS = 400;

/** Share of the (distinct) documents the helper thread renders. */
const HELPER_SHARE = 0.47;

/** How long to wait for the helper thread before giving up (it renders a few MB in about a second). */
const HELPER_TIMEOUT_MS = 120_000;

const HELPER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { port, signal, yamlPath, options } = workerData;
try {
  const { stringify } = require(yamlPath);
  port.once('message', (jobs) => {
    try {
      port.postMessage({ documents: jobs.map((j) => j.prefix + stringify(j.value, options)) });
    } catch (e) {
      port.postMessage({ error: String((e && e.stack) || e) });
    }
    Atomics.store(signal, 0, 1);
    Atomics.notify(signal, 0);
  });
} catch (e) {
  port.postMessage({ error: 'cannot load yaml: ' + String((e && e.stack) || e) });
  Atomics.store(signal, 0, 1);
  Atomics.notify(signal, 0);
}
`;

/**
 * A helper thread with `yaml` loaded. Start it before building the construct tree and its
 * start-up (thread, module load) overlaps with that work instead of delaying the rendering.
 */
export class YamlHelper {
  private readonly signal = new Int32Array(new SharedArrayBuffer(4));
  private readonly port: MessagePort;
  private readonly worker: Worker;

  constructor() {
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    const yamlPath = createRequire(import.meta.url).resolve('yaml');
    this.worker = new Worker(HELPER_SOURCE, { eval: true, workerData: { port: port2, signal: this.signal, yamlPath, options: TO_YAML }, transferList: [port2] });
    this.worker.unref();
  }

  /** Renders `jobs` in order, a share on this thread and the rest on the helper; the helper is done afterwards. */
  render(jobs: readonly YamlJob[]): string[] {
    try {
      // Documents are dealt out interleaved (every kind of document on both threads); the helper
      // runs cold (no code cache, a fresh JIT) and the main thread also posts and collects, so
      // the helper gets a little less than half (measured: both finish together at 50 regions).
      const toHelper = (i: number) => Math.floor((i + 1) * HELPER_SHARE) > Math.floor(i * HELPER_SHARE);
      this.port.postMessage(jobs.filter((_j, i) => toHelper(i)));
      const mine = jobs.map((j, i) => (toHelper(i) ? undefined : j.prefix + toYaml(j.value)));
      if (Atomics.wait(this.signal, 0, 0, HELPER_TIMEOUT_MS) === 'timed-out') throw new Error(`YAML helper thread gave no answer in ${HELPER_TIMEOUT_MS} ms`);
      const reply = receiveMessageOnPort(this.port)?.message as { documents?: string[]; error?: string } | undefined;
      if (!reply?.documents) throw new Error(`YAML helper thread failed: ${reply?.error ?? 'no reply'}`);
      const theirs = reply.documents[Symbol.iterator]();
      return mine.map((text) => text ?? (theirs.next().value as string));
    } finally {
      this.close();
    }
  }

  /** Stops the thread (also when it was never used). */
  close(): void {
    this.port.close();
    void this.worker.terminate();
  }
}

/** Whether `documents` are worth a helper thread on this machine. */
export function worthAHelper(documents: number): boolean {
  return documents >= PARALLEL_MIN_DOCUMENTS && availableParallelism() > 1;
}

/**
 * Renders `jobs` in order: with `helper` on two threads, else on this one. Identical documents
 * (the same chart values in every region) are rendered once.
 */
export function renderYaml(jobs: readonly YamlJob[], helper?: YamlHelper): string[] {
  const keys = jobs.map((j) => `${j.prefix}\u0000${JSON.stringify(j.value)}`);
  const firstOf = new Map<string, number>();
  const unique: YamlJob[] = [];
  const slot = keys.map((k, i) => {
    let u = firstOf.get(k);
    if (u === undefined) {
      firstOf.set(k, (u = unique.length));
      unique.push(jobs[i]!);
    }
    return u;
  });
  const texts = helper ? helper.render(unique) : unique.map((j) => j.prefix + toYaml(j.value));
  return slot.map((u) => texts[u]!);
}
