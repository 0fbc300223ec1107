import { AppError, apiKeysMadeBy, organizationDecider, streamIds } from '@quorum/domain';
import { authorizeCommand, authorizeQuery, awaitPosition, commandMeta } from '../access';
import type { Context, Principal } from '../trpc';
import type { CreateApiKeyInput, RevokeApiKeyInput } from './api-keys.schema';

type Authed = Context & { principal: Principal };

const actorId = (principal: Principal) => (principal.kind === 'user' ? principal.userId : principal.keyId);

/**
 * The key's existence is an event (`api_key.created`, the audit trail integrators and the
 * activity page see); its secret lives only, hashed, in the gateway's table. The event is
 * appended first: if storing the key then fails, a revocation event follows, so the log never
 * shows a usable key that is not there.
 */
export async function createApiKey(ctx: Authed, input: CreateApiKeyInput) {
  const meta = commandMeta(ctx, input.orgId, 'apiKeys.create');
  const keyId = meta.ids.entityId('api-key');
  const createdBy = actorId(ctx.principal);
  const outcome = await ctx.deps.commands.execute(
    organizationDecider,
    streamIds.organization(input.orgId),
    meta,
    (state) => {
      authorizeCommand(ctx.principal, input.orgId, state, 'apiKeys.create');
      return organizationDecider.decide(
        {
          type: 'CreateApiKey',
          orgId: input.orgId,
          keyId,
          name: input.name,
          role: input.role,
          createdBy,
          at: ctx.deps.now(),
        },
        state,
      );
    },
  );
  try {
    const created = await ctx.deps.apiKeys.create({
      id: keyId,
      orgId: input.orgId,
      name: input.name,
      role: input.role,
      createdBy,
    });
    return { ...created, position: outcome.position.toString() };
  } catch (err) {
    ctx.log.error({ err, keyId }, 'API key event appended but the key could not be stored; recording its revocation');
    await ctx.deps.commands.execute(
      organizationDecider,
      streamIds.organization(input.orgId),
      commandMeta({ ...ctx, idempotencyKey: undefined }, input.orgId, 'apiKeys.revoke'),
      (state) =>
        organizationDecider.decide(
          { type: 'RevokeApiKey', orgId: input.orgId, keyId, revokedBy: createdBy, at: ctx.deps.now() },
          state,
        ),
    );
    throw err;
  }
}

export async function listApiKeys(ctx: Authed, input: { orgId: string; minPosition?: string | undefined }) {
  // The keys live in a table, but who may list them comes from the members read model.
  await awaitPosition(ctx, input.minPosition);
  await authorizeQuery(ctx, input.orgId, 'apiKeys.list');
  return ctx.deps.apiKeys.list(input.orgId);
}

/** The key stops working first, then the revocation is recorded: a crash between leaves it revoked. */
export async function revokeApiKey(ctx: Authed, input: RevokeApiKeyInput) {
  const stream = streamIds.organization(input.orgId);
  const revokedBy = actorId(ctx.principal);
  const command = {
    type: 'RevokeApiKey' as const,
    orgId: input.orgId,
    keyId: input.keyId,
    revokedBy,
    at: ctx.deps.now(),
  };
  const org = await ctx.deps.commands.load(organizationDecider, stream);
  authorizeCommand(ctx.principal, input.orgId, org.state, 'apiKeys.revoke');
  organizationDecider.decide(command, org.state);
  await ctx.deps.apiKeys.revoke(input.orgId, input.keyId);
  const outcome = await ctx.deps.commands.execute(
    organizationDecider,
    stream,
    commandMeta(ctx, input.orgId, 'apiKeys.revoke'),
    (state) => organizationDecider.decide(command, state),
  );
  const cascaded = await revokeKeysMadeBy(ctx, input.orgId, input.keyId);
  return { revoked: true as const, position: (cascaded ?? outcome.position).toString() };
}

/**
 * Revokes every active key made, directly or through other keys, by `makerId` (a key just
 * revoked, a member just removed). Those keys can already do nothing (`apiKeyMay` caps a key by
 * its maker); this makes it visible in the list and the event log, and closes their sockets and
 * feeds on every gateway. Each key stops working first (its table row and the revocation log),
 * then one append records them all. Resolves with that append's position, if any.
 */
export async function revokeKeysMadeBy(ctx: Authed, orgId: string, makerId: string): Promise<bigint | undefined> {
  const stream = streamIds.organization(orgId);
  const made = apiKeysMadeBy((await ctx.deps.commands.load(organizationDecider, stream)).state, makerId);
  if (made.length === 0) return undefined;
  for (const keyId of made) {
    await ctx.deps.apiKeys.revoke(orgId, keyId).catch((err: unknown) => {
      // Revoked meanwhile (a concurrent revocation): what this wanted is done.
      if (!(err instanceof AppError && err.code === 'NOT_FOUND')) throw err;
    });
  }
  const revokedBy = actorId(ctx.principal);
  const outcome = await ctx.deps.commands.execute(
    organizationDecider,
    stream,
    commandMeta({ ...ctx, idempotencyKey: undefined }, orgId, 'apiKeys.revoke'),
    (state) =>
      apiKeysMadeBy(state, makerId)
        .filter((keyId) => made.includes(keyId))
        .flatMap((keyId) =>
          organizationDecider.decide({ type: 'RevokeApiKey', orgId, keyId, revokedBy, at: ctx.deps.now() }, state),
        ),
  );
  ctx.log.info({ makerId, revoked: made }, 'revoked the API keys made by a revoked key or a removed member');
  return outcome.position;
}
