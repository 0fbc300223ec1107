import {
  AppError,
  can,
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
import { revokeKeysMadeBy } from '../api-keys/key-revocation';
import { invitationMail } from '../email/email-messages';
import { publicBaseUrl, sendMail } from '../email/send-mail';
import { conflictBackoff, MAX_ATTEMPTS } from '../commands/command-handler';
import type { AuthedContext, UserContext } from '../trpc';

/**
 * Invites `email` with `role`. The invitation is an event; the secret that accepts it is not:
 * a token stored hashed (`email_tokens`), mailed to the address in the invitation link and
 * answered once to the inviter (who may manage invitations anyway), so only someone who reads
 * that mailbox, or whom the inviter hands the link, can accept.
 */
export async function inviteMember(ctx: AuthedContext, input: InviteMemberInput) {
  const meta = commandMeta(ctx, input.orgId, 'members.invite');
  const invitationId = meta.ids.entityId(`invitation|${input.orgId}`);
  const invitedBy = ctx.principal.kind === 'user' ? ctx.principal.userId : ctx.principal.keyId;
  let orgName = '';
  let invited: { email: string; role: string; expiresAt: string } | undefined;
  const outcome = await ctx.deps.commands.execute(
    organizationDecider,
    streamIds.organization(input.orgId),
    meta,
    (state) => {
      const actorRole = authorizeCommand(ctx.principal, input.orgId, state, 'members.invite');
      if (state.exists) orgName = state.name;
      const events = organizationDecider.decide(
        {
          type: 'InviteMember',
          orgId: input.orgId,
          invitationId,
          email: input.email,
          role: input.role,
          invitedBy,
          actorRole,
          at: ctx.deps.now(),
        },
        state,
      );
      for (const e of events) if (e.type === 'member.invited') invited = e.data;
      return events;
    },
  );
  if (!invited) {
    // A retry with the same Idempotency-Key: the invitation was recorded before; a new link is made for it.
    const org = (await ctx.deps.commands.load(organizationDecider, streamIds.organization(input.orgId))).state;
    invited = org.exists ? org.invitations.get(invitationId) : undefined;
    if (org.exists) orgName = org.name;
  }
  if (!invited) throw new AppError('CONFLICT', 'invitations.not_found', 'The invitation was not recorded; try again.');
  const expiresAt = new Date(invited.expiresAt);
  const { token, fresh } = await ctx.deps.emailTokens.issue('invitation', {
    subject: invitationId,
    email: invited.email,
    orgId: input.orgId,
    expiresAt,
    derived: true,
  });
  const link = `${publicBaseUrl(ctx)}/invite/${input.orgId}/${invitationId}/${token}`;
  // A retry that finds the link stored already does not mail it twice.
  if (fresh) await sendMail(ctx, invitationMail(invited.email, { orgName, role: invited.role, link, expiresAt }));
  return { invitationId, position: outcome.position.toString(), link, expiresAt: invited.expiresAt };
}

/** No pending invitation for this link, whatever the reason: an unknown one is not told apart. */
const invitationNotFound = () =>
  new AppError('NOT_FOUND', 'invitations.not_found', 'No pending invitation matches this link; ask for a new one.');

export async function acceptInvitation(ctx: UserContext, input: AcceptInvitationInput) {
  // The token mailed to the invited address is the permission to accept; without it, or with
  // one for another invitation, nothing is disclosed.
  const held = await ctx.deps.emailTokens.check('invitation', input.token);
  if (!held || held.subject !== input.invitationId || held.org_id !== input.orgId) throw invitationNotFound();
  const meta = commandMeta(ctx, input.orgId, 'members.accept');
  const outcome = await ctx.deps.commands.execute(
    organizationDecider,
    streamIds.organization(input.orgId),
    meta,
    (state) => {
      if (!state.exists) throw invitationNotFound();
      return organizationDecider.decide(
        {
          type: 'AcceptInvitation',
          orgId: input.orgId,
          invitationId: input.invitationId,
          userId: ctx.principal.userId,
          email: ctx.principal.email,
          at: ctx.deps.now(),
        },
        state,
      );
    },
  );
  // Single use. The decider accepts an invitation once anyway, so two acceptances racing on one
  // token still make one member.
  await ctx.deps.emailTokens.use('invitation', input.token);
  // The link reached this user at the invited address (the decider checked it is theirs).
  await ctx.deps.auth.markEmailVerified(ctx.principal.userId, held.email);
  return { position: outcome.position.toString() };
}

export async function changeMemberRole(ctx: AuthedContext, input: ChangeMemberRoleInput) {
  const meta = commandMeta(ctx, input.orgId, 'members.changeRole');
  const outcome = await ctx.deps.commands.execute(
    organizationDecider,
    streamIds.organization(input.orgId),
    meta,
    (state) => {
      const actorRole = authorizeCommand(ctx.principal, input.orgId, state, 'members.changeRole');
      return organizationDecider.decide(
        {
          type: 'ChangeMemberRole',
          orgId: input.orgId,
          userId: input.userId,
          role: input.role,
          actorRole,
          at: ctx.deps.now(),
        },
        state,
      );
    },
  );
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
export async function removeMember(ctx: AuthedContext, input: RemoveMemberInput) {
  const meta = commandMeta(ctx, input.orgId, 'members.remove');
  const orgStream = streamIds.organization(input.orgId);
  const seatsStream = streamIds.seats(input.orgId);
  const removed = await ctx.deps.commands.streams.run([orgStream, seatsStream], async () => {
    for (let attempt = 1; ; attempt++) {
      const full = { full: meta.ids.idempotent };
      const [org, seats] = await Promise.all([
        ctx.deps.commands.load(organizationDecider, orgStream, full),
        ctx.deps.commands.load(seatsDecider, seatsStream, full),
      ]);
      const replay = ctx.deps.commands.findReplay(org.events, orgStream, meta);
      if (replay) return { position: replay.position.toString() };
      const actorRole = authorizeCommand(ctx.principal, input.orgId, org.state, 'members.remove');
      const plan = removeMemberPlan(org.state, seats.state, {
        type: 'RemoveMember',
        orgId: input.orgId,
        userId: input.userId,
        actorRole,
        at: ctx.deps.now(),
      });
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
  // The keys they made go with them (they could do nothing already: a key is capped by its
  // maker). After the streams' lock: revoking appends to the organization stream itself.
  const cascaded = await revokeKeysMadeBy(ctx, input.orgId, input.userId);
  return { position: (cascaded ?? BigInt(removed.position)).toString() };
}

/**
 * Tells every gateway that a member's access changed, so their live feeds check it again at
 * once. Calls check the role on each call anyway, so this being lost (a crash right after the
 * append) only delays the end of a feed to its next page.
 */
async function membershipChanged(ctx: AuthedContext, orgId: string, userId: string) {
  await ctx.deps.credentials.revoke([{ kind: 'member', subject: `${orgId}:${userId}` }]);
}

export async function listMembers(ctx: AuthedContext, input: { orgId: string; minPosition?: string | undefined }) {
  await awaitPosition(ctx, input.minPosition);
  const role = await authorizeQuery(ctx, input.orgId, 'members.list');
  const { members, invitations } = await ctx.deps.read.members(input.orgId);
  return {
    members: members.map((m) => ({
      userId: m.user_id,
      email: m.email,
      role: m.role,
      joinedAt: new Date(m.joined_at).toISOString(),
      hasSeat: m.assigned_at !== null,
    })),
    // Pending invitations (and their ids) only for those who may manage them.
    invitations: (can(role, 'members.invite') ? invitations : []).map((i) => ({
      invitationId: i.invitation_id,
      email: i.email,
      role: i.role,
      invitedBy: i.invited_by,
      expiresAt: new Date(i.expires_at).toISOString(),
    })),
  };
}
