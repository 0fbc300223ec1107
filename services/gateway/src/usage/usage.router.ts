import { UsageRecordsInputSchema, UsageSummaryInputSchema } from '@quorum/api/schemas';
import { authedProcedure, MinPositionSchema, router } from '../trpc';
import { usageRecords, usageSummary } from './usage.handler';

export const usageRouter = router({
  summary: authedProcedure
    .input(UsageSummaryInputSchema.extend({ minPosition: MinPositionSchema }))
    .query(({ ctx, input }) => usageSummary(ctx, input)),
  records: authedProcedure
    .input(UsageRecordsInputSchema.extend({ minPosition: MinPositionSchema }))
    .query(({ ctx, input }) => usageRecords(ctx, input)),
});
