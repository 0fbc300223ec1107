/**
 * The `/v1` route table: each entry maps a method and a path to one tRPC procedure, says how
 * the procedure's input is assembled from the path, the query and the JSON body, and what the
 * answer looks like. The REST adapter (`v1.http.ts`) runs the procedure through a caller with
 * the same context as `/trpc`, so roles, tenant isolation, Idempotency-Key and errors are the
 * gateway's own; the procedure's own input schema checks the assembled input. The OpenAPI
 * document (`openapi.ts`) is generated from this table, so adding a route is adding an entry.
 */
import {
  CreateEndpointInputSchema,
  IdSchema,
  IsoDateTimeSchema,
  InviteMemberInputSchema,
  RotateEndpointSecretInputSchema,
  UpdateEndpointInputSchema,
  type PublicEventType,
} from '@quorum/domain';
import type { inferRouterInputs, inferRouterOutputs } from '@trpc/server';
import { z } from 'zod';
import type { AppRouter } from '../router';
import { publicEventsPage, publicTypesOf, type ListedPage } from './v1-events';
import {
  CommandPositionSchema,
  CreatedWebhookEndpointSchema,
  CursorSchema,
  DeletedSchema,
  EventsPageSchema,
  InvitationSchema,
  OrganizationSchema,
  PingResultSchema,
  RecoveredSchema,
  ResentSchema,
  RevealedSecretSchema,
  RotatedSecretSchema,
  WebhookAttemptsSchema,
  WebhookDeliveryPageSchema,
  WebhookEndpointListSchema,
  WebhookEndpointSchema,
} from './v1.schema';

type Inputs = inferRouterInputs<AppRouter>;
type Outputs = inferRouterOutputs<AppRouter>;

/** A procedure's dotted path: `events.list`. */
export type ProcedurePath = {
  [R in keyof Inputs & string]: `${R}.${keyof Inputs[R] & string}`;
}[keyof Inputs & string];

type Pick2<T, P extends string> = P extends `${infer R}.${infer N}`
  ? R extends keyof T
    ? N extends keyof T[R]
      ? T[R][N]
      : never
    : never
  : never;
export type ProcedureInput<P extends ProcedurePath> = Pick2<Inputs, P>;
export type ProcedureOutput<P extends ProcedurePath> = Pick2<Outputs, P>;

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** What a request brought, parsed by the route's own schemas. */
export interface RouteRequest<Params, Query, Body> {
  params: Params;
  query: Query;
  body: Body;
  /** The gateway's public origin, for URLs in answers. */
  baseUrl: string;
  /** The `Last-Event-ID` header, for streams. */
  lastEventId: string | undefined;
}

/** How one route answers. */
export type RouteResponse =
  | { kind: 'json'; status: 200 | 201; description: string; schema: z.ZodType }
  /** Server-Sent Events of public envelopes (`event-stream.ts`). */
  | { kind: 'event-stream'; description: string };

export interface V1Route<
  P extends ProcedurePath = ProcedurePath,
  Params extends z.ZodObject = z.ZodObject,
  Query extends z.ZodObject = z.ZodObject,
  Body extends z.ZodType = z.ZodType,
> {
  method: HttpMethod;
  /** Under `/v1`, with `{name}` path parameters: `/orgs/{orgId}/events`. */
  path: string;
  operationId: string;
  summary: string;
  description: string;
  tag: string;
  /** The tRPC procedure it runs. */
  procedure: P;
  params: Params;
  query: Query;
  /** The JSON body; absent, a body is refused. */
  body?: Body;
  /** Commands: a retry with the same `Idempotency-Key` appends nothing new. */
  idempotent?: boolean;
  /** The procedure's input from the request. */
  input(request: RouteRequest<z.output<Params>, z.output<Query>, z.output<Body>>): ProcedureInput<P>;
  /**
   * The answer from the request and a way to run the procedure (as many times as it takes);
   * absent, the procedure runs once with `input` and answers its result.
   */
  run?(
    request: RouteRequest<z.output<Params>, z.output<Query>, z.output<Body>>,
    call: (input: ProcedureInput<P>) => Promise<ProcedureOutput<P>>,
    input: ProcedureInput<P>,
  ): Promise<unknown>;
  response: RouteResponse;
  /** An example request (path parameters, query, body) shown in the document; its tests run it. */
  example: { params: Record<string, string>; query?: Record<string, string>; body?: unknown };
}

/** Keeps each entry's types checked and erases them for the table. */
function route<P extends ProcedurePath, Params extends z.ZodObject, Query extends z.ZodObject, Body extends z.ZodType>(
  r: V1Route<P, Params, Query, Body>,
): V1Route {
  return r as unknown as V1Route;
}

const EXAMPLE_ORG = '0b8e7b44-54a5-4f6b-9d44-2a7f1c0e9b11';
const OrgParams = z.object({ orgId: IdSchema.describe('The organization.') });
const NoQuery = z.strictObject({});
const EXAMPLE_ENDPOINT = '5d0f3c8e-2b7a-4e61-9f0d-8c4b2a6e1f37';
const EndpointParams = OrgParams.extend({ endpointId: IdSchema.describe('The webhook endpoint.') });
const endpointRef = ({ params }: { params: z.output<typeof EndpointParams> }) => ({
  orgId: params.orgId,
  endpointId: params.endpointId,
});
const endpointExample = { params: { orgId: EXAMPLE_ORG, endpointId: EXAMPLE_ENDPOINT } };
const WEBHOOKS = 'Webhook endpoints';
const DELIVERIES = 'Webhook deliveries';
const EXAMPLE_DELIVERY = '8a3c1e5f-7b9d-4f2a-8c6e-0d1b3a5c7e9f';
const DeliveryParams = OrgParams.extend({ deliveryId: IdSchema.describe('The delivery.') });
const DeliveriesQuerySchema = z.strictObject({
  status: z.enum(['pending', 'delivered', 'failed']).optional().describe('Only deliveries in this state.'),
  cursor: CursorSchema.optional().describe('`nextCursor` of the previous page: older deliveries.'),
  limit: z.coerce.number().int().min(1).max(200).default(50).describe('At most this many (1 to 200).'),
});

/** One action on one endpoint (`POST …/endpoints/{endpointId}/<action>`), answering a position. */
function endpointAction(action: 'pause' | 'resume', summary: string, description: string): V1Route {
  return route({
    method: 'POST',
    path: `/orgs/{orgId}/webhooks/endpoints/{endpointId}/${action}`,
    operationId: `${action}WebhookEndpoint`,
    summary,
    description,
    tag: WEBHOOKS,
    procedure: `webhooks.${action}`,
    params: EndpointParams,
    query: NoQuery,
    idempotent: true,
    input: endpointRef,
    response: { kind: 'json', status: 200, description: 'Done.', schema: CommandPositionSchema },
    example: endpointExample,
  });
}

const EventsQuerySchema = z.strictObject({
  after: CursorSchema.optional().describe(
    'Events strictly after this cursor (the `sequence` of the last event you have, or `next`); from the beginning when absent.',
  ),
  types: z
    .string()
    .max(4000)
    .optional()
    .describe(
      'Comma-separated public event types (`member.joined,seat.assigned`, or CloudEvents types `quorum.member.joined.v1`); every public type when absent. Unknown or internal names are a 400 listing them.',
    ),
  limit: z.coerce.number().int().min(1).max(500).default(100).describe('At most this many events (1 to 500).'),
});

const StreamQuerySchema = z.strictObject({
  after: CursorSchema.optional().describe(
    'Start strictly after this cursor; `0` replays from the beginning. Takes precedence over `Last-Event-ID`.',
  ),
  from: z.enum(['start']).optional().describe('`start`: replay from the beginning (the same as `after=0`).'),
});

/** Every `/v1` route. */
export const V1_ROUTES: readonly V1Route[] = [
  route({
    method: 'GET',
    path: '/orgs/{orgId}/webhooks/endpoints',
    operationId: 'listWebhookEndpoints',
    summary: "The organization's webhook endpoints",
    description: 'Runs `webhooks.list` (owner, admin). Deleted endpoints are left out.',
    tag: WEBHOOKS,
    procedure: 'webhooks.list',
    params: OrgParams,
    query: NoQuery,
    input: ({ params }) => ({ orgId: params.orgId }),
    response: { kind: 'json', status: 200, description: 'The endpoints.', schema: WebhookEndpointListSchema },
    example: { params: { orgId: EXAMPLE_ORG } },
  }),
  route({
    method: 'POST',
    path: '/orgs/{orgId}/webhooks/endpoints',
    operationId: 'createWebhookEndpoint',
    summary: 'Subscribe a webhook endpoint',
    description:
      'Runs `webhooks.create` (owner, admin). The URL must be https and public: loopback, private, link-local and metadata addresses are refused (400 `webhooks.address_not_allowed`). `eventTypes` are public types (`member.joined`); empty: every public type. The answer holds the signing secret once. Send `Idempotency-Key` to retry safely: a retry answers the same endpoint and secret.',
    tag: WEBHOOKS,
    procedure: 'webhooks.create',
    params: OrgParams,
    query: NoQuery,
    body: CreateEndpointInputSchema.omit({ orgId: true }),
    idempotent: true,
    input: ({ params, body }) => ({ ...body, orgId: params.orgId }),
    response: {
      kind: 'json',
      status: 201,
      description: 'The endpoint and its secret.',
      schema: CreatedWebhookEndpointSchema,
    },
    example: {
      params: { orgId: EXAMPLE_ORG },
      body: { url: 'https://hooks.example.com/quorum', description: 'CRM sync', eventTypes: ['member.joined'] },
    },
  }),
  route({
    method: 'GET',
    path: '/orgs/{orgId}/webhooks/endpoints/{endpointId}',
    operationId: 'getWebhookEndpoint',
    summary: 'One webhook endpoint',
    description: 'Runs `webhooks.get` (owner, admin).',
    tag: WEBHOOKS,
    procedure: 'webhooks.get',
    params: EndpointParams,
    query: NoQuery,
    input: endpointRef,
    response: { kind: 'json', status: 200, description: 'The endpoint.', schema: WebhookEndpointSchema },
    example: endpointExample,
  }),
  route({
    method: 'PATCH',
    path: '/orgs/{orgId}/webhooks/endpoints/{endpointId}',
    operationId: 'updateWebhookEndpoint',
    summary: "Change a webhook endpoint's URL, description or event types",
    description:
      'Runs `webhooks.update` (owner, admin); an omitted field keeps its value. The URL is checked as at creation.',
    tag: WEBHOOKS,
    procedure: 'webhooks.update',
    params: EndpointParams,
    query: NoQuery,
    body: UpdateEndpointInputSchema.omit({ orgId: true, endpointId: true }),
    idempotent: true,
    input: ({ params, body }) => ({ ...body, orgId: params.orgId, endpointId: params.endpointId }),
    response: { kind: 'json', status: 200, description: 'Changed.', schema: CommandPositionSchema },
    example: { ...endpointExample, body: { description: 'CRM sync (members)' } },
  }),
  route({
    method: 'DELETE',
    path: '/orgs/{orgId}/webhooks/endpoints/{endpointId}',
    operationId: 'deleteWebhookEndpoint',
    summary: 'Delete a webhook endpoint',
    description: 'Runs `webhooks.delete` (owner, admin): nothing more is delivered to it, and its secrets are gone.',
    tag: WEBHOOKS,
    procedure: 'webhooks.delete',
    params: EndpointParams,
    query: NoQuery,
    idempotent: true,
    input: endpointRef,
    response: { kind: 'json', status: 200, description: 'Deleted.', schema: DeletedSchema },
    example: endpointExample,
  }),
  endpointAction(
    'pause',
    'Pause a webhook endpoint',
    'Runs `webhooks.pause`: its deliveries wait until it is resumed.',
  ),
  endpointAction(
    'resume',
    'Resume a webhook endpoint',
    'Runs `webhooks.resume`, after a pause or after Quorum disabled it: waiting deliveries go out, oldest first.',
  ),
  route({
    method: 'POST',
    path: '/orgs/{orgId}/webhooks/endpoints/{endpointId}/secret/rotate',
    operationId: 'rotateWebhookEndpointSecret',
    summary: "Replace a webhook endpoint's signing secret",
    description:
      'Runs `webhooks.rotateSecret`. The new secret signs from now on; the previous one also signs until `previousValidUntil` (`overlapSeconds`, default a day, at most a week), so both signatures arrive meanwhile.',
    tag: WEBHOOKS,
    procedure: 'webhooks.rotateSecret',
    params: EndpointParams,
    query: NoQuery,
    body: RotateEndpointSecretInputSchema.omit({ orgId: true, endpointId: true }),
    idempotent: true,
    input: ({ params, body }) => ({ ...body, orgId: params.orgId, endpointId: params.endpointId }),
    response: { kind: 'json', status: 200, description: 'The new secret.', schema: RotatedSecretSchema },
    example: { ...endpointExample, body: { overlapSeconds: 3600 } },
  }),
  route({
    method: 'POST',
    path: '/orgs/{orgId}/webhooks/endpoints/{endpointId}/secret/reveal',
    operationId: 'revealWebhookEndpointSecret',
    summary: "A webhook endpoint's current signing secret",
    description: 'Runs `webhooks.revealSecret` (owner, admin). A POST, so the secret is never in a URL a proxy logs.',
    tag: WEBHOOKS,
    procedure: 'webhooks.revealSecret',
    params: EndpointParams,
    query: NoQuery,
    input: endpointRef,
    response: { kind: 'json', status: 200, description: 'The current secret.', schema: RevealedSecretSchema },
    example: endpointExample,
  }),
  route({
    method: 'GET',
    path: '/orgs/{orgId}/webhooks/endpoints/{endpointId}/deliveries',
    operationId: 'listWebhookDeliveries',
    summary: "An endpoint's deliveries, newest event first",
    description:
      'Runs `webhookDeliveries.list` (owner, admin): each event delivered, waiting or failed, with its attempts count, next attempt and last error.',
    tag: DELIVERIES,
    procedure: 'webhookDeliveries.list',
    params: EndpointParams,
    query: DeliveriesQuerySchema,
    input: ({ params, query }) => ({
      orgId: params.orgId,
      endpointId: params.endpointId,
      limit: query.limit,
      ...(query.status !== undefined ? { status: query.status } : {}),
      ...(query.cursor !== undefined ? { cursor: query.cursor } : {}),
    }),
    response: { kind: 'json', status: 200, description: 'A page of deliveries.', schema: WebhookDeliveryPageSchema },
    example: { ...endpointExample, query: { limit: '20' } },
  }),
  route({
    method: 'POST',
    path: '/orgs/{orgId}/webhooks/endpoints/{endpointId}/recover',
    operationId: 'recoverWebhookDeliveries',
    summary: 'Send again everything that failed since a time',
    description:
      'Runs `webhookDeliveries.recover` (owner, admin): every failed delivery to the endpoint made at or after `since` is queued again, in order, with its original webhook-id.',
    tag: DELIVERIES,
    procedure: 'webhookDeliveries.recover',
    params: EndpointParams,
    query: NoQuery,
    body: z.object({ since: IsoDateTimeSchema.describe('ISO 8601 date-time (UTC).') }),
    idempotent: true,
    input: ({ params, body }) => ({ orgId: params.orgId, endpointId: params.endpointId, since: body.since }),
    response: { kind: 'json', status: 200, description: 'How many were queued.', schema: RecoveredSchema },
    example: { ...endpointExample, body: { since: '2026-01-01T00:00:00.000Z' } },
  }),
  route({
    method: 'GET',
    path: '/orgs/{orgId}/webhooks/deliveries/{deliveryId}',
    operationId: 'getWebhookDelivery',
    summary: 'A delivery and each of its attempts',
    description:
      'Runs `webhookDeliveries.attempts` (owner, admin): the request headers sent (signatures, never secrets), the status or error, the duration and at most 4 KiB of each answer.',
    tag: DELIVERIES,
    procedure: 'webhookDeliveries.attempts',
    params: DeliveryParams,
    query: NoQuery,
    input: ({ params }) => ({ orgId: params.orgId, deliveryId: params.deliveryId }),
    response: {
      kind: 'json',
      status: 200,
      description: 'The delivery and its attempts.',
      schema: WebhookAttemptsSchema,
    },
    example: { params: { orgId: EXAMPLE_ORG, deliveryId: EXAMPLE_DELIVERY } },
  }),
  route({
    method: 'POST',
    path: '/orgs/{orgId}/webhooks/deliveries/{deliveryId}/resend',
    operationId: 'resendWebhookDelivery',
    summary: 'Send one delivery again',
    description:
      'Runs `webhookDeliveries.resend` (owner, admin): a new attempt now, with the same webhook-id, so a receiver that dedupes applies it once. Refused (409) while an attempt is in flight.',
    tag: DELIVERIES,
    procedure: 'webhookDeliveries.resend',
    params: DeliveryParams,
    query: NoQuery,
    idempotent: true,
    input: ({ params }) => ({ orgId: params.orgId, deliveryId: params.deliveryId }),
    response: { kind: 'json', status: 200, description: 'Queued again.', schema: ResentSchema },
    example: { params: { orgId: EXAMPLE_ORG, deliveryId: EXAMPLE_DELIVERY } },
  }),
  route({
    method: 'POST',
    path: '/orgs/{orgId}/webhooks/endpoints/{endpointId}/ping',
    operationId: 'pingWebhookEndpoint',
    summary: 'Send a signed test ping to a webhook endpoint now',
    description:
      'Runs `webhooks.ping`: a signed `webhook.ping` is posted now, as a delivery would be, and the answer says what came back. Nothing is retried.',
    tag: WEBHOOKS,
    procedure: 'webhooks.ping',
    params: EndpointParams,
    query: NoQuery,
    input: endpointRef,
    response: { kind: 'json', status: 200, description: "The ping's outcome.", schema: PingResultSchema },
    example: endpointExample,
  }),
  route({
    method: 'GET',
    path: '/orgs/{orgId}',
    operationId: 'getOrganization',
    summary: 'An organization: plan, status, entitlements and your role',
    description: 'Runs `org.get`. Every role may read it; another organization is a 404.',
    tag: 'Organizations',
    procedure: 'org.get',
    params: OrgParams,
    query: NoQuery,
    input: ({ params }) => ({ orgId: params.orgId }),
    response: { kind: 'json', status: 200, description: 'The organization.', schema: OrganizationSchema },
    example: { params: { orgId: EXAMPLE_ORG } },
  }),
  route({
    method: 'POST',
    path: '/orgs/{orgId}/invitations',
    operationId: 'inviteMember',
    summary: 'Invite someone to the organization',
    description:
      'Runs `members.invite` (owner or admin). The link is mailed to the invited address. Send `Idempotency-Key` to retry safely: a retry with the same key invites once and answers the same invitation.',
    tag: 'Members',
    procedure: 'members.invite',
    params: OrgParams,
    query: NoQuery,
    body: InviteMemberInputSchema.omit({ orgId: true }),
    idempotent: true,
    input: ({ params, body }) => ({ ...body, orgId: params.orgId }),
    response: { kind: 'json', status: 201, description: 'The invitation.', schema: InvitationSchema },
    example: { params: { orgId: EXAMPLE_ORG }, body: { email: 'ada@example.com', role: 'member' } },
  }),
  route({
    method: 'GET',
    path: '/orgs/{orgId}/events',
    operationId: 'listEvents',
    summary: "A page of the organization's public events, oldest first",
    description:
      'Runs `events.list` (roles owner, admin, billing). Only public event types appear; each item is a CloudEvents envelope whose `sequence` is its cursor. Page with `after` = `next` until `next` is null.',
    tag: 'Events',
    procedure: 'events.list',
    params: OrgParams,
    query: EventsQuerySchema,
    input: ({ params, query }) => ({
      orgId: params.orgId,
      order: 'asc',
      limit: query.limit,
      ...(query.after !== undefined ? { after: query.after } : {}),
    }),
    run: ({ query, baseUrl }, call, first) =>
      publicEventsPage(
        (q: { after: string | undefined; limit: number; types: PublicEventType[] | undefined }): Promise<ListedPage> =>
          call({ ...first, after: q.after, limit: q.limit, types: q.types }),
        { after: query.after, limit: query.limit, types: publicTypesOf(query.types) },
        baseUrl,
      ),
    response: { kind: 'json', status: 200, description: 'A page of events.', schema: EventsPageSchema },
    example: { params: { orgId: EXAMPLE_ORG }, query: { types: 'member.joined,member.invited', limit: '50' } },
  }),
  route({
    method: 'GET',
    path: '/orgs/{orgId}/events/stream',
    operationId: 'streamEvents',
    summary: "The organization's public events as Server-Sent Events",
    description:
      'Runs `events.live`. Each message is `id: <sequence>`, `event: <CloudEvents type>`, `data: <envelope JSON>`. It starts after `after`, else after `Last-Event-ID`, else at the newest event now; `after=0` or `from=start` replays from the beginning. Comment lines (`: heartbeat`) keep it alive; a consumer that stops reading is cut off with `event: error`, as is one whose credential is revoked.',
    tag: 'Events',
    procedure: 'events.live',
    params: OrgParams,
    query: StreamQuerySchema,
    input: ({ params, query, lastEventId }) => {
      const after = query.after ?? (query.from === 'start' ? '0' : lastEventId);
      return { orgId: params.orgId, ...(after !== undefined ? { after } : {}) };
    },
    response: {
      kind: 'event-stream',
      description: 'A `text/event-stream` of public envelopes, heartbeats, and a final `event: error` when cut off.',
    },
    example: { params: { orgId: EXAMPLE_ORG }, query: { from: 'start' } },
  }),
];
