import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migratePublicSchema, migrateReadModelSchema, readModelSchema } from '@quorum/db';
import { SEAT_HOLDING_EVENT_TYPES, SEAT_TIMELINE_EVENT_TYPES } from '@quorum/domain';
import { toWireEvent, type RecordedEvent, type WireEvent } from '@quorum/eventstore';
import {
  append,
  createTestDatabase,
  newEvent,
  orgStream,
  seatsStream,
  snapshot,
  testDb,
  type TestDatabase,
} from '../testing/projector-test-env';
import { applyEvents, type ApplyOutcome } from './core.projection';
import { sql } from 'kysely';

const VERSION = 1;
const schema = readModelSchema(VERSION);
let t: TestDatabase;

beforeAll(async () => {
  t = await createTestDatabase();
  await migratePublicSchema(t.sql);
  await migrateReadModelSchema(t.sql, VERSION);
});
afterAll(async () => {
  await t?.drop();
});

async function apply(events: readonly WireEvent[], into = schema): Promise<ApplyOutcome[]> {
  return testDb(t.sql)
    .transaction()
    .execute((trx) => applyEvents(trx, into, events));
}

/** Recorded events as the projector receives them, each with the `occurredAt` it is given. */
function at(recorded: readonly RecordedEvent[], times: readonly string[]): WireEvent[] {
  return recorded.map((e, i) => ({ ...toWireEvent(e), occurredAt: times[i]! }));
}

const iso = (v: Date | string | null) => (v === null ? null : new Date(v).toISOString());

/**
 * An organization's March: created on pro, 10 seats, two holders, business from the 11th, 3 seats
 * released, a holder unassigned and assigned again, a member removed, then closed. Appended in
 * the order the gateway would (two streams), each with a chosen time.
 */
async function march(orgId: string) {
  const users = [randomUUID(), randomUUID()];
  const org = await append(t.store, orgStream(orgId), [
    newEvent(orgId, {
      type: 'organization.created',
      data: {
        orgId,
        name: 'Acme',
        plan: 'pro',
        ownerUserId: users[0]!,
        ownerEmail: 'o@acme.test',
        trialEndsAt: '2025-03-15T00:00:00.000Z',
      },
    }),
  ]);
  const seats = await append(t.store, seatsStream(orgId), [
    newEvent(orgId, { type: 'seats.purchased', data: { quantity: 10, total: 10 } }),
    newEvent(orgId, { type: 'seat.assigned', data: { userId: users[0]! } }),
    newEvent(orgId, { type: 'seat.assigned', data: { userId: users[1]! } }),
  ]);
  const plan = await append(t.store, orgStream(orgId), [
    newEvent(orgId, { type: 'organization.plan_changed', data: { from: 'pro', to: 'business' } }),
  ]);
  const more = await append(t.store, seatsStream(orgId), [
    newEvent(orgId, { type: 'seats.released', data: { quantity: 3, total: 7 } }),
    newEvent(orgId, { type: 'seat.unassigned', data: { userId: users[0]!, reason: 'unassigned' } }),
    newEvent(orgId, { type: 'seat.assigned', data: { userId: users[0]! } }),
    newEvent(orgId, { type: 'seat.unassigned', data: { userId: users[1]!, reason: 'member_removed' } }),
  ]);
  const closed = await append(t.store, orgStream(orgId), [newEvent(orgId, { type: 'organization.closed', data: {} })]);
  const recorded = [...org, ...seats, ...plan, ...more, ...closed];
  const wire = at(recorded, [
    '2025-03-01T08:00:00.000Z',
    '2025-03-01T08:05:00.000Z',
    '2025-03-01T08:06:00.000Z',
    '2025-03-02T09:00:00.000Z',
    // The plan change's gateway runs a little behind: its stretch starts where the last one did, no earlier.
    '2025-03-01T08:04:59.000Z',
    '2025-03-20T00:00:00.000Z',
    '2025-03-21T00:00:00.000Z',
    '2025-03-22T00:00:00.000Z',
    '2025-03-23T00:00:00.000Z',
    '2025-03-31T12:00:00.000Z',
  ]);
  return { users, recorded, wire, ids: recorded.map((e) => e.id) };
}

describe('seat timeline projection', () => {
  it('keeps the quantity and plan in force over time and who held which seat, with their events', async () => {
    const orgId = randomUUID();
    const { users, wire, ids } = await march(orgId);
    expect(await apply(wire)).toEqual(wire.map(() => 'applied'));
    const rows = await snapshot(t.sql, schema, [orgId]);
    const [created, purchased, , , plan, released, u0, , u1, closed] = ids;
    expect(
      rows.seat_intervals.map((r) => [
        r.event_id,
        r.quantity,
        r.plan,
        r.quantity_event_id,
        r.plan_event_id,
        iso(r.from_at),
        iso(r.to_at),
        r.to_event_id,
      ]),
    ).toEqual([
      [created, 0, 'pro', null, created, '2025-03-01T08:00:00.000Z', '2025-03-01T08:05:00.000Z', purchased],
      [purchased, 10, 'pro', purchased, created, '2025-03-01T08:05:00.000Z', '2025-03-01T08:05:00.000Z', plan],
      [plan, 10, 'business', purchased, plan, '2025-03-01T08:05:00.000Z', '2025-03-20T00:00:00.000Z', released],
      [released, 7, 'business', released, plan, '2025-03-20T00:00:00.000Z', '2025-03-31T12:00:00.000Z', closed],
    ]);
    expect(
      rows.seat_holdings.map((r) => [
        r.user_id,
        r.assigned_event_id,
        iso(r.from_at),
        iso(r.to_at),
        r.unassigned_event_id,
        r.reason,
      ]),
    ).toEqual([
      [users[0], ids[2], '2025-03-01T08:06:00.000Z', '2025-03-21T00:00:00.000Z', u0, 'unassigned'],
      [users[1], ids[3], '2025-03-02T09:00:00.000Z', '2025-03-23T00:00:00.000Z', u1, 'member_removed'],
      [users[0], ids[7], '2025-03-22T00:00:00.000Z', null, null, null],
    ]);
  });

  it('counts a replay once, under the same positions or other ones', async () => {
    const orgId = randomUUID();
    const { wire } = await march(orgId);
    await apply(wire);
    const before = await snapshot(t.sql, schema, [orgId]);

    expect(await apply(wire)).toEqual(wire.map(() => 'duplicate'));
    expect(await snapshot(t.sql, schema, [orgId])).toEqual(before);

    // The same events again under later positions (past the event log's guard): every id once.
    const base = BigInt(wire.at(-1)!.position) + 1_000_000n;
    const moved = wire.map((e, i) => ({ ...e, position: String(base + BigInt(i)) }));
    expect(await apply(moved)).toEqual(moved.map(() => 'applied'));
    const after = await snapshot(t.sql, schema, [orgId]);
    expect({ ...after, event_log: [] }).toEqual({ ...before, event_log: [] });
  });

  it('lands an event applied late (a dead letter retried) where its position puts it', async () => {
    const orgId = randomUUID();
    const { wire } = await march(orgId);
    const late = [5, 6];
    const inOrder = readModelSchema(11);
    await migrateReadModelSchema(t.sql, 11);
    await apply(wire, inOrder);
    for (const e of wire.filter((_, i) => !late.includes(i))) await apply([e]);
    for (const i of late) await apply([wire[i]!]);
    // The timeline only: `seat_assignments` follows events in the order they are applied.
    const a = await snapshot(t.sql, schema, [orgId]);
    const b = await snapshot(t.sql, inOrder, [orgId]);
    expect([a.seat_intervals, a.seat_holdings]).toEqual([b.seat_intervals, b.seat_holdings]);
    expect(a.seat_intervals).toHaveLength(4);
    expect(a.seat_holdings).toHaveLength(3);
  });

  it('batches and single events land on the same rows across many organizations', async () => {
    const orgs = [randomUUID(), randomUUID(), randomUUID()];
    const all: WireEvent[] = [];
    for (const orgId of orgs) all.push(...(await march(orgId)).wire);
    all.sort((x, y) => (BigInt(x.position) < BigInt(y.position) ? -1 : 1));
    const batched = readModelSchema(12);
    await migrateReadModelSchema(t.sql, 12);
    await apply(all, batched);
    for (const e of all) await apply([e]);
    expect(await snapshot(t.sql, batched, orgs)).toEqual(await snapshot(t.sql, schema, orgs));
  });
});

/**
 * An organization that stays open: created, seats bought and released (one purchase that
 * leaves the total as it was), a user's seat assigned, assigned again (which changes nothing),
 * unassigned and assigned once more.
 */
async function openOrganization(orgId: string) {
  const user = randomUUID();
  const org = await append(t.store, orgStream(orgId), [
    newEvent(orgId, {
      type: 'organization.created',
      data: {
        orgId,
        name: 'Open',
        plan: 'business',
        ownerUserId: user,
        ownerEmail: 'o@open.test',
        trialEndsAt: '2025-03-15T00:00:00.000Z',
      },
    }),
  ]);
  const seats = await append(t.store, seatsStream(orgId), [
    newEvent(orgId, { type: 'seats.purchased', data: { quantity: 1, total: 1 } }),
    newEvent(orgId, { type: 'seat.assigned', data: { userId: user } }),
    newEvent(orgId, { type: 'seats.purchased', data: { quantity: 1, total: 2 } }),
    newEvent(orgId, { type: 'seat.assigned', data: { userId: user } }),
    newEvent(orgId, { type: 'seats.released', data: { quantity: 1, total: 1 } }),
    newEvent(orgId, { type: 'seat.unassigned', data: { userId: user, reason: 'unassigned' } }),
    newEvent(orgId, { type: 'seats.purchased', data: { quantity: 2, total: 3 } }),
    newEvent(orgId, { type: 'seat.assigned', data: { userId: user } }),
  ]);
  const recorded = [...org, ...seats];
  return at(
    recorded,
    recorded.map((_, i) => new Date(Date.UTC(2025, 2, 1 + i)).toISOString()),
  );
}

async function timelineOf(into: string, orgId: string) {
  const rows = await snapshot(t.sql, into, [orgId]);
  return { seat_intervals: rows.seat_intervals, seat_holdings: rows.seat_holdings };
}

describe('seat timeline projection, going on from the last row', () => {
  let version = 20;
  async function freshSchema(): Promise<string> {
    version += 1;
    await migrateReadModelSchema(t.sql, version);
    return readModelSchema(version);
  }

  it('lands a late event after the last row, or before it, where its position puts it', async () => {
    const orgId = randomUUID();
    const wire = await openOrganization(orgId);
    const whole = await freshSchema();
    await apply(wire, whole);
    const expected = await timelineOf(whole, orgId);
    expect(expected.seat_intervals.map((r) => r.quantity)).toEqual([0, 1, 2, 1, 3]);
    expect(expected.seat_holdings.map((r) => [r.assigned_event_id, r.unassigned_event_id])).toEqual([
      [wire[2]!.id, wire[6]!.id],
      [wire[8]!.id, null],
    ]);

    // Held back: the second purchase (after the last row, which is then the first purchase's;
    // without it the release changes nothing) and the unassignment (after the user's last
    // holding; without it the second assignment changes nothing). Both are applied after the
    // events that follow them.
    const afterLast = await freshSchema();
    for (const i of [0, 1, 2, 4, 5, 6]) await apply([wire[i]!], afterLast);
    await apply([wire[3]!], afterLast);
    await apply([wire[7]!, wire[8]!], afterLast);
    expect(await timelineOf(afterLast, orgId)).toEqual(expected);

    // Held back until the end: an event before the last row.
    const beforeLast = await freshSchema();
    for (const i of [0, 1, 2, 4, 5, 6, 7, 8]) await apply([wire[i]!], beforeLast);
    await apply([wire[3]!], beforeLast);
    expect(await timelineOf(beforeLast, orgId)).toEqual(expected);
  });

  it('changes nothing for a batch applied twice, or again under later positions, or one copied event', async () => {
    const orgId = randomUUID();
    const wire = await openOrganization(orgId);
    const into = await freshSchema();
    const [first, second] = [wire.slice(0, 5), wire.slice(5)];
    await apply(first, into);
    await apply(second, into);
    const before = await timelineOf(into, orgId);

    expect(await apply(second, into)).toEqual(second.map(() => 'duplicate'));
    expect(await timelineOf(into, orgId)).toEqual(before);

    // Every event of the batch comes after the last row, but each repeats an event folded before.
    let next = BigInt(wire.at(-1)!.position) + 1_000_000n;
    const moved = (e: WireEvent) => ({ ...e, position: String((next += 1n)) });
    expect(await apply(second.map(moved), into)).toEqual(second.map(() => 'applied'));
    expect(await timelineOf(into, orgId)).toEqual(before);

    // A copy of the second purchase would, folded on its own after the last row, set 2 seats
    // again; the fold skips it, its id having been folded before.
    expect(await apply([moved(wire[3]!)], into)).toEqual(['applied']);
    expect(await timelineOf(into, orgId)).toEqual(before);

    // New events after all of them go on from the last row and the user's last holding.
    const user = (wire[2]!.data as { userId: string }).userId;
    const more = await append(t.store, seatsStream(orgId), [
      newEvent(orgId, { type: 'seats.released', data: { quantity: 1, total: 2 } }),
      newEvent(orgId, { type: 'seat.unassigned', data: { userId: user, reason: 'member_removed' } }),
    ]);
    await apply(
      more.map((e) => ({ ...toWireEvent(e), position: String((next += 1n)) })),
      into,
    );
    const after = await timelineOf(into, orgId);
    expect(after.seat_intervals.slice(0, -1)).toEqual([
      ...before.seat_intervals.slice(0, -1),
      { ...before.seat_intervals.at(-1)!, to_at: after.seat_intervals.at(-1)!.from_at, to_event_id: more[0]!.id },
    ]);
    expect(after.seat_intervals.at(-1)).toMatchObject({ event_id: more[0]!.id, quantity: 2, to_at: null });
    expect(after.seat_holdings.map((h) => [h.assigned_event_id, h.unassigned_event_id, h.reason])).toEqual([
      [wire[2]!.id, wire[6]!.id, 'unassigned'],
      [wire[8]!.id, more[1]!.id, 'member_removed'],
    ]);

    // A copy of the assignment that changed nothing when it came (the seat was held) would, now
    // that none is, open a holding; the fold skips it.
    expect(await apply([moved(wire[4]!)], into)).toEqual(['applied']);
    expect(await timelineOf(into, orgId)).toEqual(after);
  });

  it('indexes the ids of every event type the seat timeline folds', async () => {
    const { rows } = await sql<{ indexdef: string }>`
      SELECT indexdef FROM pg_indexes WHERE schemaname = ${schema} AND indexname = 'event_log_seat_event_id'`.execute(
      testDb(t.sql),
    );
    expect(rows).toHaveLength(1);
    for (const type of [...SEAT_TIMELINE_EVENT_TYPES, ...SEAT_HOLDING_EVENT_TYPES])
      expect(rows[0]!.indexdef).toContain(`'${type}'`);
  });
});
