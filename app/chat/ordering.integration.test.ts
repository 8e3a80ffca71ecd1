/**
 * Rooms with members, the ordering contract (README "The chat backend") and the session limits
 * (authentication deadline, sockets per user), against the real
 * two-region lab (one backend process per region, NATS super-cluster, Cassandra 2 DCs, Postgres +
 * pglogical, Mailpit for login codes). Holds the lab lock:
 *   flock /tmp/rm/lab.lock npx vitest run app/chat/ordering.integration.test.ts
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { chatFixture, eventually } from '../../test/chat-fixture.js';
import type { AnyFrame, ChatClient, MessageEvent } from './client.js';

const AUTH_TIMEOUT_SECONDS = 3;
const MAX_CONNECTIONS_PER_USER = 2;
const fx = chatFixture({
  name: 'chat-ordering',
  backendEnv: { CHAT_AUTH_TIMEOUT_SECONDS: String(AUTH_TIMEOUT_SECONDS), CHAT_MAX_CONNECTIONS_PER_USER: String(MAX_CONNECTIONS_PER_USER) },
});
let failed = false;

/** The error code of the reply to `frame` (or its type when it was not an error). */
async function outcome(c: ChatClient, frame: Record<string, unknown> & { type: string }): Promise<string> {
  const r = await c.request(frame);
  return r.type === 'error' ? (r as AnyFrame & { code: string }).code : r.type;
}

/** Sends `n` messages at `perSecond` without waiting for acks; resolves with the acked ids in send order. */
async function pacedSends(c: ChatClient, roomId: string, tag: string, n: number, perSecond: number): Promise<string[]> {
  const acks: Array<Promise<AnyFrame>> = [];
  const t0 = Date.now();
  for (let i = 0; i < n; i++) {
    const due = t0 + (i * 1000) / perSecond;
    const wait = due - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    acks.push(c.request({ type: 'message.send', roomId, clientMessageId: `${tag}-${i}`, body: `${tag} ${i}` }, 30_000));
  }
  const replies = await Promise.all(acks);
  return replies.map((r, i) => {
    if (r.type !== 'message.sent') throw new Error(`${tag} send ${i}: ${JSON.stringify(r)}`);
    return (r as AnyFrame & { messageId: string }).messageId;
  });
}

const ascending = (ids: readonly string[]) => ids.every((id, i) => i === 0 || ids[i - 1]! < id);

describe('rooms with members and the ordering contract (two real regions)', () => {
  beforeAll(() => fx.start(), 600_000);
  afterEach((ctx) => {
    if (ctx.task.result?.state === 'fail') failed = true;
  });
  afterAll(() => fx.stop(failed), 120_000);

  it('a stranger who knows a private room id cannot join it, read it, post or type in it; an invited user can', async () => {
    const owner = await fx.login('r1', 'owner');
    const stranger = await fx.login('r2', 'stranger');
    const roomId = await fx.createRoom(owner.client, 'secret plans', 'private');
    const sent = [];
    for (let i = 0; i < 3; i++) sent.push(await owner.client.sendMessage(roomId, `secret ${i}`, `own-${i}`));
    // The room must exist in region B before a refusal there means anything: the owner's own
    // second connection in B joins once the room (and its membership) have replicated.
    const ownerInB = await fx.connect('r2');
    await ownerInB.auth(owner.token);
    await fx.join(ownerInB, roomId);

    expect(await outcome(stranger.client, { type: 'room.join', roomId })).toBe('not_found');
    expect(await outcome(stranger.client, { type: 'history', roomId })).toBe('not_found');
    expect(await outcome(stranger.client, { type: 'message.send', roomId, clientMessageId: 'x-1', body: 'let me in' })).toBe('not_found');
    expect(await outcome(stranger.client, { type: 'typing', roomId })).toBe('not_found');
    expect(await outcome(stranger.client, { type: 'room.invite', roomId, username: stranger.username })).toBe('not_found');
    await owner.client.sendMessage(roomId, 'after the stranger knocked', 'own-3');
    await ownerInB.waitForMessages(roomId, 1, 10_000);
    expect(stranger.client.roomMessages(roomId)).toEqual([]);

    // The owner (in A) adds the stranger once the stranger's account has replicated to A.
    const invited = await eventually('invite once the user replicated', 20_000, async () => {
      const r = await owner.client.request({ type: 'room.invite', roomId, username: stranger.username });
      return r.type === 'room.invited' ? r : (r as { code?: string }).code === 'not_found' ? undefined : Promise.reject(new Error(JSON.stringify(r)));
    });
    expect(invited).toMatchObject({ roomId, userId: stranger.userId });
    await fx.join(stranger.client, roomId);
    const history = await fx.fullHistory(stranger.client, roomId);
    expect(history.map((m) => m.body).reverse()).toEqual(['secret 0', 'secret 1', 'secret 2', 'after the stranger knocked']);
    expect(history.slice(-3).map((m) => m.messageId).reverse()).toEqual(sent);
    // A member who is not the owner cannot add people.
    const third = await fx.login('r2', 'third');
    expect(await outcome(stranger.client, { type: 'room.invite', roomId, username: third.username })).toBe('not_owner');
    expect(await outcome(third.client, { type: 'room.join', roomId })).toBe('not_found');
  }, 120_000);

  it('a public room admits anyone who joins, and only members read or post', async () => {
    const owner = await fx.login('r1', 'pubowner');
    const visitor = await fx.login('r2', 'visitor');
    const roomId = await fx.createRoom(owner.client, 'lobby', 'public');
    await owner.client.sendMessage(roomId, 'welcome', 'pub-0');
    const notYet = await eventually('public room visible in B', 20_000, async () => {
      const code = await outcome(visitor.client, { type: 'history', roomId });
      return code === 'not_found' ? undefined : code;
    });
    expect(notYet).toBe('not_member');
    expect(await outcome(visitor.client, { type: 'message.send', roomId, clientMessageId: 'v-0', body: 'hi' })).toBe('not_member');
    await fx.join(visitor.client, roomId);
    expect((await fx.fullHistory(visitor.client, roomId)).map((m) => m.body)).toEqual(['welcome']);
  }, 60_000);

  it('a socket that does not authenticate is closed at the deadline (1008); an authenticated one stays', async () => {
    const idle = await fx.connect('r1');
    const user = await fx.login('r1', 'punctual');
    const t0 = Date.now();
    const closed = await Promise.race([idle.closed, new Promise<{ code: number; reason: string }>((r) => setTimeout(() => r({ code: -1, reason: 'still open' }), AUTH_TIMEOUT_SECONDS * 1000 + 5_000))]);
    expect(closed).toEqual({ code: 1008, reason: 'authentication timeout' });
    expect(Date.now() - t0).toBeLessThan(AUTH_TIMEOUT_SECONDS * 1000 + 3_000);
    expect(user.client.isOpen).toBe(true);
    expect((await user.client.request({ type: 'ping' })).type).toBe('pong');
    const metrics = await (await fetch(`${fx.lab().region('r1').backend.httpUrl}/metrics`)).text();
    expect(metrics).toMatch(/^chat_connections_refused_total\{reason="auth_timeout"\} [1-9]/m);
  }, 30_000);

  it('one user gets at most the configured number of sockets per backend; closing one frees a place', async () => {
    const user = await fx.login('r2', 'many');
    const second = await fx.connect('r2');
    expect(await second.auth(user.token)).toBe(user.userId);
    const third = await fx.connect('r2');
    const refused = await third.request({ type: 'auth', token: user.token, ref: 'third' });
    expect(refused).toMatchObject({ type: 'error', code: 'rate_limited', ref: 'third' });
    expect((refused as AnyFrame & { message: string }).message).toContain(`at most ${MAX_CONNECTIONS_PER_USER}`);
    await second.close();
    await eventually('a place is free again', 5_000, async () => {
      const r = await third.request({ type: 'auth', token: user.token });
      return r.type === 'auth.ok' ? r : undefined;
    });
  }, 30_000);

  it('ordering: history is in id order and identical in both regions; live, each origin arrives in id order and each sender in its send order', async () => {
    const a = await fx.login('r1', 'senda');
    const b = await fx.login('r2', 'sendb');
    const watchA = await fx.login('r1', 'watcha');
    const watchB = await fx.login('r2', 'watchb');
    const roomId = await fx.createRoom(a.client, 'order', 'public');
    for (const c of [b.client, watchA.client, watchB.client]) await fx.join(c, roomId);
    await fx.join(a.client, roomId);
    const N = 150;
    const [idsA, idsB] = await Promise.all([pacedSends(a.client, roomId, 'A', N, 50), pacedSends(b.client, roomId, 'B', N, 50)]);
    // A sender's acks come in its send order, with increasing ids.
    expect(ascending(idsA)).toBe(true);
    expect(ascending(idsB)).toBe(true);
    const all = new Set([...idsA, ...idsB]);
    expect(all.size).toBe(2 * N);

    for (const watcher of [watchA.client, watchB.client, a.client, b.client]) {
      const live = await watcher.waitForMessages(roomId, 2 * N, 20_000);
      const liveIds = live.map((m) => m.messageId);
      // Every message exactly once.
      expect(new Set(liveIds).size).toBe(liveIds.length);
      expect(new Set(liveIds)).toEqual(all);
      // Per origin: id order, which is each sender's send order.
      const fromOrigin = (region: string) => live.filter((m: MessageEvent) => m.originRegion === region).map((m) => m.messageId);
      expect(fromOrigin('r1')).toEqual(idsA);
      expect(fromOrigin('r2')).toEqual(idsB);
    }
    // History: id order, the same in both regions once replicated.
    const ascendingHistory = async (c: ChatClient) => (await fx.fullHistory(c, roomId)).map((m) => m.messageId).reverse();
    const inA = await ascendingHistory(watchA.client);
    const inB = await eventually('B has all messages', 20_000, async () => {
      const h = await ascendingHistory(watchB.client);
      return h.length === 2 * N ? h : undefined;
    });
    expect(inA).toEqual([...all].sort());
    expect(inB).toEqual(inA);
    // What the contract does NOT promise: live order across origins need not be id order. Record how far it differed.
    const liveB = watchB.client.roomMessages(roomId).map((m) => m.messageId);
    const moved = liveB.filter((id, i) => inA[i] !== id).length;
    console.log(`ordering: ${moved} of ${2 * N} live positions in region B differ from history order (allowed across origins)`);
  }, 120_000);
});
