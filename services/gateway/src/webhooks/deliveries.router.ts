import { authedProcedure, router } from '../trpc';
import {
  DeliveryInputSchema,
  listAttempts,
  listDeliveries,
  ListDeliveriesInputSchema,
  recoverDeliveries,
  RecoverInputSchema,
  resendDelivery,
} from './deliveries.handler';

/** The webhook delivery log and its recovery, merged into the app router as `webhookDeliveries`. */
export const webhookDeliveriesRouter = router({
  list: authedProcedure.input(ListDeliveriesInputSchema).query(({ ctx, input }) => listDeliveries(ctx, input)),
  attempts: authedProcedure.input(DeliveryInputSchema).query(({ ctx, input }) => listAttempts(ctx, input)),
  resend: authedProcedure.input(DeliveryInputSchema).mutation(({ ctx, input }) => resendDelivery(ctx, input)),
  recover: authedProcedure.input(RecoverInputSchema).mutation(({ ctx, input }) => recoverDeliveries(ctx, input)),
});
