import {
  CreateMeetingInputSchema,
  JoinMeetingInputSchema,
  ListMeetingsInputSchema,
  MeetingRefInputSchema,
  MuteParticipantInputSchema,
  RemoveParticipantInputSchema,
} from '@quorum/domain';
import { authedProcedure, MinPositionSchema, router } from '../trpc';
import {
  createMeeting,
  endMeeting,
  getMeeting,
  joinMeeting,
  listMeetings,
  lockMeeting,
  muteParticipant,
  removeParticipant,
  unlockMeeting,
} from './meetings.handler';

export const meetingsRouter = router({
  create: authedProcedure.input(CreateMeetingInputSchema).mutation(({ ctx, input }) => createMeeting(ctx, input)),
  get: authedProcedure
    .input(MeetingRefInputSchema.extend({ minPosition: MinPositionSchema }))
    .query(({ ctx, input }) => getMeeting(ctx, input)),
  list: authedProcedure
    .input(ListMeetingsInputSchema.extend({ minPosition: MinPositionSchema }))
    .query(({ ctx, input }) => listMeetings(ctx, input)),
  join: authedProcedure.input(JoinMeetingInputSchema).mutation(({ ctx, input }) => joinMeeting(ctx, input)),
  end: authedProcedure.input(MeetingRefInputSchema).mutation(({ ctx, input }) => endMeeting(ctx, input)),
  lock: authedProcedure.input(MeetingRefInputSchema).mutation(({ ctx, input }) => lockMeeting(ctx, input)),
  unlock: authedProcedure.input(MeetingRefInputSchema).mutation(({ ctx, input }) => unlockMeeting(ctx, input)),
  mute: authedProcedure.input(MuteParticipantInputSchema).mutation(({ ctx, input }) => muteParticipant(ctx, input)),
  remove: authedProcedure
    .input(RemoveParticipantInputSchema)
    .mutation(({ ctx, input }) => removeParticipant(ctx, input)),
});
