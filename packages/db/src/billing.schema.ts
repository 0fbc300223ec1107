/**
 * Read models of what an organization is billed for over time, in each read-model version's
 * schema: the seat quantity and plan in force (`seat_intervals`) and who held a seat when
 * (`seat_holdings`). Folded from the organization's events (`foldSeatTimeline`,
 * `foldSeatHoldings` in `@quorum/domain`). See docs/metering.md#invoice-preview.
 */
import type { ColumnType, Selectable } from 'kysely';

type Timestamp = ColumnType<Date, Date | string, Date | string>;
/** int8 columns arrive as decimal strings. */
type Int8 = ColumnType<string, string | bigint | number, string | bigint | number>;

/** A stretch `[from_at, to_at)` with one seat quantity and plan; `to_at` null while in force. */
export interface SeatIntervalTable {
  org_id: string;
  /** The event that started the stretch. */
  event_id: string;
  position: Int8;
  quantity: number;
  /** Null only for seat events before the organization's creation. */
  plan: string | null;
  /** The `seats.purchased`/`seats.released` that set `quantity`; null before the first purchase. */
  quantity_event_id: string | null;
  /** The `organization.created`/`organization.plan_changed` that set `plan`. */
  plan_event_id: string | null;
  from_at: Timestamp;
  to_at: Timestamp | null;
  /** The event that ended the stretch: the next change, or `organization.closed`. */
  to_event_id: string | null;
}

/** One seat held by one user, from its `seat.assigned` to its `seat.unassigned` (null: still held). */
export interface SeatHoldingTable {
  org_id: string;
  assigned_event_id: string;
  user_id: string;
  position: Int8;
  from_at: Timestamp;
  to_at: Timestamp | null;
  unassigned_event_id: string | null;
  /** `unassigned` or `member_removed`; null while held. */
  reason: string | null;
}

export type SeatIntervalRow = Selectable<SeatIntervalTable>;
export type SeatHoldingRow = Selectable<SeatHoldingTable>;

/**
 * The event types the seat timeline folds (`SEAT_TIMELINE_EVENT_TYPES` and
 * `SEAT_HOLDING_EVENT_TYPES` of `@quorum/domain`, which this package does not import; the
 * projector's tests check the lists agree). `event_log_seat_event_id` indexes their ids, so the
 * projector can tell an event stored again under a later position without reading a whole
 * history; the far more numerous events of other types are not in it.
 */
const SEAT_EVENT_TYPES = [
  'organization.created',
  'organization.plan_changed',
  'organization.closed',
  'seats.purchased',
  'seats.released',
  'seat.assigned',
  'seat.unassigned',
];

/** DDL of the seat timeline tables (and their index of the event log) in read-model schema `s`. */
export function billingReadModelSql(s: string): string {
  return `
CREATE TABLE IF NOT EXISTS ${s}.seat_intervals (
  org_id uuid NOT NULL,
  event_id uuid NOT NULL,
  position bigint NOT NULL,
  quantity integer NOT NULL,
  plan text,
  quantity_event_id uuid,
  plan_event_id uuid,
  from_at timestamptz NOT NULL,
  to_at timestamptz,
  to_event_id uuid,
  PRIMARY KEY (org_id, event_id)
);
CREATE INDEX IF NOT EXISTS seat_intervals_time ON ${s}.seat_intervals (org_id, from_at, position);
CREATE TABLE IF NOT EXISTS ${s}.seat_holdings (
  org_id uuid NOT NULL,
  assigned_event_id uuid NOT NULL,
  user_id uuid NOT NULL,
  position bigint NOT NULL,
  from_at timestamptz NOT NULL,
  to_at timestamptz,
  unassigned_event_id uuid,
  reason text,
  PRIMARY KEY (org_id, assigned_event_id)
);
CREATE INDEX IF NOT EXISTS seat_holdings_user ON ${s}.seat_holdings (org_id, user_id, position);
CREATE INDEX IF NOT EXISTS seat_holdings_time ON ${s}.seat_holdings (org_id, from_at, position);
CREATE INDEX IF NOT EXISTS event_log_seat_event_id ON ${s}.event_log (org_id, event_id)
  WHERE type IN (${SEAT_EVENT_TYPES.map((t) => `'${t}'`).join(', ')});
`;
}
