/**
 * Facts a command reads from the organization and seats streams before it decides on its own
 * stream: shared by the slices (seats, meetings, the SFU reports) that act on an organization
 * they do not own, so none of them calls another slice's handler.
 */
import {
  AppError,
  effectiveStatus,
  holdsSeat,
  organizationDecider,
  seatsDecider,
  streamIds,
  type OrgFacts,
} from '@quorum/domain';
import { orgNotFound } from './access';
import type { Context } from './trpc';

/** Organization facts for the session decider, and the organization state for authorization. */
export async function loadOrgFacts(ctx: Context, orgId: string) {
  const org = await ctx.deps.commands.load(organizationDecider, streamIds.organization(orgId));
  const facts: OrgFacts | undefined = org.state.exists
    ? { plan: org.state.plan, status: effectiveStatus(org.state, ctx.deps.now()) }
    : undefined;
  return { org: org.state, facts };
}

/** Whether `userId` holds a seat of `orgId`, from the seats stream. */
export async function holdsSeatIn(ctx: Context, orgId: string, userId: string): Promise<boolean> {
  const seats = await ctx.deps.commands.load(seatsDecider, streamIds.seats(orgId));
  return holdsSeat(seats.state, userId);
}

/** Refuses seat and member commands for an organization that is closed or missing. */
export function assertOrganizationOpen(
  state: Parameters<typeof effectiveStatus>[0] | { exists: false },
  now: Date,
): void {
  if (!state.exists) throw orgNotFound();
  if (effectiveStatus(state, now) === 'closed') {
    throw new AppError('PRECONDITION_FAILED', 'organization.closed', 'This organization is closed.');
  }
}
