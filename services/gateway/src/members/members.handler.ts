import {
  AppError,
  organizationDecider,
  removeMemberPlan,
  seatsDecider,
  streamIds,
  WrongExpectedRevisionErrorGuard,
  type AcceptInvitationInput,
  type ChangeMemberRoleInput,
  type InviteMemberInput,
  type RemoveMemberInput,
} from './members.imports';
import { authorizeCommand, authorizeQuery, awaitPosition, commandMeta } from '../access';
import { conflictBackoff, MAX_ATTEMPTS } from '../commands/command-handler';
import type { Context, Principal } from '../trpc';

type Authed = Context & { principal: Principal };
type UserCtx = Context & { principal: Extract<Principal, { kind: 'user' }> };

export async function inviteMember(ctx: Authed, input: InviteMemberInput) {
  const meta = commandMeta(ctx, input.orgId, 'members.invite');
  const invitationId = meta.ids.entityId('invitation');
  const invitedBy = ctx.principal.kind === 'user' ? ctx.principal.userId : ctx.principal.keyId;
  const outcome = await ctx.deps.commands.execute(organizationDecider, streamIds.organization(input.orgId), meta, (state) => {
    const actorRole = authorizeCommand(ctx.principal, input.orgId, state, 'members.invite');
    return organizationDecider.decide(
      { type: 'InviteMember', orgId: input.orgId, invitationId, email: input.email, role: input.role, invitedBy, actorRole, at: ctx.deps.now() },
      state,
    );
  });
  return { invitationId, position: outcome.position.toString() };
}

export async function acceptInvitation(ctx: UserCtx, input: AcceptInvitationInput) {
  const meta = commandMeta(ctx, input.orgId, 'members.accept');
  const outcome = await ctx.deps.commands.execute(organizationDecider, streamIds.organization(input.orgId), meta, (state) => {
    // Holding the invitation is the permission; an unknown organization reads as a missing invitation.
    if (!state.exists) throw new AppError('NOT_FOUND', 'invitations.not_found', 'Invitation not found.');
    return organizationDecider.decide(
      { type: 'AcceptInvitation', orgId: input.orgId, invitationId: input.invitationId, userId: ctx.principal.userId, email: ctx.principal.email, at: ctx.deps.now() },
      state,
    );
  });
  return { position: outcome.position.toString() };
}

export async function changeMemberRole(ctx: Authed, input: ChangeMemberRoleInput) {
  const meta = commandMeta(ctx, input.orgId, 'members.changeRole');
  const outcome = await ctx.deps.commands.execute(organizationDecider, streamIds.organization(input.orgId), meta, (state) => {
    const actorRole = authorizeCommand(ctx.principal, input.orgId, state, 'members.changeRole');
    return organizationDecider.decide({ type: 'ChangeMemberRole', orgId: input.orgId, userId: input.userId, role: input.role, actorRole, at: ctx.deps.now() }, state);
  });
  await membershipChanged(ctx, input.orgId, input.userId);
  return { position: outcome.position.toString() };
}

/**
 * Removes a member and releases their seat as one command: the seat event is appended to
 * the seats stream first, then the removal to the organization stream, each with optimistic
 * concurrency. A crash between the two leaves a free seat and a member still listed; the
 * client's retry with the same Idempotency-Key completes the removal (the seat event is
 * found and not appended again).
 */
export async function removeMember(ctx: Authed, input: RemoveMemberInput) {
  const meta = commandMeta(ctx, input.orgId, 'members.remove');
  const orgStream = streamIds.organization(input.orgId);
  const seatsStream = streamIds.seats(input.orgId);
  return ctx.deps.commands.streams.run([orgStream, seatsStream], async () => {
    for (let attempt = 1; ; attempt++) {
      const full = { full: meta.ids.idempotent };
      const [org, seats] = await Promise.all([ctx.deps.commands.load(organizationDecider, orgStream, full), ctx.deps.commands.load(seatsDecider, seatsStream, full)]);
      const replay = ctx.deps.commands.findReplay(org.events, orgStream, meta);
      if (replay) return { position: replay.position.toString() };
      const actorRole = authorizeCommand(ctx.principal, input.orgId, org.state, 'members.remove');
      const plan = removeMemberPlan(org.state, seats.state, { type: 'RemoveMember', orgId: input.orgId, userId: input.userId, actorRole, at: ctx.deps.now() });
      try {
        if (plan.seats.length > 0 && !ctx.deps.commands.findReplay(seats.events, seatsStream, meta)) {
          await ctx.deps.commands.append(seatsStream, plan.seats, seats.expected, meta);
        }
        const position = await ctx.deps.commands.append(orgStream, plan.organization, org.expected, meta);
        await membershipChanged(ctx, input.orgId, input.userId);
        return { position: position.toString() };
      } catch (err) {
        if (WrongExpectedRevisionErrorGuard(err) && attempt < MAX_ATTEMPTS) {
          await conflictBackoff(attempt);
          continue;
        }
        if (WrongExpectedRevisionErrorGuard(err)) {
          throw new AppError('CONFLICT', 'command.conflict', 'The organization changed at the same time; try again.');
        }
        throw err;
      }
    }
  });
}

/**
 * Tells every gateway that a member's access changed, so their live feeds check it again at
 * once. Calls check the role on each call anyway, so this being lost (a crash right after the
 * append) only delays the end of a feed to its next page.
 */
async function membershipChanged(ctx: Authed, orgId: string, userId: string) {
  await ctx.deps.credentials.revoke([{ kind: 'member', subject: `${orgId}:${userId}` }]);
}

export async function listMembers(ctx: Authed, input: { orgId: string; minPosition?: string | undefined }) {
  await awaitPosition(ctx, input.minPosition);
  await authorizeQuery(ctx, input.orgId, 'members.list');
  const { members, invitations } = await ctx.deps.read.members(input.orgId);
  return {
    members: members.map((m) => ({
      userId: m.user_id,
      email: m.email,
      role: m.role,
      joinedAt: new Date(m.joined_at).toISOString(),
      hasSeat: m.assigned_at !== null,
    })),
    invitations: invitations.map((i) => ({
      invitationId: i.invitation_id,
      email: i.email,
      role: i.role,
      invitedBy: i.invited_by,
      expiresAt: new Date(i.expires_at).toISOString(),
    })),
  };
}
