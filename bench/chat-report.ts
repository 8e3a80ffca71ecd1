/**
 * What `npm run bench:chat` writes: the JSON report (bench/results/chat-<date>.json) and its
 * Markdown rendering (tables for the README).
 */
import { readFileSync } from 'node:fs';
import { availableParallelism, loadavg, totalmem } from 'node:os';
import type { MarkedWindow, MeasuredPhase } from './chat-load.js';
import type { NatsBaselineResult } from './nats-baseline.js';
import type { Summary } from './stats.js';
import type { WsFloorResult } from './ws-floor.js';

export interface MachineInfo {
  readonly nproc: number;
  readonly model: string;
  readonly memGiB: number;
  readonly node: string;
  /** 1/5/15-minute load averages before the lab started. */
  readonly loadBefore: readonly number[];
  /** ... right before the first measured phase (the lab up, logins done). */
  loadAtFirstPhase?: readonly number[];
  loadAfter?: readonly number[];
}

/** CPU seconds one phase cost, read from /proc before and after it. */
export interface PhaseCpu {
  /** Per backend process: label (a region name, or e.g. `lab` for the in-process lab) -> seconds. */
  readonly byProcess: Record<string, number>;
  /** Regions each label serves. */
  readonly regionsOf: Record<string, readonly string[]>;
  /** The whole machine (all cores, every process): busy seconds and wall seconds x cores. */
  readonly machineBusy: number;
  readonly machineCapacity: number;
}

export interface ReportedPhase extends MeasuredPhase {
  readonly cpu: PhaseCpu;
}

export interface ChatBenchReport {
  readonly date: string;
  readonly commit: string;
  /** How the lab runs the backends, in words. */
  readonly lab: string;
  readonly regions: readonly string[];
  readonly machine: MachineInfo;
  readonly shape: string;
  readonly users: number;
  /** Nothing sent for `seconds`: what the backends cost at rest. */
  readonly idle?: { readonly seconds: number; readonly cpu: PhaseCpu };
  readonly phases: readonly ReportedPhase[];
  readonly warmup?: ReportedPhase;
  /** The bare WebSocket server under one backend's share of the saturated load (./ws-floor.ts). */
  readonly wsFloor?: WsFloorReport;
  readonly nats?: NatsBaselineResult;
  readonly notes: readonly string[];
}

export interface WsFloorReport extends WsFloorResult, MarkedWindow {
  /** The bare server's CPU (one process, label `ws-floor`). */
  readonly cpu: PhaseCpu;
}

/**
 * The saturated phase against the floor: the bare server's CPU per answered message, the chat
 * backends' CPU per accepted message (both processes: the one that took the send and the one
 * that got it over NATS), their ratio, and the floor per delivery with this phase's receivers
 * per message (the least µs per delivery a Node WebSocket server that receives and answers every
 * send could show, were storage, NATS and fan-out free).
 */
export function floorComparison(r: ChatBenchReport): { floorUs: number; chatUs: number; ratio: number; receivers: number; floorPerDeliveryUs: number } | undefined {
  const sat = r.phases.find((p) => p.kind === 'saturated');
  const floor = r.wsFloor;
  if (!sat || !floor || floor.answered === 0 || sat.accepted === 0) return undefined;
  const floorUs = (Object.values(floor.cpu.byProcess).reduce((x, y) => x + y, 0) / floor.answered) * 1e6;
  const chatUs = (Object.values(sat.cpu.byProcess).reduce((x, y) => x + y, 0) / sat.accepted) * 1e6;
  return { floorUs, chatUs, ratio: chatUs / floorUs, receivers: sat.receivers, floorPerDeliveryUs: floorUs / sat.receivers };
}

export function machineInfo(): MachineInfo {
  let model = 'unknown CPU';
  try {
    model = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? model;
  } catch {
    // not Linux: keep "unknown CPU"
  }
  return { nproc: availableParallelism(), model, memGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10, node: process.version, loadBefore: loadavg() };
}

const f = (v: number | undefined, digits = 1) => (v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(digits));
const int = (v: number) => (Number.isFinite(v) ? Math.round(v).toLocaleString('en-US') : '–');
const pct = (s: Summary) => (s.n === 0 ? '–' : `${f(s.p50)} / ${f(s.p95)} / ${f(s.p99)}`);
const loads = (l: readonly number[] | undefined) => (l ? l.map((x) => x.toFixed(2)).join(' ') : '–');

/** Backend CPU ms per 1,000 deliveries (= µs per delivery): per region where one process serves one region, and in total. */
export function cpuPerThousand(p: ReportedPhase): { byRegion: Record<string, number>; total: number } {
  const byRegion: Record<string, number> = {};
  let cpu = 0;
  for (const [label, seconds] of Object.entries(p.cpu.byProcess)) {
    cpu += seconds;
    const regions = p.cpu.regionsOf[label] ?? [];
    if (regions.length === 1) byRegion[regions[0]!] = (seconds / (p.deliveriesByRegion[regions[0]!] ?? 0)) * 1e6;
  }
  return { byRegion, total: (cpu / p.deliveries) * 1e6 };
}

function refusedText(p: MeasuredPhase): string {
  const parts = Object.entries(p.refused).map(([code, n]) => `${int(n)} ${code}`);
  for (const [code, n] of Object.entries(p.unmatchedErrors)) parts.push(`${int(n)} ${code} (no ref)`);
  if (p.unanswered > 0) parts.push(`${int(p.unanswered)} unanswered`);
  return parts.length > 0 ? parts.join(', ') : '0';
}

function phaseLabel(p: MeasuredPhase): string {
  return p.kind === 'paced' ? `paced ${int(p.rate ?? 0)} msg/s (${p.senders} senders)` : `saturated (${p.senders} senders, window ${p.window ?? 8})`;
}

export function renderMarkdown(r: ChatBenchReport): string {
  const [a, b] = r.regions;
  const m = r.machine;
  const lines: string[] = [];
  lines.push(`## npm run bench:chat (${r.date}, ${r.commit})`, '');
  lines.push(
    `Machine: ${m.nproc} x ${m.model}, ${f(m.memGiB)} GiB, ${m.node}; load average (1/5/15 min) ${loads(m.loadBefore)} before the run, ` +
      `${loads(m.loadAtFirstPhase)} at the first phase, ${loads(m.loadAfter)} at the end. Lab: ${r.lab}. Room shape: ${r.shape} (${r.users} users logged in).`,
    '',
  );
  lines.push(
    `| load | sent | accepted | refused | accepted msg/s | deliveries/s | same-region p50 / p95 / p99 ms | cross-region p50 / p95 / p99 ms | backend CPU ms per 1,000 deliveries = µs per delivery (${a} / ${b} / total) | machine busy |`,
    '|---|---:|---:|---|---:|---:|---:|---:|---:|---:|',
  );
  for (const p of r.phases) {
    const cpu = cpuPerThousand(p);
    const lost = p.deliveries < p.expectedDeliveries ? ` (${int(p.expectedDeliveries - p.deliveries)} missing)` : '';
    lines.push(
      `| ${phaseLabel(p)} | ${int(p.sent)} | ${int(p.accepted)} | ${refusedText(p)} | ${int(p.acceptedPerSec)} | ${int(p.deliveriesPerSec)}${lost} | ${pct(p.latencyMs.same)} | ${pct(p.latencyMs.cross)} | ` +
        `${f(cpu.byRegion[a!])} / ${f(cpu.byRegion[b!])} / ${f(cpu.total)} | ${f((p.cpu.machineBusy / p.cpu.machineCapacity) * 100, 0)}% |`,
    );
  }
  const floor = r.wsFloor;
  const cmp = floorComparison(r);
  if (floor && cmp) {
    lines.push(
      '',
      `Floor: a bare WebSocket server (bench/ws-floor-server.ts: \`ws\`, the backends' Node; JSON.parse and one reply per frame, nothing else) under one backend's share of the saturated load, ` +
        `${floor.senders} senders x window ${floor.window} (at most ${floor.rate}/s each): ${int(floor.answeredPerSec)} msg/s answered, reply p50/p99 ${f(floor.replyMs.p50)} / ${f(floor.replyMs.p99)} ms, ` +
        `**${f(cmp.floorUs)} µs of CPU per message**. The chat backends in the saturated phase: ${f(cmp.chatUs)} µs per accepted message (both processes) = ${f(cmp.ratio, 2)} x the floor; ` +
        `with ${cmp.receivers} receivers per message the floor alone is ${f(cmp.floorPerDeliveryUs)} µs per delivery.`,
    );
  }
  if (r.nats) {
    const n = r.nats;
    lines.push('', `Raw NATS through the same two nats-servers (publish in ${n.from}, subscribe in ${n.to}):`, '');
    lines.push('| load | sent | received | msg/s received | p50 / p95 / p99 ms |', '|---|---:|---:|---:|---:|');
    lines.push(`| paced ${int(n.paced.rate)} msg/s | ${int(n.paced.sent)} | ${int(n.paced.received)} | ${int(n.paced.rate)} | ${f(n.paced.latencyMs.p50, 2)} / ${f(n.paced.latencyMs.p95, 2)} / ${f(n.paced.latencyMs.p99, 2)} |`);
    lines.push(
      `| as fast as possible | ${int(n.saturated.sent)} | ${int(n.saturated.received)} | ${int(n.saturated.receivedPerSec)} | ${f(n.saturated.latencyMs.p50, 1)} / ${f(n.saturated.latencyMs.p95, 1)} / ${f(n.saturated.latencyMs.p99, 1)} |`,
    );
  }
  lines.push('', 'Per phase (CPU seconds in the measured window; load generator = the client process):', '');
  if (r.idle) {
    const idle = r.idle;
    const per = Object.entries(idle.cpu.byProcess).map(([label, s]) => `${label} ${f((s / idle.seconds) * 100)}% of a core`);
    lines.push(`- idle (${f(idle.seconds)} s, every client connected, nothing sent): backend CPU ${per.join(', ')}; machine ${f((idle.cpu.machineBusy / idle.cpu.machineCapacity) * 100, 0)}% busy.`);
  }
  for (const p of [...r.phases, ...(r.warmup ? [r.warmup] : [])]) {
    const procs = Object.entries(p.cpu.byProcess)
      .map(([label, s]) => `${label} ${f(s, 2)} s`)
      .join(', ');
    const backendCpu = Object.values(p.cpu.byProcess).reduce((x, y) => x + y, 0);
    lines.push(
      `- ${p === r.warmup ? 'warm-up, ' : ''}${phaseLabel(p)}: window ${f(p.windowSeconds)} s, backend CPU ${procs} (${f((backendCpu / p.accepted) * 1e6, 0)} µs per accepted message), load generator ${f(p.loadGenCpuSeconds, 2)} s; ` +
        `deliveries ${int(p.deliveries)} of ${int(p.expectedDeliveries)} (${Object.entries(p.deliveriesByRegion)
          .map(([k, v]) => `${k} ${int(v)}`)
          .join(', ')}); ack p50/p99 ${f(p.ackMs.p50)} / ${f(p.ackMs.p99)} ms; sockets closed ${p.socketsClosed}.`,
    );
  }
  for (const n of r.notes) lines.push(`- ${n}`);
  return lines.join('\n');
}
