import type { SqlDatabase } from '@quorum/db';
import { ChangeNotifier, createCatchUpSubscription } from '../catch-up-subscription';
import { DuplicateEventIdError, InvalidAppendError, WrongExpectedRevisionError } from '../errors';
import type {
  AllSubscription,
  AppendOptions,
  AppendResult,
  EventMetadata,
  EventStore,
  ExpectedRevision,
  NewEvent,
  ReadAllOptions,
  ReadStreamOptions,
  RecordedEvent,
  StreamGuard,
  SubscribeToAllOptions,
} from '../event-store';
import { GroupCommit, type GroupCommitOptions } from './group-commit';
import {
  DUPLICATE_EVENT_ID_SQLSTATE,
  EVENT_STORE_SCHEMA_SQL,
  GUARD_REVISION_SQLSTATE,
  MAX_EVENTS_PER_APPEND,
  WRONG_EXPECTED_REVISION_SQLSTATE,
} from './schema';

/** See {@link PostgresEventStoreOptions.liveReadIntervalMs}. */
export const DEFAULT_LIVE_READ_INTERVAL_MS = 20;

export interface PostgresEventStoreOptions {
  /** Runs the schema migration on create (idempotent). Defaults to true. */
  migrate?: boolean;
  /** How often a caught-up subscription looks for appends made by other processes. */
  pollIntervalMs?: number;
  /** Events per read while catching up. */
  subscriptionBatchSize?: number;
  /**
   * Least time between the starts of two reads of a caught-up subscription. Appends that land
   * meanwhile are read together and go through the relay, the bus and the projector as one
   * batch: at 250 commands/s, 20 ms took a quarter to a third off Quorum's CPU per command and
   * nearly half off Postgres's (docs/benchmarks.md), for at most that much more lag under steady
   * traffic. The first read after a quiet spell is not delayed, nor is catching up. Default
   * 20 ms; 0 reads at every append.
   */
  liveReadIntervalMs?: number;
  /**
   * Group commit of concurrent appends (see `group-commit.ts`); `false` sends every append
   * alone, at once.
   */
  groupCommit?: GroupCommitOptions | false;
}

interface EventRow {
  position: string;
  event_id: string;
  stream_id: string;
  revision: string;
  type: string;
  version: number;
  data: unknown;
  metadata: EventMetadata;
  occurred_at: Date;
}

const EVENT_COLUMNS = 'position, event_id, stream_id, revision, type, version, data, metadata, occurred_at';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function toRecorded(row: EventRow): RecordedEvent {
  return {
    id: row.event_id,
    type: row.type,
    version: row.version,
    data: row.data,
    metadata: row.metadata,
    streamId: row.stream_id,
    revision: BigInt(row.revision),
    position: BigInt(row.position),
    occurredAt: row.occurred_at instanceof Date ? row.occurred_at : new Date(row.occurred_at),
  };
}

function sqlStateOf(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string'
    ? err.code
    : undefined;
}

function guardsToJson(streamId: string, guards: readonly StreamGuard[]): string {
  const seen = new Set<string>();
  return JSON.stringify(
    guards.map((g) => {
      if (!g.streamId || g.streamId.length > 200)
        throw new InvalidAppendError('guard stream id must be 1 to 200 characters');
      if (g.streamId === streamId)
        throw new InvalidAppendError(`stream ${streamId} cannot guard its own append; use expectedRevision`);
      if (seen.has(g.streamId)) throw new InvalidAppendError(`stream ${g.streamId} is guarded twice`);
      seen.add(g.streamId);
      return { stream: g.streamId, revision: g.revision === 'no_stream' ? 'no_stream' : expectedToText(g.revision) };
    }),
  );
}

function expectedToText(expected: ExpectedRevision): string {
  if (typeof expected === 'bigint') {
    if (expected < 0n) throw new InvalidAppendError(`expected revision must be >= 0, got ${expected}`);
    return expected.toString();
  }
  return expected;
}

/**
 * The PostgreSQL adapter of the `EventStore` port, on node-postgres or PGlite.
 * See `schema.ts` for why positions are derived from transaction ids.
 */
export class PostgresEventStore implements EventStore {
  private closed = false;
  private readonly subscriptions = new Set<AllSubscription>();
  private readonly appendListeners = new Set<() => void>();

  private constructor(
    private readonly db: SqlDatabase,
    private readonly notifier: ChangeNotifier,
    private readonly batchSize: number,
    private readonly appends: GroupCommit,
    private readonly liveReadIntervalMs: number,
  ) {}

  static async create(db: SqlDatabase, options: PostgresEventStoreOptions = {}): Promise<PostgresEventStore> {
    if (options.migrate ?? true) await PostgresEventStore.migrate(db);
    // In the embedded default every append comes through this object, so polling is only
    // a fallback; against a shared server other processes append too.
    const poll = options.pollIntervalMs ?? (db.kind === 'pglite' ? 1_000 : 20);
    const appends = new GroupCommit(
      db,
      options.groupCommit === false ? { maxItems: 1, maxInFlight: Number.MAX_SAFE_INTEGER } : options.groupCommit,
    );
    const interval = options.liveReadIntervalMs ?? DEFAULT_LIVE_READ_INTERVAL_MS;
    if (!Number.isFinite(interval) || interval < 0 || interval > 1_000) {
      throw new Error(`liveReadIntervalMs must be 0 to 1000, got ${interval}`);
    }
    return new PostgresEventStore(
      db,
      new ChangeNotifier(poll),
      options.subscriptionBatchSize ?? 500,
      appends,
      interval,
    );
  }

  /**
   * Calls `listener` after every append through this object; returns the unsubscribe. The
   * all-in-one process forwards it to the relay's store on its worker thread (see `wake`).
   */
  onAppended(listener: () => void): () => void {
    this.appendListeners.add(listener);
    return () => this.appendListeners.delete(listener);
  }

  /**
   * Something appended elsewhere (another object on the same database): wake the
   * subscriptions now instead of at their next poll.
   */
  wake(): void {
    this.notifier.notify();
  }

  /** Creates or updates the event store's tables and functions. */
  static async migrate(db: SqlDatabase): Promise<void> {
    // Concurrent migrations (several services starting together) would race on CREATE
    // FUNCTION; a transaction-scoped advisory lock serializes them.
    await db.transaction(async (tx) => {
      await tx.query(`SELECT pg_advisory_xact_lock(hashtext('quorum:es_migrate'))`);
      for (const statement of splitStatements(EVENT_STORE_SCHEMA_SQL)) await tx.query(statement);
    });
  }

  async appendToStream(
    streamId: string,
    events: readonly NewEvent[],
    options: AppendOptions = {},
  ): Promise<AppendResult> {
    this.assertOpen();
    if (!streamId || streamId.length > 200) throw new InvalidAppendError('stream id must be 1 to 200 characters');
    if (events.length === 0) throw new InvalidAppendError('an append needs at least one event');
    if (events.length > MAX_EVENTS_PER_APPEND)
      throw new InvalidAppendError(`at most ${MAX_EVENTS_PER_APPEND} events per append`);
    for (const e of events) {
      if (!UUID.test(e.id)) throw new InvalidAppendError(`event id must be a uuid, got ${JSON.stringify(e.id)}`);
      if (!e.type) throw new InvalidAppendError('event type must not be empty');
    }
    const expected = options.expectedRevision ?? 'any';
    const payload = JSON.stringify(
      events.map((e) => ({ id: e.id, type: e.type, version: e.version, data: e.data ?? null, metadata: e.metadata })),
    );
    const guards = options.guards && options.guards.length > 0 ? guardsToJson(streamId, options.guards) : null;
    const item = { streamId, expected: expectedToText(expected), events: payload, guards, count: events.length };
    const attempt = async () => {
      const row = await this.appends.append(item);
      this.notifier.notify();
      for (const listener of this.appendListeners) listener();
      return { nextExpectedRevision: BigInt(row.next_revision), position: BigInt(row.last_position) };
    };
    for (let tries = 1; ; tries++) {
      try {
        return await attempt();
      } catch (err) {
        const state = sqlStateOf(err);
        if (
          state !== WRONG_EXPECTED_REVISION_SQLSTATE &&
          state !== DUPLICATE_EVENT_ID_SQLSTATE &&
          state !== GUARD_REVISION_SQLSTATE &&
          state !== '23505'
        )
          throw err;
        // Either a real conflict, or these very events are already stored (an idempotent
        // retry, possibly racing its original): the stored events decide.
        const stored = await this.findStored(streamId, events);
        if (stored.found === events.length && stored.inOtherStreams === 0) {
          return { nextExpectedRevision: stored.maxRevision!, position: stored.maxPosition! };
        }
        if (stored.found > 0)
          throw new DuplicateEventIdError(
            streamId,
            events.map((e) => e.id),
          );
        if (state === WRONG_EXPECTED_REVISION_SQLSTATE) {
          const detail = (err as { detail?: string }).detail;
          throw new WrongExpectedRevisionError(
            streamId,
            expected,
            detail === undefined || detail === 'no_stream' ? undefined : BigInt(detail),
          );
        }
        if (state === GUARD_REVISION_SQLSTATE) {
          const guard = options.guards!.find((g) => g.streamId === (err as Error).message)!;
          const detail = (err as { detail?: string }).detail;
          throw new WrongExpectedRevisionError(
            guard.streamId,
            guard.revision,
            detail === undefined || detail === 'no_stream' ? undefined : BigInt(detail),
          );
        }
        // A racing append with these ids rolled back after we waited on it: try again.
        if (tries >= 3) throw err;
      }
    }
  }

  /** How many of `events` are stored, and where. */
  private async findStored(streamId: string, events: readonly NewEvent[]) {
    const { rows } = await this.db.query<{
      found: string;
      other: string;
      max_revision: string | null;
      max_position: string | null;
    }>(
      `SELECT count(*) AS found, count(*) FILTER (WHERE stream_id <> $1) AS other, max(revision) AS max_revision, max(position) AS max_position
         FROM es_events WHERE event_id IN (SELECT value::uuid FROM jsonb_array_elements_text($2::jsonb))`,
      [streamId, JSON.stringify(events.map((e) => e.id))],
    );
    const row = rows[0]!;
    return {
      found: Number(row.found),
      inOtherStreams: Number(row.other),
      maxRevision: row.max_revision === null ? undefined : BigInt(row.max_revision),
      maxPosition: row.max_position === null ? undefined : BigInt(row.max_position),
    };
  }

  async readStream(streamId: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    this.assertOpen();
    const backwards = options.direction === 'backwards';
    const params: unknown[] = [streamId];
    let where = 'stream_id = $1';
    if (options.fromRevision !== undefined) {
      params.push(options.fromRevision.toString());
      where += backwards ? ` AND revision <= $2` : ` AND revision >= $2`;
    }
    params.push(options.maxCount ?? 2_147_483_647);
    const { rows } = await this.db.query<EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM es_events WHERE ${where} ORDER BY revision ${backwards ? 'DESC' : 'ASC'} LIMIT $${params.length}`,
      params,
    );
    return rows.map(toRecorded);
  }

  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    this.assertOpen();
    const params: unknown[] = [(options.fromPosition ?? -1n).toString(), options.maxCount ?? 1_000];
    let typeFilter = '';
    if (options.types) {
      if (options.types.length === 0) return [];
      const placeholders = options.types.map((t) => {
        params.push(t);
        return `$${params.length}`;
      });
      typeFilter = ` AND type IN (${placeholders.join(', ')})`;
    }
    const { rows } = await this.db.query<EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM es_events
        WHERE position > $1 AND position < es_visible_horizon()${typeFilter}
        ORDER BY position LIMIT $2`,
      params,
    );
    return rows.map(toRecorded);
  }

  subscribeToAll(options: SubscribeToAllOptions = {}): AllSubscription {
    this.assertOpen();
    const types = options.types;
    const inner = createCatchUpSubscription({
      fromPosition: options.fromPosition ?? -1n,
      batchSize: this.batchSize,
      read: (from, maxCount) => this.readAll({ fromPosition: from, maxCount, ...(types ? { types } : {}) }),
      waitForChange: (signal) => this.notifier.wait(signal),
      minReadIntervalMs: this.liveReadIntervalMs,
    });
    const subscription: AllSubscription = {
      [Symbol.asyncIterator]: () => inner[Symbol.asyncIterator](),
      close: async () => {
        this.subscriptions.delete(subscription);
        await inner.close();
      },
    };
    this.subscriptions.add(subscription);
    return subscription;
  }

  async headPosition(): Promise<bigint> {
    this.assertOpen();
    const { rows } = await this.db.query<{ head: string | null }>(
      'SELECT max(position) AS head FROM es_events WHERE position < es_visible_horizon()',
    );
    return rows[0]?.head == null ? 0n : BigInt(rows[0].head);
  }

  /** Closes subscriptions; the database belongs to the caller. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.subscriptions].map((s) => s.close()));
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('event store is closed');
  }
}

/** Splits the schema script into statements, keeping `$$` bodies whole. */
function splitStatements(sql: string): string[] {
  const out: string[] = [];
  let current = '';
  let inBody = false;
  for (const line of sql.split('\n')) {
    if (line.trimStart().startsWith('--') && !inBody) continue;
    current += `${line}\n`;
    const dollars = line.split('$$').length - 1;
    if (dollars % 2 === 1) inBody = !inBody;
    if (!inBody && line.trimEnd().endsWith(';')) {
      out.push(current.trim());
      current = '';
    }
  }
  if (current.trim()) out.push(current.trim());
  return out;
}
