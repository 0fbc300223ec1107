/**
 * Dead letters: the live projector writes one for an event that keeps failing, and moves its
 * checkpoint past it; the operator's actions, shared by the live projector and the CLI
 * (`npm run dead-letters -w @quorum/projector`), list, retry (re-read the event from the
 * store and apply it to the version it failed in) and skip.
 */
import type { DeliveredMessage } from '@quorum/bus';
import type { DeadLetterRow, Database } from '@quorum/db';
import { readModelSchema } from '@quorum/db';
import { notFound, preconditionFailed } from '@quorum/domain';
import { toWireEvent, type EventStore } from '@quorum/eventstore';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { insertDeadLetter, lockCheckpoint, writeCheckpoint } from './bookkeeping.repository';
import { applyEvent } from './projections/core.projection';

const NIL_UUID = '00000000-0000-0000-0000-000000000000';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface DeadLetterContext {
  db: Kysely<Database>;
  store: EventStore;
  logger: Logger;
  projection: string;
}

/** Unresolved dead letters of every version, oldest first. */
export function listDeadLetters(ctx: Pick<DeadLetterContext, 'db' | 'projection'>): Promise<DeadLetterRow[]> {
  return ctx.db
    .selectFrom('projection_dead_letters')
    .selectAll()
    .where('projection', '=', ctx.projection)
    .where('resolved_at', 'is', null)
    .orderBy('id')
    .execute();
}

/**
 * Records `message` as dead in `version` after `attempts` failed applies with `err`, and moves
 * the checkpoint past it in the same transaction, so the projection goes on without it.
 */
export async function writeDeadLetter(
  db: Kysely<Database>,
  projection: string,
  version: number,
  message: DeliveredMessage,
  err: unknown,
  attempts: number,
): Promise<void> {
  let type = '(invalid envelope)';
  if (typeof message.payload === 'object' && message.payload !== null && 'type' in message.payload) {
    const t = message.payload.type;
    if (typeof t === 'string' && t.length > 0) type = t;
  }
  const idIsUuid = UUID.test(message.id);
  const failure = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  const error = idIsUuid ? failure : `message id ${JSON.stringify(message.id)}: ${failure}`;
  await db.transaction().execute(async (trx) => {
    const checkpoint = await lockCheckpoint(trx, projection, version);
    await insertDeadLetter(trx, {
      projection,
      version,
      eventId: idIsUuid ? message.id : NIL_UUID,
      position: message.position,
      type,
      error,
      attempts,
    });
    if (message.position > checkpoint) await writeCheckpoint(trx, projection, version, message.position);
  });
}

export async function retryDeadLetter(ctx: DeadLetterContext, id: string | bigint): Promise<void> {
  const letter = await findDeadLetter(ctx, id);
  const position = BigInt(letter.position);
  // Read before the transaction: on PGlite the store shares the single session.
  const [recorded] = await ctx.store.readAll({ fromPosition: position - 1n, maxCount: 1 });
  if (recorded === undefined && (await ctx.store.headPosition()) < position) {
    throw preconditionFailed(
      'projector.event_not_visible',
      `Event ${letter.event_id} at position ${position} is not visible yet (a long write transaction holds the store's horizon); retry shortly.`,
      {
        id: letter.id,
      },
    );
  }
  if (recorded === undefined || recorded.position !== position || recorded.id !== letter.event_id) {
    throw notFound(
      'projector.event_not_found',
      `Event ${letter.event_id} at position ${position} is not in the store.`,
      {
        id: letter.id,
      },
    );
  }
  const event = toWireEvent(recorded);
  try {
    await ctx.db.transaction().execute(async (trx) => {
      const locked = await trx
        .selectFrom('projection_dead_letters')
        .where('id', '=', letter.id)
        .where('resolved_at', 'is', null)
        .select('id')
        .forUpdate()
        .executeTakeFirst();
      if (locked === undefined) {
        throw preconditionFailed('projector.dead_letter_resolved', `Dead letter ${letter.id} is already resolved.`, {
          id: letter.id,
        });
      }
      await applyEvent(trx, readModelSchema(letter.version), event);
      await trx
        .updateTable('projection_dead_letters')
        .set({ resolved_at: new Date(), resolution: 'retried' })
        .where('id', '=', letter.id)
        .execute();
    });
  } catch (err) {
    await ctx.db
      .updateTable('projection_dead_letters')
      .set((eb) => ({ error: describe(err), attempts: eb('attempts', '+', 1) }))
      .where('id', '=', letter.id)
      .where('resolved_at', 'is', null)
      .execute();
    throw err;
  }
  ctx.logger.info(
    { deadLetterId: letter.id, eventId: letter.event_id, position: letter.position },
    'dead letter retried',
  );
}

export async function skipDeadLetter(ctx: DeadLetterContext, id: string | bigint): Promise<void> {
  const letter = await findDeadLetter(ctx, id);
  const result = await ctx.db
    .updateTable('projection_dead_letters')
    .set({ resolved_at: new Date(), resolution: 'skipped' })
    .where('id', '=', letter.id)
    .where('resolved_at', 'is', null)
    .executeTakeFirst();
  if (result.numUpdatedRows === 0n) {
    throw preconditionFailed('projector.dead_letter_resolved', `Dead letter ${letter.id} is already resolved.`, {
      id: letter.id,
    });
  }
  ctx.logger.warn(
    { deadLetterId: letter.id, eventId: letter.event_id, position: letter.position },
    'dead letter skipped',
  );
}

async function findDeadLetter(ctx: DeadLetterContext, id: string | bigint): Promise<DeadLetterRow> {
  const key = id.toString();
  if (!/^\d{1,19}$/.test(key)) throw notFound('projector.dead_letter_not_found', `No dead letter ${key}.`, { id: key });
  const letter = await ctx.db
    .selectFrom('projection_dead_letters')
    .where('id', '=', key)
    .where('projection', '=', ctx.projection)
    .selectAll()
    .executeTakeFirst();
  if (letter === undefined) throw notFound('projector.dead_letter_not_found', `No dead letter ${key}.`, { id: key });
  return letter;
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
