/**
 * Removing a member touches two streams: the organization (the membership) and seats (the
 * seat they may hold). This pure helper decides both so the caller can append them as one
 * command: the seat event first (so a member is never removed while still holding a seat),
 * then the removal. If the second append loses a concurrency race, re-reading both streams
 * and planning again is safe: the seat is then no longer held and `seats` comes back empty.
 */
import type { OrganizationCommand, RemoveMember } from './organization/organization.commands';
import { organizationDecider } from './organization/organization.decider';
import type { OrganizationState } from './organization/organization.state';
import type { OrganizationEvent } from './organization/organization.events';
import { holdsSeat, seatsDecider, type SeatsState } from './seats/seats.decider';
import type { SeatsEvent } from './seats/seats.events';

/** Events to append for a {@link RemoveMember}, per stream. */
export interface RemoveMemberPlan {
  /** Append to `seats-<orgId>` first; empty when the member holds no seat. */
  seats: SeatsEvent[];
  /** Then append to `organization-<orgId>`. */
  organization: OrganizationEvent[];
}

/** Decides a member removal across both aggregates; throws the organization's refusals. */
export function removeMemberPlan(
  orgState: OrganizationState,
  seatsState: SeatsState,
  cmd: RemoveMember,
): RemoveMemberPlan {
  const command: OrganizationCommand = cmd;
  const organization = organizationDecider.decide(command, orgState);
  const seats = holdsSeat(seatsState, cmd.userId)
    ? seatsDecider.decide(
        { type: 'UnassignSeat', orgId: cmd.orgId, userId: cmd.userId, reason: 'member_removed', at: cmd.at },
        seatsState,
      )
    : [];
  return { seats, organization };
}
