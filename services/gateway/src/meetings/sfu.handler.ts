/**
 * What the SFU reports: a participant connected to a meeting, or left it. The SFU calls these
 * with a service token (see `@quorum/signaling/tokens`), never with a user's credentials; the
 * decider applies the same rules as `meetings.join`, so the stream stays the authority even if a
 * join token was issued before the meeting was locked or filled up.
 */
import {
  AppError,
  NodeRunSchema,
  apiKeyMay,
  isMember,
  sessionDecider,
  streamIds,
  type LeaveReason,
} from '@quorum/domain';
import type { Actor } from '@quorum/eventstore';
import { randomUUID } from 'node:crypto';
import type { CommandMeta } from '../commands/command-handler';
import { createIdSource } from '../commands/ids';
import { holdsSeatIn, loadOrgFacts, meetingSecondsUsedIn } from '../org-facts';
import type { Context, ServicePrincipal } from '../trpc';
import { sessionOf } from './meeting-session';

type ServiceContext = Context & { service: ServicePrincipal };

function serviceMeta(ctx: ServiceContext, orgId: string, procedure: string): CommandMeta {
  const actor: Actor = { kind: 'system', id: ctx.service.subject };
  return {
    orgId,
    actor,
    correlationId: ctx.requestId ?? randomUUID(),
    ...(ctx.traceparent ? { traceparent: ctx.traceparent } : {}),
    ids: createIdSource(`system:${ctx.service.subject}:${procedure}`, ctx.idempotencyKey),
  };
}

/**
 * The node run a report comes from, `<nodeId>/<instance>`: the node from the service token's
 * subject (`sfu:<nodeId>`), the run from the report. Undefined for a caller that is not a node
 * or names no run (a node of an earlier release).
 */
export function nodeRunOf(ctx: ServiceContext, instance: string | undefined): string | undefined {
  const subject = ctx.service.subject;
  if (instance === undefined || !subject.startsWith('sfu:')) return undefined;
  const run = `${subject.slice('sfu:'.length)}/${instance}`;
  return NodeRunSchema.safeParse(run).success ? run : undefined;
}

/**
 * A participant connected through the reporting node. Someone already present through another
 * run of a node has reconnected (recorded, with the run); through the same run, nothing is.
 *
 * The SFU admits no one the gateway refuses here, so this is where a join token's holder is
 * checked as they are now, not as they were when it was issued: still a member (or, for a key,
 * a key still allowed to join), and the token not used before (each works once; its id is
 * remembered until it expires).
 */
export async function reportJoined(
  ctx: ServiceContext,
  input: {
    orgId: string;
    sessionId: string;
    participantId: string;
    displayName: string;
    instance?: string | undefined;
    token?: { id: string; expiresAt: number } | undefined;
  },
) {
  const { org, facts } = await loadOrgFacts(ctx, input.orgId);
  if (!facts) throw new AppError('NOT_FOUND', 'organization.not_found', 'Organization not found.');
  if (!isMember(org, input.participantId) && !apiKeyMay(org, input.participantId, 'meetings.join')) {
    throw new AppError('FORBIDDEN', 'meetings.not_a_member', 'You are no longer a member of this organization.');
  }
  if (
    input.token &&
    !(await ctx.deps.joinTokens.use(input.token.id, new Date(input.token.expiresAt * 1000), ctx.deps.now()))
  ) {
    throw new AppError(
      'UNAUTHORIZED',
      'token.used',
      'This join token was used already; ask for a new one with meetings.join.',
    );
  }
  const streamId = streamIds.session(input.sessionId);
  // A session's host never changes, so their seat can be read before deciding.
  const { hostUserId } = sessionOf((await ctx.deps.commands.load(sessionDecider, streamId)).state, input.orgId);
  const hostHoldsSeat = await holdsSeatIn(ctx, input.orgId, hostUserId);
  const meetingSecondsUsed = await meetingSecondsUsedIn(ctx, input.orgId, facts, ctx.deps.now());
  const meta = serviceMeta(ctx, input.orgId, 'sfu.participantJoined');
  try {
    const outcome = await ctx.deps.commands.execute(sessionDecider, streamId, meta, (state) =>
      sessionDecider.decide(
        {
          type: 'JoinSession',
          participantId: input.participantId,
          displayName: input.displayName,
          org: facts,
          hostHoldsSeat,
          meetingSecondsUsed,
          node: nodeRunOf(ctx, input.instance),
          at: ctx.deps.now(),
        },
        sessionOf(state, input.orgId),
      ),
    );
    return { position: outcome.position.toString(), alreadyJoined: false };
  } catch (err) {
    // A reconnect of someone the stream still counts as present: nothing to record.
    if (err instanceof AppError && err.reason === 'session.already_joined')
      return { position: null, alreadyJoined: true };
    throw err;
  }
}

/**
 * A leave, at the time the SFU saw it (`at`, else now; never later than now). The SFU retries a
 * report the gateway did not answer, under one Idempotency-Key per leave, so a report that
 * landed before its answer was lost is not recorded twice.
 */
export async function reportLeft(
  ctx: ServiceContext,
  input: {
    orgId: string;
    sessionId: string;
    participantId: string;
    reason: LeaveReason;
    at?: string | undefined;
    instance?: string | undefined;
  },
) {
  const meta = serviceMeta(ctx, input.orgId, 'sfu.participantLeft');
  const now = ctx.deps.now();
  const at = input.at && new Date(input.at).getTime() < now.getTime() ? new Date(input.at) : now;
  try {
    const outcome = await ctx.deps.commands.execute(sessionDecider, streamIds.session(input.sessionId), meta, (state) =>
      sessionDecider.decide(
        {
          type: 'LeaveSession',
          participantId: input.participantId,
          reason: input.reason,
          at,
          decidedAt: ctx.deps.now(),
          node: nodeRunOf(ctx, input.instance),
        },
        sessionOf(state, input.orgId),
      ),
    );
    return { position: outcome.position.toString(), recorded: true };
  } catch (err) {
    // Gone already (removed by the host, or the meeting ended), or back through another node: nothing to record.
    if (
      err instanceof AppError &&
      ['session.not_present', 'session.ended', 'session.participant_elsewhere'].includes(err.reason)
    ) {
      return { position: null, recorded: false };
    }
    throw err;
  }
}
