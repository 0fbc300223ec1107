import { organizationDecider, streamIds } from '@quorum/domain';
import { authorizeCommand, authorizeQuery, awaitPosition, commandMeta } from '../access';
import type { AuthedContext } from '../trpc';
import type { CreateApiKeyInput, RevokeApiKeyInput } from '@quorum/api/schemas';
import { actorId, revokeKeysMadeBy } from './key-revocation';

/**
 * The key's existence is an event (`api_key.created`, the audit trail integrators and the
 * activity page see); its secret lives only, hashed, in the gateway's table. The event is
 * appended first: if storing the key then fails, a revocation event follows, so the log never
 * shows a usable key that is not there.
 */
export async function createApiKey(ctx: AuthedContext, input: CreateApiKeyInput) {
  const meta = commandMeta(ctx, input.orgId, 'apiKeys.create');
  const keyId = meta.ids.entityId(`api-key|${input.orgId}`);
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

export async function listApiKeys(ctx: AuthedContext, input: { orgId: string; minPosition?: string | undefined }) {
  // The keys live in a table, but who may list them comes from the members read model.
  await awaitPosition(ctx, input.minPosition);
  await authorizeQuery(ctx, input.orgId, 'apiKeys.list');
  return ctx.deps.apiKeys.list(input.orgId);
}

/** The key stops working first, then the revocation is recorded: a crash between leaves it revoked. */
export async function revokeApiKey(ctx: AuthedContext, input: RevokeApiKeyInput) {
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
