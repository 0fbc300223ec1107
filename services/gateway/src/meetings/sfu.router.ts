import { DisplayNameSchema, IdSchema, IsoDateTimeSchema, LeaveReasonSchema, plainText } from '@quorum/domain';
import { z } from 'zod';

/** The run of the reporting node (new at each start): its joins and leaves name it. */
const InstanceSchema = z
  .string()
  .regex(/^[A-Za-z0-9_.:-]{1,64}$/)
  .optional();
import { router, serviceProcedure } from '../trpc';
import { reportJoined, reportLeft } from './sfu.handler';

/** Called by SFU nodes only (service token). */
export const sfuRouter = router({
  participantJoined: serviceProcedure
    .input(
      z.object({
        orgId: IdSchema,
        sessionId: IdSchema,
        participantId: IdSchema,
        displayName: plainText(DisplayNameSchema),
        instance: InstanceSchema,
        // The join token presented (its id and expiry, seconds): each works once. Absent when a
        // node reports again someone it had admitted (after its heartbeats lapsed).
        token: z.object({ id: z.uuid(), expiresAt: z.number().int().positive() }).optional(),
      }),
    )
    .mutation(({ ctx, input }) => reportJoined(ctx, input)),
  participantLeft: serviceProcedure
    // `at`: when the SFU saw the leave (its report may come late); later than now counts as now.
    .input(
      z.object({
        orgId: IdSchema,
        sessionId: IdSchema,
        participantId: IdSchema,
        reason: LeaveReasonSchema,
        at: IsoDateTimeSchema.optional(),
        instance: InstanceSchema,
      }),
    )
    .mutation(({ ctx, input }) => reportLeft(ctx, input)),
});
