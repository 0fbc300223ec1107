/**
 * Meetings: schedule, read, join (a signed join token for the SFU), and the host controls.
 * Each command decides on the session stream with facts read just before from the
 * organization stream (plan, status, the caller's role) and the seats stream (does the host
 * hold a seat). Joins and leaves themselves are reported by the SFU (see `sfu.handler.ts`):
 * `meetings.join` only admits in advance, so a refusal reaches the user before any media.
 */
import {
  AppError,
  isMember,
  sessionDecider,
  streamIds,
  type Action,
  type CreateMeetingInput,
  type JoinMeetingInput,
  type ListMeetingsInput,
  type MeetingRefInput,
  type Moderator,
  type MuteParticipantInput,
  type RemoveParticipantInput,
  type Role,
  type SessionCommand,
} from '@quorum/domain';
import type { Placement } from '@quorum/placement';
import { signJoinToken } from '@quorum/signaling/tokens';
import { authorizeCommand, authorizeQuery, awaitPosition, commandMeta, entityIds, orgNotFound } from '../access';
import type { CommandMeta } from '../commands/command-handler';
import { holdsSeatIn, loadOrgFacts, meetingSecondsUsedIn } from '../org-facts';
import type { AuthedContext, Context, Principal } from '../trpc';
import { meetingNotFound, sessionOf } from './meeting-session';

/** The participant id of a principal: a user's id, or an API key's id for integrations. */
export function participantIdOf(principal: Principal): string {
  return principal.kind === 'user' ? principal.userId : principal.keyId;
}

function meetingsConfig(ctx: Context) {
  const config = ctx.deps.meetings;
  if (!config)
    throw new AppError(
      'PRECONDITION_FAILED',
      'meetings.unavailable',
      'Meetings are not enabled on this server (no SFU is configured).',
    );
  return config;
}

async function authorized(ctx: AuthedContext, orgId: string, action: Action) {
  const { org, facts } = await loadOrgFacts(ctx, orgId);
  const role = authorizeCommand(ctx.principal, orgId, org, action);
  if (!facts || !org.exists) throw orgNotFound();
  return { role, facts, org };
}

const isOrgModerator = (role: Role) => role === 'owner' || role === 'admin';

/** The host a new meeting gets: the calling user, or the member an owner, admin or API key names. */
function hostOf(principal: Principal, role: Role, named: string | undefined): string {
  if (principal.kind === 'apiKey') {
    if (!named)
      throw new AppError(
        'BAD_REQUEST',
        'meetings.host_required',
        'An API key must name the meeting host (hostUserId).',
      );
    return named;
  }
  if (named && named !== principal.userId && !isOrgModerator(role)) {
    throw new AppError(
      'FORBIDDEN',
      'meetings.host_not_self',
      'Only an owner or admin may schedule a meeting for another host.',
    );
  }
  return named ?? principal.userId;
}

export async function createMeeting(ctx: AuthedContext, input: CreateMeetingInput) {
  const { role, facts, org } = await authorized(ctx, input.orgId, 'meetings.create');
  const hostUserId = hostOf(ctx.principal, role, input.hostUserId);
  if (!isMember(org, hostUserId)) {
    throw new AppError('NOT_FOUND', 'meetings.host_not_member', 'The named host is not a member of this organization.');
  }
  const hostHoldsSeat = await holdsSeatIn(ctx, input.orgId, hostUserId);
  const sessionId = entityIds(ctx, 'meetings.create').entityId(`session|${input.orgId}`);
  const meta = commandMeta(ctx, input.orgId, 'meetings.create');
  const outcome = await ctx.deps.commands.execute(sessionDecider, streamIds.session(sessionId), meta, (state) =>
    sessionDecider.decide(
      {
        type: 'ScheduleSession',
        sessionId,
        orgId: input.orgId,
        title: input.title,
        hostUserId,
        scheduledFor: input.scheduledFor ? new Date(input.scheduledFor) : null,
        org: facts,
        hostHoldsSeat,
        at: ctx.deps.now(),
      },
      state,
    ),
  );
  return { sessionId, position: outcome.position.toString() };
}

function toMeeting(row: NonNullable<Awaited<ReturnType<Context['deps']['read']['meeting']>>>['meeting']) {
  const iso = (v: Date | string | null) => (v === null ? null : new Date(v).toISOString());
  return {
    sessionId: row.session_id,
    orgId: row.org_id,
    title: row.title,
    hostUserId: row.host_user_id,
    status: row.status,
    locked: row.locked,
    scheduledFor: iso(row.scheduled_for),
    createdAt: iso(row.created_at)!,
    startedAt: iso(row.started_at),
    endedAt: iso(row.ended_at),
    endReason: row.end_reason,
    participantsNow: row.participants_now,
    peakParticipants: row.peak_participants,
  };
}

export async function getMeeting(ctx: AuthedContext, input: MeetingRefInput & { minPosition?: string | undefined }) {
  await awaitPosition(ctx, input.minPosition);
  await authorizeQuery(ctx, input.orgId, 'meetings.get');
  const found = await ctx.deps.read.meeting(input.orgId, input.sessionId);
  if (!found) throw meetingNotFound();
  return {
    ...toMeeting(found.meeting),
    participants: found.participants.map((p) => ({
      participantId: p.participant_id,
      displayName: p.display_name,
      isHost: p.is_host,
      joinedAt: new Date(p.joined_at).toISOString(),
    })),
  };
}

export async function listMeetings(
  ctx: AuthedContext,
  input: ListMeetingsInput & { minPosition?: string | undefined },
) {
  await awaitPosition(ctx, input.minPosition);
  await authorizeQuery(ctx, input.orgId, 'meetings.list');
  const rows = await ctx.deps.read.meetings(input.orgId, {
    limit: input.limit,
    ...(input.status ? { status: input.status } : {}),
  });
  return {
    meetings: rows.map((row) => ({
      ...toMeeting(row),
      durationSeconds: row.duration_seconds === null ? null : Math.round(row.duration_seconds),
      participantSeconds: Math.round(row.participant_seconds ?? 0),
      distinctParticipants: row.distinct_participants ?? 0,
    })),
  };
}

/**
 * Admits the caller in advance (the same rules the SFU's report will be decided by) and signs a
 * join token for the SFU. Someone already in the meeting (another tab, a reconnect) is admitted.
 */
export async function joinMeeting(ctx: AuthedContext, input: JoinMeetingInput) {
  const config = meetingsConfig(ctx);
  const { role, facts } = await authorized(ctx, input.orgId, 'meetings.join');
  const session = sessionOf(
    (await ctx.deps.commands.load(sessionDecider, streamIds.session(input.sessionId))).state,
    input.orgId,
  );
  const participantId = participantIdOf(ctx.principal);
  const displayName = input.displayName ?? (ctx.principal.kind === 'user' ? ctx.principal.email : 'Integration');
  const now = ctx.deps.now();
  const hostHoldsSeat = await holdsSeatIn(ctx, input.orgId, session.hostUserId);
  const meetingSecondsUsed = await meetingSecondsUsedIn(ctx, input.orgId, facts, now);
  try {
    sessionDecider.decide(
      { type: 'JoinSession', participantId, displayName, org: facts, hostHoldsSeat, meetingSecondsUsed, at: now },
      session,
    );
  } catch (err) {
    if (!(err instanceof AppError && err.reason === 'session.already_joined')) throw err;
  }
  const isHost = participantId === session.hostUserId;
  const { token, expiresAt } = signJoinToken(
    {
      sub: participantId,
      org: input.orgId,
      sid: input.sessionId,
      name: displayName,
      host: isHost,
      mod: isHost || isOrgModerator(role),
    },
    config.joinTokenSecret,
    { ttlSeconds: config.joinTokenTtlSeconds, nowSeconds: Math.floor(now.getTime() / 1000) },
  );
  const others = [...session.present.keys()].filter((id) => id !== participantId).length;
  return {
    participantId,
    token,
    expiresAt: expiresAt.toISOString(),
    signalingUrl: await config.signalingUrlFor(input.sessionId, ctx.origin),
    /** Expected mode; the signaling `join` answer is authoritative. */
    mode: others < 2 ? ('p2p' as const) : ('sfu' as const),
    iceServers: config.iceServers,
  };
}

/** Runs a host control: the role table first, then the decider's own host check. */
async function hostControl(
  ctx: AuthedContext,
  input: MeetingRefInput,
  action: Action,
  command: (by: Moderator) => SessionCommand,
) {
  const { role } = await authorized(ctx, input.orgId, action);
  const by: Moderator = { userId: participantIdOf(ctx.principal), isOrgModerator: isOrgModerator(role) };
  const meta: CommandMeta = commandMeta(ctx, input.orgId, action);
  const outcome = await ctx.deps.commands.execute(sessionDecider, streamIds.session(input.sessionId), meta, (state) =>
    sessionDecider.decide(command(by), sessionOf(state, input.orgId)),
  );
  return { position: outcome.position.toString() };
}

export const endMeeting = (ctx: AuthedContext, input: MeetingRefInput) =>
  hostControl(ctx, input, 'meetings.end', (by) => ({ type: 'EndSession', by, at: ctx.deps.now() }));

export const lockMeeting = (ctx: AuthedContext, input: MeetingRefInput) =>
  hostControl(ctx, input, 'meetings.lock', (by) => ({ type: 'LockSession', by, at: ctx.deps.now() }));

export const unlockMeeting = (ctx: AuthedContext, input: MeetingRefInput) =>
  hostControl(ctx, input, 'meetings.unlock', (by) => ({ type: 'UnlockSession', by, at: ctx.deps.now() }));

export const muteParticipant = (ctx: AuthedContext, input: MuteParticipantInput) =>
  hostControl(ctx, input, 'meetings.mute', (by) => ({
    type: 'MuteParticipant',
    participantId: input.participantId,
    kind: input.kind,
    by,
    at: ctx.deps.now(),
  }));

export const removeParticipant = (ctx: AuthedContext, input: RemoveParticipantInput) =>
  hostControl(ctx, input, 'meetings.remove', (by) => ({
    type: 'RemoveParticipant',
    participantId: input.participantId,
    by,
    at: ctx.deps.now(),
  }));

/**
 * `MeetingsConfig.signalingUrlFor` over a placement: the node hosting the meeting (assigned
 * to the least-loaded live node on first use), or a clear refusal when no node is live.
 */
export function signalingFromPlacement(placement: Pick<Placement, 'nodeFor'>) {
  return async (sessionId: string): Promise<string> => {
    const node = await placement.nodeFor(sessionId);
    if (!node)
      throw new AppError(
        'PRECONDITION_FAILED',
        'meetings.no_sfu',
        'No SFU node is available to host meetings right now; try again shortly.',
      );
    return node.signalingUrl;
  };
}
