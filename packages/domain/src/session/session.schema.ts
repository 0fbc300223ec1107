/** Inputs of the meetings procedures, parsed at the gateway's edge. */
import { z } from 'zod';
import { IdSchema, IsoDateTimeSchema, plainText } from '../schemas';
import { DisplayNameSchema, MediaKindSchema, MeetingTitleSchema } from './session.events';

/** `meetings.create`: an instant meeting, or one scheduled for a time. */
export const CreateMeetingInputSchema = z.object({
  orgId: IdSchema,
  title: plainText(MeetingTitleSchema),
  /** When the meeting is planned; omitted (or null) for an instant meeting. */
  scheduledFor: IsoDateTimeSchema.nullish(),
  /**
   * The meeting's host; the caller by default. Owners and admins may name another member, and
   * an API key (an integration scheduling for someone) must name one.
   */
  hostUserId: IdSchema.optional(),
});
export type CreateMeetingInput = z.infer<typeof CreateMeetingInputSchema>;

/** One meeting of an organization. */
export const MeetingRefInputSchema = z.object({ orgId: IdSchema, sessionId: IdSchema });
export type MeetingRefInput = z.infer<typeof MeetingRefInputSchema>;

/** `meetings.join`. */
export const JoinMeetingInputSchema = MeetingRefInputSchema.extend({
  /** Name shown to the others; defaults to the caller's email. */
  displayName: plainText(DisplayNameSchema).optional(),
});
export type JoinMeetingInput = z.infer<typeof JoinMeetingInputSchema>;

/** `meetings.mute`. */
export const MuteParticipantInputSchema = MeetingRefInputSchema.extend({
  participantId: IdSchema,
  kind: MediaKindSchema,
});
export type MuteParticipantInput = z.infer<typeof MuteParticipantInputSchema>;

/** `meetings.remove`. */
export const RemoveParticipantInputSchema = MeetingRefInputSchema.extend({ participantId: IdSchema });
export type RemoveParticipantInput = z.infer<typeof RemoveParticipantInputSchema>;

/** `meetings.list`. */
export const ListMeetingsInputSchema = z.object({
  orgId: IdSchema,
  /** `live` and `scheduled` are upcoming or running; `ended` are past sessions with durations. */
  status: z.enum(['scheduled', 'live', 'ended']).optional(),
  limit: z.number().int().min(1).max(100).default(50),
});
export type ListMeetingsInput = z.infer<typeof ListMeetingsInputSchema>;
