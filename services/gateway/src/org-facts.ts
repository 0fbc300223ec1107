/**
 * Facts a command reads from the organization and seats streams before it decides on its own
 * stream: shared by the slices (seats, meetings, the SFU reports) that act on an organization
 * they do not own, so none of them calls another slice's handler.
 */
import {
  AppError,
  cutOffAtIncludedMinutes,
  effectiveStatus,
  holdsSeat,
  organizationDecider,
  seatsDecider,
  streamIds,
  usagePeriodOf,
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

/**
 * Seconds of meeting minutes `orgId` has used in the UTC month of `at`, for `JoinSession`: read
 * from its usage stream only when its plan is cut off at its included minutes (a free
 * organization's stream stays small because of that very limit); `null` for any other plan.
 */
export async function meetingSecondsUsedIn(
  ctx: Context,
  orgId: string,
  facts: OrgFacts,
  at: Date,
): Promise<number | null> {
  if (!cutOffAtIncludedMinutes(facts.plan)) return null;
  return ctx.deps.meetingMinutes.usedSeconds(orgId, usagePeriodOf(at));
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
