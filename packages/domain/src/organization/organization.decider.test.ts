import { describe, expect, it } from 'vitest';
import { given } from '../testing/given-when-then';
import { foldEvents } from '../decider';
import type { OrganizationEvent } from './organization.events';
import { organizationDecider as decider } from './organization.decider';
import {
  effectiveStatus,
  invitationStatus,
  isMember,
  memberByEmail,
  ownerCount,
  roleOf,
  type Organization,
} from './organization.state';

const ORG = '00000000-0000-4000-8000-00000000000a';
const OWNER = '00000000-0000-4000-8000-000000000001';
const ADMIN = '00000000-0000-4000-8000-000000000002';
const HOST = '00000000-0000-4000-8000-000000000003';
const NEWCOMER = '00000000-0000-4000-8000-000000000004';
const INV = '00000000-0000-4000-8000-0000000000f1';
const INV2 = '00000000-0000-4000-8000-0000000000f2';
const T0 = new Date('2025-01-01T00:00:00.000Z');
const at = (days: number) => new Date(T0.getTime() + days * 86_400_000);

const created: OrganizationEvent[] = [
  {
    type: 'organization.created',
    data: {
      orgId: ORG,
      name: 'Acme',
      plan: 'pro',
      ownerUserId: OWNER,
      ownerEmail: 'owner@acme.test',
      trialEndsAt: '2025-01-15T00:00:00.000Z',
    },
  },
  { type: 'member.joined', data: { userId: OWNER, email: 'owner@acme.test', role: 'owner', invitationId: null } },
];
const withAdminAndHost: OrganizationEvent[] = [
  ...created,
  { type: 'member.joined', data: { userId: ADMIN, email: 'admin@acme.test', role: 'admin', invitationId: null } },
  { type: 'member.joined', data: { userId: HOST, email: 'host@acme.test', role: 'host', invitationId: null } },
];
const invited: OrganizationEvent = {
  type: 'member.invited',
  data: {
    invitationId: INV,
    email: 'new@acme.test',
    role: 'member',
    invitedBy: OWNER,
    expiresAt: '2025-01-08T00:00:00.000Z',
  },
};
const closed: OrganizationEvent[] = [...created, { type: 'organization.closed', data: {} }];

function stateOf(events: OrganizationEvent[]): Organization {
  const state = given(decider, events).state;
  if (!state.exists) throw new Error('expected an organization');
  return state;
}

describe('CreateOrganization', () => {
  const create = {
    type: 'CreateOrganization',
    orgId: ORG,
    name: '  Acme ',
    plan: 'pro',
    ownerUserId: OWNER,
    ownerEmail: 'Owner@Acme.test',
    at: T0,
  } as const;

  it('creates a trialing organization with its founding owner, trial ending in 14 days', () => {
    given(decider).when(create).then(created);
    const state = stateOf(created);
    expect(state.status).toBe('trialing');
    expect(roleOf(state, OWNER)).toBe('owner');
  });

  it('refuses an organization that already exists (CONFLICT)', () => {
    given(decider, created).when(create).thenThrows('CONFLICT', 'organization.already_exists');
  });
});

describe('closed and missing organizations', () => {
  it('refuses every command once closed (PRECONDITION_FAILED)', () => {
    const commands = [
      { type: 'ChangePlan', orgId: ORG, to: 'business', purchasedSeats: 0, at: T0 },
      { type: 'ActivateSubscription', orgId: ORG, at: T0 },
      { type: 'MarkPastDue', orgId: ORG, at: T0 },
      { type: 'SuspendOrganization', orgId: ORG, reason: 'fraud', at: T0 },
      { type: 'ReactivateOrganization', orgId: ORG, at: T0 },
      { type: 'CloseOrganization', orgId: ORG, at: T0 },
      {
        type: 'InviteMember',
        orgId: ORG,
        invitationId: INV,
        email: 'x@acme.test',
        role: 'member',
        invitedBy: OWNER,
        actorRole: 'owner',
        at: T0,
      },
      { type: 'AcceptInvitation', orgId: ORG, invitationId: INV, userId: NEWCOMER, email: 'x@acme.test', at: T0 },
      { type: 'ChangeMemberRole', orgId: ORG, userId: OWNER, role: 'admin', actorRole: 'owner', at: T0 },
      { type: 'RemoveMember', orgId: ORG, userId: OWNER, actorRole: 'owner', at: T0 },
    ] as const;
    for (const command of commands) {
      given(decider, closed).when(command).thenThrows('PRECONDITION_FAILED', 'organization.closed');
    }
  });

  it('refuses commands on an organization that does not exist (NOT_FOUND)', () => {
    given(decider)
      .when({ type: 'ActivateSubscription', orgId: ORG, at: T0 })
      .thenThrows('NOT_FOUND', 'organization.not_found');
  });
});

describe('lifecycle', () => {
  const activated: OrganizationEvent = { type: 'organization.activated', data: {} };
  const pastDue: OrganizationEvent = { type: 'organization.marked_past_due', data: {} };
  const suspended: OrganizationEvent = { type: 'organization.suspended', data: { reason: 'chargeback' } };

  it('activates a trialing or past-due organization', () => {
    given(decider, created).when({ type: 'ActivateSubscription', orgId: ORG, at: T0 }).then([activated]);
    given(decider, [...created, pastDue])
      .when({ type: 'ActivateSubscription', orgId: ORG, at: T0 })
      .then([activated]);
  });

  it('marks a trialing or active organization past due', () => {
    given(decider, created).when({ type: 'MarkPastDue', orgId: ORG, at: T0 }).then([pastDue]);
    given(decider, [...created, activated])
      .when({ type: 'MarkPastDue', orgId: ORG, at: T0 })
      .then([pastDue]);
  });

  it('suspends with a reason and reactivates to active', () => {
    given(decider, [...created, pastDue])
      .when({ type: 'SuspendOrganization', orgId: ORG, reason: 'chargeback', at: T0 })
      .then([suspended]);
    given(decider, [...created, suspended])
      .when({ type: 'ReactivateOrganization', orgId: ORG, at: T0 })
      .then([{ type: 'organization.reactivated', data: {} }]);
    expect(stateOf([...created, suspended, { type: 'organization.reactivated', data: {} }]).status).toBe('active');
  });

  it('closes from any open status', () => {
    for (const history of [created, [...created, activated], [...created, pastDue], [...created, suspended]]) {
      given(decider, history)
        .when({ type: 'CloseOrganization', orgId: ORG, at: T0 })
        .then([{ type: 'organization.closed', data: {} }]);
    }
  });

  it('refuses transitions the table does not allow (PRECONDITION_FAILED)', () => {
    const refuse = (
      history: OrganizationEvent[],
      type: 'ActivateSubscription' | 'MarkPastDue' | 'SuspendOrganization' | 'ReactivateOrganization',
    ) =>
      given(decider, history)
        .when(type === 'SuspendOrganization' ? { type, orgId: ORG, reason: 'x', at: T0 } : { type, orgId: ORG, at: T0 })
        .thenThrows('PRECONDITION_FAILED', 'organization.invalid_transition');
    refuse([...created, activated], 'ActivateSubscription');
    refuse([...created, suspended], 'ActivateSubscription');
    refuse([...created, pastDue], 'MarkPastDue');
    refuse([...created, suspended], 'MarkPastDue');
    refuse([...created, suspended], 'SuspendOrganization');
    refuse(created, 'ReactivateOrganization');
    refuse([...created, activated], 'ReactivateOrganization');
  });

  it('effectiveStatus reports an expired trial as past_due, and nothing else changes', () => {
    const trialing = stateOf(created);
    expect(effectiveStatus(trialing, at(13))).toBe('trialing');
    expect(effectiveStatus(trialing, at(14))).toBe('past_due');
    expect(effectiveStatus(stateOf([...created, activated]), at(100))).toBe('active');
  });
});

describe('ChangePlan', () => {
  it('changes to a different plan', () => {
    given(decider, created)
      .when({ type: 'ChangePlan', orgId: ORG, to: 'business', purchasedSeats: 20, at: T0 })
      .then([{ type: 'organization.plan_changed', data: { from: 'pro', to: 'business' } }]);
  });

  it('allows a downgrade that fits the purchased seats', () => {
    given(decider, created)
      .when({ type: 'ChangePlan', orgId: ORG, to: 'free', purchasedSeats: 3, at: T0 })
      .then([{ type: 'organization.plan_changed', data: { from: 'pro', to: 'free' } }]);
  });

  it('refuses a downgrade below the purchased seats (PRECONDITION_FAILED)', () => {
    const error = given(decider, created)
      .when({ type: 'ChangePlan', orgId: ORG, to: 'free', purchasedSeats: 10, at: T0 })
      .thenThrows('PRECONDITION_FAILED', 'plan.seats_over_limit');
    expect(error.message).toBe(
      'The free plan allows at most 3 seats; this organization has 10. Release 7 seats before changing plan.',
    );
  });

  it('refuses the current plan (PRECONDITION_FAILED)', () => {
    given(decider, created)
      .when({ type: 'ChangePlan', orgId: ORG, to: 'pro', purchasedSeats: 0, at: T0 })
      .thenThrows('PRECONDITION_FAILED', 'plan.unchanged');
  });
});

describe('InviteMember', () => {
  const invite = {
    type: 'InviteMember',
    orgId: ORG,
    invitationId: INV,
    email: ' New@Acme.test ',
    role: 'member',
    invitedBy: OWNER,
    actorRole: 'owner',
    at: T0,
  } as const;

  it('invites by lower-cased email, expiring in 7 days', () => {
    given(decider, created).when(invite).then([invited]);
  });

  it('refuses the email of an existing member (CONFLICT)', () => {
    given(decider, created)
      .when({ ...invite, email: 'OWNER@acme.test' })
      .thenThrows('CONFLICT', 'members.already_member');
  });

  it('refuses a second pending invitation for the same email (CONFLICT)', () => {
    given(decider, [...created, invited])
      .when({ ...invite, invitationId: INV2 })
      .thenThrows('CONFLICT', 'members.already_invited');
  });

  it('allows inviting again once the earlier invitation expired', () => {
    given(decider, [...created, invited])
      .when({ ...invite, invitationId: INV2, at: at(8) })
      .then([
        {
          type: 'member.invited',
          data: { ...invited.data, invitationId: INV2, expiresAt: '2025-01-16T00:00:00.000Z' },
        } as OrganizationEvent,
      ]);
  });

  it('refuses a reused invitation id (CONFLICT)', () => {
    given(decider, [...created, invited])
      .when({ ...invite, email: 'other@acme.test' })
      .thenThrows('CONFLICT', 'invitations.duplicate_id');
  });

  it('lets only an owner invite an owner (FORBIDDEN)', () => {
    given(decider, withAdminAndHost)
      .when({ ...invite, role: 'owner', invitedBy: ADMIN, actorRole: 'admin' })
      .thenThrows('FORBIDDEN', 'members.owner_requires_owner');
    given(decider, created)
      .when({ ...invite, role: 'owner' })
      .then([{ type: 'member.invited', data: { ...invited.data, role: 'owner' } } as OrganizationEvent]);
  });
});

describe('AcceptInvitation', () => {
  const accept = {
    type: 'AcceptInvitation',
    orgId: ORG,
    invitationId: INV,
    userId: NEWCOMER,
    email: 'New@acme.test',
    at: at(1),
  } as const;
  const joined: OrganizationEvent = {
    type: 'member.joined',
    data: { userId: NEWCOMER, email: 'new@acme.test', role: 'member', invitationId: INV },
  };

  it('joins with the invited role and marks the invitation accepted', () => {
    given(decider, [...created, invited])
      .when(accept)
      .then([joined]);
    const state = stateOf([...created, invited, joined]);
    expect(isMember(state, NEWCOMER)).toBe(true);
    const invitation = state.invitations.get(INV);
    expect(invitation && invitationStatus(invitation, at(1))).toBe('accepted');
  });

  it('refuses an unknown invitation (NOT_FOUND)', () => {
    given(decider, created).when(accept).thenThrows('NOT_FOUND', 'invitations.not_found');
  });

  it('refuses an invitation already accepted (PRECONDITION_FAILED)', () => {
    given(decider, [...created, invited, joined])
      .when(accept)
      .thenThrows('PRECONDITION_FAILED', 'invitations.not_pending');
  });

  it('refuses an expired invitation (PRECONDITION_FAILED)', () => {
    given(decider, [...created, invited])
      .when({ ...accept, at: at(7) })
      .thenThrows('PRECONDITION_FAILED', 'invitations.expired');
  });

  it('refuses a different email (FORBIDDEN)', () => {
    given(decider, [...created, invited])
      .when({ ...accept, email: 'someone@else.test' })
      .thenThrows('FORBIDDEN', 'invitations.email_mismatch');
  });

  it('refuses a user who is already a member (CONFLICT)', () => {
    given(decider, [...created, invited])
      .when({ ...accept, userId: OWNER })
      .thenThrows('CONFLICT', 'members.already_member');
  });
});

describe('ChangeMemberRole', () => {
  const change = {
    type: 'ChangeMemberRole',
    orgId: ORG,
    userId: HOST,
    role: 'admin',
    actorRole: 'admin',
    at: T0,
  } as const;

  it('changes a role', () => {
    given(decider, withAdminAndHost)
      .when(change)
      .then([{ type: 'member.role_changed', data: { userId: HOST, from: 'host', to: 'admin' } }]);
  });

  it('refuses an unknown member (NOT_FOUND)', () => {
    given(decider, withAdminAndHost)
      .when({ ...change, userId: NEWCOMER })
      .thenThrows('NOT_FOUND', 'members.not_found');
  });

  it('refuses the role the member already has (PRECONDITION_FAILED)', () => {
    given(decider, withAdminAndHost)
      .when({ ...change, role: 'host' })
      .thenThrows('PRECONDITION_FAILED', 'members.role_unchanged');
  });

  it('lets only an owner grant the owner role (FORBIDDEN)', () => {
    given(decider, withAdminAndHost)
      .when({ ...change, role: 'owner' })
      .thenThrows('FORBIDDEN', 'members.owner_requires_owner');
    given(decider, withAdminAndHost)
      .when({ ...change, role: 'owner', actorRole: 'owner' })
      .then([{ type: 'member.role_changed', data: { userId: HOST, from: 'host', to: 'owner' } }]);
  });

  it("lets only an owner change an owner's role (FORBIDDEN)", () => {
    const twoOwners: OrganizationEvent[] = [
      ...withAdminAndHost,
      { type: 'member.role_changed', data: { userId: HOST, from: 'host', to: 'owner' } },
    ];
    given(decider, twoOwners)
      .when({ ...change, userId: OWNER, role: 'member' })
      .thenThrows('FORBIDDEN', 'members.owner_requires_owner');
    given(decider, twoOwners)
      .when({ ...change, userId: OWNER, role: 'member', actorRole: 'owner' })
      .then([{ type: 'member.role_changed', data: { userId: OWNER, from: 'owner', to: 'member' } }]);
  });

  it('refuses to demote the last owner (PRECONDITION_FAILED)', () => {
    given(decider, withAdminAndHost)
      .when({ ...change, userId: OWNER, role: 'admin', actorRole: 'owner' })
      .thenThrows('PRECONDITION_FAILED', 'members.last_owner');
  });
});

describe('RemoveMember', () => {
  const remove = { type: 'RemoveMember', orgId: ORG, userId: HOST, actorRole: 'admin', at: T0 } as const;

  it('removes a member', () => {
    given(decider, withAdminAndHost)
      .when(remove)
      .then([{ type: 'member.removed', data: { userId: HOST } }]);
    expect(isMember(stateOf([...withAdminAndHost, { type: 'member.removed', data: { userId: HOST } }]), HOST)).toBe(
      false,
    );
  });

  it('refuses an unknown member (NOT_FOUND)', () => {
    given(decider, withAdminAndHost)
      .when({ ...remove, userId: NEWCOMER })
      .thenThrows('NOT_FOUND', 'members.not_found');
  });

  it('refuses to remove the last owner (PRECONDITION_FAILED)', () => {
    given(decider, withAdminAndHost)
      .when({ ...remove, userId: OWNER, actorRole: 'owner' })
      .thenThrows('PRECONDITION_FAILED', 'members.last_owner');
  });

  it('lets only an owner remove an owner (FORBIDDEN)', () => {
    const twoOwners: OrganizationEvent[] = [
      ...withAdminAndHost,
      { type: 'member.role_changed', data: { userId: HOST, from: 'host', to: 'owner' } },
    ];
    given(decider, twoOwners)
      .when({ ...remove, userId: OWNER })
      .thenThrows('FORBIDDEN', 'members.owner_requires_owner');
    given(decider, twoOwners)
      .when({ ...remove, userId: OWNER, actorRole: 'owner' })
      .then([{ type: 'member.removed', data: { userId: OWNER } }]);
  });
});

describe('queries', () => {
  it('answer membership, roles, owners and email lookups', () => {
    const state = stateOf(withAdminAndHost);
    expect(roleOf(state, ADMIN)).toBe('admin');
    expect(roleOf(state, NEWCOMER)).toBeUndefined();
    expect(ownerCount(state)).toBe(1);
    expect(memberByEmail(state, 'HOST@acme.test')?.userId).toBe(HOST);
    expect(isMember(decider.initialState, OWNER)).toBe(false);
  });
});

describe('initial status by plan', () => {
  const fold = (events: OrganizationEvent[]) => foldEvents(decider, events) as Organization;

  it('a paid plan starts a 14-day trial that lapses into past_due', () => {
    const org = fold(created);
    expect(org.status).toBe('trialing');
    expect(effectiveStatus(org, at(13))).toBe('trialing');
    expect(effectiveStatus(org, at(14))).toBe('past_due');
  });

  it('the free plan starts active and never lapses', () => {
    const free = created.map((e) =>
      e.type === 'organization.created' ? { ...e, data: { ...e.data, plan: 'free' as const } } : e,
    );
    const org = fold(free);
    expect(org.status).toBe('active');
    expect(effectiveStatus(org, at(400))).toBe('active');
    given(decider, free)
      .when({ type: 'ActivateSubscription', orgId: ORG, at: at(1) })
      .thenThrows('PRECONDITION_FAILED', 'organization.invalid_transition');
  });
});

describe('API keys', () => {
  const KEY = '00000000-0000-4000-8000-0000000000c1';
  const create = {
    type: 'CreateApiKey' as const,
    orgId: ORG,
    keyId: KEY,
    name: 'CI',
    role: 'admin' as const,
    createdBy: OWNER,
    at: at(1),
  };

  it('records a created key on a plan with API access, never its secret', () => {
    given(decider, created)
      .when(create)
      .then([{ type: 'api_key.created', data: { keyId: KEY, name: 'CI', role: 'admin', createdBy: OWNER } }]);
  });

  it('refuses a plan without API access, the owner role, and a reused id', () => {
    const free = created.map((e) =>
      e.type === 'organization.created' ? { ...e, data: { ...e.data, plan: 'free' as const } } : e,
    );
    given(decider, free).when(create).thenThrows('PRECONDITION_FAILED', 'plan.no_api_access');
    given(decider, created)
      .when({ ...create, role: 'owner' })
      .thenThrows('FORBIDDEN', 'api_keys.owner_role');
    given(decider, [
      ...created,
      { type: 'api_key.created', data: { keyId: KEY, name: 'CI', role: 'admin', createdBy: OWNER } },
    ])
      .when(create)
      .thenThrows('CONFLICT', 'api_keys.duplicate_id');
  });

  it('revokes an active key once', () => {
    const withKey: OrganizationEvent[] = [
      ...created,
      { type: 'api_key.created', data: { keyId: KEY, name: 'CI', role: 'admin', createdBy: OWNER } },
    ];
    const revoke = { type: 'RevokeApiKey' as const, orgId: ORG, keyId: KEY, revokedBy: OWNER, at: at(2) };
    given(decider, withKey)
      .when(revoke)
      .then([{ type: 'api_key.revoked', data: { keyId: KEY, revokedBy: OWNER } }]);
    given(decider, [...withKey, { type: 'api_key.revoked', data: { keyId: KEY, revokedBy: OWNER } }])
      .when(revoke)
      .thenThrows('NOT_FOUND', 'api_keys.not_found');
    given(decider, created).when(revoke).thenThrows('NOT_FOUND', 'api_keys.not_found');
  });
});
