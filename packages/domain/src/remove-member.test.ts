import { describe, expect, it } from 'vitest';
import { AppError } from './errors';
import { foldEvents } from './decider';
import { organizationDecider } from './organization/organization.decider';
import type { OrganizationEvent } from './organization/organization.events';
import { removeMemberPlan } from './remove-member';
import { seatsDecider } from './seats/seats.decider';

const ORG = '00000000-0000-4000-8000-00000000000a';
const OWNER = '00000000-0000-4000-8000-000000000001';
const HOST = '00000000-0000-4000-8000-000000000003';
const T0 = new Date('2025-01-01T00:00:00.000Z');

const org = foldEvents(organizationDecider, [
  {
    type: 'organization.created',
    data: {
      orgId: ORG,
      name: 'Acme',
      plan: 'pro',
      ownerUserId: OWNER,
      ownerEmail: 'o@acme.test',
      trialEndsAt: '2025-01-15T00:00:00.000Z',
    },
  },
  { type: 'member.joined', data: { userId: OWNER, email: 'o@acme.test', role: 'owner', invitationId: null } },
  { type: 'member.joined', data: { userId: HOST, email: 'h@acme.test', role: 'host', invitationId: null } },
] satisfies OrganizationEvent[]);
const remove = { type: 'RemoveMember', orgId: ORG, userId: HOST, actorRole: 'owner', at: T0 } as const;

describe('removeMemberPlan', () => {
  it('releases the seat of a member who holds one, then removes them', () => {
    const seats = foldEvents(seatsDecider, [
      { type: 'seats.purchased', data: { quantity: 2, total: 2 } },
      { type: 'seat.assigned', data: { userId: HOST } },
    ]);
    expect(removeMemberPlan(org, seats, remove)).toEqual({
      seats: [{ type: 'seat.unassigned', data: { userId: HOST, reason: 'member_removed' } }],
      organization: [{ type: 'member.removed', data: { userId: HOST } }],
    });
  });

  it('emits no seat event for a member without a seat', () => {
    expect(removeMemberPlan(org, seatsDecider.initialState, remove)).toEqual({
      seats: [],
      organization: [{ type: 'member.removed', data: { userId: HOST } }],
    });
  });

  it("refuses with the organization's rules before planning any seat event", () => {
    let caught: unknown;
    try {
      removeMemberPlan(org, seatsDecider.initialState, { ...remove, userId: OWNER });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(AppError);
    expect(caught).toMatchObject({ code: 'PRECONDITION_FAILED', reason: 'members.last_owner' });
  });
});
