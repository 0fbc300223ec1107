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
import { assertCanAssignRole, can, type Action } from '../permissions';
import { entitlementsFor, initialStatusFor, TRIAL_MS, type Plan } from '../plans';
import type { Role } from '../roles';
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

/** How long an invitation can be accepted. */
export const INVITATION_TTL_DAYS = 7;
const INVITATION_TTL_MS = INVITATION_TTL_DAYS * 24 * 60 * 60 * 1000;

/** A member of an organization. */
export interface Member {
  readonly userId: string;
  readonly email: string;
  readonly role: Role;
}

/** An invitation, pending until accepted or past `expiresAt`. */
export interface Invitation {
  readonly invitationId: string;
  readonly email: string;
  readonly role: Role;
  readonly invitedBy: string;
  /** ISO timestamp. */
  readonly expiresAt: string;
  /** The user who accepted it, or null while not accepted. */
  readonly acceptedBy: string | null;
}

/** An API key as the organization stream knows it (its secret is never an event). */
export interface ApiKeyState {
  readonly active: boolean;
  readonly role: Role;
  /** The user or API key that made it. */
  readonly createdBy: string;
}

/** An organization that exists. */
export interface Organization {
  readonly exists: true;
  readonly orgId: string;
  readonly name: string;
  readonly plan: Plan;
  readonly status: OrganizationStatus;
  /** ISO timestamp. */
  readonly trialEndsAt: string;
  /** By user id. */
  readonly members: ReadonlyMap<string, Member>;
  /** By invitation id. */
  readonly invitations: ReadonlyMap<string, Invitation>;
  /** API keys by id: whether each is still active, its role, and who made it (a user or a key id). */
  readonly apiKeys: ReadonlyMap<string, ApiKeyState>;
}

/** State of an organization stream: nothing yet, or an organization. */
export type OrganizationState = { readonly exists: false } | Organization;

/** State of an empty organization stream. */
export const initialOrganizationState: OrganizationState = { exists: false };

// ---------------------------------------------------------------------------------------
// Queries (pure helpers over state, for the gateway and the decider)

/**
 * Status as of `now`: a trial whose end has passed is reported `past_due` even before
 * billing has appended `organization.marked_past_due`, so entitlement checks never depend on
 * a scheduler having run. Every other status is returned as stored.
 */
export function effectiveStatus(state: Organization, now: Date): OrganizationStatus {
  if (state.status === 'trialing' && now.getTime() >= Date.parse(state.trialEndsAt)) return 'past_due';
  return state.status;
}

/** Whether `userId` is a member. */
export function isMember(state: OrganizationState, userId: string): boolean {
  return state.exists && state.members.has(userId);
}

/** The member's role, or `undefined` if `userId` is not a member. */
export function roleOf(state: OrganizationState, userId: string): Role | undefined {
  return state.exists ? state.members.get(userId)?.role : undefined;
}

/**
 * Whether API key `keyId` may perform `action` now. A key's rights are its role's, capped by
 * the current rights of whoever made it: the member who made it (as their role is now), or the
 * key that made it (capped the same way, up the chain). A key whose maker was removed, or whose
 * maker key was revoked, may do nothing; so may a revoked key. Roles are not a ladder (billing
 * may spend, admin may not), so the cap is per action: both the key's role and its maker's must
 * allow it.
 */
export function apiKeyMay(state: OrganizationState, keyId: string, action: Action): boolean {
  if (!state.exists) return false;
  const seen = new Set<string>();
  let id = keyId;
  for (;;) {
    const key = state.apiKeys.get(id);
    if (!key?.active || !can(key.role, action) || seen.has(id)) return false;
    seen.add(id);
    const maker = state.members.get(key.createdBy);
    if (maker) return can(maker.role, action);
    id = key.createdBy;
  }
}

/** The active API keys made, directly or through other keys, by `makerId` (a user or a key). */
export function apiKeysMadeBy(state: OrganizationState, makerId: string): string[] {
  if (!state.exists) return [];
  const made: string[] = [];
  const makers = new Set([makerId]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [id, key] of state.apiKeys) {
      if (key.active && makers.has(key.createdBy) && !makers.has(id)) {
        makers.add(id);
        made.push(id);
        grew = true;
      }
    }
  }
  return made;
}

/** The member with this email (compared lower-cased), if any. */
export function memberByEmail(state: OrganizationState, email: string): Member | undefined {
  if (!state.exists) return undefined;
  const wanted = normalizeEmail(email);
  for (const member of state.members.values()) if (member.email === wanted) return member;
  return undefined;
}

/** Number of members holding the owner role. */
export function ownerCount(state: OrganizationState): number {
  if (!state.exists) return 0;
  let owners = 0;
  for (const member of state.members.values()) if (member.role === 'owner') owners++;
  return owners;
}

/** `accepted`, `expired` (as of `now`) or `pending`. */
export function invitationStatus(invitation: Invitation, now: Date): 'pending' | 'accepted' | 'expired' {
  if (invitation.acceptedBy !== null) return 'accepted';
  return now.getTime() >= Date.parse(invitation.expiresAt) ? 'expired' : 'pending';
}

/** The invitation with this id, if any. */
export function findInvitation(state: OrganizationState, invitationId: string): Invitation | undefined {
  return state.exists ? state.invitations.get(invitationId) : undefined;
}

/** The pending invitation for this email as of `now`, if any. */
export function pendingInvitationFor(state: OrganizationState, email: string, now: Date): Invitation | undefined {
  if (!state.exists) return undefined;
  const wanted = normalizeEmail(email);
  for (const invitation of state.invitations.values()) {
    if (invitation.email === wanted && invitationStatus(invitation, now) === 'pending') return invitation;
  }
  return undefined;
}

function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

// ---------------------------------------------------------------------------------------
// evolve

function evolve(state: OrganizationState, event: OrganizationEvent): OrganizationState {
  if (event.type === 'organization.created') {
    const { orgId, name, plan, trialEndsAt } = event.data;
    return {
      exists: true,
      orgId,
      name,
      plan,
      status: initialStatusFor(plan),
      trialEndsAt,
      members: new Map(),
      invitations: new Map(),
      apiKeys: new Map(),
    };
  }
  // Events before creation cannot occur in a well-formed stream; ignore rather than throw so
  // that evolve stays total.
  if (!state.exists) return state;
  switch (event.type) {
    case 'organization.plan_changed':
      return { ...state, plan: event.data.to };
    case 'organization.activated':
    case 'organization.reactivated':
      return { ...state, status: 'active' };
    case 'organization.marked_past_due':
      return { ...state, status: 'past_due' };
    case 'organization.suspended':
      return { ...state, status: 'suspended' };
    case 'organization.closed':
      return { ...state, status: 'closed' };
    case 'member.invited': {
      const invitations = new Map(state.invitations);
      invitations.set(event.data.invitationId, { ...event.data, acceptedBy: null });
      return { ...state, invitations };
    }
    case 'member.joined': {
      const { userId, email, role, invitationId } = event.data;
      const members = new Map(state.members);
      members.set(userId, { userId, email, role });
      const invitation = invitationId === null ? undefined : state.invitations.get(invitationId);
      if (invitation === undefined) return { ...state, members };
      const invitations = new Map(state.invitations);
      invitations.set(invitation.invitationId, { ...invitation, acceptedBy: userId });
      return { ...state, members, invitations };
    }
    case 'member.role_changed': {
      const member = state.members.get(event.data.userId);
      if (member === undefined) return state;
      const members = new Map(state.members);
      members.set(member.userId, { ...member, role: event.data.to });
      return { ...state, members };
    }
    case 'member.removed': {
      const members = new Map(state.members);
      members.delete(event.data.userId);
      return { ...state, members };
    }
    case 'api_key.created':
      return {
        ...state,
        apiKeys: new Map(state.apiKeys).set(event.data.keyId, {
          active: true,
          role: event.data.role,
          createdBy: event.data.createdBy,
        }),
      };
    case 'api_key.revoked': {
      const key = state.apiKeys.get(event.data.keyId);
      return key
        ? { ...state, apiKeys: new Map(state.apiKeys).set(event.data.keyId, { ...key, active: false }) }
        : state;
    }
    default:
      return assertUnreachable(event);
  }
}

// ---------------------------------------------------------------------------------------
// decide

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
  evolve,
  decide,
};
