import { AppError, entitlementsFor, organizationDecider, streamIds } from '@quorum/domain';
import { authorizeCommand, authorizeQuery, awaitPosition } from '../access';
import type { Context, Principal } from '../trpc';
import type { CreateApiKeyInput, RevokeApiKeyInput } from './api-keys.schema';

type Authed = Context & { principal: Principal };

export async function createApiKey(ctx: Authed, input: CreateApiKeyInput) {
  const org = await ctx.deps.commands.load(organizationDecider, streamIds.organization(input.orgId));
  authorizeCommand(ctx.principal, input.orgId, org.state, 'apiKeys.create');
  if (!org.state.exists) throw new AppError('NOT_FOUND', 'organization.not_found', 'Organization not found.');
  if (!entitlementsFor(org.state.plan).apiAccess) {
    throw new AppError('PRECONDITION_FAILED', 'plan.no_api_access', `The ${org.state.plan} plan has no API access; change the plan to create API keys.`);
  }
  const createdBy = ctx.principal.kind === 'user' ? ctx.principal.userId : ctx.principal.keyId;
  return ctx.deps.apiKeys.create({ orgId: input.orgId, name: input.name, role: input.role, createdBy });
}

export async function listApiKeys(ctx: Authed, input: { orgId: string; minPosition?: string | undefined }) {
  // The keys live in a table, but who may list them comes from the members read model.
  await awaitPosition(ctx, input.minPosition);
  await authorizeQuery(ctx, input.orgId, 'apiKeys.list');
  return ctx.deps.apiKeys.list(input.orgId);
}

export async function revokeApiKey(ctx: Authed, input: RevokeApiKeyInput) {
  const org = await ctx.deps.commands.load(organizationDecider, streamIds.organization(input.orgId));
  authorizeCommand(ctx.principal, input.orgId, org.state, 'apiKeys.revoke');
  await ctx.deps.apiKeys.revoke(input.orgId, input.keyId);
  return { revoked: true as const };
}
