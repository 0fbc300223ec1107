/**
 * The seats aggregate (`seats-<orgId>`): how many seats an organization pays for and who
 * holds them. The stream has no creation event; an empty stream is zero seats. Facts owned by
 * the organization stream (plan, membership) arrive in the commands.
 */
import { FoldScope, type Decider } from '../decider';
import { badRequest, conflict, notFound, preconditionFailed } from '../errors';
import { entitlementsFor } from '../plans';
import { assertUnreachable } from '../util/assert-unreachable';
import type { AssignSeat, PurchaseSeats, ReleaseSeats, SeatsCommand, UnassignSeat } from './seats.commands';
import type { SeatsEvent } from './seats.events';

/** State of a seats stream. */
export interface SeatsState {
  /** Seats paid for. */
  readonly purchased: number;
  /** User ids holding a seat. */
  readonly holders: ReadonlySet<string>;
}

/** State of an empty seats stream. */
export const initialSeatsState: SeatsState = { purchased: 0, holders: new Set() };

/** Seats paid for. */
export function purchasedSeats(state: SeatsState): number {
  return state.purchased;
}

/** Seats held by someone. */
export function assignedSeats(state: SeatsState): number {
  return state.holders.size;
}

/** Seats paid for and not held. */
export function freeSeats(state: SeatsState): number {
  return state.purchased - state.holders.size;
}

/** Whether `userId` holds a seat. */
export function holdsSeat(state: SeatsState, userId: string): boolean {
  return state.holders.has(userId);
}

function evolve(state: SeatsState, event: SeatsEvent, scope: FoldScope = new FoldScope()): SeatsState {
  switch (event.type) {
    case 'seats.purchased':
    case 'seats.released':
      return { ...state, purchased: event.data.total };
    case 'seat.assigned':
      return { ...state, holders: scope.set(state.holders).add(event.data.userId) };
    case 'seat.unassigned': {
      const holders = scope.set(state.holders);
      holders.delete(event.data.userId);
      return { ...state, holders };
    }
    default:
      return assertUnreachable(event);
  }
}

function decide(command: SeatsCommand, state: SeatsState): SeatsEvent[] {
  switch (command.type) {
    case 'PurchaseSeats':
      return purchase(command, state);
    case 'ReleaseSeats':
      return release(command, state);
    case 'AssignSeat':
      return assign(command, state);
    case 'UnassignSeat':
      return unassign(command, state);
    default:
      return assertUnreachable(command);
  }
}

function assertQuantity(quantity: number): void {
  if (!Number.isInteger(quantity) || quantity <= 0) {
    throw badRequest('seats.bad_quantity', `Quantity must be a positive whole number, got ${quantity}.`, { quantity });
  }
}

function purchase(command: PurchaseSeats, state: SeatsState): SeatsEvent[] {
  assertQuantity(command.quantity);
  const { maxSeats } = entitlementsFor(command.plan);
  const total = state.purchased + command.quantity;
  if (total > maxSeats) {
    throw preconditionFailed(
      'seats.cap_exceeded',
      `The ${command.plan} plan allows at most ${maxSeats} seats; this organization has ${state.purchased} ` +
        `and asked for ${command.quantity} more.`,
      { plan: command.plan, maxSeats, purchased: state.purchased, requested: command.quantity },
    );
  }
  return [{ type: 'seats.purchased', data: { quantity: command.quantity, total } }];
}

function release(command: ReleaseSeats, state: SeatsState): SeatsEvent[] {
  assertQuantity(command.quantity);
  const total = state.purchased - command.quantity;
  if (total < 0) {
    throw preconditionFailed(
      'seats.release_exceeds_purchased',
      `This organization has ${state.purchased} seats and cannot release ${command.quantity}.`,
      { purchased: state.purchased, requested: command.quantity },
    );
  }
  if (total < state.holders.size) {
    throw preconditionFailed(
      'seats.release_below_assigned',
      `${state.holders.size} of ${state.purchased} seats are assigned, so at most ${freeSeats(state)} can be ` +
        `released; unassign seats first to release ${command.quantity}.`,
      { purchased: state.purchased, assigned: state.holders.size, requested: command.quantity },
    );
  }
  return [{ type: 'seats.released', data: { quantity: command.quantity, total } }];
}

function assign(command: AssignSeat, state: SeatsState): SeatsEvent[] {
  if (!command.isMember) {
    throw notFound('seats.not_a_member', `User ${command.userId} is not a member of this organization.`, {
      userId: command.userId,
    });
  }
  if (state.holders.has(command.userId)) {
    throw conflict('seats.already_assigned', 'This member already holds a seat.', { userId: command.userId });
  }
  if (freeSeats(state) <= 0) {
    throw preconditionFailed(
      'seats.no_free_seat',
      `There is no free seat: all ${state.purchased} purchased seats are assigned. Buy more or unassign one.`,
      { purchased: state.purchased, assigned: state.holders.size },
    );
  }
  return [{ type: 'seat.assigned', data: { userId: command.userId } }];
}

function unassign(command: UnassignSeat, state: SeatsState): SeatsEvent[] {
  if (!state.holders.has(command.userId)) {
    throw notFound('seats.not_assigned', `User ${command.userId} does not hold a seat.`, { userId: command.userId });
  }
  return [{ type: 'seat.unassigned', data: { userId: command.userId, reason: command.reason } }];
}

/** The seats decider. */
export const seatsDecider: Decider<SeatsCommand, SeatsEvent, SeatsState> = {
  initialState: initialSeatsState,
  evolve,
  decide,
};
