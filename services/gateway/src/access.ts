/**
 * Who may do what in an organization. Commands take the caller's role from the
 * organization stream (always current); queries from the members read model, after
 * waiting for `minPosition`. An organization the caller does not belong to answers
 * NOT_FOUND, so its existence is not disclosed.
 */
import { randomUUID } from 'node:crypto';
import { AppError, assertCan, roleOf, type Action, type OrganizationState, type Role } from '@quorum/domain';
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
  const role = principal.kind === 'apiKey' ? (principal.orgId === orgId && state.exists ? principal.role : undefined) : roleOf(state, principal.userId);
  if (!role) throw orgNotFound();
  assertCan(role, action);
  return role;
}

/** The caller's role from the read model, checked against `action`. */
export async function authorizeQuery(ctx: Context & { principal: Principal }, orgId: string, action: Action): Promise<Role> {
  let role: Role | undefined;
  if (ctx.principal.kind === 'apiKey') {
    role = ctx.principal.orgId === orgId ? ctx.principal.role : undefined;
  } else {
    role = (await ctx.deps.read.memberRole(orgId, ctx.principal.userId)) as Role | undefined;
  }
  if (!role) throw orgNotFound();
  assertCan(role, action);
  return role;
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
