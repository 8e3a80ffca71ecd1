/**
 * The bare WebSocket server of bench:chat's floor measurement: the least a Node WebSocket server
 * does per chat message, and nothing else. Same `ws` package and Node as the chat backends; for
 * each text frame: JSON.parse, then one reply shaped like `message.sent` (the frame's ref,
 * roomId and clientMessageId, a message id from a counter). No auth, no validation, no
 * Cassandra, no NATS, no fan-out, no metrics. Its CPU per message, read from /proc like the
 * backends', is the floor the backends' cost per message is compared with (./ws-floor.ts).
 *
 * Run by the benchmark as a process of its own (its CPU is its own):
 *   node --import tsx bench/ws-floor-server.ts <host> <port>
 * prints `listening <port>` on stdout when ready and stops on SIGTERM.
 */
import { fileURLToPath } from 'node:url';
import { WebSocketServer } from 'ws';

export interface WsFloorServer {
  readonly port: number;
  /** Frames answered so far. */
  readonly answered: () => number;
  close(): Promise<void>;
}

const ID_PREFIX = '01900000-0000-7000-8000-';

/** Starts the bare server on `host:port` (0: any free port). */
export async function startWsFloorServer(host: string, port: number, maxPayload = 16_384): Promise<WsFloorServer> {
  const wss = new WebSocketServer({ host, port, maxPayload });
  let answered = 0;
  wss.on('connection', (ws) => {
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      let f: { ref?: unknown; roomId?: unknown; clientMessageId?: unknown };
      try {
        f = JSON.parse((data as Buffer).toString('utf8')) as typeof f;
      } catch {
        return;
      }
      answered++;
      const messageId = ID_PREFIX + answered.toString(16).padStart(12, '0');
      ws.send(JSON.stringify({ type: 'message.sent', roomId: f.roomId, clientMessageId: f.clientMessageId, messageId, duplicate: false, ref: f.ref }));
    });
  });
  await new Promise<void>((resolve, reject) => {
    wss.once('listening', resolve);
    wss.once('error', reject);
  });
  const address = wss.address();
  if (address === null || typeof address === 'string') throw new Error(`ws floor server: not listening on a TCP port (${String(address)})`);
  return {
    port: address.port,
    answered: () => answered,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of wss.clients) c.terminate();
        wss.close(() => resolve());
      }),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [host = '127.0.0.1', port = '0'] = process.argv.slice(2);
  const server = await startWsFloorServer(host, Number(port));
  process.stdout.write(`listening ${server.port}\n`);
  process.once('SIGTERM', () => void server.close().then(() => process.exit(0)));
}
