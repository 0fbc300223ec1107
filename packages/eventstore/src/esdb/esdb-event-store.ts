/**
 * The EventStoreDB adapter of the `EventStore` port, on `@eventstore/db-client` 6 (gRPC).
 *
 * Mapping (see docs/eventstoredb.md):
 * - `position` is the event's `$all` commit position. Appends outside explicit transactions
 *   (which this adapter never uses) give every event its own commit position, equal to its
 *   prepare position, so `{ commit: p, prepare: p }` addresses it exactly.
 * - ESDB `metadata` holds our `EventMetadata` plus `schemaVersion` (`NewEvent.version`);
 *   `occurredAt` is the server's `created` time.
 * - ESDB dedupes re-appended event ids itself; where it answers WrongExpectedVersion or a
 *   timeout instead, the adapter reads the stream tail to tell an exact retry (answer the
 *   stored result) from a partly stored batch (`DuplicateEventIdError`) and a real conflict.
 * - `$all` reads in client 6.x take no server-side filter, so `readAll` filters client side
 *   and pages until it has `maxCount` matches; subscriptions filter on the server.
 */
import {
  BACKWARDS,
  END,
  EventStoreDBClient,
  FORWARDS,
  START,
  StreamNotFoundError,
  WrongExpectedVersionError,
  eventTypeFilter,
  excludeSystemEvents,
  isCommandError,
  ErrorType,
} from '@eventstore/db-client';
import type { AppendResult as EsdbAppendResult, Position, ReadPosition } from '@eventstore/db-client';
import { DuplicateEventIdError, InvalidAppendError, WrongExpectedRevisionError } from '../errors';
import type {
  AllSubscription,
  AppendOptions,
  AppendResult,
  EventStore,
  NewEvent,
  ReadAllOptions,
  ReadStreamOptions,
  RecordedEvent,
  SubscribeToAllOptions,
} from '../event-store';
import { isSystem, readPositionAfter, toEsdbExpected, toEventData, toRecorded } from './esdb-mapping';
import { createSubscription } from './esdb-subscription';

export interface EsdbEventStoreOptions {
  /** e.g. `esdb://127.0.0.1:2113?tls=false`. Credentials in it are never echoed in errors. */
  connectionString: string;
  /** Events per `$all` page while `readAll` filters client side. Defaults to 1,024. */
  readPageSize?: number;
  /** How far back from the stream's end an id lookup looks. Defaults to 1,000 events. */
  idempotencyWindow?: number;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DEFAULT_READ_ALL_COUNT = 1_000;
/** An exact retry racing its original can find it not yet indexed; ESDB then drops the retry. */
const AMBIGUOUS_RETRIES = 3;
/** Events per backwards page in `headPosition`; usually the first user event is near the end. */
const HEAD_PAGE_SIZE = 64;

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A failure after which the events may or may not be stored. */
function isAmbiguousFailure(err: unknown): boolean {
  return (
    err instanceof Error &&
    isCommandError(err) &&
    (err.type === ErrorType.TIMEOUT || err.type === ErrorType.DEADLINE_EXCEEDED)
  );
}

function redact(connectionString: string): string {
  return connectionString.replace(/\/\/[^@/]*@/, '//***@');
}

/**
 * The EventStoreDB adapter of the `EventStore` port. Owns its client: `close()` disposes it.
 */
export class EsdbEventStore implements EventStore {
  private closed = false;
  private readonly subscriptions = new Set<AllSubscription>();

  private constructor(
    private readonly client: EventStoreDBClient,
    private readonly pageSize: number,
    private readonly idempotencyWindow: number,
  ) {}

  /**
   * Parses the connection string and checks the server answers a `$all` read, so a wrong
   * address or missing permission fails here rather than on the first command.
   */
  static async create(options: EsdbEventStoreOptions): Promise<EsdbEventStore> {
    const pageSize = options.readPageSize ?? 1_024;
    const idempotencyWindow = options.idempotencyWindow ?? 1_000;
    // A page re-reads the event at its start position, so a page of one would never advance.
    if (!Number.isInteger(pageSize) || pageSize < 2)
      throw new Error(`readPageSize must be an integer >= 2, got ${pageSize}`);
    if (!Number.isInteger(idempotencyWindow) || idempotencyWindow < 1)
      throw new Error(`idempotencyWindow must be a positive integer, got ${idempotencyWindow}`);
    let client: EventStoreDBClient;
    try {
      client = EventStoreDBClient.connectionString(options.connectionString);
    } catch (err) {
      // Not chained as `cause`: the client's ParseError keeps the whole string, credentials included.
      // eslint-disable-next-line preserve-caught-error
      throw new Error(
        `invalid EventStoreDB connection string ${JSON.stringify(redact(options.connectionString))}: ${(err as Error).message}`,
      );
    }
    const store = new EsdbEventStore(client, pageSize, idempotencyWindow);
    try {
      for await (const _ of client.readAll({ direction: BACKWARDS, fromPosition: END, maxCount: 1 })) break;
    } catch (err) {
      await client.dispose();
      throw new Error(
        `EventStoreDB is not reachable at ${redact(options.connectionString)}: ${(err as Error).message}`,
        { cause: err },
      );
    }
    return store;
  }

  async appendToStream(
    streamId: string,
    events: readonly NewEvent[],
    options: AppendOptions = {},
  ): Promise<AppendResult> {
    this.assertOpen();
    if (!streamId || streamId.length > 200) throw new InvalidAppendError('stream id must be 1 to 200 characters');
    if (streamId.startsWith('$'))
      throw new InvalidAppendError('stream ids starting with $ are reserved by EventStoreDB');
    if (events.length === 0) throw new InvalidAppendError('an append needs at least one event');
    const ids = new Set<string>();
    for (const e of events) {
      if (!UUID.test(e.id)) throw new InvalidAppendError(`event id must be a uuid, got ${JSON.stringify(e.id)}`);
      if (!e.type) throw new InvalidAppendError('event type must not be empty');
      if (e.type.startsWith('$'))
        throw new InvalidAppendError('event types starting with $ are reserved by EventStoreDB');
      if (ids.has(e.id.toLowerCase())) throw new InvalidAppendError(`event id ${e.id} appears twice in one append`);
      ids.add(e.id.toLowerCase());
    }
    const expected = options.expectedRevision ?? 'any';
    const esdbExpected = toEsdbExpected(expected);
    const data = events.map(toEventData);
    // EventStoreDB has no condition on another stream: read each guard's revision first. This
    // catches a decision made on stale state, not an append racing this read (see AppendOptions).
    for (const guard of options.guards ?? []) {
      if (guard.streamId === streamId)
        throw new InvalidAppendError(`stream ${streamId} cannot guard its own append; use expectedRevision`);
      const [last] = await this.readStream(guard.streamId, { direction: 'backwards', maxCount: 1 });
      const actual = last?.revision;
      const holds = guard.revision === 'no_stream' ? actual === undefined : actual === guard.revision;
      if (!holds) throw new WrongExpectedRevisionError(guard.streamId, guard.revision, actual);
    }

    for (let attempt = 1; ; attempt++) {
      let result: EsdbAppendResult;
      try {
        result = await this.client.appendToStream(streamId, data, { expectedRevision: esdbExpected });
      } catch (err) {
        if (err instanceof WrongExpectedVersionError) {
          const stored = await this.storedResult(streamId, events);
          if (stored) return stored;
          // `any` never conflicts on revision: ESDB answers WrongExpectedVersion for it only
          // when the ids' original write is not indexed yet; retrying finds it.
          if (expected === 'any' && attempt < AMBIGUOUS_RETRIES) continue;
          throw new WrongExpectedRevisionError(
            streamId,
            expected,
            err.actualVersion === 'no_stream' ? undefined : err.actualVersion,
          );
        }
        if (isAmbiguousFailure(err)) {
          // ESDB drops (and so times out) an exact retry whose original is not yet indexed.
          const stored = await this.storedResult(streamId, events);
          if (stored) return stored;
          if (attempt < AMBIGUOUS_RETRIES) continue;
        }
        throw err;
      }
      if (!result.success) {
        // Only with `throwOnAppendFailure=false` in the connection string.
        const stored = await this.storedResult(streamId, events);
        if (stored) return stored;
        throw new WrongExpectedRevisionError(
          streamId,
          expected,
          result.nextExpectedRevision < 0n ? undefined : result.nextExpectedRevision,
        );
      }
      if (result.position)
        return { nextExpectedRevision: result.nextExpectedRevision, position: result.position.commit };
      // An idempotent write: ESDB answers success without a position.
      const stored = await this.storedResult(streamId, events);
      if (stored) return stored;
      throw new Error(
        `EventStoreDB acknowledged the append to ${streamId} without a position, and its events are not in the stream`,
      );
    }
  }

  async readStream(streamId: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    this.assertOpen();
    if (options.maxCount !== undefined && options.maxCount <= 0) return [];
    const backwards = options.direction === 'backwards';
    const out: RecordedEvent[] = [];
    try {
      const read = this.client.readStream(streamId, {
        direction: backwards ? BACKWARDS : FORWARDS,
        fromRevision: options.fromRevision ?? (backwards ? END : START),
        ...(options.maxCount !== undefined ? { maxCount: options.maxCount } : {}),
      });
      for await (const resolved of read) if (resolved.event) out.push(toRecorded(resolved.event));
    } catch (err) {
      if (err instanceof StreamNotFoundError) return [];
      throw err;
    }
    return out;
  }

  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    this.assertOpen();
    const types = options.types ? new Set(options.types) : undefined;
    if (types?.size === 0) return [];
    const maxCount = options.maxCount ?? DEFAULT_READ_ALL_COUNT;
    if (maxCount <= 0) return [];
    const out: RecordedEvent[] = [];
    let cursor = options.fromPosition ?? -1n;
    for (;;) {
      let seen = 0;
      // Reads from a position include the event at it; `cursor` drops it.
      for await (const resolved of this.client.readAll({
        fromPosition: readPositionAfter(cursor),
        maxCount: this.pageSize,
        direction: FORWARDS,
      })) {
        seen++;
        const event = resolved.event;
        if (!event || event.position.commit <= cursor) continue;
        cursor = event.position.commit;
        if (isSystem(event) || (types && !types.has(event.type))) continue;
        out.push(toRecorded(event));
        if (out.length === maxCount) return out;
      }
      if (seen < this.pageSize) return out;
    }
  }

  subscribeToAll(options: SubscribeToAllOptions = {}): AllSubscription {
    this.assertOpen();
    const types = options.types ? new Set(options.types) : undefined;
    const source =
      types?.size === 0
        ? undefined
        : this.client.subscribeToAll({
            fromPosition: readPositionAfter(options.fromPosition),
            filter: types
              ? eventTypeFilter({ regex: `^(?:${[...types].map(escapeRegex).join('|')})$` })
              : excludeSystemEvents(),
          });
    const subscription = createSubscription(source, options.fromPosition ?? -1n, types, () =>
      this.subscriptions.delete(subscription),
    );
    this.subscriptions.add(subscription);
    return subscription;
  }

  async headPosition(): Promise<bigint> {
    this.assertOpen();
    // The tail of `$all` is often system events ($stats, projections); page back past them.
    let from: ReadPosition = END;
    for (;;) {
      let seen = 0;
      let last: Position | undefined;
      for await (const resolved of this.client.readAll({
        fromPosition: from,
        maxCount: HEAD_PAGE_SIZE,
        direction: BACKWARDS,
      })) {
        seen++;
        const event = resolved.event;
        if (!event) continue;
        if (last && event.position.commit >= last.commit) continue;
        last = event.position;
        if (!isSystem(event)) return event.position.commit;
      }
      if (seen < HEAD_PAGE_SIZE || !last) return 0n;
      from = last;
    }
  }

  /** Ends open subscriptions and disposes the client. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.subscriptions].map((s) => s.close()));
    await this.client.dispose();
  }

  /**
   * The stored result of an append whose ids are all in the stream (an exact retry), or
   * `undefined` when none are; a batch only partly stored is a `DuplicateEventIdError`.
   * Looks back at most `idempotencyWindow` events from the stream's end.
   */
  private async storedResult(streamId: string, events: readonly NewEvent[]): Promise<AppendResult | undefined> {
    const wanted = new Set(events.map((e) => e.id.toLowerCase()));
    const found: RecordedEvent[] = [];
    try {
      const read = this.client.readStream(streamId, {
        direction: BACKWARDS,
        fromRevision: END,
        maxCount: this.idempotencyWindow,
      });
      for await (const resolved of read) {
        if (resolved.event && wanted.has(resolved.event.id.toLowerCase())) found.push(toRecorded(resolved.event));
        if (found.length === wanted.size) break;
      }
    } catch (err) {
      if (err instanceof StreamNotFoundError) return undefined;
      throw err;
    }
    if (found.length === 0) return undefined;
    if (found.length < wanted.size)
      throw new DuplicateEventIdError(
        streamId,
        found.map((e) => e.id),
      );
    // Read backwards, so the first found is the batch's last event.
    const last = found[0]!;
    return { nextExpectedRevision: last.revision, position: last.position };
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('event store is closed');
  }
}
