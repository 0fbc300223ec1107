/**
 * The event store port. Every adapter (PostgreSQL on `pg`, PostgreSQL on PGlite, EventStoreDB)
 * implements this interface and passes the same contract suite
 * (`@quorum/eventstore/contract`).
 *
 * Revisions count events within one stream from 0. Positions order events across all
 * streams; they increase in the order events become visible to readers but are not dense
 * (an adapter may leave holes). Both are `bigint` in code and decimal strings on the wire.
 */

/** Who caused an event. */
export interface Actor {
  kind: 'user' | 'apiKey' | 'system';
  id: string;
}

/** Metadata carried by every event; never holds secrets. */
export interface EventMetadata {
  orgId: string;
  actor: Actor;
  correlationId: string;
  causationId: string | null;
  /** W3C trace context of the command that appended the event. */
  traceparent?: string;
}

/** An event to append. `id` makes appends idempotent: re-appending the same ids appends nothing. */
export interface NewEvent<Type extends string = string, Data = unknown> {
  id: string;
  type: Type;
  /** Schema version of `data`. */
  version: number;
  data: Data;
  metadata: EventMetadata;
}

/** An event as stored. */
export interface RecordedEvent<Type extends string = string, Data = unknown> extends NewEvent<Type, Data> {
  streamId: string;
  revision: bigint;
  position: bigint;
  occurredAt: Date;
}

/**
 * What the writer believes about the stream:
 * `'no_stream'` it must not exist; `'stream_exists'` it must exist; `'any'` no check;
 * a `bigint` the revision of its last event.
 */
export type ExpectedRevision = 'no_stream' | 'stream_exists' | 'any' | bigint;

/** Another stream whose revision a decision was made at; see {@link AppendOptions.guards}. */
export interface StreamGuard {
  streamId: string;
  revision: bigint | 'no_stream';
}

export interface AppendOptions {
  expectedRevision?: ExpectedRevision;
  /**
   * Other streams the decision read: the append succeeds only if each is still at the given
   * revision, and otherwise throws {@link WrongExpectedRevisionError} naming that stream and
   * appends nothing. PostgreSQL checks them in the append's own transaction and share-locks
   * them until it commits, so no append to a guard stream can slip in between. EventStoreDB
   * has no such condition: its adapter reads each guard's revision just before appending,
   * which catches a stale decision but not an append racing that read.
   */
  guards?: readonly StreamGuard[];
}

export interface AppendResult {
  /** Revision of the last event in the stream after the append. */
  nextExpectedRevision: bigint;
  /** Position of the last appended event (or of the already-stored one on an idempotent retry). */
  position: bigint;
}

export interface ReadStreamOptions {
  direction?: 'forwards' | 'backwards';
  /** Inclusive. Defaults to the start (forwards) or the end (backwards). */
  fromRevision?: bigint;
  maxCount?: number;
}

export interface ReadAllOptions {
  /** Exclusive: returns events strictly after this position. Defaults to the beginning. */
  fromPosition?: bigint;
  maxCount?: number;
  /** Only events whose type is in this list. */
  types?: readonly string[];
}

export interface SubscribeToAllOptions {
  /** Exclusive; defaults to the beginning. */
  fromPosition?: bigint;
  types?: readonly string[];
}

/** A catch-up subscription: past events first, then live ones, in position order. */
export interface AllSubscription extends AsyncIterable<RecordedEvent> {
  /** Stops the subscription; idempotent. A pending `next()` resolves `done`. */
  close(): Promise<void>;
}

export interface EventStore {
  appendToStream(streamId: string, events: readonly NewEvent[], options?: AppendOptions): Promise<AppendResult>;
  /** Returns `[]` for a stream that does not exist. */
  readStream(streamId: string, options?: ReadStreamOptions): Promise<RecordedEvent[]>;
  readAll(options?: ReadAllOptions): Promise<RecordedEvent[]>;
  subscribeToAll(options?: SubscribeToAllOptions): AllSubscription;
  /** Position of the newest event visible to readers, `0n` when empty. */
  headPosition(): Promise<bigint>;
  /** Idempotent. */
  close(): Promise<void>;
}
