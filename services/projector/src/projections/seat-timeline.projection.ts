/**
 * The seat timeline read models (`seat_intervals`, `seat_holdings`): the seat quantity and
 * plan in force over time, and who held a seat when. See docs/metering.md#invoice-preview.
 *
 * Refolded, not patched: when a batch holds an event that changes an organization's quantity or
 * plan (or a user's seat), that organization's (or user's) rows are folded again from the
 * schema's event log, which already holds the batch's events (it is written first, in the same
 * transaction), and replaced. The rows are therefore a function of the events applied, whatever
 * the batching, and an event applied twice, or late (a dead letter retried after the events that
 * followed it), lands where its position puts it. The fold reads a few rows per organization:
 * plan and quantity changes are rare, and holdings are read for the touched users only.
 */
import { sql } from 'kysely';
import {
  SEAT_HOLDING_EVENT_TYPES,
  SEAT_TIMELINE_EVENT_TYPES,
  foldSeatHoldings,
  foldSeatTimeline,
  parseEvent,
  type DomainEvent,
  type TimelineEvent,
} from '@quorum/domain';
import { json, type TableOf, type Trx } from './write-plan';

const TIMELINE_TYPES: ReadonlySet<string> = new Set(SEAT_TIMELINE_EVENT_TYPES);
// Literal lists (the types are constants of the code): the planner then reads event_log by its
// (org_id, type, position) index instead of guessing at a set-returning function.
const literals = (types: readonly string[]) => sql.raw(types.map((t) => `'${t.replace(/'/g, "''")}'`).join(', '));
const TIMELINE_TYPE_LIST = literals(SEAT_TIMELINE_EVENT_TYPES);
const HOLDING_TYPE_LIST = literals(SEAT_HOLDING_EVENT_TYPES);

interface LoggedEvent {
  org_id: string;
  event_id: string;
  position: string;
  type: string;
  version: number;
  data: unknown;
  occurred_at: Date | string;
}

function timelineEvent(row: LoggedEvent): TimelineEvent {
  const event = parseEvent({ type: row.type, version: row.version, data: row.data }) as DomainEvent;
  return {
    id: row.event_id,
    position: BigInt(row.position),
    at: new Date(row.occurred_at).toISOString(),
    event: event as TimelineEvent['event'],
  };
}

function byOrg<T extends { org_id: string }>(rows: readonly T[]): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const r of rows) {
    const group = out.get(r.org_id);
    if (group) group.push(r);
    else out.set(r.org_id, [r]);
  }
  return out;
}

/** The organizations and users whose seat timeline a batch changes. */
export class SeatTimelinePlan {
  private readonly orgs = new Set<string>();
  private readonly holders = new Map<string, { org_id: string; user_id: string }>();

  add(orgId: string, event: DomainEvent): void {
    if (TIMELINE_TYPES.has(event.type)) this.orgs.add(orgId);
    if (event.type === 'seat.assigned' || event.type === 'seat.unassigned')
      this.holders.set(`${orgId}|${event.data.userId}`, { org_id: orgId, user_id: event.data.userId });
  }

  /**
   * Refolds the touched rows and writes them: one read of the event log, then one statement
   * per table that upserts the refolded rows and deletes the touched ones no longer among them.
   */
  async flush(trx: Trx, t: TableOf): Promise<void> {
    if (this.orgs.size === 0 && this.holders.size === 0) return;
    const orgs = [...this.orgs];
    const holders = [...this.holders.values()];
    const logged = await sql<LoggedEvent>`
      SELECT org_id, event_id, position::text AS position, type, (metadata->>'version')::int AS version, data, occurred_at
        FROM ${t('event_log')} e
       WHERE e.org_id = ANY(ARRAY(
               SELECT (jsonb_array_elements_text(${json([...new Set([...orgs, ...holders.map((h) => h.org_id)])])}::jsonb))::uuid))
         AND ((e.type IN (${TIMELINE_TYPE_LIST})
               AND e.org_id = ANY(ARRAY(SELECT (jsonb_array_elements_text(${json(orgs)}::jsonb))::uuid)))
           OR (e.type IN (${HOLDING_TYPE_LIST})
               AND (e.org_id, e.data->>'userId') IN (
                 SELECT v.org_id, v.user_id FROM jsonb_to_recordset(${json(holders)}::jsonb) AS v(org_id uuid, user_id text))))
       ORDER BY e.org_id, e.position`.execute(trx);
    const timeline = logged.rows.filter((r) => TIMELINE_TYPES.has(r.type));
    const holdings = logged.rows.filter((r) => !TIMELINE_TYPES.has(r.type));
    if (orgs.length > 0) await this.writeIntervals(trx, t, orgs, timeline);
    if (holders.length > 0) await this.writeHoldings(trx, t, holders, holdings);
  }

  private async writeIntervals(trx: Trx, t: TableOf, orgs: string[], logged: LoggedEvent[]): Promise<void> {
    const rows = [...byOrg(logged)].flatMap(([orgId, events]) =>
      foldSeatTimeline(events.map(timelineEvent)).map((s) => ({
        org_id: orgId,
        event_id: s.eventId,
        position: s.position.toString(),
        quantity: s.quantity,
        plan: s.plan,
        quantity_event_id: s.quantityEventId,
        plan_event_id: s.planEventId,
        from_at: s.from,
        to_at: s.to,
        to_event_id: s.toEventId,
      })),
    );
    await sql`
      WITH v AS (
        SELECT * FROM jsonb_to_recordset(${json(rows)}::jsonb) AS v(
          org_id uuid, event_id uuid, position bigint, quantity integer, plan text, quantity_event_id uuid,
          plan_event_id uuid, from_at timestamptz, to_at timestamptz, to_event_id uuid)
      ), gone AS (
        DELETE FROM ${t('seat_intervals')} AS s
         WHERE s.org_id = ANY(ARRAY(SELECT (jsonb_array_elements_text(${json(orgs)}::jsonb))::uuid))
           AND NOT EXISTS (SELECT 1 FROM v WHERE v.org_id = s.org_id AND v.event_id = s.event_id)
      )
      INSERT INTO ${t('seat_intervals')} AS s (org_id, event_id, position, quantity, plan, quantity_event_id,
                                               plan_event_id, from_at, to_at, to_event_id)
      SELECT org_id, event_id, position, quantity, plan, quantity_event_id, plan_event_id, from_at, to_at, to_event_id
        FROM v
      ON CONFLICT (org_id, event_id) DO UPDATE
        SET position = excluded.position, quantity = excluded.quantity, plan = excluded.plan,
            quantity_event_id = excluded.quantity_event_id, plan_event_id = excluded.plan_event_id,
            from_at = excluded.from_at, to_at = excluded.to_at, to_event_id = excluded.to_event_id
        WHERE (s.position, s.quantity, s.plan, s.quantity_event_id, s.plan_event_id, s.from_at, s.to_at, s.to_event_id)
              IS DISTINCT FROM (excluded.position, excluded.quantity, excluded.plan, excluded.quantity_event_id,
                                excluded.plan_event_id, excluded.from_at, excluded.to_at, excluded.to_event_id)`.execute(
      trx,
    );
  }

  private async writeHoldings(
    trx: Trx,
    t: TableOf,
    holders: Array<{ org_id: string; user_id: string }>,
    logged: LoggedEvent[],
  ): Promise<void> {
    const rows = [...byOrg(logged)].flatMap(([orgId, events]) =>
      foldSeatHoldings(events.map(timelineEvent)).map((h) => ({
        org_id: orgId,
        assigned_event_id: h.assignedEventId,
        user_id: h.userId,
        position: h.position.toString(),
        from_at: h.from,
        to_at: h.to,
        unassigned_event_id: h.unassignedEventId,
        reason: h.reason,
      })),
    );
    await sql`
      WITH v AS (
        SELECT * FROM jsonb_to_recordset(${json(rows)}::jsonb) AS v(
          org_id uuid, assigned_event_id uuid, user_id uuid, position bigint, from_at timestamptz, to_at timestamptz,
          unassigned_event_id uuid, reason text)
      ), gone AS (
        DELETE FROM ${t('seat_holdings')} AS h
         USING jsonb_to_recordset(${json(holders)}::jsonb) AS k(org_id uuid, user_id uuid)
         WHERE h.org_id = k.org_id AND h.user_id = k.user_id
           AND NOT EXISTS (SELECT 1 FROM v WHERE v.org_id = h.org_id AND v.assigned_event_id = h.assigned_event_id)
      )
      INSERT INTO ${t('seat_holdings')} AS h (org_id, assigned_event_id, user_id, position, from_at, to_at,
                                              unassigned_event_id, reason)
      SELECT org_id, assigned_event_id, user_id, position, from_at, to_at, unassigned_event_id, reason
        FROM v
      ON CONFLICT (org_id, assigned_event_id) DO UPDATE
        SET user_id = excluded.user_id, position = excluded.position, from_at = excluded.from_at,
            to_at = excluded.to_at, unassigned_event_id = excluded.unassigned_event_id, reason = excluded.reason
        WHERE (h.user_id, h.position, h.from_at, h.to_at, h.unassigned_event_id, h.reason)
              IS DISTINCT FROM (excluded.user_id, excluded.position, excluded.from_at, excluded.to_at,
                                excluded.unassigned_event_id, excluded.reason)`.execute(trx);
  }
}
