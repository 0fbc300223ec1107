/**
 * Commands of the seats aggregate. Facts from the organization stream (`plan`, `isMember`)
 * are read by the caller and carried in, so the decider needs only the seats stream.
 */
import type { Plan } from '../plans';
import type { SeatUnassignReason } from './seats.events';

/** Buy `quantity` more seats, within the plan's `maxSeats`. */
export interface PurchaseSeats {
  type: 'PurchaseSeats';
  orgId: string;
  quantity: number;
  /** The organization's current plan. */
  plan: Plan;
  at: Date;
}

/** Give back `quantity` unassigned seats. */
export interface ReleaseSeats {
  type: 'ReleaseSeats';
  orgId: string;
  quantity: number;
  at: Date;
}

/** Give a free seat to a member. */
export interface AssignSeat {
  type: 'AssignSeat';
  orgId: string;
  userId: string;
  /** Whether `userId` is a member, read by the caller from the organization stream. */
  isMember: boolean;
  at: Date;
}

/** Take a seat back from its holder. */
export interface UnassignSeat {
  type: 'UnassignSeat';
  orgId: string;
  userId: string;
  reason: SeatUnassignReason;
  at: Date;
}

/** Any seats command. */
export type SeatsCommand = PurchaseSeats | ReleaseSeats | AssignSeat | UnassignSeat;
