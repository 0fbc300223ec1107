/** Gateway input schemas for seat procedures. */
import { z } from 'zod';
import { IdSchema } from '../schemas';

/** Largest quantity one purchase or release may ask for. */
export const MAX_SEATS_PER_REQUEST = 10_000;

/** Input of `seats.purchase`. */
export const PurchaseSeatsInputSchema = z.object({
  orgId: IdSchema,
  quantity: z.number().int().positive().max(MAX_SEATS_PER_REQUEST),
});
/** Input of `seats.purchase`. */
export type PurchaseSeatsInput = z.infer<typeof PurchaseSeatsInputSchema>;

/** Input of `seats.release`. */
export const ReleaseSeatsInputSchema = z.object({
  orgId: IdSchema,
  quantity: z.number().int().positive().max(MAX_SEATS_PER_REQUEST),
});
/** Input of `seats.release`. */
export type ReleaseSeatsInput = z.infer<typeof ReleaseSeatsInputSchema>;

/** Input of `seats.assign`. */
export const AssignSeatInputSchema = z.object({ orgId: IdSchema, userId: IdSchema });
/** Input of `seats.assign`. */
export type AssignSeatInput = z.infer<typeof AssignSeatInputSchema>;

/** Input of `seats.unassign`. */
export const UnassignSeatInputSchema = z.object({ orgId: IdSchema, userId: IdSchema });
/** Input of `seats.unassign`. */
export type UnassignSeatInput = z.infer<typeof UnassignSeatInputSchema>;
