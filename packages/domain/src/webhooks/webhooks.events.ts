/**
 * Events of an organization's webhook endpoints (stream `webhooks-<orgId>`): where Quorum
 * delivers the organization's public events, which types, and whether it does. Secrets are
 * never in the log: `endpoint.created` and `endpoint.secret_rotated` record that a secret
 * exists and until when the previous one is still signed with; the secrets themselves live in
 * `webhook_secrets`, like API keys' hashes. See docs/webhooks.md.
 */
import { z } from 'zod';
import { IdSchema, IsoDateTimeSchema } from '../schemas';

/** An endpoint's URL as stored: absolute http(s), at most 2,048 characters. */
export const EndpointUrlSchema = z
  .string()
  .max(2048)
  .refine((value) => {
    if (!URL.canParse(value)) return false;
    const url = new URL(value);
    return (url.protocol === 'https:' || url.protocol === 'http:') && url.username === '' && url.password === '';
  }, 'must be an absolute http(s) URL without credentials');

/**
 * The event types an endpoint receives: public type names (`member.joined`). Empty: every
 * public type.
 */
export const EndpointEventTypesSchema = z
  .array(z.string().regex(/^[a-z_]+\.[a-z_]+$/, 'must be an event type, such as member.joined'))
  .max(100);

/** A note for people: what the endpoint is for. */
export const EndpointDescriptionSchema = z.string().max(500);

/** Why Quorum stopped delivering to an endpoint on its own. */
export const EndpointDisabledReasonSchema = z.enum([
  /** It answered 410 Gone. */
  'gone',
  /** Every delivery failed for longer than the failure window (5 days by default). */
  'failing',
]);

/** `endpoint.created` v1: a webhook endpoint exists, enabled, with its first secret. */
export const EndpointCreatedDataSchema = z.object({
  endpointId: IdSchema,
  url: EndpointUrlSchema,
  description: EndpointDescriptionSchema,
  eventTypes: EndpointEventTypesSchema,
  createdBy: IdSchema,
});

/** `endpoint.updated` v1: its URL, description or event types changed (the new values, whole). */
export const EndpointUpdatedDataSchema = z.object({
  endpointId: IdSchema,
  url: EndpointUrlSchema,
  description: EndpointDescriptionSchema,
  eventTypes: EndpointEventTypesSchema,
  updatedBy: IdSchema,
});

/** `endpoint.paused` v1: deliveries wait until it is resumed. */
export const EndpointPausedDataSchema = z.object({ endpointId: IdSchema, by: IdSchema });

/** `endpoint.resumed` v1: deliveries go out again, oldest first (also after `endpoint.disabled`). */
export const EndpointResumedDataSchema = z.object({ endpointId: IdSchema, by: IdSchema });

/**
 * `endpoint.secret_rotated` v1: a new secret signs every delivery from now on; the previous
 * one signs too until `previousValidUntil`, so receivers can switch without losing a delivery.
 */
export const EndpointSecretRotatedDataSchema = z.object({
  endpointId: IdSchema,
  by: IdSchema,
  previousValidUntil: IsoDateTimeSchema,
});

/** `endpoint.deleted` v1: nothing more is delivered to it. */
export const EndpointDeletedDataSchema = z.object({ endpointId: IdSchema, by: IdSchema });

/**
 * `endpoint.disabled` v1: Quorum stopped delivering to it on its own (410 Gone, or failing for
 * too long). Deliveries wait; resuming the endpoint sends them.
 */
export const EndpointDisabledDataSchema = z.object({
  endpointId: IdSchema,
  reason: EndpointDisabledReasonSchema,
  /** Since when every delivery failed (for `failing`), or the 410's time. */
  failingSince: IsoDateTimeSchema,
  at: IsoDateTimeSchema,
});

/** Current data schema of every webhook endpoint event type. */
export const WEBHOOKS_EVENT_DATA_SCHEMAS = {
  'endpoint.created': EndpointCreatedDataSchema,
  'endpoint.updated': EndpointUpdatedDataSchema,
  'endpoint.paused': EndpointPausedDataSchema,
  'endpoint.resumed': EndpointResumedDataSchema,
  'endpoint.secret_rotated': EndpointSecretRotatedDataSchema,
  'endpoint.deleted': EndpointDeletedDataSchema,
  'endpoint.disabled': EndpointDisabledDataSchema,
} as const;

type Schemas = typeof WEBHOOKS_EVENT_DATA_SCHEMAS;

/** Type of a webhook endpoint event. */
export type WebhooksEventType = keyof Schemas;

/** A webhook endpoint event with its current data shape. */
export type WebhooksEvent = { [T in WebhooksEventType]: { type: T; data: z.output<Schemas[T]> } }[WebhooksEventType];
