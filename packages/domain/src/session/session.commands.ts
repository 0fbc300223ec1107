/**
 * Commands of the session aggregate. Facts owned by other streams (the organization's plan
 * and status, whether the host holds a seat, the caller's role) are read by the caller and
 * carried in, so the decider needs only the session stream.
 */
import type { OrganizationStatus } from '../organization/organization.events';
import type { Plan } from '../plans';
import type { LeaveReason, MediaKind } from './session.events';

/**
 * Most a leave may be recorded before it is decided: a report that arrives later (the SFU
 * retried while the gateway was away, a lost node was swept late) counts from this long before
 * its decision. Metering treats time older than this (plus clock skew) as settled.
 */
export const MAX_LEAVE_BACKDATE_MS = 120_000;

/** Facts about the organization a session belongs to, read from its stream by the caller. */
export interface OrgFacts {
  plan: Plan;
  /** Effective status at `at` (a lapsed trial is `past_due`). */
  status: OrganizationStatus;
}

/** Schedule a meeting (instant when `scheduledFor` is null). */
export interface ScheduleSession {
  type: 'ScheduleSession';
  sessionId: string;
  orgId: string;
  title: string;
  hostUserId: string;
  scheduledFor: Date | null;
  org: OrgFacts;
  /** Whether the host holds a seat, read from the seats stream. */
  hostHoldsSeat: boolean;
  at: Date;
}

/** A participant connected to the meeting (reported by the SFU). */
export interface JoinSession {
  type: 'JoinSession';
  participantId: string;
  displayName: string;
  org: OrgFacts;
  /** Whether the session's host holds a seat now, read from the seats stream. */
  hostHoldsSeat: boolean;
  /**
   * Seconds of `meeting_minutes` the organization has used in the UTC month of `at`, summed
   * from its usage stream. Read only for a plan cut off at its included minutes
   * (`cutOffAtIncludedMinutes`, the free plan); `null` for any other plan, whose (unbounded)
   * stream the caller need not read.
   */
  meetingSecondsUsed: number | null;
  /**
   * The SFU node run reporting it (`<nodeId>/<instance>`). Someone already present through
   * another run has reconnected; through the same run (or with no run given), it is a refusal.
   */
  node?: string | undefined;
  at: Date;
}

/** A participant left or lost their connection (reported by the SFU). */
export interface LeaveSession {
  type: 'LeaveSession';
  participantId: string;
  reason: LeaveReason;
  /**
   * When it happened (a report can arrive late); a time before the participant joined counts
   * as the join, and one more than {@link MAX_LEAVE_BACKDATE_MS} before `decidedAt` as that bound.
   */
  at: Date;
  /** When the leave is decided (the deciding gateway's clock). */
  decidedAt: Date;
  /**
   * The SFU node run reporting it. When the participant is present through another run (they
   * reconnected elsewhere), the leave is refused (`session.participant_elsewhere`).
   */
  node?: string | undefined;
}

/** Who asks for a host action: the session's host, or an organization owner or admin. */
export interface Moderator {
  userId: string;
  /** True for an organization owner or admin, who may moderate any of its meetings. */
  isOrgModerator: boolean;
}

/** Admit nobody new. */
export interface LockSession {
  type: 'LockSession';
  by: Moderator;
  at: Date;
}

/** Admit new participants again. */
export interface UnlockSession {
  type: 'UnlockSession';
  by: Moderator;
  at: Date;
}

/** Mute a participant's audio or video. */
export interface MuteParticipant {
  type: 'MuteParticipant';
  participantId: string;
  kind: MediaKind;
  by: Moderator;
  at: Date;
}

/** Remove a participant; they cannot rejoin this session. */
export interface RemoveParticipant {
  type: 'RemoveParticipant';
  participantId: string;
  by: Moderator;
  at: Date;
}

/** End the meeting for everyone. */
export interface EndSession {
  type: 'EndSession';
  by: Moderator;
  at: Date;
}

/** End a started meeting that has been empty for at least `graceMs` (run by a sweeper). */
export interface EndEmptySession {
  type: 'EndEmptySession';
  graceMs: number;
  at: Date;
}

/** Any session command. */
export type SessionCommand =
  | ScheduleSession
  | JoinSession
  | LeaveSession
  | LockSession
  | UnlockSession
  | MuteParticipant
  | RemoveParticipant
  | EndSession
  | EndEmptySession;
