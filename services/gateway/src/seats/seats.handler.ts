import {
  AppError,
  isMember,
  organizationDecider,
  seatsDecider,
  streamIds,
  type Action,
  type AssignSeatInput,
  type OrganizationState,
  type PurchaseSeatsInput,
  type ReleaseSeatsInput,
  type SeatsCommand,
  type UnassignSeatInput,
} from '@quorum/domain';
import { authorizeCommand, authorizedRead, awaitPosition, commandMeta } from '../access';
import { assertOrganizationOpen } from '../org-facts';
import type { AuthedContext } from '../trpc';

/**
 * Seat commands decide on the seats stream with facts from the organization stream (plan,
 * status, the caller's role). The append is guarded by the organization stream's revision, so
 * a seat change never lands on organization facts that changed after they were read; with
 * both streams cached the command is one statement (see `executeWithContext`).
 */
async function runSeatsCommand(
  ctx: AuthedContext,
  orgId: string,
  action: Action,
  procedure: string,
  command: (org: Extract<OrganizationState, { exists: true }>) => SeatsCommand,
) {
  const meta = commandMeta(ctx, orgId, procedure);
  const outcome = await ctx.deps.commands.executeWithContext(
    seatsDecider,
    streamIds.seats(orgId),
    { decider: organizationDecider, streamId: streamIds.organization(orgId) },
    meta,
    (state, org) => {
      authorizeCommand(ctx.principal, orgId, org, action);
      assertOrganizationOpen(org, ctx.deps.now());
      if (!org.exists) throw new AppError('NOT_FOUND', 'organization.not_found', 'Organization not found.');
      return seatsDecider.decide(command(org), state);
    },
  );
  return { position: outcome.position.toString() };
}

export const purchaseSeats = (ctx: AuthedContext, input: PurchaseSeatsInput) =>
  runSeatsCommand(ctx, input.orgId, 'seats.purchase', 'seats.purchase', (org) => ({
    type: 'PurchaseSeats',
    orgId: input.orgId,
    quantity: input.quantity,
    plan: org.plan,
    at: ctx.deps.now(),
  }));

export const releaseSeats = (ctx: AuthedContext, input: ReleaseSeatsInput) =>
  runSeatsCommand(ctx, input.orgId, 'seats.release', 'seats.release', () => ({
    type: 'ReleaseSeats',
    orgId: input.orgId,
    quantity: input.quantity,
    at: ctx.deps.now(),
  }));

export const assignSeat = (ctx: AuthedContext, input: AssignSeatInput) =>
  runSeatsCommand(ctx, input.orgId, 'seats.assign', 'seats.assign', (org) => ({
    type: 'AssignSeat',
    orgId: input.orgId,
    userId: input.userId,
    isMember: isMember(org, input.userId),
    at: ctx.deps.now(),
  }));

export const unassignSeat = (ctx: AuthedContext, input: UnassignSeatInput) =>
  runSeatsCommand(ctx, input.orgId, 'seats.unassign', 'seats.unassign', () => ({
    type: 'UnassignSeat',
    orgId: input.orgId,
    userId: input.userId,
    reason: 'unassigned',
    at: ctx.deps.now(),
  }));

export async function getSeats(ctx: AuthedContext, input: { orgId: string; minPosition?: string | undefined }) {
  await awaitPosition(ctx, input.minPosition);
  // The caller's role and the seats in one statement.
  const { seats, assignments, entitlements } = await authorizedRead(ctx, input.orgId, 'seats.get', async (viewer) => {
    const { role, ...data } = await ctx.deps.read.seats(input.orgId, viewer);
    return { role, data };
  });
  return {
    purchased: seats?.purchased ?? 0,
    assigned: seats?.assigned ?? 0,
    free: (seats?.purchased ?? 0) - (seats?.assigned ?? 0),
    planCap: entitlements?.max_seats ?? 0,
    plan: entitlements?.plan ?? null,
    assignments: assignments.map((a) => ({
      userId: a.user_id,
      email: a.email,
      assignedAt: new Date(a.assigned_at).toISOString(),
    })),
  };
}
