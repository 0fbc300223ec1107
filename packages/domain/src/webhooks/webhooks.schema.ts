/**
 * Gateway input schemas of the `webhooks.*` procedures. Whether the event types are public and
 * whether the URL may be called are checked behind them (the decider, the address guard), so
 * a refusal can name every offending type and the address a name resolves to.
 */
import { z } from 'zod';
import { IdSchema, plainText } from '../schemas';
import { MAX_SECRET_OVERLAP_MS } from './webhooks.commands';
import { EndpointDescriptionSchema, EndpointEventTypesSchema, EndpointUrlSchema } from './webhooks.events';

const DescriptionInputSchema = plainText(EndpointDescriptionSchema.trim());

/**
 * Input of `webhooks.create`. The endpoint's id is Quorum's: derived from the Idempotency-Key
 * when one is sent (a retry answers the same endpoint and secret), fresh otherwise, so no
 * caller can name an id another organization uses.
 */
export const CreateEndpointInputSchema = z.object({
  orgId: IdSchema,
  url: EndpointUrlSchema,
  description: DescriptionInputSchema.default(''),
  /** Public event types; empty or omitted: every public type. */
  eventTypes: EndpointEventTypesSchema.default([]),
});
/** Input of `webhooks.create`. */
export type CreateEndpointInput = z.infer<typeof CreateEndpointInputSchema>;

/** Input of the procedures that address one endpoint (`get`, `pause`, `resume`, `delete`, …). */
export const EndpointRefInputSchema = z.object({ orgId: IdSchema, endpointId: IdSchema });
/** Input of the procedures that address one endpoint. */
export type EndpointRefInput = z.infer<typeof EndpointRefInputSchema>;

/** Input of `webhooks.update`: the fields to change; an omitted one keeps its value. */
export const UpdateEndpointInputSchema = EndpointRefInputSchema.extend({
  url: EndpointUrlSchema.optional(),
  description: DescriptionInputSchema.optional(),
  eventTypes: EndpointEventTypesSchema.optional(),
});
/** Input of `webhooks.update`. */
export type UpdateEndpointInput = z.infer<typeof UpdateEndpointInputSchema>;

/** Input of `webhooks.rotateSecret`: how long the previous secret keeps signing (default a day, at most a week). */
export const RotateEndpointSecretInputSchema = EndpointRefInputSchema.extend({
  overlapSeconds: z
    .number()
    .int()
    .min(0)
    .max(MAX_SECRET_OVERLAP_MS / 1000)
    .optional(),
});
/** Input of `webhooks.rotateSecret`. */
export type RotateEndpointSecretInput = z.infer<typeof RotateEndpointSecretInputSchema>;
