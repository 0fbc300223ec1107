/**
 * The organization aggregate's state: what its stream says about the organization, its
 * members, invitations and API keys; the pure queries over it that the gateway and the
 * decider share; and `evolveOrganization`, which folds an event into it.
 */
import { can, type Action } from '../permissions';
import { initialStatusFor, type Plan } from '../plans';
import type { Role } from '../roles';
import { assertUnreachable } from '../util/assert-unreachable';
import { FoldScope } from '../decider';
import type { OrganizationEvent, OrganizationStatus } from './organization.events';

/** How long an invitation can be accepted. */
export const INVITATION_TTL_DAYS = 7;
export const INVITATION_TTL_MS = INVITATION_TTL_DAYS * 24 * 60 * 60 * 1000;

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

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

/** Folds one event into the organization's state (collections copied through `scope`). */
export function evolveOrganization(
  state: OrganizationState,
  event: OrganizationEvent,
  scope: FoldScope = new FoldScope(),
): OrganizationState {
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
      const invitations = scope.map(state.invitations);
      invitations.set(event.data.invitationId, { ...event.data, acceptedBy: null });
      return { ...state, invitations };
    }
    case 'member.joined': {
      const { userId, email, role, invitationId } = event.data;
      const members = scope.map(state.members);
      members.set(userId, { userId, email, role });
      const invitation = invitationId === null ? undefined : state.invitations.get(invitationId);
      if (invitation === undefined) return { ...state, members };
      const invitations = scope.map(state.invitations);
      invitations.set(invitation.invitationId, { ...invitation, acceptedBy: userId });
      return { ...state, members, invitations };
    }
    case 'member.role_changed': {
      const member = state.members.get(event.data.userId);
      if (member === undefined) return state;
      const members = scope.map(state.members);
      members.set(member.userId, { ...member, role: event.data.to });
      return { ...state, members };
    }
    case 'member.removed': {
      const members = scope.map(state.members);
      members.delete(event.data.userId);
      return { ...state, members };
    }
    case 'api_key.created':
      return {
        ...state,
        apiKeys: scope.map(state.apiKeys).set(event.data.keyId, {
          active: true,
          role: event.data.role,
          createdBy: event.data.createdBy,
        }),
      };
    case 'api_key.revoked': {
      const key = state.apiKeys.get(event.data.keyId);
      return key
        ? { ...state, apiKeys: scope.map(state.apiKeys).set(event.data.keyId, { ...key, active: false }) }
        : state;
    }
    default:
      return assertUnreachable(event);
  }
}
