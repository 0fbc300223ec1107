/**
 * The live projector: consumes `evt.>` from the bus and applies events to the active
 * read-model version, writing the checkpoint in the same transaction; positions at or below
 * the checkpoint are skipped, which turns the bus's at-least-once delivery into exactly-once
 * effects.
 *
 * Events arrive in batches (whatever the bus has delivered and waiting): a batch is applied
 * in one transaction, so a burst costs one commit instead of one per event. If that
 * transaction fails, the batch is applied event by event; a failing event is retried here,
 * inside the handler, never handed back to the bus, because a redelivery could arrive after
 * later events and the checkpoint would then skip it. After `maxAttempts` the event is
 * dead-lettered and the checkpoint moves past it, so one bad event degrades the projection
 * instead of stopping it. When the database itself is down even the dead letter cannot be
 * written; the projector then keeps retrying, and only a shutdown hands the batch back.
 *
 * A rebuild (`rebuild.ts`, usually another process) fills version N+1 and flips
 * `projection_active`. The projector polls that row and moves to the new version's durable,
 * which the bus creates at the start of the stream; everything up to the rebuild's checkpoint
 * is skipped. A durable left over from an earlier life of that version is also safe: its
 * stream position predates the rebuild, so it still delivers everything after the checkpoint.
 */
import { metrics, type Attributes, type BatchObservableCallback } from '@opentelemetry/api';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Consumer, DeliveredMessage, EventBus } from '@quorum/bus';
import {
  createKysely,
  migratePublicSchema,
  migrateReadModelSchema,
  readModelSchema,
  type Database,
  type DeadLetterRow,
  type SqlDatabase,
} from '@quorum/db';
import { isDomainEventType } from '@quorum/domain';
import { parseWireEvent, toWireEvent, type EventStore, type WireEvent } from '@quorum/eventstore';
import { SpanKind, SpanStatusCode, contextFromTraceparent, trace } from '@quorum/telemetry';
import {
  countUnresolvedDeadLetters,
  ensureActiveVersion,
  ensureCheckpoint,
  insertDeadLetter,
  listUnresolvedDeadLetters,
  advanceCheckpoint,
  lockCheckpoint,
  readActiveCheckpoint,
  readActiveVersion,
  readCheckpoint,
  writeCheckpoint,
} from './bookkeeping.repository';
import { CORE_PROJECTION, applyEvents } from './projections/core.projection';
import { retryDeadLetter, skipDeadLetter, type DeadLetterContext } from './dead-letters';

export interface ProjectorOptions {
  sql: SqlDatabase;
  bus: EventBus;
  store: EventStore;
  logger: Logger;
  /** Only the `core` projection exists today. */
  name?: 'core';
  /** Deliveries of one event before it is dead-lettered. Default 5. */
  maxAttempts?: number;
  /** Durable names are `${durablePrefix}-core-v${version}`. Default `projector`. */
  durablePrefix?: string;
  /**
   * Subject filter of the consumer. Default `evt.>` (every event). Tests narrow it to their own
   * organization (`evt.<orgId>.>`) because the shared stream holds other runs' events.
   */
  filterSubject?: string;
  /** Delay before a failed event is redelivered; the bus default otherwise (100 ms doubling). */
  redeliveryDelayMs?: (deliveryCount: number) => number;
  /** How often `projection_active` is checked for a switch. Default 1,000 ms. */
  versionCheckIntervalMs?: number;
}

export interface ProjectorStatus {
  /** Version this projector applies to. */
  version: number;
  checkpoint: bigint;
  /** Unresolved dead letters of `version`. */
  deadLetters: number;
  degraded: boolean;
  /** Store head minus checkpoint, never negative. */
  lagPositions: bigint;
  lastAppliedAt?: Date;
}

interface Waiter {
  position: bigint;
  settle(reached: boolean): void;
}

const NIL_UUID = '00000000-0000-0000-0000-000000000000';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export class Projector {
  private readonly db: Kysely<Database>;
  private readonly name: 'core';
  private readonly maxAttempts: number;
  private readonly durablePrefix: string;
  private readonly tracer = trace.getTracer('quorum.projector');
  private readonly applied;
  private readonly observables;
  private readonly observe: BatchObservableCallback;
  private readonly waiters = new Set<Waiter>();
  private waiterPoll: ReturnType<typeof setInterval> | undefined;
  private readonly advanceListeners = new Set<() => void>();
  private consumer: Consumer | undefined;
  /** Highest position committed for `version` by this process (or read at start / switch). */
  private checkpoint: bigint;
  private lastAppliedAt: Date | undefined;
  private versionTimer: NodeJS.Timeout | undefined;
  private switching: Promise<void> | undefined;
  private started = false;
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly options: ProjectorOptions,
    private version: number,
    checkpoint: bigint,
  ) {
    this.db = createKysely<Database>(options.sql);
    this.name = options.name ?? CORE_PROJECTION;
    this.maxAttempts = options.maxAttempts ?? 5;
    this.durablePrefix = options.durablePrefix ?? 'projector';
    this.checkpoint = checkpoint;
    const meter = metrics.getMeter('quorum.projector');
    this.applied = meter.createCounter('quorum.projection.applied', {
      description: 'Events applied to a read model',
      unit: '{event}',
    });
    const lag = meter.createObservableGauge('quorum.projection.lag', {
      description: 'Event store head position minus the projection checkpoint',
      unit: '{position}',
    });
    const deadLetters = meter.createObservableGauge('quorum.projection.dead_letters', {
      description: 'Unresolved dead letters of the active projection version',
      unit: '{event}',
    });
    this.observables = [lag, deadLetters];
    this.observe = async (observer) => {
      if (this.closing) return;
      try {
        const s = await this.status();
        const attributes: Attributes = { projection: this.name, version: s.version };
        observer.observe(lag, Number(s.lagPositions), attributes);
        observer.observe(deadLetters, s.deadLetters, attributes);
      } catch (err) {
        this.options.logger.warn({ err }, 'projection metrics not observed: status could not be read');
      }
    };
    meter.addBatchObservableCallback(this.observe, this.observables);
  }

  /** Migrates `public` and the active version's schema; does not consume until {@link start}. */
  static async create(options: ProjectorOptions): Promise<Projector> {
    const maxAttempts = options.maxAttempts ?? 5;
    if (!Number.isInteger(maxAttempts) || maxAttempts < 1)
      throw new Error(`maxAttempts must be a positive integer, got ${maxAttempts}`);
    const name = options.name ?? CORE_PROJECTION;
    const db = createKysely<Database>(options.sql);
    await migratePublicSchema(options.sql);
    const version = await ensureActiveVersion(db, name);
    await migrateReadModelSchema(options.sql, version);
    await ensureCheckpoint(db, name, version);
    const checkpoint = await readCheckpoint(db, name, version);
    return new Projector(options, version, checkpoint);
  }

  /** Starts consuming and watching for version switches. Idempotent. */
  async start(): Promise<void> {
    this.assertOpen();
    if (this.started) return;
    this.started = true;
    await this.options.bus.ensureStream();
    await this.startConsumer(this.version);
    this.versionTimer = setInterval(() => {
      if (this.switching || this.closing) return;
      this.switching = this.followActiveVersion()
        .catch((err: unknown) =>
          this.options.logger.warn({ err }, 'checking the active projection version failed; will retry'),
        )
        .finally(() => (this.switching = undefined));
    }, this.options.versionCheckIntervalMs ?? 1_000);
    this.versionTimer.unref();
  }

  async status(): Promise<ProjectorStatus> {
    const version = this.version;
    const [checkpoint, deadLetters, head] = await Promise.all([
      readCheckpoint(this.db, this.name, version),
      countUnresolvedDeadLetters(this.db, this.name, version),
      this.options.store.headPosition(),
    ]);
    const lag = head - checkpoint;
    return {
      version,
      checkpoint,
      deadLetters,
      degraded: deadLetters > 0,
      lagPositions: lag > 0n ? lag : 0n,
      ...(this.lastAppliedAt ? { lastAppliedAt: this.lastAppliedAt } : {}),
    };
  }

  /** Unresolved dead letters of the current version, oldest position first. */
  async deadLetters(): Promise<DeadLetterRow[]> {
    return listUnresolvedDeadLetters(this.db, this.name, this.version);
  }

  /**
   * Re-reads a dead-lettered event from the store and applies it to its version (out of order:
   * later events were applied without it), then marks it resolved `retried`.
   * @throws NOT_FOUND (no such dead letter), PRECONDITION_FAILED (already resolved), or the
   *   apply error (the dead letter then records it and stays unresolved).
   */
  async retryDeadLetter(id: string | bigint): Promise<void> {
    await retryDeadLetter(this.deadLetterContext(), id);
  }

  /** Marks a dead letter resolved `skipped`; the event stays unapplied. */
  async skipDeadLetter(id: string | bigint): Promise<void> {
    await skipDeadLetter(this.deadLetterContext(), id);
  }

  private deadLetterContext(): DeadLetterContext {
    return { db: this.db, store: this.options.store, logger: this.options.logger, projection: this.name };
  }

  /**
   * Resolves `true` once the active version's checkpoint reaches `position`, `false` after
   * `timeoutMs`. Applies in this process wake it at once; a slower poll of the table covers
   * version switches and other processes.
   */
  async waitForPosition(position: bigint, timeoutMs: number): Promise<boolean> {
    if (this.checkpoint >= position) return true;
    if (this.closing) return false;
    return new Promise<boolean>((resolve) => {
      const timeout = setTimeout(() => waiter.settle(false), timeoutMs);
      const waiter: Waiter = {
        position,
        settle: (reached) => {
          if (!this.waiters.delete(waiter)) return;
          clearTimeout(timeout);
          if (this.waiters.size === 0) this.stopWaiterPoll();
          resolve(reached);
        },
      };
      this.waiters.add(waiter);
      this.startWaiterPoll();
    });
  }

  /**
   * Applies in this process wake waiters at once; one shared poll of the active checkpoint
   * (not one per waiter) covers progress made elsewhere, such as a rebuild's switch.
   */
  private startWaiterPoll(): void {
    if (this.waiterPoll) return;
    let polling = false;
    this.waiterPoll = setInterval(() => {
      if (polling) return;
      polling = true;
      readActiveCheckpoint(this.db, this.name)
        .then((c) => {
          if (c === undefined) return;
          for (const waiter of [...this.waiters]) if (waiter.position <= c.position) waiter.settle(true);
        })
        .catch((err: unknown) =>
          this.options.logger.warn({ err }, 'waitForPosition: checkpoint poll failed; polling again'),
        )
        .finally(() => (polling = false));
    }, 100);
  }

  private stopWaiterPoll(): void {
    if (this.waiterPoll) clearInterval(this.waiterPoll);
    this.waiterPoll = undefined;
  }

  /** Stops the version watcher and the consumer (finishing the event in hand). Idempotent. */
  async close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.versionTimer) clearInterval(this.versionTimer);
      await this.switching;
      await this.consumer?.close();
      this.consumer = undefined;
      metrics.getMeter('quorum.projector').removeBatchObservableCallback(this.observe, this.observables);
      for (const waiter of [...this.waiters]) waiter.settle(false);
    })();
    return this.closing;
  }

  // -------------------------------------------------------------------------------------

  private async startConsumer(version: number): Promise<void> {
    await this.catchUpFromStore(version);
    const durableName = `${this.durablePrefix}-${this.name}-v${version}`;
    this.consumer = await this.options.bus.consume({
      durableName,
      filterSubjects: [this.options.filterSubject ?? 'evt.>'],
      maxAckPending: 2_000,
      maxBatch: 500,
      batchHandler: (messages) => this.handleBatch(messages, version),
      onError: (err) => this.options.logger.warn({ err, durableName }, 'bus consumer error'),
    });
    this.options.logger.info({ durableName, version, checkpoint: this.checkpoint.toString() }, 'projector consuming');
  }

  private async followActiveVersion(): Promise<void> {
    const active = await readActiveVersion(this.db, this.name);
    if (active === undefined || active === this.version || this.closing) return;
    const previous = this.version;
    this.options.logger.info({ from: previous, to: active }, 'active projection version changed; switching consumer');
    await this.consumer?.close();
    this.consumer = undefined;
    if (this.closing) return;
    await migrateReadModelSchema(this.options.sql, active);
    await ensureCheckpoint(this.db, this.name, active);
    this.version = active;
    this.checkpoint = await readCheckpoint(this.db, this.name, active);
    await this.startConsumer(active);
    this.notifyWaiters();
    this.options.logger.warn(
      { schema: readModelSchema(previous) },
      'previous read model schema left in place; an operator may drop it once nothing reads it',
    );
  }

  /**
   * Applies what the store holds after the checkpoint, a page at a time, before consuming.
   * Messages in flight when the previous process died come back from JetStream only after
   * their ack wait (30 s), and the gap filling below needs a newer delivery to notice them: on
   * a quiet system the tail of acknowledged commands would wait that long. The store has them.
   */
  private async catchUpFromStore(version: number): Promise<void> {
    const pageSize = 1_000;
    for (;;) {
      if (this.closing) return;
      const from = version === this.version ? this.checkpoint : await readCheckpoint(this.db, this.name, version);
      const page = await this.options.store.readAll({ fromPosition: from, maxCount: pageSize });
      const last = page.at(-1);
      if (!last) return;
      await this.handleBatch([], version, last.position);
      if (page.length < pageSize) return;
    }
  }

  private async handleBatch(delivered: readonly DeliveredMessage[], version: number, upTo?: bigint): Promise<void> {
    let messages: DeliveredMessage[];
    for (let attempt = 1; ; attempt++) {
      if (this.closing) throw new Error('projector is closing; the bus will deliver these events again');
      try {
        messages = await this.withGapsFilled(delivered, version, upTo);
        break;
      } catch (err) {
        this.options.logger.warn(
          { err, attempt },
          'cannot read the delivered events from the event store yet; retrying',
        );
        await this.pause(this.retryDelayMs(Math.min(attempt, 7)));
      }
    }
    if (messages.length === 0) return;
    try {
      await this.applyBatch(messages, version);
      return;
    } catch (err) {
      if (messages.length > 1) {
        this.options.logger.warn(
          { err, size: messages.length, version },
          'batch failed; applying its events one by one',
        );
      }
    }
    for (const message of messages) await this.applyWithRetries(message, version);
  }

  /**
   * The events to apply for a delivery: every event in the store after the checkpoint, up to
   * the newest delivered position. JetStream hands a message lost in flight (a crash, a
   * dropped connection) back only after its ack wait, by which time newer messages have
   * arrived; applying those alone would move the checkpoint past the lost one and skip it
   * for good. The bus says how far to go; the store, which is the truth, says what is there.
   * Delivered messages the store does not hold (malformed, foreign) are kept, so they are
   * dead-lettered with their error rather than vanish.
   */
  private async withGapsFilled(
    delivered: readonly DeliveredMessage[],
    version: number,
    upTo = -1n,
  ): Promise<DeliveredMessage[]> {
    const top = delivered.reduce((max, m) => (m.position > max ? m.position : max), upTo);
    // This process writes the checkpoint, so its copy is current; the apply transaction
    // checks it again under the row lock.
    const checkpoint = version === this.version ? this.checkpoint : await readCheckpoint(this.db, this.name, version);
    if (top <= checkpoint) return [];
    const chained = followsOn(delivered, checkpoint, top);
    if (chained) return chained;
    const byId = new Map(delivered.map((m) => [m.id, m]));
    const out: DeliveredMessage[] = [];
    let cursor = checkpoint;
    const pageSize = 1_000;
    for (let more = true; more;) {
      const page = await this.options.store.readAll({ fromPosition: cursor, maxCount: pageSize });
      more = page.length === pageSize;
      for (const event of page) {
        if (event.position > top) {
          more = false;
          break;
        }
        const message = byId.get(event.id);
        byId.delete(event.id);
        out.push({
          id: event.id,
          subject: message?.subject ?? '(gap filled from the event store)',
          position: event.position,
          payload: toWireEvent(event),
          deliveryCount: message?.deliveryCount ?? 1,
        });
        cursor = event.position;
      }
    }
    if (out.length > 0 && out.length > delivered.length) {
      this.options.logger.info(
        { filled: out.length - delivered.length + byId.size, checkpoint: checkpoint.toString() },
        'filled a delivery gap from the event store',
      );
    }
    const missing = [...byId.values()].filter((m) => m.position > checkpoint);
    if (missing.length > 0) {
      // The relay publishes only what readers can see, but the store's visibility horizon
      // (PostgreSQL: the oldest open writing transaction) may still be short of a delivered
      // position here. Applying past it would skip what lies beneath, so wait for it instead.
      // A delivered position at or below the head that the store does not hold is not an
      // event of this store: keep it, so it is dead-lettered with its error.
      const head = await this.options.store.headPosition();
      const ahead = missing.find((m) => m.position > head);
      if (ahead)
        throw new Error(
          `event store head ${head} is behind delivered position ${ahead.position}; waiting for it to become visible`,
        );
      out.push(...missing);
    }
    return out.sort((a, b) => (a.position < b.position ? -1 : a.position > b.position ? 1 : 0));
  }

  /** Retries one event until it applies or is dead-lettered; throws only when closing. */
  private async applyWithRetries(message: DeliveredMessage, version: number): Promise<void> {
    const log = this.options.logger.child({ eventId: message.id, position: message.position.toString(), version });
    for (let attempt = 1; ; attempt++) {
      if (this.closing) throw new Error('projector is closing; the bus will deliver this event again');
      try {
        await this.applyBatch([message], version);
        return;
      } catch (err) {
        if (attempt < this.maxAttempts) {
          log.warn({ err, attempt, maxAttempts: this.maxAttempts }, 'apply failed; retrying');
          await this.pause(this.retryDelayMs(attempt));
          continue;
        }
        try {
          await this.deadLetter(message, version, err, attempt);
          log.error({ err, attempts: attempt }, 'event dead-lettered; the projection is degraded');
          return;
        } catch (deadLetterErr) {
          // Not even the dead letter could be written: the database is the problem, not the
          // event. Start counting again once it is back.
          log.error({ err: deadLetterErr }, 'cannot write to the database; retrying the event');
          attempt = 0;
          await this.pause(5_000);
        }
      }
    }
  }

  private retryDelayMs(attempt: number): number {
    return this.options.redeliveryDelayMs?.(attempt) ?? Math.min(100 * 2 ** (attempt - 1), 5_000);
  }

  /** A sleep that `close()` does not wait out. */
  private async pause(ms: number): Promise<void> {
    const deadline = Date.now() + ms;
    while (!this.closing && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, Math.min(50, deadline - Date.now())));
  }

  /** Applies `messages` in order in one transaction with the checkpoint. */
  private async applyBatch(messages: readonly DeliveredMessage[], version: number): Promise<void> {
    const events = messages.map((m) => ({ message: m, event: envelopeOf(m) }));
    // One CONSUMER span per event, each continuing the trace of the command that appended it.
    const spans = events.map(({ message, event }) =>
      this.tracer.startSpan(
        `project ${event.type}`,
        {
          kind: SpanKind.CONSUMER,
          attributes: {
            'messaging.system': 'nats',
            'messaging.message.id': event.id,
            'messaging.destination.name': message.subject,
            'quorum.event.type': event.type,
            'quorum.event.position': event.position,
            'quorum.projection': this.name,
            'quorum.projection.version': version,
            'quorum.delivery_count': message.deliveryCount,
            'quorum.batch_size': messages.length,
          },
        },
        contextFromTraceparent(event.traceparent ?? undefined),
      ),
    );
    let outcome: { applied: WireEvent[]; checkpoint: bigint };
    try {
      outcome = await this.db.transaction().execute(async (trx) => {
        // Usually this process wrote the checkpoint and its copy is current: one statement
        // then checks that and moves it, holding the row lock for the rest of the transaction.
        const mine = version === this.version ? this.checkpoint : undefined;
        if (mine !== undefined) {
          const ahead = events.filter(({ message }) => message.position > mine).map(({ event }) => event);
          if (ahead.length === 0) return { applied: [], checkpoint: mine };
          const next = BigInt(ahead.at(-1)!.position);
          if (await advanceCheckpoint(trx, this.name, version, mine, next)) {
            const outcomes = await applyEvents(trx, readModelSchema(version), ahead);
            outcomes.forEach((o, i) =>
              spans[events.findIndex((e) => e.event === ahead[i])]?.setAttribute('quorum.projection.outcome', o),
            );
            return { applied: ahead, checkpoint: next };
          }
        }
        // Moved elsewhere (another instance, a rebuild) or not this process's version.
        const start = await lockCheckpoint(trx, this.name, version);
        const pending = events.filter(({ message }) => message.position > start).map(({ event }) => event);
        if (pending.length === 0) return { applied: [], checkpoint: start };
        const outcomes = await applyEvents(trx, readModelSchema(version), pending);
        outcomes.forEach((o, i) =>
          spans[events.findIndex((e) => e.event === pending[i])]?.setAttribute('quorum.projection.outcome', o),
        );
        const checkpoint = BigInt(pending.at(-1)!.position);
        await writeCheckpoint(trx, this.name, version, checkpoint);
        return { applied: pending, checkpoint };
      });
    } catch (err) {
      for (const span of spans) {
        span.recordException(err as Error);
        span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
        span.end();
      }
      throw err;
    }
    for (const span of spans) span.end();
    if (outcome.applied.length === 0) return;
    this.advanced(version, outcome.checkpoint);
    this.lastAppliedAt = new Date();
    for (const e of outcome.applied) {
      this.applied.add(1, { projection: this.name, type: isDomainEventType(e.type) ? e.type : 'unknown' });
    }
  }

  private async deadLetter(message: DeliveredMessage, version: number, err: unknown, attempts: number): Promise<void> {
    let type = '(invalid envelope)';
    if (typeof message.payload === 'object' && message.payload !== null && 'type' in message.payload) {
      const t = message.payload.type;
      if (typeof t === 'string' && t.length > 0) type = t;
    }
    const idIsUuid = UUID.test(message.id);
    const error = idIsUuid ? describe(err) : `message id ${JSON.stringify(message.id)}: ${describe(err)}`;
    await this.db.transaction().execute(async (trx) => {
      const checkpoint = await lockCheckpoint(trx, this.name, version);
      await insertDeadLetter(trx, {
        projection: this.name,
        version,
        eventId: idIsUuid ? message.id : NIL_UUID,
        position: message.position,
        type,
        error,
        attempts,
      });
      if (message.position > checkpoint) await writeCheckpoint(trx, this.name, version, message.position);
    });
    this.advanced(version, message.position);
  }

  /**
   * Calls `listener` each time the active version's checkpoint advances in this process (the
   * read models then hold the new events); returns the unsubscribe. Live feeds use it to wake.
   */
  /** The active version's checkpoint as this process last applied it. */
  get position(): bigint {
    return this.checkpoint;
  }

  onAdvance(listener: () => void): () => void {
    this.advanceListeners.add(listener);
    return () => {
      this.advanceListeners.delete(listener);
    };
  }

  private advanced(version: number, position: bigint): void {
    if (version !== this.version || position <= this.checkpoint) return;
    this.checkpoint = position;
    this.notifyWaiters();
    for (const listener of [...this.advanceListeners]) {
      try {
        listener();
      } catch (err) {
        this.options.logger.warn({ err }, 'an advance listener threw; ignored so projection goes on');
      }
    }
  }

  private notifyWaiters(): void {
    for (const waiter of [...this.waiters]) if (waiter.position <= this.checkpoint) waiter.settle(true);
  }

  private assertOpen(): void {
    if (this.closing) throw new Error('projector is closed');
  }
}

/**
 * The delivered messages past `checkpoint`, in order, if they are every event of the store
 * from the checkpoint to `top`: the first names the checkpoint as its previous position and
 * each next one names the one before (the relay sets `previousPosition`). Then nothing is
 * missing and the store need not be read. `undefined` when any link is absent or broken: a
 * lost or late message, a subject filter, or a publisher that does not chain.
 */
export function followsOn(
  delivered: readonly DeliveredMessage[],
  checkpoint: bigint,
  top: bigint,
): DeliveredMessage[] | undefined {
  const ahead = delivered
    .filter((m) => m.position > checkpoint)
    .sort((a, b) => (a.position < b.position ? -1 : a.position > b.position ? 1 : 0));
  let previous = checkpoint;
  for (const message of ahead) {
    if (message.previousPosition !== previous) return undefined;
    previous = message.position;
  }
  return previous === top && ahead.length > 0 ? ahead : undefined;
}

/** The envelope of a bus message; its position must match the bus header. */
function envelopeOf(message: DeliveredMessage): WireEvent {
  const event = parseWireEvent(message.payload);
  if (BigInt(event.position) !== message.position) {
    throw new Error(`envelope position ${event.position} differs from the bus position ${message.position}`);
  }
  return event;
}

function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

export interface WaitForProjectionOptions {
  /** Default `core`. */
  projection?: string;
  /** First poll interval; doubles up to `maxIntervalMs`. Default 5 ms. */
  intervalMs?: number;
  /** Default 50 ms. */
  maxIntervalMs?: number;
}

/**
 * Read-your-writes for a process without a {@link Projector} (the gateway): polls the active
 * version's checkpoint until it reaches `position` (`true`) or `timeoutMs` passes (`false`).
 * Polls start at 5 ms and back off to 50 ms, so a lagging projection is not hammered.
 */
export async function waitForProjection(
  sql: SqlDatabase,
  position: bigint,
  timeoutMs: number,
  options: WaitForProjectionOptions = {},
): Promise<boolean> {
  const db = createKysely<Database>(sql);
  const projection = options.projection ?? CORE_PROJECTION;
  const maxInterval = options.maxIntervalMs ?? 50;
  let interval = options.intervalMs ?? 5;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const c = await readActiveCheckpoint(db, projection);
    if (c !== undefined && c.position >= position) return true;
    const left = deadline - Date.now();
    if (left <= 0) return false;
    await new Promise((resolve) => setTimeout(resolve, Math.min(interval, left)));
    interval = Math.min(interval * 2, maxInterval);
  }
}
