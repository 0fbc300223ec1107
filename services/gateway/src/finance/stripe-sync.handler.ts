/**
 * The operators' view of the Stripe sync (`finance.stripe`): whether billing is synced with
 * Stripe, the calls Stripe refused for good, waiting as dead letters, and the last
 * reconciliation run with its differences; and their requests to
 * retry or skip one (`finance.stripeRequest`), which the billing process carries out within
 * seconds (it alone calls Stripe). Who may call is settled by `operatorProcedure`.
 */
import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import type { Context, Principal } from '../trpc';

type Operator = Context & { principal: Extract<Principal, { kind: 'user' }> };

export const StripeRequestInputSchema = z
  .object({
    causeEventId: z.string().uuid(),
    operation: z.enum(['subscription', 'usage']),
    action: z.enum(['retry', 'skip']),
    reason: z.string().trim().min(1).max(500).optional(),
  })
  .refine((i) => i.action !== 'skip' || i.reason !== undefined, {
    message: 'A skip needs a reason: it is kept with the billing.sync_skipped event.',
    path: ['reason'],
  });

export async function stripeSync(ctx: Operator) {
  return {
    connected: ctx.deps.stripeConnected,
    deadLetters: await ctx.deps.billingSync.openDeadLetters(),
    reconciliation: await ctx.deps.billingSync.lastReconciliation(),
  };
}

export async function stripeRequest(ctx: Operator, input: z.infer<typeof StripeRequestInputSchema>) {
  const recorded = await ctx.deps.billingSync.request(
    input.causeEventId,
    input.operation,
    input.action,
    ctx.principal.email,
    input.reason ?? null,
    ctx.deps.now(),
  );
  if (!recorded) {
    throw new TRPCError({
      code: 'NOT_FOUND',
      message: `No open dead letter for the ${input.operation} sync of event ${input.causeEventId}: it was resolved, or never failed.`,
    });
  }
  ctx.deps.logger.info(
    { causeEventId: input.causeEventId, operation: input.operation, action: input.action, by: ctx.principal.email },
    'stripe sync request recorded',
  );
  return { requested: input.action };
}
