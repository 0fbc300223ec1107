/**
 * `foldEvents` copies each collection once per fold instead of once per event: its result must
 * be the state that evolving event by event gives, and a state handed to it must never change.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { foldEvents, type Decider } from './decider';
import { organizationDecider } from './organization/organization.decider';
import { seatsDecider } from './seats/seats.decider';
import { sessionDecider } from './session/session.decider';
import { organizationSamples, seatsSamples, sessionSamples } from './testing/event-samples';

const ID = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
/** A few ids, so events keep landing on the same members, invitations, keys and participants. */
const id = fc.integer({ min: 1, max: 6 }).map(ID);

const organizationEvent = fc.oneof(
  fc.constant({ type: 'organization.created' as const, data: organizationSamples['organization.created'] }),
  fc.constantFrom('free', 'pro', 'business').map((plan) => ({
    type: 'organization.plan_changed' as const,
    data: { ...organizationSamples['organization.plan_changed'], to: plan },
  })),
  fc.constant({ type: 'organization.suspended' as const, data: organizationSamples['organization.suspended'] }),
  id.map((invitationId) => ({
    type: 'member.invited' as const,
    data: { ...organizationSamples['member.invited'], invitationId },
  })),
  fc.tuple(id, fc.option(id, { nil: null })).map(([userId, invitationId]) => ({
    type: 'member.joined' as const,
    data: { ...organizationSamples['member.joined'], userId, invitationId },
  })),
  fc.tuple(id, fc.constantFrom('member', 'admin')).map(([userId, to]) => ({
    type: 'member.role_changed' as const,
    data: { ...organizationSamples['member.role_changed'], userId, to },
  })),
  id.map((userId) => ({ type: 'member.removed' as const, data: { userId } })),
  id.map((keyId) => ({ type: 'api_key.created' as const, data: { ...organizationSamples['api_key.created'], keyId } })),
  id.map((keyId) => ({ type: 'api_key.revoked' as const, data: { ...organizationSamples['api_key.revoked'], keyId } })),
);

const seatsEvent = fc.oneof(
  fc.integer({ min: 0, max: 9 }).map((total) => ({
    type: 'seats.purchased' as const,
    data: { ...seatsSamples['seats.purchased'], total },
  })),
  id.map((userId) => ({ type: 'seat.assigned' as const, data: { userId } })),
  id.map((userId) => ({ type: 'seat.unassigned' as const, data: { ...seatsSamples['seat.unassigned'], userId } })),
);

const sessionEvent = fc.oneof(
  fc.constant({ type: 'session.scheduled' as const, data: sessionSamples['session.scheduled'] }),
  fc.constant({ type: 'session.started' as const, data: sessionSamples['session.started'] }),
  id.map((participantId) => ({
    type: 'participant.joined' as const,
    data: { ...sessionSamples['participant.joined'], participantId },
  })),
  id.map((participantId) => ({
    type: 'participant.left' as const,
    data: { ...sessionSamples['participant.left'], participantId },
  })),
  fc.tuple(id, fc.constantFrom('sfu-1/a', 'sfu-2/b')).map(([participantId, node]) => ({
    type: 'participant.reconnected' as const,
    data: { ...sessionSamples['participant.reconnected'], participantId, node },
  })),
  id.map((participantId) => ({
    type: 'participant.removed' as const,
    data: { ...sessionSamples['participant.removed'], participantId },
  })),
  fc.constant({ type: 'session.ended' as const, data: sessionSamples['session.ended'] }),
);

/** Maps and sets as plain, comparable values, so a later change to one shows. */
function snapshot(value: unknown): unknown {
  if (value instanceof Map) return [...value].map(([k, v]) => [k, snapshot(v)]);
  if (value instanceof Set) return [...value];
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, snapshot(v)]));
  return value;
}

function foldsAsEvolving<E, S>(name: string, decider: Decider<unknown, E, S>, event: fc.Arbitrary<E>, start: E) {
  it(`${name}: one fold of a history equals evolving it event by event, and leaves the states it started from as they were`, () => {
    fc.assert(
      fc.property(fc.array(event, { maxLength: 40 }), fc.array(event, { maxLength: 40 }), (before, after) => {
        const base = foldEvents(decider, [start, ...before]);
        const baseSnapshot = snapshot(base);
        const stepwise = after.reduce((state, e) => decider.evolve(state, e), base);
        const folded = foldEvents(decider, after, base);
        expect(snapshot(folded)).toEqual(snapshot(stepwise));
        expect(snapshot(base)).toEqual(baseSnapshot);
        // Folding on from the result must not change it either (a cached state is folded on).
        const foldedSnapshot = snapshot(folded);
        foldEvents(decider, after, folded);
        expect(snapshot(folded)).toEqual(foldedSnapshot);
      }),
      { numRuns: 300 },
    );
  });
}

describe('foldEvents', () => {
  foldsAsEvolving(
    'organization',
    organizationDecider as Decider<unknown, never, unknown>,
    organizationEvent as never,
    {
      type: 'organization.created',
      data: organizationSamples['organization.created'],
    } as never,
  );
  foldsAsEvolving(
    'seats',
    seatsDecider as Decider<unknown, never, unknown>,
    seatsEvent as never,
    {
      type: 'seats.purchased',
      data: seatsSamples['seats.purchased'],
    } as never,
  );
  foldsAsEvolving(
    'session',
    sessionDecider as Decider<unknown, never, unknown>,
    sessionEvent as never,
    {
      type: 'session.scheduled',
      data: sessionSamples['session.scheduled'],
    } as never,
  );
});
