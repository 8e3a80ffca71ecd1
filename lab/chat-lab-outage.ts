/**
 * Outages of one region's engines in a running chat lab, for failover tests:
 *
 *   stopEngine(lab, 'r1', 'nats')      the region's nats-server stops (SIGTERM)
 *   stopEngine(lab, 'r1', 'cassandra') the region's Cassandra DC (its one node) stops
 *   stopEngine(lab, 'r1', 'postgres')  the region's Postgres node stops (fast shutdown)
 *   startEngine(...)                   the same engine starts again on the same ports and data,
 *                                      and resolves once it accepts clients again (no-op if it runs)
 *   freezeEngine(lab, r, engine, ms)   the engine's processes (all of them: a postmaster and its
 *                                      backends) are stopped (SIGSTOP) for `ms` and
 *                                      continued: a slow engine (a long GC pause, a stalled disk)
 *                                      that answers late instead of refusing
 *
 * The engines are the lab's real ones (lab/nats.ts, lab/cassandra.ts, lab/postgres.ts); nothing
 * here stands in for them.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { runningPid } from './cassandra.js';
import type { ChatLab } from './chat-lab-types.js';
import { pollUntil, tcpOpen } from './process.js';

export const LAB_ENGINES = ['nats', 'cassandra', 'postgres'] as const;
export type LabEngine = (typeof LAB_ENGINES)[number];

/** Stops `engine` of `region` and waits until it is gone. */
export async function stopEngine(lab: ChatLab, region: string, engine: LabEngine): Promise<void> {
  const r = lab.region(region);
  if (engine === 'nats') await lab.nats.stopRegion(r.name);
  else if (engine === 'cassandra') await lab.cassandra.stopNode(r.dataCenter);
  else await lab.postgres.stopNode(r.pgNode);
}

/** Starts `engine` of `region` again and resolves once it accepts clients (bounded by `timeoutMs`). */
export async function startEngine(lab: ChatLab, region: string, engine: LabEngine, timeoutMs = 180_000): Promise<void> {
  const r = lab.region(region);
  if (engine === 'nats') return lab.nats.startRegion(r.name, timeoutMs);
  if (engine === 'postgres') return lab.postgres.startNode(r.pgNode);
  const node = lab.cassandra.node(r.dataCenter);
  if (runningPid(node) === undefined) await lab.cassandra.startNode(r.dataCenter);
  const why = await pollUntil(async () => ((await tcpOpen(node.address, node.cqlPort)) ? undefined : `CQL port ${node.contactPoint} not open`), { timeoutMs, intervalMs: 250 });
  if (why !== undefined) throw new Error(`cassandra ${r.dataCenter} of ${region} did not come back within ${timeoutMs} ms: ${why} (log ${node.systemLog})`);
}

/** The main process of `engine` of `region`: nats-server, the DC's JVM, the node's postmaster. */
export function enginePid(lab: ChatLab, region: string, engine: LabEngine): number {
  const r = lab.region(region);
  let pid: number | undefined;
  if (engine === 'nats') pid = lab.nats.region(r.name).pid;
  else if (engine === 'cassandra') pid = runningPid(lab.cassandra.node(r.dataCenter));
  else pid = Number(readFileSync(join(lab.postgres.node(r.pgNode).dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  if (pid === undefined || !Number.isInteger(pid) || pid <= 0) throw new Error(`no running ${engine} process for region ${region}`);
  return pid;
}

/** `pid` and every process below it (Postgres backends call setsid(): they are not in the postmaster's group). */
function processTree(pid: number): number[] {
  const parent = new Map<number, number>();
  for (const e of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      parent.set(Number(e), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      /* gone */
    }
  }
  const out = [pid];
  for (let i = 0; i < out.length; i++) for (const [child, ppid] of parent) if (ppid === out[i]) out.push(child);
  return out;
}

/** Freezes every process of `engine` of `region` for `ms` (SIGSTOP, the parent first: no new children), then continues them (SIGCONT). */
export async function freezeEngine(lab: ChatLab, region: string, engine: LabEngine, ms: number): Promise<void> {
  const main = enginePid(lab, region, engine);
  process.kill(main, 'SIGSTOP');
  const tree = processTree(main);
  try {
    for (const p of tree.slice(1)) process.kill(p, 'SIGSTOP');
    await sleep(ms);
  } finally {
    for (const p of [...tree].reverse()) {
      try {
        process.kill(p, 'SIGCONT');
      } catch {
        /* exited meanwhile */
      }
    }
  }
}
