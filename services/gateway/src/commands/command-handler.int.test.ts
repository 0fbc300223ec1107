/**
 * The command handler decides on its cached state and appends without reading first. These
 * tests run two handlers (two gateway processes) on one PostgreSQL event store and show that a
 * cache made stale by the other process never decides anything on its own: an append it allowed
 * is refused on revision and decided again on what the stream holds, and a refusal it made is
 * checked against the stream before it is answered.
 */
import { randomUUID } from 'node:crypto';
import { AppError, seatsDecider, streamIds, type SeatsCommand } from '@quorum/domain';
import { createPgSqlDatabase, type SqlDatabase } from '@quorum/db';
import type { EventStore } from '@quorum/eventstore';
import { PostgresEventStore } from '@quorum/eventstore/postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandHandler, type CommandMeta } from './command-handler';
import { createIdSource } from './ids';

const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://quorum:quorum@127.0.0.1:5432/quorum_test';

let db: SqlDatabase;
let store: PostgresEventStore;

beforeAll(async () => {
  db = createPgSqlDatabase({ connectionString: DATABASE_URL, max: 4 });
  store = await PostgresEventStore.create(db);
});

afterAll(async () => {
  await db?.close();
});

/** The real store, with its stream reads counted. */
function countingReads(inner: EventStore): { store: EventStore; reads: () => number } {
  let reads = 0;
  const store = new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop === 'readStream') {
        return (...args: Parameters<EventStore['readStream']>) => {
          reads++;
          return target.readStream(...args);
        };
      }
      const value = Reflect.get(target, prop, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { store, reads: () => reads };
}

function meta(orgId: string, idempotencyKey?: string): CommandMeta {
  return {
    orgId,
    actor: { kind: 'user', id: randomUUID() },
    correlationId: randomUUID(),
    ids: createIdSource(`test:${orgId}`, idempotencyKey),
  };
}

const at = () => new Date();

function run(handler: CommandHandler, orgId: string, command: SeatsCommand, idempotencyKey?: string) {
  return handler.execute(seatsDecider, streamIds.seats(orgId), meta(orgId, idempotencyKey), (state) => seatsDecider.decide(command, state));
}

const purchase = (orgId: string, quantity: number): SeatsCommand => ({ type: 'PurchaseSeats', orgId, quantity, plan: 'business', at: at() });
const assign = (orgId: string, userId: string): SeatsCommand => ({ type: 'AssignSeat', orgId, userId, isMember: true, at: at() });
const unassign = (orgId: string, userId: string): SeatsCommand => ({ type: 'UnassignSeat', orgId, userId, reason: 'unassigned', at: at() });

async function refusal(p: Promise<unknown>): Promise<AppError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  return err as AppError;
}

describe('CommandHandler on a cached state', () => {
  it('appends commands after the first without reading the stream', async () => {
    const counted = countingReads(store);
    const handler = new CommandHandler(counted.store);
    const orgId = randomUUID();
    await run(handler, orgId, purchase(orgId, 3));
    const readsAfterFirst = counted.reads();
    const positions = [];
    for (const userId of [randomUUID(), randomUUID(), randomUUID()]) positions.push((await run(handler, orgId, assign(orgId, userId))).position);
    expect(counted.reads()).toBe(readsAfterFirst);
    const events = await store.readStream(streamIds.seats(orgId));
    expect(events.map((e) => e.type)).toEqual(['seats.purchased', 'seat.assigned', 'seat.assigned', 'seat.assigned']);
    expect(positions).toEqual(events.slice(1).map((e) => e.position));
  });

  it("decides again when another process's append made the cache stale, and refuses on the stream's state", async () => {
    const a = new CommandHandler(store);
    const b = new CommandHandler(store);
    const orgId = randomUUID();
    await run(a, orgId, purchase(orgId, 2));
    // Process B fills both seats; A's cache still says both are free.
    await run(b, orgId, assign(orgId, randomUUID()));
    await run(b, orgId, assign(orgId, randomUUID()));
    const err = await refusal(run(a, orgId, assign(orgId, randomUUID())));
    expect(err.reason).toBe('seats.no_free_seat');
    const events = await store.readStream(streamIds.seats(orgId));
    expect(events.filter((e) => e.type === 'seat.assigned')).toHaveLength(2);
  });

  it('checks a refusal made on a stale cache against the stream before answering it', async () => {
    const a = new CommandHandler(store);
    const b = new CommandHandler(store);
    const orgId = randomUUID();
    const holder = randomUUID();
    await run(a, orgId, purchase(orgId, 1));
    await run(a, orgId, assign(orgId, holder));
    // Process B frees the seat; A's cache still says there is none.
    await run(b, orgId, unassign(orgId, holder));
    const newcomer = randomUUID();
    await run(a, orgId, assign(orgId, newcomer));
    const events = await store.readStream(streamIds.seats(orgId));
    expect(events.map((e) => e.type)).toEqual(['seats.purchased', 'seat.assigned', 'seat.unassigned', 'seat.assigned']);
    expect(events.at(-1)!.data).toEqual({ userId: newcomer });
  });

  it('reads the stream for a command with an idempotency key, so a retry appends nothing', async () => {
    const counted = countingReads(store);
    const handler = new CommandHandler(counted.store);
    const orgId = randomUUID();
    await run(handler, orgId, purchase(orgId, 1));
    const key = randomUUID();
    const first = await run(handler, orgId, purchase(orgId, 1), key);
    const readsBefore = counted.reads();
    const retry = await run(handler, orgId, purchase(orgId, 1), key);
    expect(counted.reads()).toBeGreaterThan(readsBefore);
    expect(retry).toEqual({ position: first.position, replayed: true });
    const events = await store.readStream(streamIds.seats(orgId));
    expect(events.map((e) => e.type)).toEqual(['seats.purchased', 'seats.purchased']);
  });
});
