/**
 * The live projector: consumes `evt.>` from the bus and applies events to the active
 * read-model version, writing the checkpoint in the same transaction; positions at or below
 * the checkpoint are skipped, which turns the bus's at-least-once delivery into exactly-once
 * effects. The consuming, retrying and dead-lettering are `version-consumer.ts`; this class
 * owns the active version, its checkpoint as this process knows it, and who waits on it.
 *
 * A rebuild (`rebuild.ts`, usually another process) fills version N+1 and flips
 * `projection_active`. The projector polls that row and moves to the new version's durable,
 * which the bus creates at the start of the stream; everything up to the rebuild's checkpoint
 * is skipped. A durable left over from an earlier life of that version is also safe: its
 * stream position predates the rebuild, so it still delivers everything after the checkpoint.
 */
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { EventBus } from '@quorum/bus';
import {
  createKysely,
  migratePublicSchema,
  migrateReadModelSchema,
  readModelSchema,
  type Database,
  type DeadLetterRow,
  type SqlDatabase,
} from '@quorum/db';
import type { EventStore, WireEvent } from '@quorum/eventstore';
import { trace } from '@quorum/telemetry';
import {
  countUnresolvedDeadLetters,
  ensureActiveVersion,
  ensureCheckpoint,
  listUnresolvedDeadLetters,
  readActiveVersion,
  readCheckpoint,
} from './bookkeeping.repository';
import { CORE_PROJECTION } from './projections/core.projection';
import { retryDeadLetter, skipDeadLetter, type DeadLetterContext } from './dead-letters';
import { activeCheckpointPoll, ProjectionWaiter } from './projection-waiter';
import { createProjectorMetrics, type ProjectorMetrics } from './projector-metrics';
import { VersionConsumer } from './version-consumer';

export { waitForProjection, type WaitForProjectionOptions } from './projection-waiter';

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

export class Projector {
  private readonly db: Kysely<Database>;
  private readonly name: 'core';
  private readonly maxAttempts: number;
  private readonly durablePrefix: string;
  private readonly tracer = trace.getTracer('quorum.projector');
  private readonly metrics: ProjectorMetrics;
  private readonly waiter: ProjectionWaiter;
  private readonly advanceListeners = new Set<() => void>();
  private consumer: VersionConsumer | undefined;
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
    this.metrics = createProjectorMetrics(
      this.name,
      () => this.status(),
      () => this.closing !== undefined,
      options.logger,
    );
    // Applies in this process settle waits at once; one shared poll of the active checkpoint
    // (not one per wait) covers progress made elsewhere, such as a rebuild's switch.
    this.waiter = new ProjectionWaiter({
      position: checkpoint,
      poll: activeCheckpointPoll(options.sql, {
        projection: this.name,
        intervalMs: 100,
        maxIntervalMs: 100,
        onError: (err) => options.logger.warn({ err }, 'waitForPosition: checkpoint poll failed; polling again'),
      }),
    });
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
    if (this.closing) return this.waiter.position >= position;
    return this.waiter.wait(position, timeoutMs);
  }

  /** The active version's checkpoint as this process last applied it. */
  get position(): bigint {
    return this.checkpoint;
  }

  /**
   * Calls `listener` each time the active version's checkpoint advances in this process (the
   * read models then hold the new events); returns the unsubscribe. Live feeds use it to wake.
   */
  onAdvance(listener: () => void): () => void {
    this.advanceListeners.add(listener);
    return () => {
      this.advanceListeners.delete(listener);
    };
  }

  /** Stops the version watcher and the consumer (finishing the event in hand). Idempotent. */
  async close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.versionTimer) clearInterval(this.versionTimer);
      await this.switching;
      await this.consumer?.close();
      this.consumer = undefined;
      this.metrics.close();
      this.waiter.close();
    })();
    return this.closing;
  }

  private async startConsumer(version: number): Promise<void> {
    const durableName = `${this.durablePrefix}-${this.name}-v${version}`;
    this.consumer = await VersionConsumer.start({
      db: this.db,
      bus: this.options.bus,
      store: this.options.store,
      logger: this.options.logger,
      tracer: this.tracer,
      projection: this.name,
      version,
      durableName,
      filterSubject: this.options.filterSubject ?? 'evt.>',
      maxAttempts: this.maxAttempts,
      redeliveryDelayMs: this.options.redeliveryDelayMs,
      knownCheckpoint: () => (version === this.version ? this.checkpoint : undefined),
      closing: () => this.closing !== undefined,
      advanced: (checkpoint, applied) => this.advanced(version, checkpoint, applied),
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
    this.waiter.advance(this.checkpoint);
    await this.startConsumer(active);
    this.options.logger.warn(
      { schema: readModelSchema(previous) },
      'previous read model schema left in place; an operator may drop it once nothing reads it',
    );
  }

  private advanced(version: number, position: bigint, applied: readonly WireEvent[]): void {
    if (version === this.version && position > this.checkpoint) {
      this.checkpoint = position;
      this.waiter.advance(position);
      for (const listener of [...this.advanceListeners]) {
        try {
          listener();
        } catch (err) {
          this.options.logger.warn({ err }, 'an advance listener threw; ignored so projection goes on');
        }
      }
    }
    if (applied.length === 0) return;
    this.lastAppliedAt = new Date();
    this.metrics.applied(applied);
  }

  private assertOpen(): void {
    if (this.closing) throw new Error('projector is closed');
  }
}
