/**
 * Events of the session aggregate (stream `session-<sessionId>`): one meeting, from being
 * scheduled to its end. Times the decider needs (joins, leaves) are in the data, so the
 * stream alone answers "who is here" and "since when is the room empty".
 */
import { z } from 'zod';
import { IdSchema, IsoDateTimeSchema } from '../schemas';

/** A meeting title: 1 to 200 characters after trimming. */
export const MeetingTitleSchema = z.string().trim().min(1).max(200);
/** A participant's display name: 1 to 100 characters after trimming. */
export const DisplayNameSchema = z.string().trim().min(1).max(100);
/** A kind of media a host may mute. */
export const MediaKindSchema = z.enum(['audio', 'video']);
/** A kind of media a host may mute. */
export type MediaKind = z.infer<typeof MediaKindSchema>;
/** Why a session ended: the host (or an admin) ended it for all, or it stayed empty past the grace period. */
export const SessionEndReasonSchema = z.enum(['ended_by_host', 'empty']);
/** Why a session ended. */
export type SessionEndReason = z.infer<typeof SessionEndReasonSchema>;
/** Why a participant left: they left, or their connection was lost and not restored. */
export const LeaveReasonSchema = z.enum(['left', 'disconnected']);
/** Why a participant left. */
export type LeaveReason = z.infer<typeof LeaveReasonSchema>;

/** `session.scheduled` v1. `scheduledFor` is null for an instant meeting. */
export const SessionScheduledDataSchema = z.object({
  sessionId: IdSchema,
  orgId: IdSchema,
  title: MeetingTitleSchema,
  hostUserId: IdSchema,
  scheduledFor: IsoDateTimeSchema.nullable(),
});
/** `session.started` v1: the first participant joined. */
export const SessionStartedDataSchema = z.object({ at: IsoDateTimeSchema });
/**
 * The SFU node run a participant is connected through: `<nodeId>/<instance>`, where the
 * instance is new each time the node starts. Opaque to the domain, which only compares them.
 */
export const NodeRunSchema = z.string().regex(/^[A-Za-z0-9_.:-]{1,128}\/[A-Za-z0-9_.:-]{1,64}$/);
/**
 * `participant.joined` v1. `participantId` is a user id (or an API key id for integrations).
 * `node`: the SFU node run they connected through; absent in events written before it was
 * recorded.
 */
export const ParticipantJoinedDataSchema = z.object({
  participantId: IdSchema,
  displayName: DisplayNameSchema,
  isHost: z.boolean(),
  at: IsoDateTimeSchema,
  node: NodeRunSchema.optional(),
});
/**
 * `participant.reconnected` v1: someone the stream counts as present connected again through
 * another SFU node run (theirs failed, or the meeting moved). Their presence goes on; leaves
 * reported by the node they were on before no longer apply to them.
 */
export const ParticipantReconnectedDataSchema = z.object({
  participantId: IdSchema,
  node: NodeRunSchema,
  at: IsoDateTimeSchema,
});
/** `participant.left` v1. */
export const ParticipantLeftDataSchema = z.object({
  participantId: IdSchema,
  reason: LeaveReasonSchema,
  at: IsoDateTimeSchema,
});
/** `session.locked` v1. */
export const SessionLockedDataSchema = z.object({ by: IdSchema });
/** `session.unlocked` v1. */
export const SessionUnlockedDataSchema = z.object({ by: IdSchema });
/** `participant.muted` v1: the host muted a participant's audio or video. */
export const ParticipantMutedDataSchema = z.object({ participantId: IdSchema, kind: MediaKindSchema, by: IdSchema });
/** `participant.removed` v1: the host removed a participant, who cannot rejoin this session. */
export const ParticipantRemovedDataSchema = z.object({ participantId: IdSchema, by: IdSchema, at: IsoDateTimeSchema });
/** `session.ended` v1. `by` is null when the session ended on its own (empty past the grace period). */
export const SessionEndedDataSchema = z.object({
  reason: SessionEndReasonSchema,
  by: IdSchema.nullable(),
  at: IsoDateTimeSchema,
});

/** Current data schema of every session event type. */
export const SESSION_EVENT_DATA_SCHEMAS = {
  'session.scheduled': SessionScheduledDataSchema,
  'session.started': SessionStartedDataSchema,
  'participant.joined': ParticipantJoinedDataSchema,
  'participant.left': ParticipantLeftDataSchema,
  'participant.reconnected': ParticipantReconnectedDataSchema,
  'session.locked': SessionLockedDataSchema,
  'session.unlocked': SessionUnlockedDataSchema,
  'participant.muted': ParticipantMutedDataSchema,
  'participant.removed': ParticipantRemovedDataSchema,
  'session.ended': SessionEndedDataSchema,
} as const;

type Schemas = typeof SESSION_EVENT_DATA_SCHEMAS;

/** Type of a session event. */
export type SessionEventType = keyof Schemas;

/** One session event as the domain sees it. */
export type SessionEvent = {
  [T in SessionEventType]: { type: T; data: z.output<Schemas[T]> };
}[SessionEventType];
