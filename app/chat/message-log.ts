/**
 * What the chat write path takes and gives (./message-writer.ts) and the storage it needs
 * (MessageStore in ./history.ts; an in-memory fake in unit tests).
 */
import type { StoredMessage } from './history.js';

export interface SendRequest {
  readonly roomId: string;
  readonly authorId: string;
  readonly clientMessageId: string;
  readonly body: string;
  /**
   * The client says this is the first time it sends this clientMessageId: the batch needs no
   * retry lookup for it (one Cassandra request instead of two when the whole batch says so).
   * A client that says so on a resend can only duplicate its own message.
   */
  readonly firstAttempt?: boolean;
}

export interface SendOutcome {
  /** The stored message's id: a retry of a stored send gets the id of its first attempt. */
  readonly messageId: string;
  /** True when this (author, clientMessageId) was already stored: nothing new was written. */
  readonly duplicate: boolean;
}

export interface ClientKey {
  readonly authorId: string;
  readonly clientMessageId: string;
}

/** The storage the writer needs (MessageStore in ./history.ts; an in-memory fake in unit tests). */
export interface MessageLog {
  /** clientKey(author, clientMessageId) -> stored message id, for the `keys` that have a de-duplication row in (roomId, bucket). */
  findClientIds(roomId: string, bucket: number, keys: readonly ClientKey[]): Promise<Map<string, string>>;
  /** The messages among `messageIds` that exist in partition (roomId, bucket). */
  getMessages(roomId: string, bucket: number, messageIds: readonly string[]): Promise<StoredMessage[]>;
  /** Writes `messages` (one room, one bucket) and their de-duplication rows as one mutation, at LOCAL_QUORUM. */
  writePartition(messages: readonly StoredMessage[]): Promise<void>;
  /** True when `error` (from writePartition) proves nothing was written, e.g. Cassandra Unavailable. */
  writeNotApplied(error: unknown): boolean;
}

export interface WriterMetrics {
  /** Messages per Cassandra batch. */
  readonly writeBatchMessages: { observe(value: number): void };
  /** Seconds from send() to the write reaching LOCAL_QUORUM. */
  readonly writeLatency: { observe(value: number): void };
}
