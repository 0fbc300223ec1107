/**
 * Consumes the bus into one read-model version. Events arrive in batches (whatever the bus
 * has delivered and waiting): a batch is applied in one transaction, so a burst costs one
 * commit instead of one per event. If that transaction fails, the batch is applied event by
 * event; a failing event is retried here, inside the handler, never handed back to the bus,
 * because a redelivery could arrive after later events and the checkpoint would then skip
 * it. After `maxAttempts` the event is dead-lettered and the checkpoint moves past it, so one
 * bad event degrades the projection instead of stopping it. When the database itself is down
 * even the dead letter cannot be written; the consumer then keeps retrying, and only a
 * shutdown hands the batch back.
 */
import type { Consumer, DeliveredMessage, EventBus } from '@quorum/bus';
import type { Database } from '@quorum/db';
import type { EventStore, WireEvent } from '@quorum/eventstore';
import type { Tracer } from '@quorum/telemetry';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { applyBatch } from './apply-batch';
import { readCheckpoint } from './bookkeeping.repository';
import { writeDeadLetter } from './dead-letters';
import { withGapsFilled } from './gap-fill';

export interface VersionConsumerOptions {
  db: Kysely<Database>;
  bus: EventBus;
  store: EventStore;
  logger: Logger;
  tracer: Tracer;
  projection: string;
  version: number;
  durableName: string;
  filterSubject: string;
  maxAttempts: number;
  redeliveryDelayMs: ((deliveryCount: number) => number) | undefined;
  /** This version's checkpoint as this process last wrote it; `undefined` when it does not know. */
  knownCheckpoint(): bigint | undefined;
  /** True once the projector is closing: retries stop and the bus gets the batch back. */
  closing(): boolean;
  /** A commit moved the checkpoint to `checkpoint`, applying `applied` (none for a dead letter). */
  advanced(checkpoint: bigint, applied: readonly WireEvent[]): void;
}

export class VersionConsumer {
  private consumer: Consumer | undefined;

  private constructor(private readonly options: VersionConsumerOptions) {}

  /** Catches up from the store, then consumes the version's durable. */
  static async start(options: VersionConsumerOptions): Promise<VersionConsumer> {
    const self = new VersionConsumer(options);
    await self.catchUpFromStore();
    self.consumer = await options.bus.consume({
      durableName: options.durableName,
      filterSubjects: [options.filterSubject],
      maxAckPending: 2_000,
      maxBatch: 500,
      batchHandler: (messages) => self.handleBatch(messages),
      onError: (err) => options.logger.warn({ err, durableName: options.durableName }, 'bus consumer error'),
    });
    return self;
  }

  /** Stops consuming, finishing the batch in hand. Idempotent. */
  async close(): Promise<void> {
    await this.consumer?.close();
    this.consumer = undefined;
  }

  private async checkpoint(): Promise<bigint> {
    const { db, projection, version } = this.options;
    return this.options.knownCheckpoint() ?? (await readCheckpoint(db, projection, version));
  }

  /**
   * Applies what the store holds after the checkpoint, a page at a time, before consuming.
   * Messages in flight when the previous process died come back from JetStream only after
   * their ack wait (30 s), and the gap filling needs a newer delivery to notice them: on a
   * quiet system the tail of acknowledged commands would wait that long. The store has them.
   */
  private async catchUpFromStore(): Promise<void> {
    const pageSize = 1_000;
    for (;;) {
      if (this.options.closing()) return;
      const page = await this.options.store.readAll({ fromPosition: await this.checkpoint(), maxCount: pageSize });
      const last = page.at(-1);
      if (!last) return;
      await this.handleBatch([], last.position);
      if (page.length < pageSize) return;
    }
  }

  private async handleBatch(delivered: readonly DeliveredMessage[], upTo?: bigint): Promise<void> {
    const { logger, store, version } = this.options;
    let messages: DeliveredMessage[];
    for (let attempt = 1; ; attempt++) {
      if (this.options.closing()) throw new Error('projector is closing; the bus will deliver these events again');
      try {
        // This process writes the checkpoint, so its copy is current; the apply transaction
        // checks it again under the row lock.
        messages = await withGapsFilled(store, logger, delivered, await this.checkpoint(), upTo);
        break;
      } catch (err) {
        logger.warn({ err, attempt }, 'cannot read the delivered events from the event store yet; retrying');
        await this.pause(this.retryDelayMs(Math.min(attempt, 7)));
      }
    }
    if (messages.length === 0) return;
    try {
      await this.apply(messages);
      return;
    } catch (err) {
      if (messages.length > 1) {
        logger.warn({ err, size: messages.length, version }, 'batch failed; applying its events one by one');
      }
    }
    for (const message of messages) await this.applyWithRetries(message);
  }

  private async apply(messages: readonly DeliveredMessage[]): Promise<void> {
    const { db, tracer, projection, version } = this.options;
    const outcome = await applyBatch({ db, tracer, projection }, messages, version, this.options.knownCheckpoint());
    if (outcome.applied.length > 0) this.options.advanced(outcome.checkpoint, outcome.applied);
  }

  /** Retries one event until it applies or is dead-lettered; throws only when closing. */
  private async applyWithRetries(message: DeliveredMessage): Promise<void> {
    const { db, projection, version, maxAttempts } = this.options;
    const log = this.options.logger.child({ eventId: message.id, position: message.position.toString(), version });
    for (let attempt = 1; ; attempt++) {
      if (this.options.closing()) throw new Error('projector is closing; the bus will deliver this event again');
      try {
        await this.apply([message]);
        return;
      } catch (err) {
        if (attempt < maxAttempts) {
          log.warn({ err, attempt, maxAttempts }, 'apply failed; retrying');
          await this.pause(this.retryDelayMs(attempt));
          continue;
        }
        try {
          await writeDeadLetter(db, projection, version, message, err, attempt);
          this.options.advanced(message.position, []);
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

  /** A sleep that closing the projector does not wait out. */
  private async pause(ms: number): Promise<void> {
    const deadline = Date.now() + ms;
    while (!this.options.closing() && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, Math.min(50, deadline - Date.now())));
  }
}
