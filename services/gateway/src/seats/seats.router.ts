import {
  AssignSeatInputSchema,
  IdSchema,
  PurchaseSeatsInputSchema,
  ReleaseSeatsInputSchema,
  UnassignSeatInputSchema,
} from '@quorum/domain';
import { z } from 'zod';
import { authedProcedure, MinPositionSchema, router } from '../trpc';
import { assignSeat, getSeats, purchaseSeats, releaseSeats, unassignSeat } from './seats.handler';

export const seatsRouter = router({
  purchase: authedProcedure.input(PurchaseSeatsInputSchema).mutation(({ ctx, input }) => purchaseSeats(ctx, input)),
  release: authedProcedure.input(ReleaseSeatsInputSchema).mutation(({ ctx, input }) => releaseSeats(ctx, input)),
  assign: authedProcedure.input(AssignSeatInputSchema).mutation(({ ctx, input }) => assignSeat(ctx, input)),
  unassign: authedProcedure.input(UnassignSeatInputSchema).mutation(({ ctx, input }) => unassignSeat(ctx, input)),
  get: authedProcedure
    .input(z.object({ orgId: IdSchema, minPosition: MinPositionSchema }))
    .query(({ ctx, input }) => getSeats(ctx, input)),
});
