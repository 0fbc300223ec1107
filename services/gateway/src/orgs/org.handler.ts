import {
  organizationDecider,
  purchasedSeats,
  seatsDecider,
  streamIds,
  type ChangePlanInput,
  type CreateOrganizationInput,
} from '@quorum/domain';
import { authorizeCommand, authorizeQuery, awaitPosition, commandMeta, entityIds, orgNotFound } from '../access';
import type { AuthedContext, UserContext } from '../trpc';

export async function createOrganization(ctx: UserContext, input: CreateOrganizationInput) {
  const orgId = entityIds(ctx, 'org.create').entityId('org');
  const meta = commandMeta(ctx, orgId, 'org.create');
  const outcome = await ctx.deps.commands.execute(organizationDecider, streamIds.organization(orgId), meta, (state) =>
    organizationDecider.decide(
      {
        type: 'CreateOrganization',
        orgId,
        name: input.name,
        plan: input.plan,
        ownerUserId: ctx.principal.userId,
        ownerEmail: ctx.principal.email,
        at: ctx.deps.now(),
      },
      state,
    ),
  );
  return { orgId, position: outcome.position.toString() };
}

export async function changePlan(ctx: AuthedContext, input: ChangePlanInput) {
  const meta = commandMeta(ctx, input.orgId, 'org.changePlan');
  const seats = await ctx.deps.commands.load(seatsDecider, streamIds.seats(input.orgId));
  const outcome = await ctx.deps.commands.execute(
    organizationDecider,
    streamIds.organization(input.orgId),
    meta,
    (state) => {
      authorizeCommand(ctx.principal, input.orgId, state, 'org.changePlan');
      return organizationDecider.decide(
        {
          type: 'ChangePlan',
          orgId: input.orgId,
          to: input.plan,
          purchasedSeats: purchasedSeats(seats.state),
          at: ctx.deps.now(),
        },
        state,
      );
    },
  );
  return { position: outcome.position.toString() };
}

export async function getOrganization(ctx: AuthedContext, input: { orgId: string; minPosition?: string | undefined }) {
  await awaitPosition(ctx, input.minPosition);
  const role = await authorizeQuery(ctx, input.orgId, 'org.get');
  const row = await ctx.deps.read.organization(input.orgId);
  if (!row) throw orgNotFound();
  const now = ctx.deps.now();
  const trialEndsAt = row.trial_ends_at ? new Date(row.trial_ends_at) : null;
  const status = row.status === 'trialing' && trialEndsAt && trialEndsAt <= now ? 'past_due' : row.status;
  return {
    orgId: row.org_id,
    name: row.name,
    plan: row.plan,
    status,
    trialEndsAt: trialEndsAt?.toISOString() ?? null,
    trialDaysLeft:
      row.status === 'trialing' && trialEndsAt
        ? Math.max(0, Math.ceil((trialEndsAt.getTime() - now.getTime()) / 86_400_000))
        : null,
    ownerUserId: row.owner_user_id,
    createdAt: new Date(row.created_at).toISOString(),
    entitlements: {
      maxSeats: row.max_seats,
      maxParticipantsPerMeeting: row.max_participants_per_meeting,
      meetingMinutesPerMonth: row.meeting_minutes_per_month,
      recording: row.recording,
      apiAccess: row.api_access,
    },
    yourRole: role,
  };
}

export async function listOrganizations(ctx: UserContext, input: { minPosition?: string | undefined }) {
  await awaitPosition(ctx, input.minPosition);
  const rows = await ctx.deps.read.organizationsOf(ctx.principal.userId);
  return rows.map((r) => ({ orgId: r.org_id, name: r.name, plan: r.plan, status: r.status, role: r.role }));
}
