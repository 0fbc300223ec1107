/**
 * The command handler decides on its cached state and appends without reading first. These
 * tests run two handlers (two gateway processes) on one PostgreSQL event store and show that a
 * cache made stale by the other process never decides anything on its own: an append it allowed
 * is refused on revision and decided again on what the stream holds, and a refusal it made is
 * checked against the stream before it is answered.
 */
import { randomUUID } from 'node:crypto';
import {
  AppError,
  currentVersionOf,
  organizationDecider,
  seatsDecider,
  streamIds,
  type SeatsCommand,
} from '@quorum/domain';
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
  return handler.execute(seatsDecider, streamIds.seats(orgId), meta(orgId, idempotencyKey), (state) =>
    seatsDecider.decide(command, state),
  );
}

const purchase = (orgId: string, quantity: number): SeatsCommand => ({
  type: 'PurchaseSeats',
  orgId,
  quantity,
  plan: 'business',
  at: at(),
});
const assign = (orgId: string, userId: string): SeatsCommand => ({
  type: 'AssignSeat',
  orgId,
  userId,
  isMember: true,
  at: at(),
});
const unassign = (orgId: string, userId: string): SeatsCommand => ({
  type: 'UnassignSeat',
  orgId,
  userId,
  reason: 'unassigned',
  at: at(),
});

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
    for (const userId of [randomUUID(), randomUUID(), randomUUID()])
      positions.push((await run(handler, orgId, assign(orgId, userId))).position);
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

describe('CommandHandler.executeWithContext (seat commands on organization facts)', () => {
  const eventMeta = (orgId: string) => ({
    orgId,
    actor: { kind: 'system' as const, id: 'test' },
    correlationId: randomUUID(),
    causationId: null,
  });

  /** An organization on `plan` with one owner, appended as the gateway would. */
  async function organization(orgId: string, plan: 'free' | 'business'): Promise<void> {
    const owner = randomUUID();
    const events = [
      {
        type: 'organization.created',
        data: {
          orgId,
          name: 'Context Inc',
          plan,
          ownerUserId: owner,
          ownerEmail: 'o@context.test',
          trialEndsAt: '2030-01-01T00:00:00.000Z',
        },
      },
      { type: 'member.joined', data: { userId: owner, email: 'o@context.test', role: 'owner', invitationId: null } },
    ];
    await store.appendToStream(
      streamIds.organization(orgId),
      events.map((e) => ({
        id: randomUUID(),
        type: e.type,
        version: currentVersionOf(e.type as never),
        data: e.data,
        metadata: eventMeta(orgId),
      })),
      { expectedRevision: 'no_stream' },
    );
  }

  /** Another process changes the plan. */
  async function changePlan(orgId: string, from: string, to: string): Promise<void> {
    await store.appendToStream(streamIds.organization(orgId), [
      {
        id: randomUUID(),
        type: 'organization.plan_changed',
        version: currentVersionOf('organization.plan_changed'),
        data: { from, to },
        metadata: eventMeta(orgId),
      },
    ]);
  }

  /** Buys seats within the plan read from the organization stream, as `seats.purchase` does. */
  function buy(handler: CommandHandler, orgId: string, quantity: number) {
    return handler.executeWithContext(
      seatsDecider,
      streamIds.seats(orgId),
      { decider: organizationDecider, streamId: streamIds.organization(orgId) },
      meta(orgId),
      (state, org) => {
        if (!org.exists) throw new AppError('NOT_FOUND', 'organization.not_found', 'Organization not found.');
        return seatsDecider.decide({ type: 'PurchaseSeats', orgId, quantity, plan: org.plan, at: at() }, state);
      },
    );
  }

  it('with both streams cached, a command is one append and no read', async () => {
    const counted = countingReads(store);
    const handler = new CommandHandler(counted.store);
    const orgId = randomUUID();
    await organization(orgId, 'business');
    await buy(handler, orgId, 1);
    const readsAfterFirst = counted.reads();
    for (let i = 0; i < 3; i++) await buy(handler, orgId, 1);
    expect(counted.reads()).toBe(readsAfterFirst);
    expect(await store.readStream(streamIds.seats(orgId))).toHaveLength(4);
  });

  it('refuses, on fresh facts, a purchase its cache allowed after another process lowered the plan', async () => {
    const a = new CommandHandler(store);
    const orgId = randomUUID();
    await organization(orgId, 'business');
    await buy(a, orgId, 10);
    await changePlan(orgId, 'business', 'free');
    const err = await refusal(buy(a, orgId, 1));
    expect(err.reason).toBe('seats.cap_exceeded');
    expect(await store.readStream(streamIds.seats(orgId))).toHaveLength(1);
  });

  it('accepts, on fresh facts, a purchase its cache refused after another process raised the plan', async () => {
    const a = new CommandHandler(store);
    const orgId = randomUUID();
    await organization(orgId, 'free');
    await buy(a, orgId, 3);
    await changePlan(orgId, 'free', 'business');
    await buy(a, orgId, 5);
    const events = await store.readStream(streamIds.seats(orgId));
    expect(events.map((e) => e.data)).toEqual([
      { quantity: 3, total: 3 },
      { quantity: 5, total: 8 },
    ]);
  });

  it('a plan change racing the purchase: the guard refuses the append and the command is decided again', async () => {
    const a = new CommandHandler(store);
    const orgId = randomUUID();
    await organization(orgId, 'business');
    await buy(a, orgId, 1);
    // Lower the plan from inside the decision, after the facts were read and before the append.
    let lowered = false;
    const outcome = await a
      .executeWithContext(
        seatsDecider,
        streamIds.seats(orgId),
        { decider: organizationDecider, streamId: streamIds.organization(orgId) },
        meta(orgId),
        (state, org) => {
          if (!org.exists) throw new Error('no organization');
          if (!lowered) {
            lowered = true;
            void changePlan(orgId, 'business', 'free');
          }
          return seatsDecider.decide({ type: 'PurchaseSeats', orgId, quantity: 5, plan: org.plan, at: at() }, state);
        },
      )
      .then(
        () => 'appended',
        (e: unknown) => (e instanceof AppError ? e.reason : String(e)),
      );
    // Either the purchase committed before the plan change, or it was decided again on the free plan.
    const seats = await store.readStream(streamIds.seats(orgId));
    const org = await store.readStream(streamIds.organization(orgId));
    if (outcome === 'appended') {
      expect(seats).toHaveLength(2);
      expect(seats[1]!.position).toBeLessThan(org.at(-1)!.position);
    } else {
      expect(outcome).toBe('seats.cap_exceeded');
      expect(seats).toHaveLength(1);
    }
  });
});
