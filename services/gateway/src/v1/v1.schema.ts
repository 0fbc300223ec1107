/**
 * The shapes `/v1` answers with, as zod schemas: the OpenAPI document is generated from them,
 * and the integration tests check real answers against the document, so a drift between a
 * procedure's output and what is documented fails a test.
 */
import { IdSchema, RoleSchema } from '@quorum/domain';
import { z } from 'zod';

/** A decimal position in Quorum's log: the cursor of `/v1/orgs/{orgId}/events`. */
export const CursorSchema = z
  .string()
  .regex(/^\d{1,19}$/, 'must be a decimal cursor (the `sequence` of an event)')
  .describe("An event's `sequence`: its position in Quorum's log, a decimal string.");

/** Every error of `/v1`. */
export const V1ErrorSchema = z
  .object({
    error: z.object({
      code: z.string().describe('The tRPC error code: BAD_REQUEST, UNAUTHORIZED, FORBIDDEN, NOT_FOUND, …'),
      reason: z.string().describe('A stable machine-readable slug, e.g. `events.unknown_types`.'),
      message: z.string(),
      fieldErrors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
      requestId: z.string().describe('Quote it when asking about this request.'),
    }),
  })
  .describe('Every error of /v1.');

export const OrganizationSchema = z
  .object({
    orgId: IdSchema,
    name: z.string(),
    plan: z.string(),
    status: z.string(),
    trialEndsAt: z.string().nullable(),
    trialDaysLeft: z.number().int().nullable(),
    ownerUserId: IdSchema,
    createdAt: z.string(),
    entitlements: z.object({
      maxSeats: z.number().int(),
      maxParticipantsPerMeeting: z.number().int(),
      meetingMinutesPerMonth: z.number().int().nullable(),
      recording: z.boolean(),
      apiAccess: z.boolean(),
    }),
    yourRole: RoleSchema.describe("The caller's role (an API key's role, capped by its maker's)."),
  })
  .describe('An organization.');

export const InvitationSchema = z
  .object({
    invitationId: IdSchema,
    position: CursorSchema.describe('Where the invitation landed in the log: events after it come after this.'),
    link: z.string().describe('The link to accept it; it is mailed to the invited address too.'),
    expiresAt: z.string(),
  })
  .describe('An invitation.');

/**
 * Where a public envelope appears in an answer. The envelope's JSON Schema is the contract's
 * own (`/schemas/cloudevent.json`), so the document refers to it instead of restating it.
 */
export const EventEnvelopeSchema = z.looseObject({}).describe('A public event (see the Event schema).');

export const EventsPageSchema = z.object({
  data: z.array(EventEnvelopeSchema),
  next: CursorSchema.nullable().describe(
    'The cursor of the last event when more may follow at once; null at the end (poll again with `after` = the last `sequence`).',
  ),
});

/** A webhook endpoint as `webhooks.get` answers it. */
export const WebhookEndpointSchema = z
  .object({
    id: IdSchema,
    url: z.string(),
    description: z.string(),
    eventTypes: z.array(z.string()).describe('Public event types it receives; empty: every public type.'),
    status: z.enum(['enabled', 'paused', 'disabled', 'deleted']),
    disabledReason: z.enum(['gone', 'failing']).nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
    secretRotatedAt: z.string().nullable(),
    position: CursorSchema.describe('Position of the last event that changed it.'),
  })
  .describe('A webhook endpoint.');

export const WebhookEndpointListSchema = z.array(WebhookEndpointSchema).describe("The organization's endpoints.");

const SecretSchema = z
  .string()
  .regex(/^whsec_/)
  .describe('The signing secret (`whsec_…`), for the Standard Webhooks libraries. Keep it secret.');

export const CreatedWebhookEndpointSchema = z
  .object({ endpoint: WebhookEndpointSchema, secret: SecretSchema, position: CursorSchema })
  .describe('The new endpoint and its secret, shown this once (reveal it again with POST …/secret/reveal).');

export const CommandPositionSchema = z
  .object({ position: CursorSchema.describe('Where the change landed in the log.') })
  .describe('Done.');

export const DeletedSchema = z.object({ deleted: z.literal(true), position: CursorSchema }).describe('Deleted.');

export const RotatedSecretSchema = z
  .object({
    secret: SecretSchema,
    previousValidUntil: z.string().nullable().describe('Until when the previous secret still signs too.'),
    position: CursorSchema,
  })
  .describe('The new secret.');

export const RevealedSecretSchema = z
  .object({ secret: SecretSchema, createdAt: z.string() })
  .describe('The current secret.');

export const PingResultSchema = z
  .object({
    ok: z.boolean().describe('Whether the endpoint answered 2xx.'),
    webhookId: IdSchema,
    status: z.number().int().nullable(),
    durationMs: z.number(),
    error: z.string().nullable().describe('Why no answer came (timeout, connection, tls), or null.'),
    message: z.string().nullable(),
    body: z.string().nullable().describe("The first 4 KiB of the endpoint's answer."),
    truncated: z.boolean(),
  })
  .describe("The test ping's outcome.");

/** One delivery of one event to one endpoint, as the delivery log lists it. */
export const WebhookDeliverySchema = z
  .object({
    deliveryId: IdSchema,
    endpointId: IdSchema,
    eventId: IdSchema.describe('The event id: the `webhook-id` of every attempt.'),
    eventType: z.string(),
    streamId: z.string(),
    position: CursorSchema,
    status: z.enum(['pending', 'delivered', 'failed']),
    attempts: z.number().int(),
    nextAttemptAt: z.string().nullable(),
    lastStatus: z.number().int().nullable(),
    lastError: z.string().nullable(),
    createdAt: z.string(),
    deliveredAt: z.string().nullable(),
    failedAt: z.string().nullable(),
  })
  .describe('A delivery.');

export const WebhookDeliveryPageSchema = z
  .object({
    items: z.array(WebhookDeliverySchema),
    nextCursor: CursorSchema.nullable().describe('Pass as `cursor` for older deliveries; null at the end.'),
  })
  .describe("A page of an endpoint's deliveries, newest event first.");

export const WebhookAttemptsSchema = z
  .object({
    delivery: WebhookDeliverySchema.extend({
      payload: EventEnvelopeSchema.describe("The body every attempt sends: the event's public envelope."),
    }),
    attempts: z.array(
      z.object({
        n: z.number().int(),
        at: z.string(),
        requestHeaders: z.record(z.string(), z.string()).describe('What was sent, signatures included, secrets never.'),
        status: z.number().int().nullable(),
        responseHeaders: z.record(z.string(), z.string()).nullable(),
        responseBody: z.string().nullable().describe('At most 4 KiB of the answer.'),
        durationMs: z.number(),
        errorClass: z.string().nullable(),
        errorMessage: z.string().nullable(),
      }),
    ),
  })
  .describe('A delivery and each of its attempts.');

export const ResentSchema = z
  .object({ deliveryId: IdSchema, status: z.literal('pending') })
  .describe('Queued again; it goes out with the same webhook-id.');

export const RecoveredSchema = z
  .object({ recovered: z.number().int().describe('Failed deliveries queued again.') })
  .describe('Recovered.');
