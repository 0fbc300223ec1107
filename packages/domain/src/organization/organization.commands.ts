/**
 * Commands of the organization aggregate. Ids and time are supplied by the caller (`at` is
 * the command's "now"), as are facts read from elsewhere (`actorRole` from the actor's
 * membership, `purchasedSeats` from the seats stream), so the decider stays pure.
 * Role-gating by the permission table is the gateway's job (`assertCan`); the decider checks
 * only the rules that depend on this stream's state, including the owner-role rule.
 */
import type { Plan } from '../plans';
import type { Role } from '../roles';

/** Found an organization; its creator becomes the first owner. */
export interface CreateOrganization {
  type: 'CreateOrganization';
  orgId: string;
  name: string;
  plan: Plan;
  ownerUserId: string;
  ownerEmail: string;
  at: Date;
}

/** Move to another plan. */
export interface ChangePlan {
  type: 'ChangePlan';
  orgId: string;
  to: Plan;
  /** Seats currently purchased, read by the caller from the seats stream. */
  purchasedSeats: number;
  at: Date;
}

/** A subscription started or a payment succeeded (from billing). */
export interface ActivateSubscription {
  type: 'ActivateSubscription';
  orgId: string;
  at: Date;
}

/** A payment failed or a trial ran out (from billing). */
export interface MarkPastDue {
  type: 'MarkPastDue';
  orgId: string;
  at: Date;
}

/** Suspend the organization (operator or billing). */
export interface SuspendOrganization {
  type: 'SuspendOrganization';
  orgId: string;
  reason: string;
  at: Date;
}

/** Lift a suspension. */
export interface ReactivateOrganization {
  type: 'ReactivateOrganization';
  orgId: string;
  at: Date;
}

/** Close the organization for good. */
export interface CloseOrganization {
  type: 'CloseOrganization';
  orgId: string;
  at: Date;
}

/** Invite someone by email with a role. */
export interface InviteMember {
  type: 'InviteMember';
  orgId: string;
  invitationId: string;
  email: string;
  role: Role;
  invitedBy: string;
  actorRole: Role;
  at: Date;
}

/** The invited user (authenticated as `userId` with `email`) accepts. */
export interface AcceptInvitation {
  type: 'AcceptInvitation';
  orgId: string;
  invitationId: string;
  userId: string;
  email: string;
  at: Date;
}

/** Change a member's role. */
export interface ChangeMemberRole {
  type: 'ChangeMemberRole';
  orgId: string;
  userId: string;
  role: Role;
  actorRole: Role;
  at: Date;
}

/** Remove a member (see `removeMemberPlan` for the seat they may hold). */
export interface RemoveMember {
  type: 'RemoveMember';
  orgId: string;
  userId: string;
  actorRole: Role;
  at: Date;
}

/** Any organization command. */
export interface CreateApiKey {
  type: 'CreateApiKey';
  orgId: string;
  keyId: string;
  name: string;
  role: Role;
  createdBy: string;
  at: Date;
}

export interface RevokeApiKey {
  type: 'RevokeApiKey';
  orgId: string;
  keyId: string;
  revokedBy: string;
  at: Date;
}

export type OrganizationCommand =
  | CreateOrganization
  | ChangePlan
  | ActivateSubscription
  | MarkPastDue
  | SuspendOrganization
  | ReactivateOrganization
  | CloseOrganization
  | InviteMember
  | AcceptInvitation
  | ChangeMemberRole
  | RemoveMember
  | CreateApiKey
  | RevokeApiKey;
