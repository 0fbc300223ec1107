/**
 * The cascade of API key revocations, shared by revoking a key (the keys it made) and removing
 * a member (the keys they made).
 */
import { AppError, apiKeysMadeBy, organizationDecider, streamIds } from '@quorum/domain';
import { commandMeta } from '../access';
import type { AuthedContext, Principal } from '../trpc';

/** Who is acting, as recorded in `createdBy` and `revokedBy`. */
export const actorId = (principal: Principal) => (principal.kind === 'user' ? principal.userId : principal.keyId);

/**
 * Revokes every active key made, directly or through other keys, by `makerId` (a key just
 * revoked, a member just removed). Those keys can already do nothing (`apiKeyMay` caps a key by
 * its maker); this makes it visible in the list and the event log, and closes their sockets and
 * feeds on every gateway. Each key stops working first (its table row and the revocation log),
 * then one append records them all. Resolves with that append's position, if any.
 */
export async function revokeKeysMadeBy(
  ctx: AuthedContext,
  orgId: string,
  makerId: string,
): Promise<bigint | undefined> {
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
