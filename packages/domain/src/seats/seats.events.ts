/**
 * Events of the seats aggregate (stream `seats-<orgId>`): how many seats the organization
 * pays for and who holds one. Each schema describes the current version of its data.
 */
import { z } from 'zod';
import { IdSchema } from '../schemas';

/** Why a seat was taken back: by an admin, or because its holder left the organization. */
export const SeatUnassignReasonSchema = z.enum(['unassigned', 'member_removed']);
/** Why a seat was taken back. */
export type SeatUnassignReason = z.infer<typeof SeatUnassignReasonSchema>;

/** `seats.purchased` v1. `total` is the number of purchased seats after the purchase. */
export const SeatsPurchasedDataSchema = z.object({
  quantity: z.number().int().positive(),
  total: z.number().int().nonnegative(),
});
/** `seats.released` v1. `total` is the number of purchased seats after the release. */
export const SeatsReleasedDataSchema = z.object({
  quantity: z.number().int().positive(),
  total: z.number().int().nonnegative(),
});
/** `seat.assigned` v1. */
export const SeatAssignedDataSchema = z.object({ userId: IdSchema });
/** `seat.unassigned` v1. */
export const SeatUnassignedDataSchema = z.object({ userId: IdSchema, reason: SeatUnassignReasonSchema });

/** Current data schema of every seats event type. */
export const SEATS_EVENT_DATA_SCHEMAS = {
  'seats.purchased': SeatsPurchasedDataSchema,
  'seats.released': SeatsReleasedDataSchema,
  'seat.assigned': SeatAssignedDataSchema,
  'seat.unassigned': SeatUnassignedDataSchema,
} as const;

type Schemas = typeof SEATS_EVENT_DATA_SCHEMAS;

/** Type of a seats event. */
export type SeatsEventType = keyof Schemas;

/** One seats event as the domain sees it. */
export type SeatsEvent = {
  [T in SeatsEventType]: { type: T; data: z.output<Schemas[T]> };
}[SeatsEventType];
