import { describe, expect, it } from 'vitest';
import { foldSeatHoldings, foldSeatTimeline, type TimelineEvent } from './seat-timeline';

const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const USER = [id(101), id(102)];

let n = 0;
function ev(at: string, event: TimelineEvent['event']): TimelineEvent {
  n++;
  return { id: id(n), position: BigInt(n * 10), at, event };
}

const created = (at: string, plan: 'pro' | 'business' = 'pro') =>
  ev(at, {
    type: 'organization.created',
    data: {
      orgId: id(900),
      name: 'Acme',
      plan,
      ownerUserId: USER[0]!,
      ownerEmail: 'o@acme.test',
      trialEndsAt: '2025-04-01T00:00:00.000Z',
    },
  });

describe('foldSeatTimeline', () => {
  it('starts a stretch at each change of quantity or plan, naming the events that set each', () => {
    n = 0;
    const c = created('2025-03-01T10:00:00.000Z');
    const p1 = ev('2025-03-02T00:00:00.000Z', { type: 'seats.purchased', data: { quantity: 5, total: 5 } });
    const plan = ev('2025-03-10T00:00:00.000Z', {
      type: 'organization.plan_changed',
      data: { from: 'pro', to: 'business' },
    });
    const r = ev('2025-03-20T00:00:00.000Z', { type: 'seats.released', data: { quantity: 2, total: 3 } });
    // Given out of order: the fold sorts by position.
    expect(foldSeatTimeline([r, plan, c, p1])).toEqual([
      {
        eventId: c.id,
        position: c.position,
        quantity: 0,
        plan: 'pro',
        quantityEventId: null,
        planEventId: c.id,
        from: c.at,
        to: p1.at,
        toEventId: p1.id,
      },
      {
        eventId: p1.id,
        position: p1.position,
        quantity: 5,
        plan: 'pro',
        quantityEventId: p1.id,
        planEventId: c.id,
        from: p1.at,
        to: plan.at,
        toEventId: plan.id,
      },
      {
        eventId: plan.id,
        position: plan.position,
        quantity: 5,
        plan: 'business',
        quantityEventId: p1.id,
        planEventId: plan.id,
        from: plan.at,
        to: r.at,
        toEventId: r.id,
      },
      {
        eventId: r.id,
        position: r.position,
        quantity: 3,
        plan: 'business',
        quantityEventId: r.id,
        planEventId: plan.id,
        from: r.at,
        to: null,
        toEventId: null,
      },
    ]);
  });

  it('never starts a stretch before the one it follows (clocks apart), and ends everything at closing', () => {
    n = 0;
    const c = created('2025-03-01T10:00:00.500Z');
    const early = ev('2025-03-01T10:00:00.200Z', { type: 'seats.purchased', data: { quantity: 2, total: 2 } });
    const closed = ev('2025-03-05T00:00:00.000Z', { type: 'organization.closed', data: {} });
    const after = ev('2025-03-06T00:00:00.000Z', { type: 'seats.released', data: { quantity: 2, total: 0 } });
    const rows = foldSeatTimeline([c, early, closed, after]);
    expect(rows.map((s) => [s.quantity, s.from, s.to, s.toEventId])).toEqual([
      [0, c.at, c.at, early.id],
      [2, c.at, closed.at, closed.id],
    ]);
  });

  it('opens nothing for a change that changes nothing, and keeps seats bought before the creation', () => {
    n = 0;
    const before = ev('2025-03-01T09:00:00.000Z', { type: 'seats.purchased', data: { quantity: 1, total: 1 } });
    const c = created('2025-03-01T10:00:00.000Z');
    const same = ev('2025-03-02T10:00:00.000Z', {
      type: 'organization.plan_changed',
      data: { from: 'pro', to: 'pro' },
    });
    const rows = foldSeatTimeline([before, c, same]);
    expect(rows.map((s) => [s.quantity, s.plan, s.planEventId])).toEqual([
      [1, null, null],
      [1, 'pro', c.id],
    ]);
  });
});

describe('foldSeatHoldings', () => {
  it('records who held a seat from assignment to unassignment, once per holding', () => {
    n = 0;
    const a1 = ev('2025-03-01T00:00:00.000Z', { type: 'seat.assigned', data: { userId: USER[0]! } });
    const again = ev('2025-03-01T01:00:00.000Z', { type: 'seat.assigned', data: { userId: USER[0]! } });
    const b1 = ev('2025-03-02T00:00:00.000Z', { type: 'seat.assigned', data: { userId: USER[1]! } });
    const u1 = ev('2025-03-03T00:00:00.000Z', {
      type: 'seat.unassigned',
      data: { userId: USER[0]!, reason: 'unassigned' },
    });
    const stray = ev('2025-03-03T01:00:00.000Z', {
      type: 'seat.unassigned',
      data: { userId: USER[0]!, reason: 'unassigned' },
    });
    const a2 = ev('2025-03-04T00:00:00.000Z', { type: 'seat.assigned', data: { userId: USER[0]! } });
    const b2 = ev('2025-03-05T00:00:00.000Z', {
      type: 'seat.unassigned',
      data: { userId: USER[1]!, reason: 'member_removed' },
    });
    expect(foldSeatHoldings([b2, a2, stray, u1, b1, again, a1])).toEqual([
      {
        userId: USER[0],
        assignedEventId: a1.id,
        position: a1.position,
        from: a1.at,
        to: u1.at,
        unassignedEventId: u1.id,
        reason: 'unassigned',
      },
      {
        userId: USER[1],
        assignedEventId: b1.id,
        position: b1.position,
        from: b1.at,
        to: b2.at,
        unassignedEventId: b2.id,
        reason: 'member_removed',
      },
      {
        userId: USER[0],
        assignedEventId: a2.id,
        position: a2.position,
        from: a2.at,
        to: null,
        unassignedEventId: null,
        reason: null,
      },
    ]);
  });

  it('changes nothing for an event stored again under a later position', () => {
    n = 0;
    const a = ev('2025-03-01T00:00:00.000Z', { type: 'seat.assigned', data: { userId: USER[0]! } });
    const u = ev('2025-03-02T00:00:00.000Z', {
      type: 'seat.unassigned',
      data: { userId: USER[0]!, reason: 'unassigned' },
    });
    const a2 = ev('2025-03-03T00:00:00.000Z', { type: 'seat.assigned', data: { userId: USER[0]! } });
    const once = foldSeatHoldings([a, u, a2]);
    const replayed = [a, u, a2].map((e, i) => ({ ...e, position: 1_000n + BigInt(i) }));
    expect(foldSeatHoldings([a, u, a2, ...replayed])).toEqual(once);
    expect(once.at(-1)).toMatchObject({ assignedEventId: a2.id, to: null });
  });
});
