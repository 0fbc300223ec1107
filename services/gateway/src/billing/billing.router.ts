import { BillingPreviewInputSchema } from '@quorum/api/schemas';
import { authedProcedure, MinPositionSchema, router } from '../trpc';
import { billingPreview } from './billing-preview.handler';

export const billingRouter = router({
  preview: authedProcedure
    .input(BillingPreviewInputSchema.extend({ minPosition: MinPositionSchema }))
    .query(({ ctx, input }) => billingPreview(ctx, input)),
});
