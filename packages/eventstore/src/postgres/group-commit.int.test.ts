/**
 * Group commit against a real PostgreSQL: appends that queue behind one in flight go together
 * in one transaction, and each keeps its own outcome.
 */
import { randomUUID } from 'node:crypto';
import { createPgSqlDatabase, type SqlDatabase } from '@quorum/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runEventStoreContract } from '../contract/event-store.contract';
import { DuplicateEventIdError, WrongExpectedRevisionError } from '../errors';
import type { NewEvent } from '../event-store';
import { connectTestPostgres } from '../testing/test-postgres';
import { PostgresEventStore } from './postgres-event-store';
import { POSITION_INDEX_BITS } from './schema';

const stream = (label: string) => `group_${label}-${randomUUID()}`;
const event = (data: unknown = { n: 1 }): NewEvent => ({
  id: randomUUID(),
  type: 'group.tested',
  version: 1,
  data,
  metadata: {
    orgId: 'org-group',
    actor: { kind: 'system', id: 'group-commit-test' },
    correlationId: randomUUID(),
    causationId: null,
  },
});
/** The transaction an event's position was taken in. */
const txOf = (position: bigint) => position >> POSITION_INDEX_BITS;

// The port's whole contract with every append queued behind one in flight, so nearly every
// concurrent append of the suite goes through es_append_batch.
runEventStoreContract('PostgreSQL adapter, one group in flight', async () => {
  const url = await connectTestPostgres();
  const db = createPgSqlDatabase({ connectionString: url, max: 24 });
  const store = await PostgresEventStore.create(db, { groupCommit: { maxInFlight: 1 } });
  return { store, cleanup: () => db.close() };
});

describe('PostgresEventStore group commit', () => {
  let db: SqlDatabase;
  let store: PostgresEventStore;

  beforeAll(async () => {
    db = createPgSqlDatabase({ connectionString: await connectTestPostgres(), max: 8 });
    store = await PostgresEventStore.create(db, { groupCommit: { maxInFlight: 1 } });
  });

  afterAll(async () => {
    await store.close();
    await db.close();
  });

  it('appends queued behind one in flight commit together, positions in the order they were made', async () => {
    const streams = Array.from({ length: 12 }, (_, i) => stream(`order${i}`));
    const results = await Promise.all(
      streams.map((s) => store.appendToStream(s, [event(), event()], { expectedRevision: 'no_stream' })),
    );
    // The first went alone; the other eleven waited for it and went as one transaction.
    const queued = results.slice(1);
    expect(new Set(queued.map((r) => txOf(r.position))).size).toBe(1);
    expect(txOf(results[0]!.position)).not.toBe(txOf(results[1]!.position));
    for (let i = 1; i < queued.length; i++) expect(queued[i]!.position).toBeGreaterThan(queued[i - 1]!.position);
    for (const [i, s] of streams.entries()) {
      const stored = await store.readStream(s);
      expect(stored.map((e) => e.revision)).toEqual([0n, 1n]);
      expect(stored.at(-1)!.position).toBe(results[i]!.position);
      expect(stored[0]!.position).toBe(results[i]!.position - 1n);
    }
  });

  it('a refused item between two accepted ones writes nothing and the others commit', async () => {
    const [first, a, refused, c] = [stream('first'), stream('a'), stream('refused'), stream('c')];
    const outcomes = await Promise.allSettled([
      store.appendToStream(first, [event()]),
      store.appendToStream(a, [event()], { expectedRevision: 'no_stream' }),
      store.appendToStream(refused, [event()], { expectedRevision: 4n }),
      store.appendToStream(c, [event(), event()], { expectedRevision: 'no_stream' }),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    const err = (outcomes[2] as PromiseRejectedResult).reason as WrongExpectedRevisionError;
    expect(err).toBeInstanceOf(WrongExpectedRevisionError);
    expect(err.actual).toBeUndefined();
    const pa = (outcomes[1] as PromiseFulfilledResult<{ position: bigint }>).value.position;
    const pc = (outcomes[3] as PromiseFulfilledResult<{ position: bigint }>).value.position;
    expect(txOf(pa)).toBe(txOf(pc));
    // The refused item took no positions: c's two events follow a's one directly.
    expect(pc).toBe(pa + 2n);
    expect(await store.readStream(refused)).toEqual([]);
    expect((await store.readStream(c)).map((e) => e.revision)).toEqual([0n, 1n]);
  });

  it('a guard refused inside a group names the guard stream and its revision', async () => {
    const org = stream('org');
    await store.appendToStream(org, [event(), event()]);
    const [blocker, seats, other] = [stream('blocker'), stream('seats'), stream('other')];
    const outcomes = await Promise.allSettled([
      store.appendToStream(blocker, [event()]),
      store.appendToStream(seats, [event()], { guards: [{ streamId: org, revision: 0n }] }),
      store.appendToStream(other, [event()], { guards: [{ streamId: org, revision: 1n }] }),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    const err = (outcomes[1] as PromiseRejectedResult).reason as WrongExpectedRevisionError;
    expect(err).toBeInstanceOf(WrongExpectedRevisionError);
    expect(err.streamId).toBe(org);
    expect(err.actual).toBe(1n);
    expect(await store.readStream(seats)).toEqual([]);
  });

  it('a retried append inside a group answers the stored position; ids stored elsewhere are refused', async () => {
    const s = stream('retry');
    const original = [event(), event()];
    const first = await store.appendToStream(s, original);
    const elsewhere = stream('elsewhere');
    const outcomes = await Promise.allSettled([
      store.appendToStream(stream('blocker'), [event()]),
      store.appendToStream(s, original),
      store.appendToStream(elsewhere, [original[0]!]),
      store.appendToStream(stream('fine'), [event()]),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    expect((outcomes[1] as PromiseFulfilledResult<{ position: bigint }>).value.position).toBe(first.position);
    expect((outcomes[2] as PromiseRejectedResult).reason).toBeInstanceOf(DuplicateEventIdError);
    expect(await store.readStream(s)).toHaveLength(2);
    expect(await store.readStream(elsewhere)).toEqual([]);
  });

  it('one item the database cannot take fails alone: the rest of its group is appended', async () => {
    const [good1, bad, good2] = [stream('good1'), stream('bad'), stream('good2')];
    const outcomes = await Promise.allSettled([
      store.appendToStream(stream('blocker'), [event()]),
      store.appendToStream(good1, [event()]),
      // PostgreSQL's jsonb refuses the NUL character: the whole batch statement fails on it.
      store.appendToStream(bad, [event({ text: 'a\u0000b' })]),
      store.appendToStream(good2, [event()]),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    expect(((outcomes[2] as PromiseRejectedResult).reason as { code?: string }).code).toBe('22P05');
    expect(await store.readStream(bad)).toEqual([]);
    expect(await store.readStream(good1)).toHaveLength(1);
    expect(await store.readStream(good2)).toHaveLength(1);
  });

  it('appends to one stream queued in one group apply in order, each on the revision before it', async () => {
    const s = stream('same');
    await store.appendToStream(s, [event()]);
    const outcomes = await Promise.allSettled([
      store.appendToStream(stream('blocker'), [event()]),
      store.appendToStream(s, [event()], { expectedRevision: 0n }),
      store.appendToStream(s, [event()], { expectedRevision: 1n }),
      store.appendToStream(s, [event()], { expectedRevision: 1n }),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'rejected']);
    expect((outcomes[3] as PromiseRejectedResult).reason).toBeInstanceOf(WrongExpectedRevisionError);
    expect((await store.readStream(s)).map((e) => e.revision)).toEqual([0n, 1n, 2n]);
  });

  it('refuses settings PostgreSQL cannot hold in one group', async () => {
    await expect(PostgresEventStore.create(db, { migrate: false, groupCommit: { maxItems: 65 } })).rejects.toThrow(
      /maxItems/,
    );
    await expect(PostgresEventStore.create(db, { migrate: false, groupCommit: { maxInFlight: 0 } })).rejects.toThrow(
      /maxInFlight/,
    );
  });

  it('refuses a live read interval outside 0 to 1000 ms, and takes one inside', async () => {
    for (const liveReadIntervalMs of [-1, 1_001, Number.NaN]) {
      await expect(PostgresEventStore.create(db, { migrate: false, liveReadIntervalMs })).rejects.toThrow(
        /liveReadIntervalMs must be 0 to 1000/,
      );
    }
    const store = await PostgresEventStore.create(db, { migrate: false, liveReadIntervalMs: 0 });
    await store.close();
  });
});
