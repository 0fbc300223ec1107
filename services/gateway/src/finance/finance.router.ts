import { FinanceOrgsShape, refineFinanceCursor } from '@quorum/api/schemas';
import { z } from 'zod';
import { MinPositionSchema, operatorProcedure, router } from '../trpc';
import { financeOrgs } from './finance.handler';

export const financeRouter = router({
  orgs: operatorProcedure
    .input(z.object({ ...FinanceOrgsShape, minPosition: MinPositionSchema }).superRefine(refineFinanceCursor))
    .query(({ ctx, input }) => financeOrgs(ctx, input)),
});
