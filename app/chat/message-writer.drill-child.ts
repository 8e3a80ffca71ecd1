/**
 * A stand-alone writer process for the kill -9 drill in ./history.integration.test.ts: a
 * MessageWriter over a MessageStore in one Cassandra DC, connected as the backend connects
 * (app/chat/dependencies.ts). It reads `<clientMessageId> <body>` lines on stdin, sends each to
 * one room as one author, and prints `ack <clientMessageId> <messageId> <duplicate>` once the
 * send is acknowledged (durable at LOCAL_QUORUM), or `err <clientMessageId> <message>`.
 *
 * Configuration: DRILL_CONFIG, JSON { contactPoint, dc, keyspace, username, password, roomId, authorId }.
 */
import { createInterface } from 'node:readline';
import cassandra from 'cassandra-driver';
import { MessageStore } from './history.js';
import { MessageWriter } from './message-writer.js';

interface DrillConfig {
  readonly contactPoint: string;
  readonly dc: string;
  readonly keyspace: string;
  readonly username: string;
  readonly password: string;
  readonly roomId: string;
  readonly authorId: string;
}

const raw = process.env['DRILL_CONFIG'];
if (!raw) throw new Error('DRILL_CONFIG is not set: JSON { contactPoint, dc, keyspace, username, password, roomId, authorId }');
const config = JSON.parse(raw) as DrillConfig;

const client = new cassandra.Client({
  contactPoints: [config.contactPoint],
  localDataCenter: config.dc,
  keyspace: config.keyspace,
  credentials: { username: config.username, password: config.password },
  queryOptions: { consistency: cassandra.types.consistencies.localQuorum, prepare: true },
  socketOptions: { connectTimeout: 5_000, readTimeout: 10_000 },
});
await client.connect();
const writer = new MessageWriter(new MessageStore(client, config.keyspace), { region: config.dc, publish: () => {} });
process.stdout.write('ready\n');

createInterface({ input: process.stdin }).on('line', (line) => {
  const space = line.indexOf(' ');
  const clientMessageId = space < 0 ? line : line.slice(0, space);
  const body = space < 0 ? '' : line.slice(space + 1);
  writer.send({ roomId: config.roomId, authorId: config.authorId, clientMessageId, body }).then(
    (o) => process.stdout.write(`ack ${clientMessageId} ${o.messageId} ${o.duplicate}\n`),
    (e: unknown) => process.stdout.write(`err ${clientMessageId} ${e instanceof Error ? e.message : String(e)}\n`),
  );
});
