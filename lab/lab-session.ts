/**
 * What `npm run lab` prints (how to connect, start-up timings, engine versions) and the
 * `--check` round trip: both backends ready, two users logged in with codes read from Mailpit,
 * one message across regions and back. Used by ./main.ts.
 */
import { relative } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ChatClient, type AnyFrame } from '../app/chat/client.js';
import type { ChatLab, ChatLabRegion, EngineVersions } from './chat-lab.js';
import { REPO_ROOT } from './install.js';
import { tailFile } from './process.js';

/** What `npm run lab` prints once everything is up. */
export function connectHelp(lab: ChatLab, opts: { logPath: string; configPath: string }): string {
  const [a, b] = lab.regions;
  const rel = (p: string) => (p.startsWith(REPO_ROOT) ? relative(REPO_ROOT, p) || '.' : p);
  const lines: string[] = [];
  lines.push(`regionmesh chat lab is up: ${lab.regions.length} regions from ${rel(opts.configPath)}, files in ${rel(lab.dirs.root)}`);
  lines.push('');
  for (const r of lab.regions) {
    lines.push(`region ${r.name} (ordinal ${r.ordinal}; NATS ${r.nats.gatewayName}, Cassandra DC ${r.dataCenter}, Postgres node ${r.pgNode})`);
    lines.push(`  WebSocket  ${r.backend.url}`);
    lines.push(`  health     ${r.backend.httpUrl}/healthz`);
    lines.push(`  readiness  ${r.backend.httpUrl}/readyz`);
    lines.push(`  metrics    ${r.backend.httpUrl}/metrics`);
    lines.push(`  backend    pid ${r.backend.pid()}, log ${rel(r.backend.logFile)} (restarted when it exits)`);
  }
  lines.push('');
  lines.push('data layer (loopback):');
  lines.push(`  NATS       ${lab.regions.map((r) => `${r.name} ${r.nats.clientUrl} (monitor ${r.nats.monitorUrl}, gateway ${r.nats.gatewayAddress})`).join('\n             ')}`);
  lines.push(`  Cassandra  ${lab.regions.map((r) => `${r.dataCenter} ${r.cassandra.contactPoint}`).join(', ')}; keyspace ${lab.keyspace}, superuser ${lab.cassandra.superuser.username}/${lab.cassandra.superuser.password}`);
  lines.push(`  Postgres   ${lab.regions.map((r) => `${r.pgNode} 127.0.0.1:${r.postgres.port}`).join(', ')} (pglogical both ways; client certificates in ${rel(lab.postgres.certs.dir)})`);
  lines.push(`  Mailpit    SMTP ${lab.mailpit.smtp.host}:${lab.mailpit.smtp.port}, web UI and API ${lab.mailpit.httpUrl}`);
  lines.push(`  lab log (bootstraps, JSON lines): ${rel(opts.logPath)}`);
  lines.push('');
  lines.push(`Login codes are e-mailed (SMTP) to Mailpit: read them at ${lab.mailpit.httpUrl}`);
  lines.push('');
  lines.push(`Example session (JSON text frames; any request may carry "ref", echoed in its reply), on ${a!.name}:`);
  lines.push(`  node -e 'const W=require("ws"),w=new W(process.argv[1]);w.on("message",m=>console.log("<",String(m)));w.on("close",c=>process.exit(c===1000?0:1));w.on("open",()=>require("readline").createInterface({input:process.stdin}).on("line",l=>l.trim()&&w.send(l)))' ${a!.backend.url}`);
  lines.push('  then type, one frame per line:');
  lines.push('  > {"type":"login.request","username":"ada","email":"ada@example.com"}');
  lines.push(`  < {"type":"login.code_sent","username":"ada","expiresInSeconds":...}      (the code: ${lab.mailpit.httpUrl})`);
  lines.push('  > {"type":"login.verify","username":"ada","code":"<code>"}');
  lines.push('  < {"type":"login.ok","token":"<token>","userId":"...","expiresAt":"..."}');
  lines.push('  > {"type":"room.create","name":"lobby","visibility":"public"}');
  lines.push('  < {"type":"room.created","roomId":"<room>","name":"lobby","visibility":"public"}');
  lines.push('  > {"type":"room.join","roomId":"<room>"}');
  lines.push('  > {"type":"message.send","roomId":"<room>","clientMessageId":"m1","body":"hello from ' + a!.name + '"}');
  lines.push('  < {"type":"message.sent",...}  and  < {"type":"message","originRegion":"' + a!.name + '",...}');
  lines.push(`Do the same on ${b!.name} (${b!.backend.url}) as another user, join <room> (its row replicates in about a second;`);
  lines.push('until then the join answers not_found), and messages sent in either region arrive in both.');
  lines.push('Come back later with {"type":"auth","token":"<token>"} and {"type":"room.join","roomId":"<room>","lastSeenMessageId":"<id>"}');
  lines.push('to replay what you missed; {"type":"history","roomId":"<room>"} pages the stored history.');
  lines.push(`Kill a region's backend (kill -9 <pid>): the lab restarts it within seconds, like a Deployment.`);
  lines.push('A scripted cross-region round trip with the repo\'s ChatClient: npm run lab -- --check (uses its own ports).');
  lines.push(`Each start begins with empty Postgres nodes; Cassandra data stays in ${rel(lab.dirs.cassandra)}.`);
  return lines.join('\n');
}

export function timingsLine(timings: Readonly<Record<string, number>>): string {
  return `start-up timings: ${Object.entries(timings)
    .map(([k, v]) => `${k} ${(v / 1000).toFixed(1)} s`)
    .join(', ')}`;
}

/** `engine versions: nats-server mn 2.14.2, fsn1 2.14.2; cassandra dc1 5.0.6, dc2 5.0.6` (as the engines report them). */
export function engineVersionsLine(v: EngineVersions): string {
  const list = (o: Readonly<Record<string, string>>) => Object.entries(o).map(([k, x]) => `${k} ${x}`).join(', ');
  return `engine versions: nats-server ${list(v.nats)}; cassandra ${list(v.cassandra)}`;
}

/** The last lines of each backend's log, for a failure report. */
export function backendLogTails(lab: ChatLab | undefined, lines = 30): string {
  if (!lab) return '';
  return lab.regions.map((r) => `--- ${r.backend.logFile} (last ${lines} lines)\n${tailFile(r.backend.logFile, lines)}`).join('\n');
}

/** The --check round trip: both backends ready, one message from region 1 arrives in region 2 (and back); login codes come through Mailpit. */
export async function check(lab: ChatLab): Promise<string> {
  for (const r of lab.regions) {
    const res = await fetch(`${r.backend.httpUrl}/readyz`, { signal: AbortSignal.timeout(5_000) });
    const body = (await res.json()) as { ready?: boolean; region?: string };
    if (res.status !== 200 || body.ready !== true || body.region !== r.name) throw new Error(`${r.name}: /readyz answered ${res.status} ${JSON.stringify(body)}`);
  }
  const [a, b] = lab.regions as [ChatLabRegion, ChatLabRegion];
  const run = Date.now().toString(36);
  const clients: ChatClient[] = [];
  try {
    const loginIn = async (r: ChatLabRegion, name: string) => {
      const c = await ChatClient.connect(r.backend.url);
      clients.push(c);
      const hello = (await c.welcome(5_000)) as AnyFrame & { region?: string };
      if (hello.region !== r.name) throw new Error(`${r.backend.url} says it is region ${String(hello.region)}, expected ${r.name}`);
      const email = `${name}-${run}@regionmesh.lab`;
      const since = new Date(Date.now() - 1_000);
      await c.login(`${name}-${run}`, () => lab.mailpit.codeFor(email, { since, timeoutMs: 15_000 }), email);
      return c;
    };
    const ca = await loginIn(a, 'check-a');
    const cb = await loginIn(b, 'check-b');
    const room = await ca.expect<AnyFrame & { roomId: string }>({ type: 'room.create', name: `check-${run}`, visibility: 'public' }, 'room.created');
    await ca.expect({ type: 'room.join', roomId: room.roomId }, 'room.joined');
    // The room row replicates to the other region's Postgres through pglogical: join when it is there.
    const deadline = Date.now() + 30_000;
    for (;;) {
      const r = await cb.request({ type: 'room.join', roomId: room.roomId });
      if (r.type === 'room.joined') break;
      if (!(r.type === 'error' && (r as { code?: string }).code === 'not_found') || Date.now() > deadline) throw new Error(`join in ${b.name}: ${JSON.stringify(r)}`);
      await sleep(200);
    }
    const t0 = Date.now();
    const id = await ca.sendMessage(room.roomId, `hello from ${a.name}`, 'check-1');
    const got = await cb.waitForMessage(id, 15_000);
    const ms = Date.now() - t0;
    if (got.originRegion !== a.name || got.body !== `hello from ${a.name}`) throw new Error(`unexpected delivery ${JSON.stringify(got)}`);
    const back = await cb.sendMessage(room.roomId, `hello from ${b.name}`, 'check-2');
    await ca.waitForMessage(back, 15_000);
    return `message ${id} sent in ${a.name} arrived in ${b.name} after ${ms} ms, and a reply came back`;
  } finally {
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
  }
}
