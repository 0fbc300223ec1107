import {
  AcceptInvitationInputSchema,
  ChangeMemberRoleInputSchema,
  IdSchema,
  InviteMemberInputSchema,
  RemoveMemberInputSchema,
} from '@quorum/domain';
import { z } from 'zod';
import { authedProcedure, MinPositionSchema, router, userProcedure } from '../trpc';
import { acceptInvitation, changeMemberRole, inviteMember, listMembers, removeMember } from './members.handler';

export const membersRouter = router({
  invite: authedProcedure.input(InviteMemberInputSchema).mutation(({ ctx, input }) => inviteMember(ctx, input)),
  accept: userProcedure.input(AcceptInvitationInputSchema).mutation(({ ctx, input }) => acceptInvitation(ctx, input)),
  changeRole: authedProcedure
    .input(ChangeMemberRoleInputSchema)
    .mutation(({ ctx, input }) => changeMemberRole(ctx, input)),
  remove: authedProcedure.input(RemoveMemberInputSchema).mutation(({ ctx, input }) => removeMember(ctx, input)),
  list: authedProcedure
    .input(z.object({ orgId: IdSchema, minPosition: MinPositionSchema }))
    .query(({ ctx, input }) => listMembers(ctx, input)),
});
