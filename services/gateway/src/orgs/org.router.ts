import { ChangePlanInputSchema, CreateOrganizationInputSchema, IdSchema } from '@quorum/domain';
import { z } from 'zod';
import { authedProcedure, MinPositionSchema, router, userProcedure } from '../trpc';
import { changePlan, createOrganization, getOrganization, listOrganizations } from './org.handler';

export const orgRouter = router({
  create: userProcedure
    .input(CreateOrganizationInputSchema)
    .mutation(({ ctx, input }) => createOrganization(ctx, input)),
  get: authedProcedure
    .input(z.object({ orgId: IdSchema, minPosition: MinPositionSchema }))
    .query(({ ctx, input }) => getOrganization(ctx, input)),
  list: userProcedure
    .input(z.object({ minPosition: MinPositionSchema }).default({}))
    .query(({ ctx, input }) => listOrganizations(ctx, input)),
  changePlan: authedProcedure.input(ChangePlanInputSchema).mutation(({ ctx, input }) => changePlan(ctx, input)),
});
