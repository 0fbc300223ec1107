/**
 * The session aggregate (`session-<sessionId>`): one meeting. It enforces the plan (most
 * participants at once, the host must hold a seat, the organization must be trialing or
 * active, a free organization joins nobody new once its included minutes are used), locking (nobody new is admitted), removal (a removed participant cannot rejoin)
 * and the end (by the host, or after the last person left and a grace period passed).
 */
import { FoldScope, type Decider } from '../decider';
import { badRequest, conflict, forbidden, notFound, preconditionFailed } from '../errors';
import { cutOffAtIncludedMinutes, entitlementsFor } from '../plans';
import { usagePeriodOf } from '../streams';
import { assertUnreachable } from '../util/assert-unreachable';
import {
  MAX_LEAVE_BACKDATE_MS,
  type EndEmptySession,
  type EndSession,
  type JoinSession,
  type LeaveSession,
  type LockSession,
  type Moderator,
  type MuteParticipant,
  type OrgFacts,
  type RemoveParticipant,
  type ScheduleSession,
  type SessionCommand,
  type UnlockSession,
} from './session.commands';
import { DisplayNameSchema, MeetingTitleSchema, type SessionEndReason, type SessionEvent } from './session.events';

/** Lifecycle of a session. */
export type SessionStatus = 'scheduled' | 'live' | 'ended';

/** Someone in the meeting now. */
export interface PresentParticipant {
  readonly displayName: string;
  readonly isHost: boolean;
  readonly joinedAt: string;
  /** The SFU node run they are connected through, when recorded. */
  readonly node?: string | undefined;
}

/** A session that exists. */
export interface Session {
  readonly exists: true;
  readonly sessionId: string;
  readonly orgId: string;
  readonly title: string;
  readonly hostUserId: string;
  readonly scheduledFor: string | null;
  readonly status: SessionStatus;
  readonly locked: boolean;
  /** Participants in the meeting now, by participant id. */
  readonly present: ReadonlyMap<string, PresentParticipant>;
  /** Everyone who ever joined; a locked meeting still readmits them. */
  readonly joinedBefore: ReadonlySet<string>;
  /** Removed participants; they cannot rejoin. */
  readonly removed: ReadonlySet<string>;
  readonly startedAt: string | null;
  /** When the room last became empty (the last participant left), or null. */
  readonly emptySince: string | null;
  readonly endedAt: string | null;
  readonly endReason: SessionEndReason | null;
}

/** State of a session stream. */
export type SessionState = { readonly exists: false } | Session;

/** State of an empty session stream. */
export const initialSessionState: SessionState = { exists: false };

/** Organization statuses in which meetings may be scheduled and joined. */
const MEETING_STATUSES = new Set(['trialing', 'active']);

function withoutPresent(state: Session, participantId: string, at: string, scope: FoldScope): Session {
  const present = scope.map(state.present);
  present.delete(participantId);
  return { ...state, present, emptySince: present.size === 0 ? at : state.emptySince };
}

function evolve(state: SessionState, event: SessionEvent, scope: FoldScope = new FoldScope()): SessionState {
  if (event.type === 'session.scheduled') {
    return {
      exists: true,
      sessionId: event.data.sessionId,
      orgId: event.data.orgId,
      title: event.data.title,
      hostUserId: event.data.hostUserId,
      scheduledFor: event.data.scheduledFor,
      status: 'scheduled',
      locked: false,
      present: new Map(),
      joinedBefore: new Set(),
      removed: new Set(),
      startedAt: null,
      emptySince: null,
      endedAt: null,
      endReason: null,
    };
  }
  if (!state.exists) return state; // only a scheduled session has later events
  switch (event.type) {
    case 'session.started':
      return { ...state, status: 'live', startedAt: event.data.at };
    case 'participant.joined': {
      const { participantId, displayName, isHost, at, node } = event.data;
      return {
        ...state,
        present: scope.map(state.present).set(participantId, { displayName, isHost, joinedAt: at, node }),
        joinedBefore: scope.set(state.joinedBefore).add(participantId),
        emptySince: null,
      };
    }
    case 'participant.left':
      return withoutPresent(state, event.data.participantId, event.data.at, scope);
    case 'participant.reconnected': {
      const present = state.present.get(event.data.participantId);
      if (!present) return state;
      return {
        ...state,
        present: scope.map(state.present).set(event.data.participantId, { ...present, node: event.data.node }),
      };
    }
    case 'participant.removed':
      return {
        ...withoutPresent(state, event.data.participantId, event.data.at, scope),
        removed: scope.set(state.removed).add(event.data.participantId),
      };
    case 'session.locked':
      return { ...state, locked: true };
    case 'session.unlocked':
      return { ...state, locked: false };
    case 'participant.muted':
      return state;
    case 'session.ended':
      return { ...state, status: 'ended', present: new Map(), endedAt: event.data.at, endReason: event.data.reason };
    default:
      return assertUnreachable(event);
  }
}

function decide(command: SessionCommand, state: SessionState): SessionEvent[] {
  if (command.type === 'ScheduleSession') return schedule(command, state);
  const session = existing(state);
  switch (command.type) {
    case 'JoinSession':
      return join(command, session);
    case 'LeaveSession':
      return leave(command, session);
    case 'LockSession':
      return lock(command, session);
    case 'UnlockSession':
      return unlock(command, session);
    case 'MuteParticipant':
      return mute(command, session);
    case 'RemoveParticipant':
      return remove(command, session);
    case 'EndSession':
      return end(command, session);
    case 'EndEmptySession':
      return endEmpty(command, session);
    default:
      return assertUnreachable(command);
  }
}

function existing(state: SessionState): Session {
  if (!state.exists) throw notFound('session.not_found', 'Meeting not found.');
  return state;
}

function assertNotEnded(state: Session): void {
  if (state.status === 'ended') {
    throw preconditionFailed('session.ended', 'This meeting has ended.', { sessionId: state.sessionId });
  }
}

function assertOrgMayMeet(org: OrgFacts): void {
  if (!MEETING_STATUSES.has(org.status)) {
    throw preconditionFailed(
      'session.organization_inactive',
      `The organization is ${org.status.replace('_', ' ')}; meetings need it to be trialing or active.`,
      { status: org.status },
    );
  }
}

function assertHostSeat(hostHoldsSeat: boolean, hostUserId: string): void {
  if (!hostHoldsSeat) {
    throw preconditionFailed(
      'session.host_without_seat',
      'The meeting host needs a seat; ask an admin to assign one.',
      {
        hostUserId,
      },
    );
  }
}

function assertModerator(state: Session, by: Moderator): void {
  if (by.userId !== state.hostUserId && !by.isOrgModerator) {
    throw forbidden('session.not_host', "Only the meeting's host (or an organization owner or admin) may do this.", {
      hostUserId: state.hostUserId,
    });
  }
}

function assertPresent(state: Session, participantId: string): void {
  if (!state.present.has(participantId)) {
    throw notFound('session.not_present', 'That participant is not in the meeting.', { participantId });
  }
}

function schedule(command: ScheduleSession, state: SessionState): SessionEvent[] {
  if (state.exists)
    throw conflict('session.already_exists', 'A meeting with this id already exists.', {
      sessionId: command.sessionId,
    });
  const title = MeetingTitleSchema.safeParse(command.title);
  if (!title.success) throw badRequest('session.bad_title', 'A meeting title must be 1 to 200 characters.', {});
  if (command.scheduledFor !== null && command.scheduledFor.getTime() < command.at.getTime() - 60_000) {
    throw badRequest('session.scheduled_in_past', 'A meeting cannot be scheduled in the past.', {
      scheduledFor: command.scheduledFor.toISOString(),
    });
  }
  assertOrgMayMeet(command.org);
  assertHostSeat(command.hostHoldsSeat, command.hostUserId);
  return [
    {
      type: 'session.scheduled',
      data: {
        sessionId: command.sessionId,
        orgId: command.orgId,
        title: title.data,
        hostUserId: command.hostUserId,
        scheduledFor: command.scheduledFor?.toISOString() ?? null,
      },
    },
  ];
}

/**
 * Refuses a join once an organization on a plan cut off at its included minutes (the free
 * plan) has used them in the UTC month of the join. Everyone counts, the host too: a host
 * rejoining is a new join. Exactly at the limit is used up (seconds, not rounded minutes).
 */
function assertMinutesLeft(command: JoinSession): void {
  const { plan } = command.org;
  if (!cutOffAtIncludedMinutes(plan)) return;
  const included = entitlementsFor(plan).meetingMinutesPerMonth!;
  const used = command.meetingSecondsUsed;
  if (used === null) {
    // A programming error in the caller, not a refusal: admitting would let the limit slip.
    throw new Error(`JoinSession on the ${plan} plan needs meetingSecondsUsed`);
  }
  if (used < included * 60) return;
  const month = command.at;
  const resetsAt = new Date(Date.UTC(month.getUTCFullYear(), month.getUTCMonth() + 1, 1));
  throw preconditionFailed(
    'session.minutes_exhausted',
    `This organization has used the ${included.toLocaleString('en-US')} meeting minutes its ` +
      `${plan.charAt(0).toUpperCase()}${plan.slice(1)} plan includes this month, so nobody new can join a ` +
      `meeting until ${resetsAt.toISOString().slice(0, 10)} (UTC). An owner or billing member can upgrade ` +
      'the plan to meet again now.',
    {
      plan,
      includedMinutes: included,
      usedMinutes: Math.ceil(used / 60),
      period: usagePeriodOf(command.at),
      resetsAt: resetsAt.toISOString(),
    },
  );
}

/** Admits `participantId` (starting the session on its first join) or throws the refusal. */
function join(command: JoinSession, state: Session): SessionEvent[] {
  const { participantId } = command;
  assertNotEnded(state);
  assertOrgMayMeet(command.org);
  assertHostSeat(command.hostHoldsSeat, state.hostUserId);
  if (state.removed.has(participantId)) {
    throw forbidden('session.participant_removed', 'You were removed from this meeting and cannot rejoin it.', {
      participantId,
    });
  }
  const present = state.present.get(participantId);
  if (present) {
    // Their node failed (or the meeting moved) and they came back through another one: the
    // presence goes on, now through that run, whose leave is the one that counts.
    if (command.node !== undefined && command.node !== present.node) {
      return [
        { type: 'participant.reconnected', data: { participantId, node: command.node, at: command.at.toISOString() } },
      ];
    }
    throw conflict('session.already_joined', 'This participant is already in the meeting.', { participantId });
  }
  // After the presence check: someone already in the meeting (reconnecting through another
  // node) is never cut off; only a new join is.
  assertMinutesLeft(command);
  const isHost = participantId === state.hostUserId;
  if (state.locked && !isHost && !state.joinedBefore.has(participantId)) {
    throw preconditionFailed('session.locked', 'The meeting is locked; the host admits nobody new.', {});
  }
  const { maxParticipantsPerMeeting } = entitlementsFor(command.org.plan);
  if (state.present.size >= maxParticipantsPerMeeting) {
    throw preconditionFailed(
      'session.full',
      `The meeting is full: the ${command.org.plan} plan allows ${maxParticipantsPerMeeting} participants at once.`,
      { plan: command.org.plan, maxParticipants: maxParticipantsPerMeeting },
    );
  }
  const displayName = DisplayNameSchema.safeParse(command.displayName);
  if (!displayName.success)
    throw badRequest('session.bad_display_name', 'A display name must be 1 to 100 characters.', {});
  const at = command.at.toISOString();
  const joined: SessionEvent = {
    type: 'participant.joined',
    data: {
      participantId,
      displayName: displayName.data,
      isHost,
      at,
      ...(command.node !== undefined ? { node: command.node } : {}),
    },
  };
  return state.status === 'scheduled' ? [{ type: 'session.started', data: { at } }, joined] : [joined];
}

function leave(command: LeaveSession, state: Session): SessionEvent[] {
  assertNotEnded(state);
  assertPresent(state, command.participantId);
  const present = state.present.get(command.participantId)!;
  // A node that lost someone who meanwhile reconnected through another node has nothing to say.
  if (command.node !== undefined && present.node !== undefined && command.node !== present.node) {
    throw conflict('session.participant_elsewhere', 'This participant is connected through another SFU node now.', {
      participantId: command.participantId,
    });
  }
  // A leave reported late (the SFU retries while the gateway is away) carries the time it
  // happened, back to MAX_LEAVE_BACKDATE_MS before the decision (so metering can settle time
  // older than that); one stamped before the join (clocks apart) counts as leaving when joining.
  const earliest = new Date(command.decidedAt.getTime() - MAX_LEAVE_BACKDATE_MS).toISOString();
  const joinedAt = present.joinedAt;
  const reported = command.at.toISOString();
  const at = [reported, earliest, joinedAt].reduce((a, b) => (a > b ? a : b));
  return [{ type: 'participant.left', data: { participantId: command.participantId, reason: command.reason, at } }];
}

function lock(command: LockSession, state: Session): SessionEvent[] {
  assertNotEnded(state);
  assertModerator(state, command.by);
  if (state.locked) throw conflict('session.already_locked', 'The meeting is already locked.');
  return [{ type: 'session.locked', data: { by: command.by.userId } }];
}

function unlock(command: UnlockSession, state: Session): SessionEvent[] {
  assertNotEnded(state);
  assertModerator(state, command.by);
  if (!state.locked) throw conflict('session.not_locked', 'The meeting is not locked.');
  return [{ type: 'session.unlocked', data: { by: command.by.userId } }];
}

function mute(command: MuteParticipant, state: Session): SessionEvent[] {
  assertNotEnded(state);
  assertModerator(state, command.by);
  assertPresent(state, command.participantId);
  return [
    {
      type: 'participant.muted',
      data: { participantId: command.participantId, kind: command.kind, by: command.by.userId },
    },
  ];
}

function remove(command: RemoveParticipant, state: Session): SessionEvent[] {
  assertNotEnded(state);
  assertModerator(state, command.by);
  if (command.participantId === state.hostUserId) {
    throw badRequest('session.cannot_remove_host', "The meeting's host cannot be removed; end the meeting instead.");
  }
  assertPresent(state, command.participantId);
  return [
    {
      type: 'participant.removed',
      data: { participantId: command.participantId, by: command.by.userId, at: command.at.toISOString() },
    },
  ];
}

function end(command: EndSession, state: Session): SessionEvent[] {
  assertNotEnded(state);
  assertModerator(state, command.by);
  return [
    { type: 'session.ended', data: { reason: 'ended_by_host', by: command.by.userId, at: command.at.toISOString() } },
  ];
}

function endEmpty(command: EndEmptySession, state: Session): SessionEvent[] {
  assertNotEnded(state);
  if (state.status !== 'live' || state.present.size > 0 || state.emptySince === null) {
    throw preconditionFailed('session.not_empty', 'The meeting has not started or still has participants.', {
      present: state.present.size,
    });
  }
  const emptyFor = command.at.getTime() - Date.parse(state.emptySince);
  if (emptyFor < command.graceMs) {
    throw preconditionFailed(
      'session.grace_not_over',
      `The meeting has been empty for ${emptyFor} ms of a ${command.graceMs} ms grace period.`,
      {
        emptyForMs: emptyFor,
        graceMs: command.graceMs,
      },
    );
  }
  return [{ type: 'session.ended', data: { reason: 'empty', by: null, at: command.at.toISOString() } }];
}

/** Participants in the meeting now. */
export function presentParticipants(state: SessionState): ReadonlyMap<string, PresentParticipant> {
  return state.exists ? state.present : new Map();
}

/** The session decider. */
export const sessionDecider: Decider<SessionCommand, SessionEvent, SessionState> = {
  initialState: initialSessionState,
  evolve,
  decide,
};
