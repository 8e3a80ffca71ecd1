/**
 * Regions leaving the mesh, both sides, idempotently:
 *
 * - `removePeers` (a REMAINING node, SPOCK_REMOVED_NODES): for each removed node r
 *   1. drop `sub_<r>_<me>` if it exists (the function also tries to drop its slot on r, and drops
 *      r's node row when no other subscription has r as provider; an unreachable r only warns);
 *   2. drop the slot on THIS node that served r's subscription `sub_<me>_<r>` (r's own drop
 *      normally removes it, but not when r is gone or down): a walsender still holding it is
 *      ended first, so no WAL is retained for r;
 *   3. forget r's node row once no subscription references it (a row still referenced is left in
 *      place with a warning: the node functions refuse to drop it).
 * - `leaveMesh` (the LEAVING node, SPOCK_LEAVE=true):
 *   1. drop every subscription on this node;
 *   2. forget the remote node rows nothing references any more;
 *   3. drop the mesh's replication slots in this database (ending walsenders of peers that have
 *      not dropped their subscriptions to this node yet), so that no WAL is retained;
 *   4. drop this node (node_drop also removes its interfaces, replication sets and slots; it
 *      refuses while a slot is active, so 3-4 are retried until the deadline).
 *   Tables and their rows are never touched; the extension stays installed.
 *
 * Subscriptions and nodes are dropped in administrative transactions (spock: after
 * `repair_mode(true)`); slots are dropped by single statements (not transactional, not DDL).
 */
import { setTimeout as sleepTimer } from 'node:timers/promises';
import type { Logger } from '../log.js';
import type { Row } from './db.js';
import { slotDrop, slotTerminate, subscriptionName, type Dialect, type LocalNodeRow, type NodeRow, type SlotOf, type SlotRow, type SubscriptionRow } from './dialect.js';
import { BootstrapError, errText } from './errors.js';
import type { Statement } from './sql.js';

export interface RemovalContext {
  readonly dialect: Dialect;
  /** This node's name. */
  readonly me: string;
  readonly deadlineSeconds: number;
  readonly log: Logger;
  /** First retry delay while a slot is still held (doubles up to maxBackoffMs). */
  readonly pollMs: number;
  /** Upper bound of the retry backoff. */
  readonly maxBackoffMs: number;
  query(s: Statement): Promise<Row[]>;
  /** An administrative transaction (dialect prelude first); rows per statement. */
  admin(stmts: readonly Statement[]): Promise<Row[][]>;
  change(what: string, fields?: Record<string, unknown>): void;
  warn(what: string, fields?: Record<string, unknown>): void;
  /** Milliseconds left before the run's deadline. */
  remaining(): number;
}

const rowsAs = <T>(rows: Row[]): T[] => rows as unknown as T[];

async function dropSubscription(ctx: RemovalContext, sub: SubscriptionRow): Promise<void> {
  const [rows] = await ctx.admin([ctx.dialect.subDrop(sub.name)]);
  if ((rows ?? []).length > 0) ctx.change(`dropped subscription ${sub.name}`, { subscription: sub.name, provider: sub.provider });
}

/** Forgets a remote node row when nothing references it; warns (and leaves it) otherwise. */
async function forgetNode(ctx: RemovalContext, node: NodeRow): Promise<void> {
  if (node.local) return;
  const refs = node.subscriptions ?? [];
  if (refs.length > 0) {
    ctx.warn(`node ${node.name} is still referenced by subscription(s) ${refs.join(', ')}: its row is left in place (${ctx.dialect.extension} refuses to drop a node that subscriptions reference)`, {
      peer: node.name,
      subscriptions: refs,
    });
    return;
  }
  const [rows] = await ctx.admin([ctx.dialect.nodeDrop(node.name)]);
  if ((rows ?? []).length > 0) ctx.change(`forgot node ${node.name}`, { peer: node.name });
}

/**
 * Drops the mesh slots of this database (all, or the one serving `of`), ending a walsender that
 * holds one first; retried with backoff until none is left or the deadline passes.
 */
async function dropSlots(ctx: RemovalContext, of: SlotOf | undefined, reason: string): Promise<void> {
  let delay = Math.max(1, ctx.pollMs);
  let lastError = '';
  for (;;) {
    const slots = rowsAs<SlotRow>(await ctx.query(ctx.dialect.meshSlots(of)));
    if (slots.length === 0) return;
    let allDropped = true;
    for (const s of slots) {
      if (s.active) {
        allDropped = false;
        const terminated = await ctx.query(slotTerminate(s.name));
        ctx.log.info('ended the walsender holding a replication slot', { slot: s.name, pid: s.active_pid, terminated: terminated.length > 0, reason });
        continue;
      }
      try {
        const dropped = await ctx.query(slotDrop(s.name));
        if (dropped.length > 0) ctx.change(`dropped replication slot ${s.name}`, { slot: s.name, reason });
        else allDropped = false; // became active (or went) between the list and the drop
      } catch (e) {
        // Acquired again by a reconnecting walsender, or dropped concurrently by its subscriber.
        allDropped = false;
        lastError = errText(e);
        ctx.log.warn('replication slot not dropped yet, retrying', { slot: s.name, error: lastError });
      }
    }
    if (allDropped) continue;
    const left = ctx.remaining();
    if (left <= 0) {
      throw new BootstrapError(
        `deadline of ${ctx.deadlineSeconds} s reached: replication slot(s) ${slots.map((s) => s.name).join(', ')} (${reason}) could not be dropped${lastError ? ` (${lastError})` : ''}; a walsender keeps taking them: check pg_stat_replication`,
      );
    }
    await sleepTimer(Math.min(delay, left));
    delay = Math.min(delay * 2, ctx.maxBackoffMs);
  }
}

/** A remaining node: drops what ties it to each removed node (see the module comment). */
export async function removePeers(ctx: RemovalContext, removed: readonly string[]): Promise<void> {
  for (const peer of [...removed].sort()) {
    const name = subscriptionName(peer, ctx.me);
    const sub = rowsAs<SubscriptionRow>(await ctx.query(ctx.dialect.subscriptions())).find((s) => s.name === name);
    if (sub && sub.provider !== peer) {
      ctx.warn(`subscription ${name} is named for removed node ${peer} but its provider is node "${sub.provider}": left in place`, { subscription: name });
    } else if (sub) {
      await dropSubscription(ctx, sub);
    }
    await dropSlots(ctx, { provider: ctx.me, subscription: subscriptionName(ctx.me, peer) }, `served removed node ${peer}`);
    const node = rowsAs<NodeRow>(await ctx.query(ctx.dialect.nodes())).find((n) => n.name === peer);
    if (node?.local) {
      throw new BootstrapError(`removed node ${peer} is this database's own ${ctx.dialect.extension} node: check SPOCK_NODE and PGHOST (bootstrap never drops a node it is asked to keep)`);
    }
    if (node) await forgetNode(ctx, node);
  }
}

/** The leaving node: drops its subscriptions, remote node rows, mesh slots and itself (see the module comment). */
export async function leaveMesh(ctx: RemovalContext, local: LocalNodeRow | undefined): Promise<void> {
  if (local && local.node_name !== ctx.me) {
    throw new BootstrapError(
      `this database is ${ctx.dialect.extension} node "${local.node_name}", not "${ctx.me}": check SPOCK_NODE and PGHOST (leaving drops nothing of another node)`,
    );
  }
  for (const sub of rowsAs<SubscriptionRow>(await ctx.query(ctx.dialect.subscriptions()))) await dropSubscription(ctx, sub);
  for (const node of rowsAs<NodeRow>(await ctx.query(ctx.dialect.nodes()))) await forgetNode(ctx, node);
  const reason = `node ${ctx.me} leaves the mesh`;
  await dropSlots(ctx, undefined, reason);
  if (!local) return;
  let delay = Math.max(1, ctx.pollMs);
  for (;;) {
    try {
      const [rows] = await ctx.admin([ctx.dialect.localNodeDrop(ctx.me)]);
      if ((rows ?? []).length > 0) ctx.change(`dropped node ${ctx.me}`, { node: ctx.me });
      else {
        const refs = rowsAs<NodeRow>(await ctx.query(ctx.dialect.nodes())).find((n) => n.local)?.subscriptions ?? [];
        if (refs.length > 0) throw new BootstrapError(`node ${ctx.me} is still referenced by subscription(s) ${refs.join(', ')} (created while leaving?); rerun to drop them`);
      }
      break;
    } catch (e) {
      // node_drop refuses while a walsender holds one of its slots: end it, drop, retry.
      const msg = errText(e);
      if (e instanceof BootstrapError || !/active/i.test(msg) || ctx.remaining() <= 0) {
        throw e instanceof BootstrapError ? e : new BootstrapError(`could not drop node ${ctx.me}: ${msg}`);
      }
      ctx.log.warn('node not dropped yet (a replication slot is active), retrying', { error: msg });
      await dropSlots(ctx, undefined, reason);
      await sleepTimer(Math.min(delay, Math.max(1, ctx.remaining())));
      delay = Math.min(delay * 2, ctx.maxBackoffMs);
    }
  }
}
