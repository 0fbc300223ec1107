/**
 * The delivery log and its recovery (`webhookDeliveries.*`), for owners and admins: each
 * endpoint's deliveries, each delivery's attempts (request and response, truncated), a resend
 * of one delivery, and "recover everything that failed since T". Nothing here appends an
 * event: deliveries are the delivery engine's bookkeeping, not business facts.
 */
import { IdSchema, IsoDateTimeSchema, notFound, conflict } from '@quorum/domain';
import { z } from 'zod';
import { authorizeQuery, awaitPosition } from '../access';
import { MinPositionSchema, positionSchema, type AuthedContext } from '../trpc';

export const ListDeliveriesInputSchema = z.object({
  orgId: IdSchema,
  endpointId: IdSchema,
  status: z.enum(['pending', 'delivered', 'failed']).optional(),
  /** The page after this cursor (`nextCursor` of the previous page): older events. */
  cursor: positionSchema('cursor must be a nextCursor from a previous page').optional(),
  limit: z.number().int().min(1).max(200).default(50),
  minPosition: MinPositionSchema,
});
export type ListDeliveriesInput = z.infer<typeof ListDeliveriesInputSchema>;

export const DeliveryInputSchema = z.object({ orgId: IdSchema, deliveryId: IdSchema, minPosition: MinPositionSchema });
export type DeliveryInput = z.infer<typeof DeliveryInputSchema>;

export const RecoverInputSchema = z.object({
  orgId: IdSchema,
  endpointId: IdSchema,
  /** Failed deliveries of events fanned out at or after this instant go out again. */
  since: IsoDateTimeSchema,
  minPosition: MinPositionSchema,
});
export type RecoverInput = z.infer<typeof RecoverInputSchema>;

const deliveryNotFound = () => notFound('webhooks.delivery_not_found', 'No such delivery in this organization.');

export async function listDeliveries(ctx: AuthedContext, input: ListDeliveriesInput) {
  await awaitPosition(ctx, input.minPosition);
  await authorizeQuery(ctx, input.orgId, 'webhookDeliveries.list');
  const items = await ctx.deps.webhookDeliveries.list(input.orgId, input.endpointId, {
    status: input.status,
    before: input.cursor,
    limit: input.limit,
  });
  return { items, nextCursor: items.length === input.limit ? items[items.length - 1]!.position : null };
}

export async function listAttempts(ctx: AuthedContext, input: DeliveryInput) {
  await awaitPosition(ctx, input.minPosition);
  await authorizeQuery(ctx, input.orgId, 'webhookDeliveries.attempts');
  const delivery = await ctx.deps.webhookDeliveries.get(input.orgId, input.deliveryId);
  if (!delivery) throw deliveryNotFound();
  return { delivery, attempts: await ctx.deps.webhookDeliveries.attempts(input.deliveryId) };
}

export async function resendDelivery(ctx: AuthedContext, input: DeliveryInput) {
  await awaitPosition(ctx, input.minPosition);
  await authorizeQuery(ctx, input.orgId, 'webhookDeliveries.resend');
  const outcome = await ctx.deps.webhookDeliveries.resend(input.orgId, input.deliveryId, ctx.deps.now());
  switch (outcome) {
    case 'resent':
      return { deliveryId: input.deliveryId, status: 'pending' as const };
    case 'not_found':
      throw deliveryNotFound();
    case 'in_flight':
      throw conflict(
        'webhooks.delivery_in_flight',
        'An attempt of this delivery is under way; its outcome decides what happens next. Try again shortly.',
      );
  }
}

export async function recoverDeliveries(ctx: AuthedContext, input: RecoverInput) {
  await awaitPosition(ctx, input.minPosition);
  await authorizeQuery(ctx, input.orgId, 'webhookDeliveries.recover');
  const recovered = await ctx.deps.webhookDeliveries.recover(
    input.orgId,
    input.endpointId,
    new Date(input.since),
    ctx.deps.now(),
  );
  return { recovered };
}
