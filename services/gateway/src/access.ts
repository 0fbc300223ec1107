/**
 * Who may do what in an organization. Commands take the caller's role from the
 * organization stream (always current); queries from the members read model, after
 * waiting for `minPosition`. An organization the caller does not belong to answers
 * NOT_FOUND, so its existence is not disclosed.
 *
 * An API key is checked against the organization stream on commands and queries alike: its
 * rights are its role's capped by its maker's current rights (`apiKeyMay`), so a key outlives
 * neither its maker's demotion nor its removal, nor the revocation of the key that made it.
 */
import { randomUUID } from 'node:crypto';
import {
  AppError,
  apiKeyMay,
  assertCan,
  organizationDecider,
  roleOf,
  streamIds,
  type Action,
  type OrganizationState,
  type Role,
} from '@quorum/domain';
import type { Actor } from '@quorum/eventstore';
import { TRPCError } from '@trpc/server';
import type { CommandMeta } from './commands/command-handler';
import { createIdSource } from './commands/ids';
import type { Context, Principal } from './trpc';

export const orgNotFound = () => new AppError('NOT_FOUND', 'organization.not_found', 'Organization not found.');

export function actorOf(principal: Principal): Actor {
  return principal.kind === 'user' ? { kind: 'user', id: principal.userId } : { kind: 'apiKey', id: principal.keyId };
}

/** The caller's role from the organization stream, checked against `action`. */
export function authorizeCommand(principal: Principal, orgId: string, state: OrganizationState, action: Action): Role {
  if (principal.kind === 'apiKey') return authorizeApiKey(principal, orgId, state, action);
  const role = roleOf(state, principal.userId);
  if (!role) throw orgNotFound();
  assertCan(role, action);
  return role;
}

/** An API key's role, checked against `action` and capped by its maker's current rights. */
function authorizeApiKey(
  principal: Extract<Principal, { kind: 'apiKey' }>,
  orgId: string,
  state: OrganizationState,
  action: Action,
): Role {
  if (principal.orgId !== orgId || !state.exists) throw orgNotFound();
  const key = state.apiKeys.get(principal.keyId);
  if (!key?.active) throw new AppError('UNAUTHORIZED', 'auth.api_key_revoked', 'This API key has been revoked.');
  assertCan(key.role, action);
  if (!apiKeyMay(state, principal.keyId, action)) {
    throw new AppError(
      'FORBIDDEN',
      'api_keys.capped_by_maker',
      `This API key may not do ${action}: whoever made it may not (any more).`,
    );
  }
  return key.role;
}

/**
 * The caller's role from the read model, checked against `action`. `fromStream`: from the
 * organization's stream instead, for a check made because a membership change was announced
 * (the change is appended before it is announced, but may not be projected yet).
 */
export async function authorizeQuery(
  ctx: Context & { principal: Principal },
  orgId: string,
  action: Action,
  { fromStream = false }: { fromStream?: boolean } = {},
): Promise<Role> {
  if (fromStream && ctx.principal.kind === 'user') {
    const { state } = await ctx.deps.commands.load(organizationDecider, streamIds.organization(orgId));
    const role = state.exists ? state.members.get(ctx.principal.userId)?.role : undefined;
    if (!role) throw orgNotFound();
    assertCan(role, action);
    return role;
  }
  if (ctx.principal.kind === 'apiKey') {
    if (ctx.principal.orgId !== orgId) throw orgNotFound();
    // The stream, not the read model: a maker's demotion or removal must hold at once.
    const { state } = await ctx.deps.commands.load(organizationDecider, streamIds.organization(orgId));
    return authorizeApiKey(ctx.principal, orgId, state, action);
  }
  return checkedRole(await ctx.deps.read.memberRole(orgId, ctx.principal.userId), action);
}

/** A member's role as the read model holds it: none reads as no such organization. */
function checkedRole(role: string | undefined, action: Action): Role {
  if (!role) throw orgNotFound();
  assertCan(role as Role, action);
  return role as Role;
}

/**
 * A query whose read model can answer the caller's role beside the data: for a user, `read`
 * gets the user's id and returns the role it found with the data, one statement for both, and
 * the data is returned only once that role may do `action` (as {@link authorizeQuery} checks
 * it). An API key is checked first, on the organization's stream, and `read` gets no viewer.
 */
export async function authorizedRead<T>(
  ctx: Context & { principal: Principal },
  orgId: string,
  action: Action,
  read: (viewer: string | undefined) => Promise<{ role: string | undefined; data: T }>,
): Promise<T> {
  if (ctx.principal.kind === 'user') {
    const { role, data } = await read(ctx.principal.userId);
    checkedRole(role, action);
    return data;
  }
  await authorizeQuery(ctx, orgId, action);
  return (await read(undefined)).data;
}

/** Read-your-writes: waits until the projection has applied `minPosition`. */
export async function awaitPosition(ctx: Context, minPosition: string | undefined): Promise<void> {
  if (minPosition === undefined) return;
  const reached = await ctx.deps.waitForPosition(BigInt(minPosition), ctx.deps.readWaitTimeoutMs);
  if (!reached) {
    throw new TRPCError({
      code: 'TIMEOUT',
      message: `The read model has not reached position ${minPosition} within ${ctx.deps.readWaitTimeoutMs} ms; retry shortly.`,
    });
  }
}

/** Metadata and ids for a command; ids derive from the Idempotency-Key when one was sent. */
export function commandMeta(ctx: Context & { principal: Principal }, orgId: string, procedure: string): CommandMeta {
  const actor = actorOf(ctx.principal);
  return {
    orgId,
    actor,
    correlationId: ctx.requestId ?? randomUUID(),
    ...(ctx.traceparent ? { traceparent: ctx.traceparent } : {}),
    // Scoped by caller and procedure, so two callers reusing a key never collide.
    ids: createIdSource(`${actor.kind}:${actor.id}:${procedure}`, ctx.idempotencyKey),
  };
}

/** For commands that create the organization id themselves (org.create). */
export function entityIds(ctx: Context & { principal: Principal }, procedure: string) {
  const actor = actorOf(ctx.principal);
  return createIdSource(`${actor.kind}:${actor.id}:${procedure}`, ctx.idempotencyKey);
}
