/**
 * Webhook endpoints: commands decide on `webhooks-<orgId>` with the caller's role from the
 * organization stream (guarded by its revision, as seat commands are); queries read the
 * `webhook_endpoints` read model after `minPosition`. A URL is checked by the address guard
 * (it resolves names) before anything is written, so a refused one appends nothing.
 *
 * Secrets live in `webhook_secrets`, never in events. A new endpoint's secret is stored before
 * its `endpoint.created` (an endpoint in the log always has one; a refused create removes it
 * again), a rotation's after its `endpoint.secret_rotated` (the new secret only signs once the
 * caller can have seen it).
 */
import { randomUUID } from 'node:crypto';
import {
  DEFAULT_SECRET_OVERLAP_MS,
  badRequest,
  notFound,
  organizationDecider,
  streamIds,
  webhooksDecider,
  type Action,
  type CreateEndpointInput,
  type EndpointRefInput,
  type OrganizationState,
  type RotateEndpointSecretInput,
  type UpdateEndpointInput,
  type WebhooksCommand,
} from '@quorum/domain';
import { assertPublicEndpoint, generateWebhookSecret, UnsafeEndpointError, webhookHeaders } from '@quorum/webhooks';
import { authorizeCommand, authorizeQuery, awaitPosition, commandMeta } from '../access';
import { actorId } from '../api-keys/key-revocation';
import type { CommandMeta } from '../commands/command-handler';
import { assertOrganizationOpen } from '../org-facts';
import type { AuthedContext } from '../trpc';
import type { EndpointView } from './webhooks.repository';

/** The address guard's refusal as a BAD_REQUEST with its reason and message. */
async function assertSafeUrl(ctx: AuthedContext, url: string): Promise<void> {
  const { policy, resolve } = ctx.deps.webhooks;
  try {
    await assertPublicEndpoint(url, policy, resolve);
  } catch (err) {
    if (err instanceof UnsafeEndpointError) throw badRequest(err.reason, err.message, { url });
    throw err;
  }
}

/** Refuses a caller without `action` before anything is resolved, stored or sent. */
async function authorizeEarly(ctx: AuthedContext, orgId: string, action: Action): Promise<OrganizationState> {
  const { state } = await ctx.deps.commands.load(organizationDecider, streamIds.organization(orgId));
  authorizeCommand(ctx.principal, orgId, state, action);
  return state;
}

/** Decides `command` on the organization's endpoints; the role is checked on the state decided with. */
async function runWebhooksCommand(
  ctx: AuthedContext,
  orgId: string,
  action: Action,
  command: WebhooksCommand,
  options: { meta?: CommandMeta; requireOpen: boolean },
) {
  const meta = options.meta ?? commandMeta(ctx, orgId, action);
  return ctx.deps.commands.executeWithContext(
    webhooksDecider,
    streamIds.webhooks(orgId),
    { decider: organizationDecider, streamId: streamIds.organization(orgId) },
    meta,
    (state, org) => {
      authorizeCommand(ctx.principal, orgId, org, action);
      if (options.requireOpen) assertOrganizationOpen(org, ctx.deps.now());
      return webhooksDecider.decide(command, state);
    },
  );
}

export async function createEndpoint(ctx: AuthedContext, input: CreateEndpointInput) {
  const org = await authorizeEarly(ctx, input.orgId, 'webhooks.create');
  assertOrganizationOpen(org, ctx.deps.now());
  await assertSafeUrl(ctx, input.url);
  const meta = commandMeta(ctx, input.orgId, 'webhooks.create');
  // The organization is part of the label: one caller reusing a key in two organizations gets two endpoints.
  const endpointId = meta.ids.entityId(`webhook-endpoint|${input.orgId}`);
  const at = ctx.deps.now();
  const { repository } = ctx.deps.webhooks;
  const stored = await repository.ensureFirstSecret(input.orgId, endpointId, generateWebhookSecret(), at);
  let outcome;
  try {
    outcome = await runWebhooksCommand(
      ctx,
      input.orgId,
      'webhooks.create',
      {
        type: 'CreateEndpoint',
        orgId: input.orgId,
        endpointId,
        url: input.url,
        description: input.description,
        eventTypes: input.eventTypes,
        by: actorId(ctx.principal),
        at,
      },
      { meta, requireOpen: true },
    );
  } catch (err) {
    if (stored.inserted) await repository.forgetSecret(input.orgId, endpointId, stored.createdAt);
    throw err;
  }
  const endpoint: EndpointView = {
    id: endpointId,
    url: input.url,
    description: input.description,
    eventTypes: [...new Set(input.eventTypes)],
    status: 'enabled',
    disabledReason: null,
    createdAt: stored.createdAt.toISOString(),
    updatedAt: stored.createdAt.toISOString(),
    secretRotatedAt: null,
    position: outcome.position.toString(),
  };
  return { endpoint, secret: stored.secret, position: outcome.position.toString() };
}

export async function updateEndpoint(ctx: AuthedContext, input: UpdateEndpointInput) {
  await authorizeEarly(ctx, input.orgId, 'webhooks.update');
  if (input.url !== undefined) await assertSafeUrl(ctx, input.url);
  const outcome = await runWebhooksCommand(
    ctx,
    input.orgId,
    'webhooks.update',
    {
      type: 'UpdateEndpoint',
      orgId: input.orgId,
      endpointId: input.endpointId,
      url: input.url,
      description: input.description,
      eventTypes: input.eventTypes,
      by: actorId(ctx.principal),
      at: ctx.deps.now(),
    },
    { requireOpen: true },
  );
  return { position: outcome.position.toString() };
}

export async function pauseEndpoint(ctx: AuthedContext, input: EndpointRefInput) {
  const outcome = await runWebhooksCommand(
    ctx,
    input.orgId,
    'webhooks.pause',
    { type: 'PauseEndpoint', ...input, by: actorId(ctx.principal), at: ctx.deps.now() },
    { requireOpen: false },
  );
  return { position: outcome.position.toString() };
}

export async function resumeEndpoint(ctx: AuthedContext, input: EndpointRefInput) {
  const outcome = await runWebhooksCommand(
    ctx,
    input.orgId,
    'webhooks.resume',
    { type: 'ResumeEndpoint', ...input, by: actorId(ctx.principal), at: ctx.deps.now() },
    { requireOpen: true },
  );
  return { position: outcome.position.toString() };
}

export async function deleteEndpoint(ctx: AuthedContext, input: EndpointRefInput) {
  const outcome = await runWebhooksCommand(
    ctx,
    input.orgId,
    'webhooks.delete',
    { type: 'DeleteEndpoint', ...input, by: actorId(ctx.principal), at: ctx.deps.now() },
    { requireOpen: false },
  );
  await ctx.deps.webhooks.repository.dropSecrets(input.orgId, input.endpointId);
  return { deleted: true as const, position: outcome.position.toString() };
}

export async function rotateEndpointSecret(ctx: AuthedContext, input: RotateEndpointSecretInput) {
  const at = ctx.deps.now();
  const overlapMs = input.overlapSeconds === undefined ? DEFAULT_SECRET_OVERLAP_MS : input.overlapSeconds * 1000;
  const outcome = await runWebhooksCommand(
    ctx,
    input.orgId,
    'webhooks.rotateSecret',
    {
      type: 'RotateEndpointSecret',
      orgId: input.orgId,
      endpointId: input.endpointId,
      overlapMs,
      by: actorId(ctx.principal),
      at,
    },
    { requireOpen: false },
  );
  const { repository } = ctx.deps.webhooks;
  // A retry with the same Idempotency-Key answers the rotation it already made.
  if (!outcome.replayed)
    await repository.rotate(
      input.orgId,
      input.endpointId,
      generateWebhookSecret(),
      at,
      new Date(at.getTime() + overlapMs),
    );
  const current = await repository.current(input.orgId, input.endpointId);
  if (!current) throw notFound('webhooks.endpoint_deleted', 'This webhook endpoint was deleted.');
  const previousValidUntil = await repository.previousValidUntil(input.orgId, input.endpointId, ctx.deps.now());
  return {
    secret: current.secret,
    previousValidUntil: previousValidUntil?.toISOString() ?? null,
    position: outcome.position.toString(),
  };
}

/** The endpoint as the decider sees it now (not the read model): live, or NOT_FOUND. */
async function liveEndpoint(ctx: AuthedContext, orgId: string, endpointId: string) {
  const { state } = await ctx.deps.commands.load(webhooksDecider, streamIds.webhooks(orgId));
  const endpoint = state.endpoints.get(endpointId);
  if (!endpoint)
    throw notFound('webhooks.endpoint_not_found', 'No webhook endpoint with that id in this organization.', {
      endpointId,
    });
  if (endpoint.status === 'deleted')
    throw notFound('webhooks.endpoint_deleted', 'This webhook endpoint was deleted.', { endpointId });
  return endpoint;
}

/** The current secret again, for whoever manages the endpoints (as Svix does). */
export async function revealEndpointSecret(ctx: AuthedContext, input: EndpointRefInput) {
  await authorizeEarly(ctx, input.orgId, 'webhooks.revealSecret');
  await liveEndpoint(ctx, input.orgId, input.endpointId);
  const current = await ctx.deps.webhooks.repository.current(input.orgId, input.endpointId);
  if (!current) throw new Error(`webhook endpoint ${input.endpointId} has no current secret`);
  ctx.log.info({ orgId: input.orgId, endpointId: input.endpointId }, 'webhook endpoint secret revealed');
  return { secret: current.secret, createdAt: current.createdAt.toISOString() };
}

export async function listEndpoints(
  ctx: AuthedContext,
  input: { orgId: string; includeDeleted?: boolean | undefined; minPosition?: string | undefined },
) {
  await awaitPosition(ctx, input.minPosition);
  await authorizeQuery(ctx, input.orgId, 'webhooks.list');
  return ctx.deps.webhooks.repository.list(input.orgId, { includeDeleted: input.includeDeleted ?? false });
}

export async function getEndpoint(ctx: AuthedContext, input: EndpointRefInput & { minPosition?: string | undefined }) {
  await awaitPosition(ctx, input.minPosition);
  await authorizeQuery(ctx, input.orgId, 'webhooks.get');
  const endpoint = await ctx.deps.webhooks.repository.get(input.orgId, input.endpointId);
  if (!endpoint)
    throw notFound('webhooks.endpoint_not_found', 'No webhook endpoint with that id in this organization.', {
      endpointId: input.endpointId,
    });
  return endpoint;
}

/**
 * Sends a signed `webhook.ping` to the endpoint now, as a delivery would be sent (every valid
 * secret signs, through the address guard, no redirects), and answers what came back. Nothing
 * is appended or retried. An address the guard refuses is BAD_REQUEST; any other failure
 * (refused connection, timeout, TLS) is an answer with `ok: false`.
 */
export async function pingEndpoint(ctx: AuthedContext, input: EndpointRefInput) {
  const org = await authorizeEarly(ctx, input.orgId, 'webhooks.ping');
  assertOrganizationOpen(org, ctx.deps.now());
  const endpoint = await liveEndpoint(ctx, input.orgId, input.endpointId);
  const now = ctx.deps.now();
  const secrets = await ctx.deps.webhooks.repository.signing(input.orgId, endpoint.id, now);
  if (secrets.length === 0) throw new Error(`webhook endpoint ${endpoint.id} has no secret to sign with`);
  const id = randomUUID();
  const body = JSON.stringify({
    specversion: '1.0',
    id,
    source: `/orgs/${input.orgId}`,
    type: 'webhook.ping',
    subject: streamIds.webhooks(input.orgId),
    time: now.toISOString(),
    datacontenttype: 'application/json',
    data: {
      endpointId: endpoint.id,
      message: 'A test ping from Quorum: this endpoint receives and verifies webhooks.',
    },
  });
  const headers = {
    'content-type': 'application/json',
    'user-agent': 'Quorum-Webhooks/1',
    ...webhookHeaders({ id, timestamp: Math.floor(now.getTime() / 1000), body }, secrets),
  };
  const outcome = await ctx.deps.webhooks.sender.send(endpoint.url, headers, body);
  if (outcome.kind === 'error') {
    if (outcome.error === 'address_not_allowed')
      throw badRequest('webhooks.address_not_allowed', `Endpoints must be public: ${outcome.message}.`, {
        url: endpoint.url,
      });
    if (outcome.error === 'invalid_url') throw badRequest('webhooks.scheme_not_allowed', outcome.message);
    return {
      ok: false as const,
      webhookId: id,
      status: null,
      durationMs: outcome.durationMs,
      error: outcome.error,
      message: outcome.message,
      body: null,
      truncated: false,
    };
  }
  return {
    ok: outcome.status >= 200 && outcome.status < 300,
    webhookId: id,
    status: outcome.status,
    durationMs: outcome.durationMs,
    error: null,
    message: null,
    body: outcome.body,
    truncated: outcome.truncated,
  };
}
