import { FinanceOrgsShape, refineFinanceCursor } from '@quorum/api/schemas';
import { z } from 'zod';
import { MinPositionSchema, operatorProcedure, router } from '../trpc';
import { financeOrgs } from './finance.handler';
import { StripeRequestInputSchema, stripeRequest, stripeSync } from './stripe-sync.handler';

export const financeRouter = router({
  orgs: operatorProcedure
    .input(z.object({ ...FinanceOrgsShape, minPosition: MinPositionSchema }).superRefine(refineFinanceCursor))
    .query(({ ctx, input }) => financeOrgs(ctx, input)),
  stripe: operatorProcedure.input(z.object({}).optional()).query(({ ctx }) => stripeSync(ctx)),
  stripeRequest: operatorProcedure
    .input(StripeRequestInputSchema)
    .mutation(({ ctx, input }) => stripeRequest(ctx, input)),
});
