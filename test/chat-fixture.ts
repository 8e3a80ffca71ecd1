/**
 * A two-region chat lab for an integration test file, with the helpers such tests share:
 * log in through the e-mailed code (Mailpit), join (waiting for the room to replicate), create
 * rooms, read whole histories. Every engine is real (lab/chat-lab.ts); the lab runs in its own
 * directory under the Postgres lab's parent so suites never share data dirs. Hold the lab lock
 * when running a file that uses it: `flock /tmp/rm/lab.lock npx vitest run <file>`.
 */
import { readFileSync, rmSync } from 'node:fs';
import { join as joinPath } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ChatClient, type AnyFrame, type MessageEvent } from '../app/chat/client.js';
import { createLogger, type Logger } from '../app/log.js';
import { startChatLab, type ChatLab } from '../lab/chat-lab.js';
import { loopbackAddress } from '../lab/nats.js';
import { DEFAULT_LAB_DIR } from '../lab/postgres.js';
import { freePort } from '../lab/process.js';
import { configWithRegions, REPO_ROOT, tempDir } from './helpers.js';

export const REGIONS = ['r1', 'r2'] as const;
export type RegionName = (typeof REGIONS)[number];

export interface ChatFixtureOptions {
  /** Folder name of this file's lab (under the Postgres lab's parent). */
  readonly name: string;
  /** Per-connection frame rate and burst of the backends (default 100 / 200). */
  readonly rate?: { readonly perSecond: number; readonly burst: number };
  /** Extra backend environment (e.g. limits). */
  readonly backendEnv?: Readonly<Record<string, string>>;
}

export interface LoggedIn {
  readonly client: ChatClient;
  readonly token: string;
  readonly userId: string;
  readonly username: string;
}

/** Polls `f` every 200 ms until it returns a value; throws naming `what` and the last error. */
export async function eventually<T>(what: string, timeoutMs: number, f: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await f();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    await sleep(200);
  }
  throw new Error(`${what}: not within ${timeoutMs} ms${last ? ` (last error: ${(last as Error).message})` : ''}`);
}

export function chatFixture(opts: ChatFixtureOptions) {
  const run = Date.now().toString(36);
  const logLines: string[] = [];
  const log: Logger = createLogger({}, { level: 'info', write: (l) => logLines.push(l) });
  const clients: ChatClient[] = [];
  /** Tokens, codes and passwords seen: a test can assert none reached a log. */
  const secrets: string[] = [];
  let state: ChatLab<RegionName> | undefined;
  let startError: unknown;
  let natsDir: string | undefined;

  const lab = (): ChatLab<RegionName> => {
    if (startError) throw startError instanceof Error ? startError : new Error(String(startError));
    if (!state) throw new Error('the lab did not start');
    return state;
  };

  return {
    run,
    secrets,
    lab,
    /** Starts the lab; a failure is kept and thrown by every later `lab()` (nothing is skipped). */
    async start(): Promise<void> {
      try {
        const gatewayPort = await freePort([1, 2].map(loopbackAddress));
        const config = configWithRegions(2, (c) => {
          c.dns.clusterSuffix = 'lab';
          c.nats!.gateway = { ...c.nats!.gateway, port: gatewayPort };
        });
        natsDir = tempDir(`regionmesh-${opts.name}-nats-`);
        state = await startChatLab<RegionName>({
          config,
          dir: joinPath(DEFAULT_LAB_DIR, '..', opts.name),
          dirs: { nats: natsDir, cassandra: joinPath(REPO_ROOT, '.lab', 'chat-cassandra'), postgres: joinPath(DEFAULT_LAB_DIR, '..', 'chat-postgres') },
          ports: { backends: [0, 0], natsBase: 0, cassandra: { cqlPort: 19142, storagePort: 17100, jmxPorts: [17399, 17499] }, postgresBase: 26432 },
          log,
          rate: opts.rate ?? { perSecond: 100, burst: 200 },
          shutdownGraceSeconds: 10,
          ...(opts.backendEnv ? { backendEnv: opts.backendEnv } : {}),
        });
        secrets.push(state.appPassword, ...REGIONS.map((r) => state!.nats.region(r).credentials.password));
      } catch (e) {
        startError = e;
      }
    },
    /** Closes the clients and stops the lab; on failure prints the lab log and the backends' log tails. */
    async stop(failed: boolean): Promise<void> {
      await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
      await state?.stop();
      if (failed || startError) {
        console.error(`lab log (last 40 lines):\n${logLines.slice(-40).join('\n')}`);
        for (const r of state?.regions ?? []) console.error(`--- ${r.backend.logFile} (last 60 lines)\n${readFileSync(r.backend.logFile, 'utf8').trimEnd().split('\n').slice(-60).join('\n')}`);
      } else if (natsDir) rmSync(natsDir, { recursive: true, force: true });
    },
    /** A client of `region`'s backend process (or of `url`), after its hello. */
    async connect(region: RegionName, url = lab().region(region).backend.url): Promise<ChatClient> {
      const c = await ChatClient.connect(url);
      clients.push(c);
      const hello = await c.welcome(5_000);
      if (hello.type !== 'hello' || (hello as { region?: string }).region !== region) throw new Error(`${url} greeted with ${JSON.stringify(hello)}, expected region ${region}`);
      return c;
    },
    emailOf: (name: string) => `${name}-${run}@regionmesh.lab`,
    /** A logged-in client: login.request with an e-mail, the code read from Mailpit, login.verify. */
    async login(region: RegionName, name: string): Promise<LoggedIn> {
      const client = await this.connect(region);
      const username = `${name}-${run}`;
      const email = this.emailOf(name);
      const { token, userId } = await client.login(
        username,
        async () => {
          const code = await lab().mailpit.codeFor(email, { timeoutMs: 15_000 });
          secrets.push(code);
          return code;
        },
        email,
      );
      secrets.push(token);
      return { client, token, userId, username };
    },
    /** room.join, retried while the room (or the membership) has not replicated to this region yet. */
    async join(c: ChatClient, roomId: string, lastSeenMessageId?: string): Promise<AnyFrame & { replayed: number; recovered: boolean }> {
      return eventually(`join ${roomId}`, 20_000, async () => {
        const r = await c.request({ type: 'room.join', roomId, ...(lastSeenMessageId ? { lastSeenMessageId } : {}) });
        if (r.type === 'room.joined') return r as AnyFrame & { replayed: number; recovered: boolean };
        if (r.type === 'error' && (r as { code: string }).code === 'not_found') return undefined;
        throw new Error(`join failed: ${JSON.stringify(r)}`);
      });
    },
    async createRoom(c: ChatClient, name: string, visibility: 'public' | 'private'): Promise<string> {
      const r = await c.expect<AnyFrame & { roomId: string }>({ type: 'room.create', name, visibility }, 'room.created');
      return r.roomId;
    },
    /** Every page of `history`, newest first. */
    async fullHistory(c: ChatClient, roomId: string): Promise<MessageEvent[]> {
      const out: MessageEvent[] = [];
      let before: string | undefined;
      for (let page = 0; page < 50; page++) {
        const r = await c.expect<AnyFrame & { messages: MessageEvent[]; nextBefore?: string }>({ type: 'history', roomId, limit: 100, ...(before ? { before } : {}) }, 'history.page');
        out.push(...r.messages);
        if (!r.nextBefore) return out;
        before = r.nextBefore;
      }
      throw new Error('history did not end within 50 pages');
    },
  };
}
