import { describe, expect, it } from 'vitest';
import { given } from '../testing/given-when-then';
import { assignedSeats, freeSeats, holdsSeat, purchasedSeats, seatsDecider as decider } from './seats.decider';
import type { SeatsEvent } from './seats.events';

const ORG = '00000000-0000-4000-8000-00000000000a';
const ALICE = '00000000-0000-4000-8000-000000000001';
const BOB = '00000000-0000-4000-8000-000000000002';
const T0 = new Date('2025-01-01T00:00:00.000Z');

const bought24: SeatsEvent[] = [{ type: 'seats.purchased', data: { quantity: 24, total: 24 } }];
const twoSeatsAliceHolds: SeatsEvent[] = [
  { type: 'seats.purchased', data: { quantity: 2, total: 2 } },
  { type: 'seat.assigned', data: { userId: ALICE } },
];

describe('PurchaseSeats', () => {
  it('buys seats up to the plan cap, reporting the new total', () => {
    given(decider)
      .when({ type: 'PurchaseSeats', orgId: ORG, quantity: 3, plan: 'free', at: T0 })
      .then([{ type: 'seats.purchased', data: { quantity: 3, total: 3 } }]);
    given(decider, bought24)
      .when({ type: 'PurchaseSeats', orgId: ORG, quantity: 1, plan: 'pro', at: T0 })
      .then([{ type: 'seats.purchased', data: { quantity: 1, total: 25 } }]);
  });

  it('refuses beyond the plan cap (PRECONDITION_FAILED) with a clear message', () => {
    const error = given(decider, bought24)
      .when({ type: 'PurchaseSeats', orgId: ORG, quantity: 5, plan: 'pro', at: T0 })
      .thenThrows('PRECONDITION_FAILED', 'seats.cap_exceeded');
    expect(error.message).toBe('The pro plan allows at most 25 seats; this organization has 24 and asked for 5 more.');
    expect(error.details).toMatchObject({ maxSeats: 25, purchased: 24, requested: 5 });
  });

  it('refuses a quantity that is not a positive whole number (BAD_REQUEST)', () => {
    for (const quantity of [0, -1, 1.5]) {
      given(decider)
        .when({ type: 'PurchaseSeats', orgId: ORG, quantity, plan: 'pro', at: T0 })
        .thenThrows('BAD_REQUEST', 'seats.bad_quantity');
    }
  });
});

describe('ReleaseSeats', () => {
  it('releases free seats', () => {
    given(decider, twoSeatsAliceHolds)
      .when({ type: 'ReleaseSeats', orgId: ORG, quantity: 1, at: T0 })
      .then([{ type: 'seats.released', data: { quantity: 1, total: 1 } }]);
  });

  it('refuses to go below the assigned seats (PRECONDITION_FAILED)', () => {
    given(decider, twoSeatsAliceHolds)
      .when({ type: 'ReleaseSeats', orgId: ORG, quantity: 2, at: T0 })
      .thenThrows('PRECONDITION_FAILED', 'seats.release_below_assigned');
  });

  it('refuses to release more than purchased (PRECONDITION_FAILED)', () => {
    given(decider, twoSeatsAliceHolds)
      .when({ type: 'ReleaseSeats', orgId: ORG, quantity: 3, at: T0 })
      .thenThrows('PRECONDITION_FAILED', 'seats.release_exceeds_purchased');
  });

  it('refuses a non-positive quantity (BAD_REQUEST)', () => {
    given(decider, twoSeatsAliceHolds)
      .when({ type: 'ReleaseSeats', orgId: ORG, quantity: 0, at: T0 })
      .thenThrows('BAD_REQUEST', 'seats.bad_quantity');
  });
});

describe('AssignSeat', () => {
  const assign = { type: 'AssignSeat', orgId: ORG, userId: BOB, isMember: true, at: T0 } as const;

  it('assigns a free seat to a member', () => {
    given(decider, twoSeatsAliceHolds)
      .when(assign)
      .then([{ type: 'seat.assigned', data: { userId: BOB } }]);
  });

  it('refuses a non-member (NOT_FOUND)', () => {
    given(decider, twoSeatsAliceHolds)
      .when({ ...assign, isMember: false })
      .thenThrows('NOT_FOUND', 'seats.not_a_member');
  });

  it('refuses a user who already holds a seat (CONFLICT)', () => {
    given(decider, twoSeatsAliceHolds)
      .when({ ...assign, userId: ALICE })
      .thenThrows('CONFLICT', 'seats.already_assigned');
  });

  it('refuses when no seat is free (PRECONDITION_FAILED)', () => {
    given(decider, [...twoSeatsAliceHolds, { type: 'seat.assigned', data: { userId: BOB } }])
      .when({ ...assign, userId: '00000000-0000-4000-8000-000000000003' })
      .thenThrows('PRECONDITION_FAILED', /no free seat/);
    given(decider).when(assign).thenThrows('PRECONDITION_FAILED', 'seats.no_free_seat');
  });
});

describe('UnassignSeat', () => {
  it('takes a seat back, by an admin or because the member was removed', () => {
    for (const reason of ['unassigned', 'member_removed'] as const) {
      given(decider, twoSeatsAliceHolds)
        .when({ type: 'UnassignSeat', orgId: ORG, userId: ALICE, reason, at: T0 })
        .then([{ type: 'seat.unassigned', data: { userId: ALICE, reason } }]);
    }
  });

  it('refuses a user holding no seat (NOT_FOUND)', () => {
    given(decider, twoSeatsAliceHolds)
      .when({ type: 'UnassignSeat', orgId: ORG, userId: BOB, reason: 'unassigned', at: T0 })
      .thenThrows('NOT_FOUND', 'seats.not_assigned');
  });
});

describe('queries', () => {
  it('count purchased, assigned and free seats', () => {
    const events: SeatsEvent[] = [
      ...twoSeatsAliceHolds,
      { type: 'seats.purchased', data: { quantity: 3, total: 5 } },
      { type: 'seat.assigned', data: { userId: BOB } },
      { type: 'seat.unassigned', data: { userId: ALICE, reason: 'unassigned' } },
      { type: 'seats.released', data: { quantity: 1, total: 4 } },
    ];
    const state = given(decider, events).state;
    expect(purchasedSeats(state)).toBe(4);
    expect(assignedSeats(state)).toBe(1);
    expect(freeSeats(state)).toBe(3);
    expect(holdsSeat(state, BOB)).toBe(true);
    expect(holdsSeat(state, ALICE)).toBe(false);
  });
});
