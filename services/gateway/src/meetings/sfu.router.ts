import { DisplayNameSchema, IdSchema, LeaveReasonSchema } from '@quorum/domain';
import { z } from 'zod';
import { router, serviceProcedure } from '../trpc';
import { reportJoined, reportLeft } from './sfu.handler';

/** Called by SFU nodes only (service token). */
export const sfuRouter = router({
  participantJoined: serviceProcedure
    .input(z.object({ orgId: IdSchema, sessionId: IdSchema, participantId: IdSchema, displayName: DisplayNameSchema }))
    .mutation(({ ctx, input }) => reportJoined(ctx, input)),
  participantLeft: serviceProcedure
    .input(z.object({ orgId: IdSchema, sessionId: IdSchema, participantId: IdSchema, reason: LeaveReasonSchema }))
    .mutation(({ ctx, input }) => reportLeft(ctx, input)),
});
