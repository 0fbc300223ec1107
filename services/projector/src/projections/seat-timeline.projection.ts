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
const HOLDING_TYPES: ReadonlySet<string> = new Set(SEAT_HOLDING_EVENT_TYPES);

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
  for (const r of rows) out.set(r.org_id, [...(out.get(r.org_id) ?? []), r]);
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

  /** Refolds and replaces the touched rows: at most three statements per table. */
  async flush(trx: Trx, t: TableOf): Promise<void> {
    if (this.orgs.size > 0) await this.flushIntervals(trx, t, [...this.orgs]);
    if (this.holders.size > 0) await this.flushHoldings(trx, t, [...this.holders.values()]);
  }

  private async flushIntervals(trx: Trx, t: TableOf, orgs: string[]): Promise<void> {
    const logged = await sql<LoggedEvent>`
      SELECT org_id, event_id, position::text AS position, type, (metadata->>'version')::int AS version, data, occurred_at
        FROM ${t('event_log')}
       WHERE org_id IN (SELECT (jsonb_array_elements_text(${json(orgs)}::jsonb))::uuid)
         AND type IN (SELECT jsonb_array_elements_text(${json([...TIMELINE_TYPES])}::jsonb))
       ORDER BY org_id, position`.execute(trx);
    const rows = [...byOrg(logged.rows)].flatMap(([orgId, events]) =>
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
    await sql`DELETE FROM ${t('seat_intervals')}
               WHERE org_id IN (SELECT (jsonb_array_elements_text(${json(orgs)}::jsonb))::uuid)`.execute(trx);
    if (rows.length === 0) return;
    await sql`
      INSERT INTO ${t('seat_intervals')} (org_id, event_id, position, quantity, plan, quantity_event_id, plan_event_id,
                                          from_at, to_at, to_event_id)
      SELECT org_id, event_id, position, quantity, plan, quantity_event_id, plan_event_id, from_at, to_at, to_event_id
        FROM jsonb_to_recordset(${json(rows)}::jsonb) AS v(
          org_id uuid, event_id uuid, position bigint, quantity integer, plan text, quantity_event_id uuid,
          plan_event_id uuid, from_at timestamptz, to_at timestamptz, to_event_id uuid)`.execute(trx);
  }

  private async flushHoldings(trx: Trx, t: TableOf, holders: Array<{ org_id: string; user_id: string }>) {
    const logged = await sql<LoggedEvent>`
      SELECT e.org_id, e.event_id, e.position::text AS position, e.type, (e.metadata->>'version')::int AS version,
             e.data, e.occurred_at
        FROM ${t('event_log')} e
        JOIN jsonb_to_recordset(${json(holders)}::jsonb) AS v(org_id uuid, user_id text)
          ON e.org_id = v.org_id AND e.data->>'userId' = v.user_id
       WHERE e.type IN (SELECT jsonb_array_elements_text(${json([...HOLDING_TYPES])}::jsonb))
       ORDER BY e.org_id, e.position`.execute(trx);
    const rows = [...byOrg(logged.rows)].flatMap(([orgId, events]) =>
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
    await sql`DELETE FROM ${t('seat_holdings')} AS h
               USING jsonb_to_recordset(${json(holders)}::jsonb) AS v(org_id uuid, user_id uuid)
               WHERE h.org_id = v.org_id AND h.user_id = v.user_id`.execute(trx);
    if (rows.length === 0) return;
    await sql`
      INSERT INTO ${t('seat_holdings')} (org_id, assigned_event_id, user_id, position, from_at, to_at,
                                         unassigned_event_id, reason)
      SELECT org_id, assigned_event_id, user_id, position, from_at, to_at, unassigned_event_id, reason
        FROM jsonb_to_recordset(${json(rows)}::jsonb) AS v(
          org_id uuid, assigned_event_id uuid, user_id uuid, position bigint, from_at timestamptz, to_at timestamptz,
          unassigned_event_id uuid, reason text)`.execute(trx);
  }
}
