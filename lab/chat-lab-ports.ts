/**
 * Where a chat lab listens: the port plan of `npm run lab` and the tests, and the up-front check
 * that names whatever holds a port the lab needs. Re-exported by ./chat-lab.ts.
 */
import { describePortHolders } from './leftovers.js';
import { mailpitPortsFor } from './mailpit.js';
import { canListen } from './process.js';

/** First port of `npm run lab`'s plan (backends on 18081 and 18082). */
export const LAB_PORT_BASE = 18_080;

/** Every port the lab listens on. */
export interface ChatLabPorts {
  /** Backend HTTP + WebSocket port per region, in ordinal order; 0 picks a free port (kept across restarts). */
  readonly backends: readonly number[];
  /** NATS client/monitor ports: region i (ordinal order) gets natsBase+2i and natsBase+2i+1; 0 picks free ports. */
  readonly natsBase: number;
  /** NATS gateway port (on each region's own loopback address); default: the config's `nats.gateway.port`. */
  readonly natsGateway?: number | undefined;
  /** Cassandra: CQL and storage port on 127.0.0.1 and 127.0.0.2, JMX ports on 127.0.0.1. */
  readonly cassandra: { readonly cqlPort: number; readonly storagePort: number; readonly jmxPorts: readonly [number, number] };
  /** Postgres node i (ordinal order) listens on 127.0.0.1:postgresBase+i. */
  readonly postgresBase: number;
  /** Mailpit's SMTP and HTTP API ports on 127.0.0.1; default: free ports. */
  readonly mailpit?: { readonly smtp: number; readonly http: number } | undefined;
}

/**
 * A complete, fixed port plan in [base, base+49], used by `npm run lab` (base 18080), its
 * `--check` test (18180) and the benchmark (18280). No test file uses ports in 18000-19999
 * except the chat integration test's Cassandra CQL port 19142 (and `freePort` picks from
 * 20000 up), so a plan based there never meets another test's leftovers.
 *
 *   base+1, base+2          backends (region 1, region 2)
 *   base+10 .. base+13      NATS client/monitor, region 1 then region 2
 *   base+20                 NATS gateway (127.0.0.2 and 127.0.0.3)
 *   base+30, +31, +32/+33   Cassandra CQL, storage, JMX (dc of region 1 / region 2)
 *   base+40, base+41        Postgres nodes
 *   base+45, base+46        Mailpit SMTP, HTTP API (lab/mailpit.ts)
 */
export function labPortPlan(base: number = LAB_PORT_BASE): ChatLabPorts {
  if (!Number.isInteger(base) || base < 1_024 || base + 49 > 65_535) throw new Error(`port base ${base} must be an integer in 1024..65486`);
  return {
    backends: [base + 1, base + 2],
    natsBase: base + 10,
    natsGateway: base + 20,
    cassandra: { cqlPort: base + 30, storagePort: base + 31, jmxPorts: [base + 32, base + 33] },
    postgresBase: base + 40,
    mailpit: mailpitPortsFor(base),
  };
}

/**
 * Throws, naming each one and what holds it (pid and command line), when any of `ports` cannot be
 * listened on. Checked before anything starts: the engines would only find out after a long wait.
 */
export async function checkPortsFree(ports: ReadonlyArray<{ readonly what: string; readonly host: string; readonly port: number }>): Promise<void> {
  const busy: string[] = [];
  for (const p of ports) if (p.port && !(await canListen(p.host, p.port))) busy.push(`${p.host}:${p.port} (${p.what}) is held by ${describePortHolders(p.host, p.port)}`);
  if (busy.length > 0) {
    throw new Error(`chat lab: port(s) in use:\n  ${busy.join('\n  ')}\nanother lab running? (\`npm run lab\` uses ${LAB_PORT_BASE}..${LAB_PORT_BASE + 49}): stop it, or pass other ports`);
  }
}
