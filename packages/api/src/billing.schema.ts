/**
 * Input of `billing.preview`: one organization's invoice for one month as it stands. A period in
 * the future is refused by the gateway, which knows the time.
 */
import { IdSchema, UsagePeriodSchema } from '@quorum/domain';
import { z } from 'zod';

/** `billing.preview`: the invoice of `period` (`yyyymm`, UTC) for `orgId`. */
export const BillingPreviewInputSchema = z.object({ orgId: IdSchema, period: UsagePeriodSchema });
export type BillingPreviewInput = z.infer<typeof BillingPreviewInputSchema>;
