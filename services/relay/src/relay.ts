/**
 * The relay: the one path from the event store to the bus.
 *
 * - One leader. With `leaderLock`, a relay publishes only while it holds its advisory lock
 *   (see `leader-lock.ts`); the others retry every `leaderRetryMs` and do nothing else.
 * - At least once, in order. It subscribes to `$all` after its checkpoint, publishes batches in
 *   position order and advances the checkpoint only to the last contiguously acknowledged
 *   position. After a failure it resubscribes from the checkpoint; the repeats are harmless
 *   because the bus deduplicates on the event id (`Nats-Msg-Id`).
 * - No added latency. A batch is whatever the subscription has ready (up to `batchSize`): it is
 *   published as soon as the next event would need a wait. (The PostgreSQL store's subscription
 *   reads at most every 20 ms while events flow, so under steady traffic a batch is the appends
 *   of those 20 ms; see `liveReadIntervalMs`.)
 * - Few checkpoint writes. Under load a batch is a handful of events, and writing the
 *   checkpoint after each one would cost a statement per batch. The checkpoint is written at
 *   most every `checkpointIntervalMs` while batches flow, once more when they stop, and when
 *   the relay stops. A crash repeats at most that interval's events, which the bus drops as
 *   duplicates.
 */
import {
  metrics,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type ObservableResult,
  type Span,
} from '@opentelemetry/api';
import { eventSubject, lastContiguousPosition, type BusMessage, type EventBus, type PublishAck } from '@quorum/bus';
import type { SqlDatabase, SqlExecutor } from '@quorum/db';
import {
  pause,
  streamCategory,
  toWireEvent,
  type AllSubscription,
  type EventStore,
  type RecordedEvent,
} from '@quorum/eventstore';
import { contextFromTraceparent } from '@quorum/telemetry';
import type { Logger } from 'pino';
import { LeaderLock } from './leader-lock';

/** Subject org token of events whose metadata carries no `orgId`. */
export const SYSTEM_ORG_TOKEN = '_system';

const DEFAULT_NAME = 'events';
const DEFAULT_BATCH_SIZE = 256;
const DEFAULT_LEADER_RETRY_MS = 2_000;
const DEFAULT_CHECKPOINT_INTERVAL_MS = 200;
const MIN_BACKOFF_MS = 100;
const MAX_BACKOFF_MS = 5_000;

export interface RelayOptions {
  store: EventStore;
  bus: EventBus;
  /** Holds `relay_checkpoints` (run `migratePublicSchema` first) and, on `pg`, the leader lock. */
  sql: SqlDatabase;
  logger: Logger;
  /** Checkpoint row and leader lock name. Default `events`. */
  name?: string;
  /** Most events per publish. Default 256. */
  batchSize?: number;
  /**
   * Publish only while holding a Postgres advisory lock. Default: on for `pg`. PGlite is one
   * process and one session, and holding its connection would block the whole database.
   */
  leaderLock?: boolean;
  /** How often a follower tries to take the lock, and a leader checks it still holds it. Default 2 s. */
  leaderRetryMs?: number;
  /**
   * Longest time an acknowledged position waits before it is checkpointed; 0 writes after every
   * batch. Must stay well inside the bus's duplicate window (2 minutes). Default 200 ms.
   */
  checkpointIntervalMs?: number;
}

export interface RelayStatus {
  leader: boolean;
  /** Last published position checkpointed; `0n` before the first one. */
  checkpoint: bigint;
  /** Messages acknowledged by the bus (duplicates included) since this relay started. */
  published: number;
}

/** A publish that did not get every ack; the relay resubscribes from its checkpoint. */
class PublishIncompleteError extends Error {
  override readonly name = 'PublishIncompleteError';
}

const NOT_READY = Symbol('not ready');

export class Relay {
  private readonly log: Logger;
  private readonly tracer = trace.getTracer('quorum.relay');
  private readonly publishedCounter;
  private readonly checkpointGauge;
  private readonly metricAttributes: Attributes;
  private readonly stopController = new AbortController();
  private loop: Promise<void> | undefined;
  private closing: Promise<void> | undefined;
  private subscription: AllSubscription | undefined;
  private leader = false;
  private published = 0;
  private failures = 0;
  /** Acknowledged by the bus, not yet checkpointed. */
  private unsaved: bigint | undefined;
  private lastSavedAt = 0;
  private flushTimer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;

  private constructor(
    private readonly store: EventStore,
    private readonly bus: EventBus,
    private readonly sql: SqlDatabase,
    logger: Logger,
    private readonly name: string,
    private readonly batchSize: number,
    private readonly leaderLock: boolean,
    private readonly leaderRetryMs: number,
    private readonly checkpointIntervalMs: number,
    private checkpoint: bigint | undefined,
  ) {
    this.log = logger.child({ component: 'relay', relay: name });
    this.metricAttributes = { 'relay.name': name };
    const meter = metrics.getMeter('quorum.relay');
    this.publishedCounter = meter.createCounter('quorum.relay.published', {
      description: 'Events acknowledged by the bus (duplicates included)',
    });
    this.checkpointGauge = meter.createObservableGauge('quorum.relay.checkpoint', {
      description: 'Last checkpointed event store position (precision above 2^53 is lost)',
    });
    this.checkpointGauge.addCallback(this.observeCheckpoint);
  }

  /** Validates the options and reads the checkpoint (which fails early if the table is missing). */
  static async create(options: RelayOptions): Promise<Relay> {
    const name = options.name ?? DEFAULT_NAME;
    const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
    const leaderRetryMs = options.leaderRetryMs ?? DEFAULT_LEADER_RETRY_MS;
    const leaderLock = options.leaderLock ?? options.sql.kind === 'pg';
    const checkpointIntervalMs = options.checkpointIntervalMs ?? DEFAULT_CHECKPOINT_INTERVAL_MS;
    if (name.length === 0 || name.length > 200) throw new Error('relay name must be 1 to 200 characters');
    if (!Number.isInteger(batchSize) || batchSize < 1)
      throw new Error(`relay batchSize must be a positive integer, got ${batchSize}`);
    if (!Number.isFinite(leaderRetryMs) || leaderRetryMs <= 0)
      throw new Error(`relay leaderRetryMs must be positive, got ${leaderRetryMs}`);
    if (!Number.isFinite(checkpointIntervalMs) || checkpointIntervalMs < 0 || checkpointIntervalMs > 60_000) {
      throw new Error(`relay checkpointIntervalMs must be 0 to 60000, got ${checkpointIntervalMs}`);
    }
    if (leaderLock && options.sql.kind !== 'pg') {
      throw new Error(
        'relay leaderLock needs a PostgreSQL server: holding the PGlite session would block the database',
      );
    }
    const checkpoint = await readCheckpoint(options.sql, name);
    return new Relay(
      options.store,
      options.bus,
      options.sql,
      options.logger,
      name,
      batchSize,
      leaderLock,
      leaderRetryMs,
      checkpointIntervalMs,
      checkpoint,
    );
  }

  /** Starts the loop in the background. Idempotent. */
  start(): void {
    if (this.closing) throw new Error(`relay ${this.name} is closed`);
    if (this.loop) return;
    this.log.info({ checkpoint: this.checkpoint?.toString() ?? null, leaderLock: this.leaderLock }, 'relay starting');
    this.loop = this.run().catch((err: unknown) => {
      // run() handles every failure itself; reaching here is a bug worth a loud line.
      this.log.fatal({ err }, 'relay loop stopped unexpectedly');
    });
  }

  status(): RelayStatus {
    return { leader: this.leader, checkpoint: this.checkpoint ?? 0n, published: this.published };
  }

  /** Lets the batch in flight finish and checkpoint, then stops and gives up the lock. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.stopController.abort();
      await this.subscription?.close();
      await this.loop;
      this.checkpointGauge.removeCallback(this.observeCheckpoint);
      this.log.info({ checkpoint: this.checkpoint?.toString() ?? null, published: this.published }, 'relay closed');
    })();
    return this.closing;
  }

  private get stopped(): boolean {
    return this.stopController.signal.aborted;
  }

  private readonly observeCheckpoint = (result: ObservableResult): void => {
    if (this.checkpoint !== undefined) result.observe(Number(this.checkpoint), this.metricAttributes);
  };

  private async run(): Promise<void> {
    while (!this.stopped) {
      let lock: LeaderLock | undefined;
      let pauseMs = 0;
      try {
        if (this.leaderLock) {
          lock = await LeaderLock.tryAcquire(this.sql, this.name, this.log);
          if (!lock) {
            pauseMs = this.leaderRetryMs;
            continue;
          }
        }
        await this.lead(lock);
        // Lost the lock: pause like a follower before trying to take it back.
        if (lock?.lost) pauseMs = this.leaderRetryMs;
      } catch (err) {
        this.log.error({ err }, 'relay leadership attempt failed');
        pauseMs = this.nextBackoff();
      } finally {
        if (this.leader) this.log.info('relay no longer leader');
        this.leader = false;
        await lock?.release();
        if (pauseMs > 0) await this.sleep(pauseMs);
      }
    }
  }

  /** Publishes until closed or (with a lock) until the lock is lost. */
  private async lead(lock: LeaderLock | undefined): Promise<void> {
    if (lock) {
      lock.onLost(() => void this.subscription?.close());
      lock.startHeartbeat(this.leaderRetryMs);
    }
    this.leader = true;
    this.log.info('relay is leader');
    const executor = lock?.executor ?? this.sql;
    while (!this.stopped && !lock?.lost) {
      try {
        await this.relayFromCheckpoint(executor, lock);
      } catch (err) {
        if (lock && !(await lock.check())) return;
        if (this.stopped) return;
        const backoffMs = this.nextBackoff();
        this.log.warn({ err, backoffMs }, 'relay publish failed; resubscribing from the checkpoint');
        await this.sleep(backoffMs);
      }
    }
  }

  /** One subscription from the checkpoint; returns when it ends, throws on any failure. */
  private async relayFromCheckpoint(executor: SqlExecutor, lock: LeaderLock | undefined): Promise<void> {
    this.checkpoint = await readCheckpoint(executor, this.name);
    const subscription = this.store.subscribeToAll(
      this.checkpoint === undefined ? {} : { fromPosition: this.checkpoint },
    );
    this.subscription = subscription;
    // A close() or a lost lock that came in while subscribing must still stop this subscription.
    if (this.stopped || lock?.lost) await subscription.close();
    const events = subscription[Symbol.asyncIterator]();
    let pending: Promise<IteratorResult<RecordedEvent>> | undefined;
    // Each message names the event before it, so a consumer of every subject can tell it got
    // them all without reading the store. The checkpoint is the position of an event already
    // published (or 0n before the first).
    let previous = this.checkpoint ?? 0n;
    try {
      for (;;) {
        const first = await (pending ?? events.next());
        pending = undefined;
        if (first.done) return;
        const batch = [first.value];
        let ended = false;
        while (batch.length < this.batchSize) {
          pending = events.next();
          const next = await readyNow(pending);
          if (next === NOT_READY) break;
          pending = undefined;
          if (next.done) {
            ended = true;
            break;
          }
          batch.push(next.value);
        }
        await this.publishBatch(batch, executor, previous);
        previous = batch[batch.length - 1]!.position;
        if (ended) return;
      }
    } finally {
      if (this.subscription === subscription) this.subscription = undefined;
      await subscription.close();
      await this.flushCheckpoint(executor).catch((err: unknown) =>
        this.log.warn({ err }, 'relay could not write its checkpoint; the next leader repeats those events'),
      );
    }
  }

  private async publishBatch(batch: readonly RecordedEvent[], executor: SqlExecutor, previous: bigint): Promise<void> {
    const messages: BusMessage[] = [];
    let unpublishable: unknown;
    for (const event of batch) {
      try {
        messages.push(toBusMessage(event, previous));
        previous = event.position;
      } catch (err) {
        // Not sendable (e.g. a dot in the org id): publish what precedes it, then stop here
        // rather than skip it, so no consumer ever misses an event silently.
        unpublishable = new Error(`event ${event.id} at ${event.position} cannot be published`, { cause: err });
        break;
      }
    }
    const acks = messages.length > 0 ? await this.publishTraced(batch, messages) : [];
    const last = lastContiguousPosition(acks);
    const acked = acks.filter((ack) => ack.ok);
    if (last !== undefined) {
      await this.checkpointLater(executor, last);
      this.published += acked.length;
      const duplicates = acked.filter((ack) => ack.duplicate).length;
      this.publishedCounter.add(acked.length - duplicates, { ...this.metricAttributes, duplicate: false });
      if (duplicates > 0) this.publishedCounter.add(duplicates, { ...this.metricAttributes, duplicate: true });
      this.log.debug({ count: acked.length, duplicates, checkpoint: last.toString() }, 'relay published batch');
    }
    const failed = acks.find((ack) => !ack.ok);
    if (failed && !failed.ok) {
      throw new PublishIncompleteError(`bus did not acknowledge event ${failed.id} at ${failed.position}`, {
        cause: failed.error,
      });
    }
    if (unpublishable) throw unpublishable;
    this.failures = 0;
  }

  /** One span for the batch; one PRODUCER span per event, child of the event's own trace. */
  private async publishTraced(batch: readonly RecordedEvent[], messages: readonly BusMessage[]): Promise<PublishAck[]> {
    const first = messages[0];
    const lastMessage = messages[messages.length - 1];
    return this.tracer.startActiveSpan(
      'relay publish batch',
      {
        kind: SpanKind.INTERNAL,
        attributes: {
          'relay.name': this.name,
          'messaging.batch.message_count': messages.length,
          'quorum.position.first': first?.position.toString() ?? '',
          'quorum.position.last': lastMessage?.position.toString() ?? '',
        },
      },
      async (batchSpan) => {
        const eventSpans: Span[] = messages.map((message, index) =>
          this.tracer.startSpan(
            `publish ${batch[index]?.type ?? 'event'}`,
            {
              kind: SpanKind.PRODUCER,
              attributes: {
                'messaging.system': 'nats',
                'messaging.operation.type': 'publish',
                'messaging.destination.name': message.subject,
                'messaging.message.id': message.id,
                'quorum.position': message.position.toString(),
              },
              links: [{ context: batchSpan.spanContext() }],
            },
            contextFromTraceparent(batch[index]?.metadata.traceparent),
          ),
        );
        try {
          const acks = await this.bus.publish(messages);
          acks.forEach((ack, index) => {
            const span = eventSpans[index];
            if (!span) return;
            if (ack.ok) span.setAttribute('messaging.nats.duplicate', ack.duplicate);
            else span.setStatus({ code: SpanStatusCode.ERROR, message: `${ack.error.code}: ${ack.error.message}` });
          });
          const failed = acks.find((ack) => !ack.ok);
          if (failed && !failed.ok) batchSpan.setStatus({ code: SpanStatusCode.ERROR, message: failed.error.message });
          return acks;
        } catch (err) {
          for (const span of [batchSpan, ...eventSpans]) {
            span.recordException(err as Error);
            span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
          }
          throw err;
        } finally {
          for (const span of eventSpans) span.end();
          batchSpan.end();
        }
      },
    );
  }

  /**
   * Records an acknowledged position: written now if the last write is `checkpointIntervalMs`
   * old, otherwise by a timer at the end of that interval (unless a later batch writes first).
   */
  private async checkpointLater(executor: SqlExecutor, position: bigint): Promise<void> {
    this.unsaved = position;
    if (Date.now() - this.lastSavedAt >= this.checkpointIntervalMs) {
      await this.flushCheckpoint(executor);
      return;
    }
    this.flushTimer ??= setTimeout(
      () => {
        this.flushTimer = undefined;
        this.flushCheckpoint(executor).catch((err: unknown) =>
          this.log.warn({ err }, 'relay checkpoint write failed; retried with the next batch'),
        );
      },
      this.checkpointIntervalMs - (Date.now() - this.lastSavedAt),
    );
  }

  /** Writes the last acknowledged position, if any is unsaved; one write at a time. */
  private async flushCheckpoint(executor: SqlExecutor): Promise<void> {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    // Another write in flight: wait it out (its failure is its caller's to report).
    while (this.flushing) await this.flushing.catch(() => undefined);
    const position = this.unsaved;
    if (position === undefined) return;
    this.unsaved = undefined;
    this.lastSavedAt = Date.now();
    this.flushing = this.saveCheckpoint(executor, position)
      .catch((err: unknown) => {
        // Not saved: keep it for the next write unless a newer position came meanwhile.
        this.unsaved ??= position;
        throw err;
      })
      .finally(() => (this.flushing = undefined));
    await this.flushing;
  }

  private async saveCheckpoint(executor: SqlExecutor, position: bigint): Promise<void> {
    const { rows } = await executor.query<{ position: string }>(
      `INSERT INTO relay_checkpoints (name, position, updated_at) VALUES ($1, $2, now())
       ON CONFLICT (name) DO UPDATE
         SET position = GREATEST(relay_checkpoints.position, EXCLUDED.position), updated_at = now()
       RETURNING position`,
      [this.name, position.toString()],
    );
    const stored = rows[0]?.position;
    this.checkpoint = stored === undefined ? position : BigInt(stored);
  }

  private nextBackoff(): number {
    this.failures += 1;
    return Math.min(MIN_BACKOFF_MS * 2 ** (this.failures - 1), MAX_BACKOFF_MS);
  }

  /** Resolves after `ms`, or at once when the relay is closing. */
  private sleep(ms: number): Promise<void> {
    return pause(ms, this.stopController.signal);
  }
}

/**
 * The bus message of an event: subject `evt.<orgId|_system>.<category>.<type>`, the wire
 * envelope as payload, and the position of the event before it in the store when known.
 */
export function toBusMessage(event: RecordedEvent, previousPosition?: bigint): BusMessage {
  const orgId = (event.metadata as Partial<RecordedEvent['metadata']> | undefined)?.orgId;
  return {
    id: event.id,
    subject: eventSubject(orgId ? orgId : SYSTEM_ORG_TOKEN, streamCategory(event.streamId), event.type),
    position: event.position,
    ...(previousPosition === undefined ? {} : { previousPosition }),
    payload: toWireEvent(event),
  };
}

async function readCheckpoint(executor: SqlExecutor, name: string): Promise<bigint | undefined> {
  const { rows } = await executor.query<{ position: string }>(
    'SELECT position FROM relay_checkpoints WHERE name = $1',
    [name],
  );
  const position = rows[0]?.position;
  return position === undefined ? undefined : BigInt(position);
}

/** `promise`'s result if it settles before the event loop moves on (already buffered), else NOT_READY. */
function readyNow<T>(promise: Promise<T>): Promise<T | typeof NOT_READY> {
  return Promise.race([promise, new Promise<typeof NOT_READY>((resolve) => setImmediate(() => resolve(NOT_READY)))]);
}
