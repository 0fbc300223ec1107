/**
 * What an organization was billed for over time, folded from its events in position order: the
 * seat quantity and plan in force (one stretch per change) and who held a seat when. The
 * projector keeps both as read models (`seat_intervals`, `seat_holdings`): when new events all
 * come after an organization's last stretch (a user's last holding) it goes on from that row,
 * otherwise it folds the organization's events from its event log again, so the rows depend
 * only on the events, never on how they were batched, replayed or retried.
 *
 * Times: a stretch starts at its event's `occurredAt`, but never before the stretch it follows.
 * Events of the seats and organization streams are ordered by position, and two gateways'
 * clocks may disagree by a little; clamping keeps the stretches contiguous and of length ≥ 0.
 */
import type { OrganizationEvent } from '../organization/organization.events';
import type { Plan } from '../plans';
import type { SeatsEvent } from '../seats/seats.events';

/** An event of an organization's billing timeline, with what its envelope says. */
export interface TimelineEvent {
  id: string;
  position: bigint;
  /** ISO 8601 (the envelope's `occurredAt`). */
  at: string;
  event: SeatsEvent | OrganizationEvent;
}

/** Event types that change the quantity or plan in force, or end it. */
export const SEAT_TIMELINE_EVENT_TYPES = [
  'organization.created',
  'organization.plan_changed',
  'organization.closed',
  'seats.purchased',
  'seats.released',
] as const;

/** Event types that change who holds a seat. */
export const SEAT_HOLDING_EVENT_TYPES = ['seat.assigned', 'seat.unassigned'] as const;

/**
 * A stretch of time with one seat quantity and plan in force. `to` is null while it still is;
 * `plan` is null only for seat events before the organization's creation (never in a store
 * the gateway wrote).
 */
export interface SeatStretch {
  /** The event that started the stretch. */
  eventId: string;
  position: bigint;
  quantity: number;
  plan: Plan | null;
  /** The `seats.purchased`/`seats.released` that set `quantity`; null before the first purchase (0 seats). */
  quantityEventId: string | null;
  /** The `organization.created`/`organization.plan_changed` that set `plan`. */
  planEventId: string | null;
  from: string;
  to: string | null;
  /** The event that ended the stretch (the next change, or `organization.closed`). */
  toEventId: string | null;
}

/** One seat held by one user, from its `seat.assigned` until its `seat.unassigned` (or now). */
export interface SeatHolding {
  userId: string;
  assignedEventId: string;
  position: bigint;
  from: string;
  to: string | null;
  unassignedEventId: string | null;
  reason: 'unassigned' | 'member_removed' | null;
}

const later = (a: string, b: string) => (Date.parse(a) >= Date.parse(b) ? a : b);

/** In position order, each event id once: the same event stored again under a later position changes nothing. */
function inOrder(events: readonly TimelineEvent[]): TimelineEvent[] {
  const seen = new Set<string>();
  return [...events]
    .sort((a, b) => (a.position < b.position ? -1 : a.position > b.position ? 1 : 0))
    .filter((e) => !seen.has(e.id) && Boolean(seen.add(e.id)));
}

/**
 * The stretches of one organization from its timeline events (any order: they are sorted by
 * position, and an id seen before is skipped). A change that leaves quantity and plan as they were starts nothing; after
 * `organization.closed` nothing is in force and later events change nothing.
 *
 * With `last`, the fold goes on from a stretch folded before: `last` must be the final stretch
 * of the events up to and including its position, and `events` only the ones after that
 * position, none with an id folded before. The result is `last` as those events end it (or
 * leave it open) followed by the stretches they start: exactly the tail, from `last` on, of
 * folding every event at once. `last` is taken as it was when it started (its `to` is
 * recomputed), so an event that ended it may be among `events`.
 */
export function foldSeatTimeline(events: readonly TimelineEvent[], last?: SeatStretch): SeatStretch[] {
  const sorted = inOrder(events);
  const out: SeatStretch[] = last ? [{ ...last, to: null, toEventId: null }] : [];
  let quantity = last?.quantity ?? 0;
  let quantityEventId: string | null = last?.quantityEventId ?? null;
  let plan: Plan | null = last?.plan ?? null;
  let planEventId: string | null = last?.planEventId ?? null;
  let closed = false;
  for (const e of sorted) {
    if (closed) break;
    const open = out.at(-1);
    const at = open ? later(e.at, open.from) : e.at;
    switch (e.event.type) {
      case 'seats.purchased':
      case 'seats.released':
        if (e.event.data.total === quantity && quantityEventId !== null) continue;
        quantity = e.event.data.total;
        quantityEventId = e.id;
        break;
      case 'organization.created':
        if (plan === e.event.data.plan) continue;
        plan = e.event.data.plan;
        planEventId = e.id;
        break;
      case 'organization.plan_changed':
        if (plan === e.event.data.to) continue;
        plan = e.event.data.to;
        planEventId = e.id;
        break;
      case 'organization.closed':
        closed = true;
        if (open) Object.assign(open, { to: at, toEventId: e.id });
        continue;
      default:
        continue;
    }
    if (open) Object.assign(open, { to: at, toEventId: e.id });
    out.push({
      eventId: e.id,
      position: e.position,
      quantity,
      plan,
      quantityEventId,
      planEventId,
      from: at,
      to: null,
      toEventId: null,
    });
  }
  return out;
}

/**
 * Who held a seat when, from one organization's `seat.assigned`/`seat.unassigned` events (any
 * order: they are sorted by position, and an id seen before is skipped). An assignment while the user already holds a seat
 * changes nothing, as does an unassignment while they hold none (the seats decider never
 * writes either).
 *
 * With `last`, the fold goes on from holdings folded before, at most one per user: each must
 * be its user's final holding among the events up to and including its position, and `events`
 * of that user only the ones after it, none with an id folded before. Each is taken as it was
 * when it started (held; its end is recomputed). The result is those holdings as `events` end
 * them (or not) followed by the holdings they start: exactly what folding every event at once
 * gives for them and after them.
 */
export function foldSeatHoldings(events: readonly TimelineEvent[], last: readonly SeatHolding[] = []): SeatHolding[] {
  const sorted = inOrder(events);
  const out: SeatHolding[] = last.map((h) => ({ ...h, to: null, unassignedEventId: null, reason: null }));
  const open = new Map<string, SeatHolding>(out.map((h) => [h.userId, h]));
  for (const e of sorted) {
    switch (e.event.type) {
      case 'seat.assigned': {
        const userId = e.event.data.userId;
        if (open.has(userId)) continue;
        const holding: SeatHolding = {
          userId,
          assignedEventId: e.id,
          position: e.position,
          from: e.at,
          to: null,
          unassignedEventId: null,
          reason: null,
        };
        out.push(holding);
        open.set(userId, holding);
        continue;
      }
      case 'seat.unassigned': {
        const holding = open.get(e.event.data.userId);
        if (!holding) continue;
        Object.assign(holding, { to: later(e.at, holding.from), unassignedEventId: e.id, reason: e.event.data.reason });
        open.delete(e.event.data.userId);
        continue;
      }
      default:
        continue;
    }
  }
  return out;
}
