/**
 * The one connection the bootstrap holds to its local database, as a small interface so that
 * tests can replace it. Every query has a client-side time bound: a backend stuck in a libpq
 * connect to an unreachable provider (inside sub_create) cannot be interrupted by
 * statement_timeout, so on timeout the socket is destroyed (the open transaction never commits)
 * and the connection is marked broken; the flow reconnects.
 */
import pg, { type ClientConfig } from 'pg';
import type { Statement } from './sql.js';

export type Row = Record<string, unknown>;

export interface Db {
  query(stmt: Statement, timeoutMs: number): Promise<Row[]>;
  /** BEGIN; each statement; COMMIT. ROLLBACK (or a dropped connection) on error. Rows per statement. */
  transaction(stmts: readonly Statement[], timeoutMs: number): Promise<Row[][]>;
  /** True after a timeout or a connection error: open a new one. */
  readonly broken: boolean;
  close(): Promise<void>;
}

export type Connect = (config: ClientConfig) => Promise<Db>;

export class QueryTimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`no answer from the local database within ${timeoutMs} ms (connection dropped; the statement's transaction is not committed)`);
    this.name = 'QueryTimeoutError';
  }
}

interface Internals {
  connection?: { stream?: { destroy(): void } };
}

export const connectPg: Connect = async (config) => {
  const client = new pg.Client(config);
  let broken = false;
  client.on('error', () => {
    broken = true;
  });
  client.on('end', () => {
    broken = true;
  });
  await client.connect();

  const run = async (sql: string, params: readonly unknown[], timeoutMs: number): Promise<Row[]> => {
    if (broken) throw new Error('the connection to the local database is closed');
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        broken = true;
        (client as unknown as Internals).connection?.stream?.destroy();
        reject(new QueryTimeoutError(timeoutMs));
      }, Math.max(1, timeoutMs));
    });
    const query = client.query<Row>(sql, [...params]);
    query.catch(() => undefined); // a rejection after the timeout won is not unhandled
    try {
      return (await Promise.race([query, timeout])).rows;
    } finally {
      clearTimeout(timer);
    }
  };

  return {
    get broken() {
      return broken;
    },
    query: (stmt, timeoutMs) => run(stmt.sql, stmt.params, timeoutMs),
    async transaction(stmts, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      const left = () => Math.max(1, deadline - Date.now());
      await run('BEGIN', [], left());
      try {
        const out: Row[][] = [];
        for (const s of stmts) out.push(await run(s.sql, s.params, left()));
        await run('COMMIT', [], left());
        return out;
      } catch (e) {
        if (!broken) await run('ROLLBACK', [], 5_000).catch(() => undefined);
        throw e;
      }
    },
    async close() {
      if (broken) {
        (client as unknown as Internals).connection?.stream?.destroy();
        return;
      }
      broken = true;
      await Promise.race([client.end().catch(() => undefined), new Promise((r) => setTimeout(r, 2_000).unref())]);
    },
  };
};
