/**
 * What a running chat lab reports about its engines, and which of its processes still run.
 * Re-exported by ./chat-lab.ts.
 */
import { labClient, type CassandraLabHandle } from './cassandra.js';
import { readProcessRecord, stillRunning } from './leftovers.js';
import type { NatsLabRegion } from './nats.js';
import { processes } from './process.js';

/** What the running engines report about themselves: nats-server by region (`/varz` version), Cassandra by DC (`release_version`). */
export interface EngineVersions {
  readonly nats: Readonly<Record<string, string>>;
  readonly cassandra: Readonly<Record<string, string>>;
}

/** Asks every running engine of `lab` its version (not what the lab meant to install). */
export async function engineVersions(lab: { readonly regions: ReadonlyArray<{ readonly name: string; readonly nats: NatsLabRegion }>; readonly cassandra: CassandraLabHandle }): Promise<EngineVersions> {
  const nats: Record<string, string> = {};
  const cas: Record<string, string> = {};
  for (const r of lab.regions) {
    const res = await fetch(`${r.nats.monitorUrl}/varz`, { signal: AbortSignal.timeout(5_000) });
    if (!res.ok) throw new Error(`GET ${r.nats.monitorUrl}/varz: HTTP ${res.status}`);
    nats[r.name] = String(((await res.json()) as { version?: unknown }).version);
  }
  for (const node of lab.cassandra.nodes) {
    // system.local is the coordinator's own row: one client per node, whose only host it is.
    const c = labClient(node, lab.cassandra.superuser, { pooling: { warmup: false } });
    try {
      await c.connect();
      const host = c.hosts.values().find((h) => h.address === node.contactPoint);
      if (!host) throw new Error(`the driver has no host ${node.contactPoint}`);
      const row = (await c.execute('SELECT release_version FROM system.local', [], { host })).first();
      cas[node.dc] = String(row?.get('release_version'));
    } finally {
      await c.shutdown().catch(() => undefined);
    }
  }
  return { nats, cassandra: cas };
}

/** Engines whose command line names a file of the lab: nats-server, Cassandra JVMs, postmasters, Mailpit. */
const LAB_ENGINE = /(^|\/)nats-server |org\.apache\.cassandra\.service\.CassandraDaemon|(^|\/)postgres -D |(^|\/)mailpit /;

/**
 * Processes still running from the lab under `dir`: engines whose command line names a file in
 * it, and every process its record (`<dir>/processes.json`, lab/leftovers.ts) lists that still
 * runs (backends included). Linux only (reads /proc); [] elsewhere.
 */
export function labProcesses(dir: string): Array<{ pid: number; cmdline: string; what?: string }> {
  const out: Array<{ pid: number; cmdline: string; what?: string }> = processes()
    .filter((p) => p.pid !== process.pid)
    .map((p) => ({ pid: p.pid, cmdline: p.argv.join(' ').trim() }))
    .filter((p) => p.cmdline.includes(dir) && LAB_ENGINE.test(p.cmdline));
  for (const p of readProcessRecord(dir)?.processes ?? []) {
    if (p.pid !== process.pid && stillRunning(p) && !out.some((o) => o.pid === p.pid)) out.push({ pid: p.pid, cmdline: p.cmdline, what: p.what });
  }
  return out;
}
