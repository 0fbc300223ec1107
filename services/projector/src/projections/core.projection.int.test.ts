import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migratePublicSchema, migrateReadModelSchema, readModelSchema } from '@quorum/db';
import { toWireEvent, type RecordedEvent } from '@quorum/eventstore';
import {
  append,
  appendScenario,
  createTestDatabase,
  newEvent,
  orgStream,
  snapshot,
  testDb,
  type TestDatabase,
} from '../testing/projector-test-env';
import { applyEvent, applyEvents, type ApplyOutcome } from './core.projection';

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

async function applyAll(events: readonly RecordedEvent[]): Promise<ApplyOutcome[]> {
  return testDb(t.sql)
    .transaction()
    .execute(async (trx) => {
      const outcomes: ApplyOutcome[] = [];
      for (const e of events) outcomes.push(await applyEvent(trx, schema, toWireEvent(e)));
      return outcomes;
    });
}

describe('core projection', () => {
  it('projects an organization, its members, invitations and seats', async () => {
    const orgId = randomUUID();
    const s = await appendScenario(t.store, orgId);
    expect(await applyAll(s.recorded)).toEqual(s.recorded.map(() => 'applied'));

    const rows = await snapshot(t.sql, schema, [orgId]);
    expect(rows.organizations).toEqual([
      expect.objectContaining({
        org_id: orgId,
        name: 'Acme',
        plan: 'pro',
        status: 'trialing',
        owner_user_id: s.ownerId,
      }),
    ]);
    expect(rows.entitlements).toEqual([
      {
        org_id: orgId,
        plan: 'pro',
        max_seats: 25,
        max_participants_per_meeting: 50,
        meeting_minutes_per_month: 10_000,
        recording: true,
        api_access: true,
      },
    ]);
    expect(rows.members).toEqual([
      expect.objectContaining({ org_id: orgId, user_id: s.ownerId, role: 'owner', email: 'owner@acme.test' }),
    ]);
    expect(rows.invitations).toEqual([
      expect.objectContaining({ invitation_id: s.invitationId, status: 'accepted', role: 'member' }),
    ]);
    expect(rows.seats).toEqual([{ org_id: orgId, purchased: 5, assigned: 1 }]);
    expect(rows.seat_assignments).toEqual([expect.objectContaining({ org_id: orgId, user_id: s.ownerId })]);
    expect(rows.event_log.map((r) => r.type)).toEqual(s.recorded.map((e) => e.type));
  });

  it('shows the role change and the pending invitation before the removal', async () => {
    const orgId = randomUUID();
    const s = await appendScenario(t.store, orgId);
    const upToRoleChange = s.recorded.filter((e) => e.type !== 'member.removed' && e.type !== 'seat.unassigned');
    await applyAll(upToRoleChange.slice(0, 3));
    let rows = await snapshot(t.sql, schema, [orgId]);
    expect(rows.invitations).toEqual([expect.objectContaining({ invitation_id: s.invitationId, status: 'pending' })]);
    await applyAll(upToRoleChange.slice(3));
    rows = await snapshot(t.sql, schema, [orgId]);
    expect(rows.members).toContainEqual(expect.objectContaining({ user_id: s.memberId, role: 'admin' }));
    expect(rows.seats).toEqual([{ org_id: orgId, purchased: 5, assigned: 2 }]);
  });

  it('removing a member deletes their seat assignment even without seat.unassigned', async () => {
    const orgId = randomUUID();
    const s = await appendScenario(t.store, orgId);
    await applyAll(s.recorded.filter((e) => e.type !== 'seat.unassigned'));
    const rows = await snapshot(t.sql, schema, [orgId]);
    expect(rows.seat_assignments).toEqual([expect.objectContaining({ user_id: s.ownerId })]);
    expect(rows.seats).toEqual([{ org_id: orgId, purchased: 5, assigned: 1 }]);
  });

  it('replaying the same events changes nothing', async () => {
    const orgId = randomUUID();
    const s = await appendScenario(t.store, orgId);
    await applyAll(s.recorded);
    const before = await snapshot(t.sql, schema, [orgId]);
    expect(await applyAll(s.recorded)).toEqual(s.recorded.map(() => 'duplicate'));
    expect(await snapshot(t.sql, schema, [orgId])).toEqual(before);

    // Without the event-log guard the writes themselves are idempotent for an in-order replay.
    await testDb(t.sql).withSchema(schema).deleteFrom('event_log').where('org_id', '=', orgId).execute();
    expect(await applyAll(s.recorded)).toEqual(s.recorded.map(() => 'applied'));
    expect(await snapshot(t.sql, schema, [orgId])).toEqual(before);
  });

  it('follows plan and lifecycle changes', async () => {
    const orgId = randomUUID();
    const s = await appendScenario(t.store, orgId);
    const later = await append(t.store, orgStream(orgId), [
      newEvent(orgId, { type: 'organization.plan_changed', data: { from: 'pro', to: 'business' } }),
      newEvent(orgId, { type: 'organization.activated', data: {} }),
      newEvent(orgId, { type: 'organization.suspended', data: { reason: 'fraud check' } }),
    ]);
    await applyAll([...s.recorded, ...later]);
    const rows = await snapshot(t.sql, schema, [orgId]);
    expect(rows.organizations).toEqual([
      expect.objectContaining({ plan: 'business', status: 'suspended', trial_ends_at: null }),
    ]);
    expect(rows.entitlements).toEqual([expect.objectContaining({ plan: 'business', max_seats: 250 })]);
  });

  it('writes unknown event types to the event log only', async () => {
    const orgId = randomUUID();
    const [unknown] = await append(t.store, `usage-${orgId}-202501`, [
      { ...newEvent(orgId, { type: 'organization.activated', data: {} }), type: 'usage.metered', data: { room: 'x' } },
    ]);
    expect(await applyAll([unknown!])).toEqual(['applied']);
    const rows = await snapshot(t.sql, schema, [orgId]);
    expect(rows.organizations).toEqual([]);
    expect(rows.event_log).toEqual([expect.objectContaining({ type: 'usage.metered', data: { room: 'x' } })]);
  });

  it('rejects invalid data and writes nothing', async () => {
    const orgId = randomUUID();
    const [bad] = await append(t.store, `seats-${orgId}`, [
      { ...newEvent(orgId, { type: 'seats.purchased', data: { quantity: 1, total: 1 } }), data: { quantity: -3 } },
    ]);
    await expect(applyAll([bad!])).rejects.toThrow(/invalid data/);
    expect((await snapshot(t.sql, schema, [orgId])).event_log).toEqual([]);
  });

  it('a whole history applied as one batch lands on the rows of applying it event by event', async () => {
    const orgId = randomUUID();
    const s = await appendScenario(t.store, orgId);
    // Churn on the same keys inside one batch: rejoin after removal, reassign after unassign,
    // a role change after the rejoin, plan and status changes, an unknown event type.
    const more = await append(t.store, orgStream(orgId), [
      newEvent(orgId, {
        type: 'member.joined',
        data: { userId: s.memberId, email: 'dev@acme.test', role: 'host', invitationId: null },
      }),
      newEvent(orgId, { type: 'member.role_changed', data: { userId: s.memberId, from: 'host', to: 'billing' } }),
      newEvent(orgId, { type: 'organization.plan_changed', data: { from: 'pro', to: 'business' } }),
      newEvent(orgId, { type: 'organization.activated', data: {} }),
      newEvent(orgId, { type: 'organization.suspended', data: { reason: 'test' } }),
      { ...newEvent(orgId, { type: 'organization.activated', data: {} }), type: 'integration.pinged', data: { n: 1 } },
    ]);
    const seatsAgain = await append(t.store, `seats-${orgId}`, [
      newEvent(orgId, { type: 'seat.unassigned', data: { userId: s.ownerId, reason: 'unassigned' } }),
      newEvent(orgId, { type: 'seat.assigned', data: { userId: s.ownerId } }),
      newEvent(orgId, { type: 'seat.assigned', data: { userId: s.memberId } }),
      newEvent(orgId, { type: 'seats.released', data: { quantity: 1, total: 4 } }),
    ]);
    const history = [...s.recorded, ...more, ...seatsAgain].sort((a, b) => (a.position < b.position ? -1 : 1));

    const batchSchema = readModelSchema(7);
    await migrateReadModelSchema(t.sql, 7);
    await testDb(t.sql)
      .transaction()
      .execute((trx) => applyEvents(trx, batchSchema, history.map(toWireEvent)));
    await applyAll(history);

    const oneByOne = await snapshot(t.sql, schema, [orgId]);
    const batched = await snapshot(t.sql, batchSchema, [orgId]);
    expect(batched).toEqual(oneByOne);
    expect(batched.members).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ user_id: s.memberId, role: 'billing' }),
        expect.objectContaining({ user_id: s.ownerId, role: 'owner' }),
      ]),
    );
    expect(batched.seats).toEqual([{ org_id: orgId, purchased: 4, assigned: 2 }]);
    expect(batched.organizations).toEqual([
      expect.objectContaining({ plan: 'business', status: 'suspended', trial_ends_at: null }),
    ]);
    expect(batched.entitlements).toEqual([expect.objectContaining({ plan: 'business', max_seats: 250 })]);
    expect(batched.event_log).toHaveLength(history.length);

    // Replaying the batch changes nothing and reports every event as a duplicate.
    const again = await testDb(t.sql)
      .transaction()
      .execute((trx) => applyEvents(trx, batchSchema, history.map(toWireEvent)));
    expect(again).toEqual(history.map(() => 'duplicate'));
    expect(await snapshot(t.sql, batchSchema, [orgId])).toEqual(batched);
  });
});
