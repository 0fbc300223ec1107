/**
 * The organization aggregate: lifecycle, plan, members and invitations, in one stream
 * (`organization-<orgId>`). Creating an organization emits `organization.created` and the
 * founding owner's `member.joined`, so member projections need only `member.*` events.
 *
 * Lifecycle (stored status; see {@link effectiveStatus} for the time-aware view):
 *
 * | command                 | allowed from                     | to          |
 * |-------------------------|----------------------------------|-------------|
 * | ActivateSubscription    | trialing, past_due               | active      |
 * | MarkPastDue             | trialing, active                 | past_due    |
 * | SuspendOrganization     | trialing, active, past_due       | suspended   |
 * | ReactivateOrganization  | suspended                        | active      |
 * | CloseOrganization       | any but closed                   | closed      |
 *
 * A closed organization refuses every command. Any other transition, including one to the
 * status it already has, is refused PRECONDITION_FAILED (`organization.invalid_transition`);
 * a consumer replaying a webhook treats that refusal as "already done".
 */
import { conflict, forbidden, notFound, preconditionFailed } from '../errors';
import type { Decider } from '../decider';
import { assertCanAssignRole } from '../permissions';
import { entitlementsFor, TRIAL_MS } from '../plans';
import { assertUnreachable } from '../util/assert-unreachable';
import type {
  AcceptInvitation,
  ChangeMemberRole,
  ChangePlan,
  CreateApiKey,
  CreateOrganization,
  InviteMember,
  OrganizationCommand,
  RemoveMember,
  RevokeApiKey,
} from './organization.commands';
import type { OrganizationEvent, OrganizationStatus } from './organization.events';
import {
  evolveOrganization,
  initialOrganizationState,
  invitationStatus,
  INVITATION_TTL_MS,
  memberByEmail,
  normalizeEmail,
  ownerCount,
  pendingInvitationFor,
  type Member,
  type Organization,
  type OrganizationState,
} from './organization.state';

type LifecycleCommand = Extract<
  OrganizationCommand,
  {
    type:
      'ActivateSubscription' | 'MarkPastDue' | 'SuspendOrganization' | 'ReactivateOrganization' | 'CloseOrganization';
  }
>;

const LIFECYCLE: Record<LifecycleCommand['type'], { from: readonly OrganizationStatus[]; verb: string }> = {
  ActivateSubscription: { from: ['trialing', 'past_due'], verb: 'activated' },
  MarkPastDue: { from: ['trialing', 'active'], verb: 'marked past due' },
  SuspendOrganization: { from: ['trialing', 'active', 'past_due'], verb: 'suspended' },
  ReactivateOrganization: { from: ['suspended'], verb: 'reactivated' },
  CloseOrganization: { from: ['trialing', 'active', 'past_due', 'suspended'], verb: 'closed' },
};

function decide(command: OrganizationCommand, state: OrganizationState): OrganizationEvent[] {
  if (command.type === 'CreateOrganization') return create(command, state);
  const org = requireOpen(state, command.orgId);
  switch (command.type) {
    case 'ChangePlan':
      return changePlan(command, org);
    case 'ActivateSubscription':
      transition(command, org);
      return [{ type: 'organization.activated', data: {} }];
    case 'MarkPastDue':
      transition(command, org);
      return [{ type: 'organization.marked_past_due', data: {} }];
    case 'SuspendOrganization':
      transition(command, org);
      return [{ type: 'organization.suspended', data: { reason: command.reason } }];
    case 'ReactivateOrganization':
      transition(command, org);
      return [{ type: 'organization.reactivated', data: {} }];
    case 'CloseOrganization':
      transition(command, org);
      return [{ type: 'organization.closed', data: {} }];
    case 'InviteMember':
      return invite(command, org);
    case 'AcceptInvitation':
      return accept(command, org);
    case 'ChangeMemberRole':
      return changeRole(command, org);
    case 'RemoveMember':
      return remove(command, org);
    case 'CreateApiKey':
      return createApiKey(command, org);
    case 'RevokeApiKey':
      return revokeApiKey(command, org);
    default:
      return assertUnreachable(command);
  }
}

function create(command: CreateOrganization, state: OrganizationState): OrganizationEvent[] {
  if (state.exists) {
    throw conflict('organization.already_exists', `Organization ${command.orgId} already exists.`, {
      orgId: command.orgId,
    });
  }
  const ownerEmail = normalizeEmail(command.ownerEmail);
  return [
    {
      type: 'organization.created',
      data: {
        orgId: command.orgId,
        name: command.name.trim(),
        plan: command.plan,
        ownerUserId: command.ownerUserId,
        ownerEmail,
        trialEndsAt: new Date(command.at.getTime() + TRIAL_MS).toISOString(),
      },
    },
    {
      type: 'member.joined',
      data: { userId: command.ownerUserId, email: ownerEmail, role: 'owner', invitationId: null },
    },
  ];
}

function requireOpen(state: OrganizationState, orgId: string): Organization {
  if (!state.exists) throw notFound('organization.not_found', `Organization ${orgId} does not exist.`, { orgId });
  if (state.status === 'closed') {
    throw preconditionFailed('organization.closed', 'This organization is closed and accepts no further changes.', {
      orgId,
    });
  }
  return state;
}

/** Refuses a lifecycle transition the table does not allow. */
function transition(command: LifecycleCommand, org: Organization): void {
  const { from, verb } = LIFECYCLE[command.type];
  if (!from.includes(org.status)) {
    throw preconditionFailed(
      'organization.invalid_transition',
      `An organization that is ${org.status} cannot be ${verb}; only one that is ${from.join(' or ')} can.`,
      { status: org.status, command: command.type },
    );
  }
}

function changePlan(command: ChangePlan, org: Organization): OrganizationEvent[] {
  if (command.to === org.plan) {
    throw preconditionFailed('plan.unchanged', `The organization is already on the ${org.plan} plan.`, {
      plan: org.plan,
    });
  }
  const { maxSeats } = entitlementsFor(command.to);
  if (command.purchasedSeats > maxSeats) {
    throw preconditionFailed(
      'plan.seats_over_limit',
      `The ${command.to} plan allows at most ${maxSeats} seats; this organization has ${command.purchasedSeats}. ` +
        `Release ${command.purchasedSeats - maxSeats} seats before changing plan.`,
      { plan: command.to, maxSeats, purchasedSeats: command.purchasedSeats },
    );
  }
  return [{ type: 'organization.plan_changed', data: { from: org.plan, to: command.to } }];
}

function invite(command: InviteMember, org: Organization): OrganizationEvent[] {
  assertCanAssignRole(command.actorRole, { from: null, to: command.role });
  const email = normalizeEmail(command.email);
  if (memberByEmail(org, email) !== undefined) {
    throw conflict('members.already_member', `${email} is already a member of this organization.`, { email });
  }
  if (pendingInvitationFor(org, email, command.at) !== undefined) {
    throw conflict('members.already_invited', `${email} already has a pending invitation.`, { email });
  }
  if (org.invitations.has(command.invitationId)) {
    throw conflict('invitations.duplicate_id', `Invitation ${command.invitationId} already exists.`, {
      invitationId: command.invitationId,
    });
  }
  return [
    {
      type: 'member.invited',
      data: {
        invitationId: command.invitationId,
        email,
        role: command.role,
        invitedBy: command.invitedBy,
        expiresAt: new Date(command.at.getTime() + INVITATION_TTL_MS).toISOString(),
      },
    },
  ];
}

function accept(command: AcceptInvitation, org: Organization): OrganizationEvent[] {
  const invitation = org.invitations.get(command.invitationId);
  if (invitation === undefined) {
    throw notFound('invitations.not_found', 'This invitation does not exist.', { invitationId: command.invitationId });
  }
  const status = invitationStatus(invitation, command.at);
  if (status === 'accepted') {
    throw preconditionFailed('invitations.not_pending', 'This invitation has already been accepted.', {
      invitationId: invitation.invitationId,
    });
  }
  if (status === 'expired') {
    throw preconditionFailed(
      'invitations.expired',
      `This invitation expired at ${invitation.expiresAt}; ask for a new one.`,
      { invitationId: invitation.invitationId, expiresAt: invitation.expiresAt },
    );
  }
  const email = normalizeEmail(command.email);
  if (email !== invitation.email) {
    throw forbidden('invitations.email_mismatch', 'This invitation was sent to a different email address.', {
      invitationId: invitation.invitationId,
    });
  }
  if (org.members.has(command.userId)) {
    throw conflict('members.already_member', 'You are already a member of this organization.', {
      userId: command.userId,
    });
  }
  return [
    {
      type: 'member.joined',
      data: { userId: command.userId, email, role: invitation.role, invitationId: invitation.invitationId },
    },
  ];
}

function requireMember(org: Organization, userId: string): Member {
  const member = org.members.get(userId);
  if (member === undefined) {
    throw notFound('members.not_found', `User ${userId} is not a member of this organization.`, { userId });
  }
  return member;
}

function changeRole(command: ChangeMemberRole, org: Organization): OrganizationEvent[] {
  const member = requireMember(org, command.userId);
  if (member.role === command.role) {
    throw preconditionFailed('members.role_unchanged', `This member is already ${command.role}.`, {
      userId: member.userId,
      role: member.role,
    });
  }
  assertCanAssignRole(command.actorRole, { from: member.role, to: command.role });
  if (member.role === 'owner' && ownerCount(org) === 1) {
    throw preconditionFailed(
      'members.last_owner',
      'This is the last owner; make another member an owner before changing this role.',
      { userId: member.userId },
    );
  }
  return [{ type: 'member.role_changed', data: { userId: member.userId, from: member.role, to: command.role } }];
}

function remove(command: RemoveMember, org: Organization): OrganizationEvent[] {
  const member = requireMember(org, command.userId);
  assertCanAssignRole(command.actorRole, { from: member.role, to: null });
  if (member.role === 'owner' && ownerCount(org) === 1) {
    throw preconditionFailed(
      'members.last_owner',
      'This is the last owner; make another member an owner before removing this one.',
      { userId: member.userId },
    );
  }
  return [{ type: 'member.removed', data: { userId: member.userId } }];
}

function createApiKey(command: CreateApiKey, org: Organization): OrganizationEvent[] {
  if (!entitlementsFor(org.plan).apiAccess) {
    throw preconditionFailed(
      'plan.no_api_access',
      `The ${org.plan} plan has no API access; change the plan to create API keys.`,
      {
        plan: org.plan,
      },
    );
  }
  if (command.role === 'owner') {
    throw forbidden('api_keys.owner_role', 'An API key cannot hold the owner role.', {});
  }
  if (org.apiKeys.has(command.keyId)) {
    throw conflict('api_keys.duplicate_id', `API key ${command.keyId} already exists.`, { keyId: command.keyId });
  }
  const { keyId, name, role, createdBy } = command;
  return [{ type: 'api_key.created', data: { keyId, name, role, createdBy } }];
}

function revokeApiKey(command: RevokeApiKey, org: Organization): OrganizationEvent[] {
  if (org.apiKeys.get(command.keyId)?.active !== true) {
    throw notFound('api_keys.not_found', 'No active API key with that id in this organization.', {
      keyId: command.keyId,
    });
  }
  return [{ type: 'api_key.revoked', data: { keyId: command.keyId, revokedBy: command.revokedBy } }];
}

/** The organization decider. */
export const organizationDecider: Decider<OrganizationCommand, OrganizationEvent, OrganizationState> = {
  initialState: initialOrganizationState,
  evolve: evolveOrganization,
  decide,
};
