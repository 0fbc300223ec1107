/**
 * Rebuilds a projection beside the live one: fills version N+1 (or a given version) from
 * position 0 of `$all` until it has caught up with the moving head, then flips
 * `projection_active` in one transaction. Each batch is written by `partitions` transactions at
 * once, one per share of the organizations ({@link partitionOf}), and the checkpoint moves after
 * all of them committed; with one partition (and always on PGlite) the batch and its checkpoint
 * are one transaction. A rebuild is not resumed: run again, it starts the schema afresh. The live
 * {@link Projector} notices the flip and moves its consumer to the new version. Run one
 * rebuild of a projection at a time.
 */
import type { Logger } from 'pino';
import {
  createKysely,
  migratePublicSchema,
  migrateReadModelSchema,
  readModelSchema,
  type Database,
  type SqlDatabase,
} from '@quorum/db';
import { toWireEvent, type EventStore, type RecordedEvent } from '@quorum/eventstore';
import {
  deleteDeadLetters,
  ensureActiveVersion,
  insertDeadLetter,
  readActiveVersion,
  setActiveVersion,
  writeCheckpoint,
} from './bookkeeping.repository';
import { CORE_PROJECTION, applyEvent, applyEvents } from './projections/core.projection';

export interface RebuildOptions {
  sql: SqlDatabase;
  store: EventStore;
  logger: Logger;
  /** Events per read (shared by the partitions' transactions). Default {@link DEFAULT_REBUILD_BATCH_SIZE}. */
  batchSize?: number;
  /** Version to build; default the active version + 1. Must differ from the active one. */
  version?: number;
  /** Only `core` today. */
  name?: 'core';
  /** Tries of one event (when its batch failed) before it is dead-lettered. Default 3. */
  maxAttempts?: number;
  /**
   * Transactions writing one batch at once, each on its own connection and for its own share of
   * the organizations (see {@link partitionOf}). Default 2 on PostgreSQL, from 1 to 8; PGlite
   * is one session and always writes with 1.
   */
  partitions?: number;
}

/**
 * Default {@link RebuildOptions.batchSize}. Each batch costs the same few statements per table
 * whatever its size; 5,000 rebuilt 100,000 events 1.2–1.7× as fast as 1,000 (docs/benchmarks.md).
 */
export const DEFAULT_REBUILD_BATCH_SIZE = 5_000;

/** Default {@link RebuildOptions.partitions} on PostgreSQL. */
export const DEFAULT_REBUILD_PARTITIONS = 2;

/**
 * The partition of an organization's events: FNV-1a of its id, modulo `partitions`. Every row of
 * the core read model belongs to one organization (rows keyed by an outside id, a Stripe
 * customer or invoice, keep the version of the highest position whatever the order they are
 * written in), so the partitions of one batch touch disjoint rows and can commit in any order.
 */
export function partitionOf(orgId: string, partitions: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < orgId.length; i++) {
    h ^= orgId.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % partitions;
}

export interface RebuildResult {
  previousVersion: number;
  version: number;
  /** Events read and applied (dead letters included). */
  events: number;
  deadLetters: number;
  checkpoint: bigint;
  durationMs: number;
  eventsPerSecond: number;
}

/** Builds the new version, switches reads to it, and reports throughput. */
export async function rebuildProjection(options: RebuildOptions): Promise<RebuildResult> {
  const { sql, store } = options;
  const name = options.name ?? CORE_PROJECTION;
  const batchSize = options.batchSize ?? DEFAULT_REBUILD_BATCH_SIZE;
  const maxAttempts = options.maxAttempts ?? 3;
  const asked = options.partitions ?? DEFAULT_REBUILD_PARTITIONS;
  if (!Number.isInteger(asked) || asked < 1 || asked > 8)
    throw new Error(`rebuild partitions must be an integer from 1 to 8, got ${asked}`);
  const partitions = sql.kind === 'pg' ? asked : 1;
  const db = createKysely<Database>(sql);
  await migratePublicSchema(sql);
  const previousVersion = await ensureActiveVersion(db, name);
  const version = options.version ?? previousVersion + 1;
  if (version === previousVersion) throw new Error(`version ${version} is active; rebuild into another version`);
  const schema = readModelSchema(version);
  const log = options.logger.child({ projection: name, version, previousVersion });

  log.info({ schema }, 'rebuild: recreating schema');
  await sql.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await migrateReadModelSchema(sql, version);
  await deleteDeadLetters(db, name, version);
  await writeCheckpoint(db, name, version, 0n);

  const started = performance.now();
  let checkpoint = 0n;
  let events = 0;
  let deadLetters = 0;

  /**
   * Applies `share` in one transaction, with the checkpoint when `checkpointed`; if that fails,
   * one event per transaction, an event failing `maxAttempts` times going to the dead letters.
   */
  const applyEventsOf = async (share: readonly RecordedEvent[], checkpointed: boolean): Promise<void> => {
    const last = share[share.length - 1];
    if (last === undefined) return;
    try {
      await db.transaction().execute(async (trx) => {
        await applyEvents(trx, schema, share.map(toWireEvent));
        if (checkpointed) await writeCheckpoint(trx, name, version, last.position);
      });
      return;
    } catch (err) {
      log.warn(
        { err, from: share[0]?.position.toString(), to: last.position.toString() },
        'rebuild: batch failed; applying its events one by one',
      );
    }
    for (const e of share) {
      for (let attempt = 1; ; attempt++) {
        try {
          await db.transaction().execute(async (trx) => {
            await applyEvent(trx, schema, toWireEvent(e));
            if (checkpointed) await writeCheckpoint(trx, name, version, e.position);
          });
          break;
        } catch (err) {
          if (attempt < maxAttempts) continue;
          await db.transaction().execute(async (trx) => {
            await insertDeadLetter(trx, {
              projection: name,
              version,
              eventId: e.id,
              position: e.position,
              type: e.type,
              error: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
              attempts: attempt,
            });
            if (checkpointed) await writeCheckpoint(trx, name, version, e.position);
          });
          deadLetters++;
          log.error(
            { err, eventId: e.id, position: e.position.toString(), type: e.type },
            'rebuild: event dead-lettered',
          );
          break;
        }
      }
    }
  };

  // One partition: the batch and its checkpoint in one transaction. Several: each partition's
  // share in a transaction of its own, all at once, and the checkpoint once every one of them
  // has committed, so it never passes an event that is not written.
  const applyBatch = async (batch: RecordedEvent[]): Promise<void> => {
    const last = batch[batch.length - 1];
    if (last === undefined) return;
    if (partitions === 1) {
      await applyEventsOf(batch, true);
      return;
    }
    const shares: RecordedEvent[][] = Array.from({ length: partitions }, () => []);
    for (const e of batch) shares[partitionOf(e.metadata.orgId, partitions)]!.push(e);
    await settleAll(shares.map((share) => applyEventsOf(share, false)));
    await writeCheckpoint(db, name, version, last.position);
  };

  const read = (from: bigint) => store.readAll({ fromPosition: from, maxCount: batchSize });

  // Catch up to the head read at the start of each round; stop when a round finds nothing new.
  for (let round = 1; ; round++) {
    const head = await store.headPosition();
    if (checkpoint >= head) break;
    log.info({ round, head: head.toString(), checkpoint: checkpoint.toString() }, 'rebuild: catching up');
    let next: Promise<RecordedEvent[]> | undefined;
    while (checkpoint < head) {
      // Read outside the transaction: on PGlite the store and kysely share one session.
      const batch = await (next ?? read(checkpoint));
      next = undefined;
      const last = batch[batch.length - 1];
      if (last === undefined) break;
      // On PostgreSQL the next batch is read on another connection while this one is written,
      // so the two overlap (the read is the one the next turn would make). PGlite is one session.
      if (sql.kind === 'pg' && last.position < head) {
        next = read(last.position);
        // Awaited next turn; if this batch fails first, its error is the one that counts.
        next.catch(() => undefined);
      }
      await applyBatch(batch);
      checkpoint = last.position;
      events += batch.length;
    }
  }

  await db.transaction().execute(async (trx) => {
    // Lock the row so two switches cannot interleave, and refuse if someone else switched.
    const current = await trx
      .selectFrom('projection_active')
      .where('projection', '=', name)
      .select('version')
      .forUpdate()
      .executeTakeFirst();
    if (current?.version !== previousVersion) {
      throw new Error(
        `active version moved from ${previousVersion} to ${current?.version} during the rebuild; not switching`,
      );
    }
    await setActiveVersion(trx, name, version);
  });
  const durationMs = performance.now() - started;
  const eventsPerSecond = durationMs > 0 ? Math.round((events / durationMs) * 1_000) : events;
  log.info(
    { events, deadLetters, checkpoint: checkpoint.toString(), durationMs: Math.round(durationMs), eventsPerSecond },
    'rebuild: switched',
  );
  log.warn(
    { schema: readModelSchema(previousVersion) },
    'rebuild: previous read model schema left in place; drop it once no reader uses it',
  );
  if ((await readActiveVersion(db, name)) !== version) throw new Error('projection_active did not switch');
  return { previousVersion, version, events, deadLetters, checkpoint, durationMs, eventsPerSecond };
}

/** Waits for every promise; then rejects with the first rejection, if any. */
async function settleAll(promises: readonly Promise<void>[]): Promise<void> {
  const results = await Promise.allSettled(promises);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}
