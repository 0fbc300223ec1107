/**
 * Projection bookkeeping in `public`: which version is active, each version's checkpoint, and
 * dead letters. Shared by the live projector, the rebuild and `waitForProjection`.
 */
import type { Kysely } from 'kysely';
import type { Database, DeadLetterRow } from '@quorum/db';

type Db = Kysely<Database>;

/** The active version, inserting version 1 when the projection has none yet. */
export async function ensureActiveVersion(db: Db, projection: string): Promise<number> {
  await db
    .insertInto('projection_active')
    .values({ projection, version: 1 })
    .onConflict((oc) => oc.column('projection').doNothing())
    .execute();
  const version = await readActiveVersion(db, projection);
  if (version === undefined) throw new Error(`projection_active has no row for ${projection}`);
  return version;
}

export async function readActiveVersion(db: Db, projection: string): Promise<number | undefined> {
  const row = await db
    .selectFrom('projection_active')
    .where('projection', '=', projection)
    .select('version')
    .executeTakeFirst();
  return row?.version;
}

/** Points `projection` at `version`. */
export async function setActiveVersion(db: Db, projection: string, version: number): Promise<void> {
  await db
    .insertInto('projection_active')
    .values({ projection, version })
    .onConflict((oc) => oc.column('projection').doUpdateSet({ version, switched_at: new Date() }))
    .execute();
}

export async function ensureCheckpoint(db: Db, projection: string, version: number): Promise<void> {
  await db
    .insertInto('projection_checkpoints')
    .values({ projection, version, position: '0' })
    .onConflict((oc) => oc.columns(['projection', 'version']).doNothing())
    .execute();
}

export async function readCheckpoint(db: Db, projection: string, version: number): Promise<bigint> {
  const row = await db
    .selectFrom('projection_checkpoints')
    .where('projection', '=', projection)
    .where('version', '=', version)
    .select('position')
    .executeTakeFirst();
  return row === undefined ? 0n : BigInt(row.position);
}

/** Reads the checkpoint `FOR UPDATE` (creating it at 0 if missing); call inside a transaction. */
export async function lockCheckpoint(trx: Db, projection: string, version: number): Promise<bigint> {
  await ensureCheckpoint(trx, projection, version);
  const row = await trx
    .selectFrom('projection_checkpoints')
    .where('projection', '=', projection)
    .where('version', '=', version)
    .select('position')
    .forUpdate()
    .executeTakeFirstOrThrow();
  return BigInt(row.position);
}

export async function writeCheckpoint(db: Db, projection: string, version: number, position: bigint): Promise<void> {
  await db
    .insertInto('projection_checkpoints')
    .values({ projection, version, position: position.toString() })
    .onConflict((oc) =>
      oc.columns(['projection', 'version']).doUpdateSet({ position: position.toString(), updated_at: new Date() }),
    )
    .execute();
}

/** Checkpoint of the active version, or `undefined` before the projection ever ran. */
export async function readActiveCheckpoint(
  db: Db,
  projection: string,
): Promise<{ version: number; position: bigint } | undefined> {
  const row = await db
    .selectFrom('projection_active as a')
    .leftJoin('projection_checkpoints as c', (join) =>
      join.onRef('c.projection', '=', 'a.projection').onRef('c.version', '=', 'a.version'),
    )
    .where('a.projection', '=', projection)
    .select(['a.version', 'c.position'])
    .executeTakeFirst();
  if (row === undefined) return undefined;
  return { version: row.version, position: row.position === null ? 0n : BigInt(row.position) };
}

export interface NewDeadLetter {
  projection: string;
  version: number;
  eventId: string;
  position: bigint;
  type: string;
  error: string;
  attempts: number;
}

/** Records a dead letter; a repeat of the same event reopens and updates it. */
export async function insertDeadLetter(db: Db, d: NewDeadLetter): Promise<void> {
  await db
    .insertInto('projection_dead_letters')
    .values({
      projection: d.projection,
      version: d.version,
      event_id: d.eventId,
      position: d.position.toString(),
      type: d.type,
      error: d.error,
      attempts: d.attempts,
      resolved_at: null,
      resolution: null,
    })
    .onConflict((oc) =>
      oc.columns(['projection', 'version', 'event_id']).doUpdateSet({
        error: d.error,
        attempts: d.attempts,
        resolved_at: null,
        resolution: null,
      }),
    )
    .execute();
}

export async function countUnresolvedDeadLetters(db: Db, projection: string, version: number): Promise<number> {
  const row = await db
    .selectFrom('projection_dead_letters')
    .where('projection', '=', projection)
    .where('version', '=', version)
    .where('resolved_at', 'is', null)
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function listUnresolvedDeadLetters(db: Db, projection: string, version: number): Promise<DeadLetterRow[]> {
  return db
    .selectFrom('projection_dead_letters')
    .where('projection', '=', projection)
    .where('version', '=', version)
    .where('resolved_at', 'is', null)
    .orderBy('position')
    .selectAll()
    .execute();
}

export async function deleteDeadLetters(db: Db, projection: string, version: number): Promise<void> {
  await db
    .deleteFrom('projection_dead_letters')
    .where('projection', '=', projection)
    .where('version', '=', version)
    .execute();
}
