/**
 * The seat timeline read models (`seat_intervals`, `seat_holdings`): the seat quantity and
 * plan in force over time, and who held a seat when. See docs/metering.md#invoice-preview.
 *
 * The rows are always what folding the organization's events in the schema's event log gives
 * (the log already holds the batch's events: it is written first, in the same transaction),
 * whatever the batching: an event applied twice, or late (a dead letter retried after the
 * events that followed it), lands where its position puts it.
 *
 * Going on, not refolding, in the usual case: when every timeline event of the batch for an
 * organization comes after its last `seat_intervals` row, the fold starts from that row (the
 * state the fold had when it started it) and reads from the log only the events after its
 * position: the batch's, the ones that changed nothing since, and the one that ended it, if
 * any. The rows before it cannot change, so they are left alone; the cost follows the events
 * since the last change, not the organization's whole history. The same per user, from the
 * user's last `seat_holdings` row. Anything else takes the whole refold: an event at or before
 * that row (late, or replayed under another position), no row yet, or an event after it that
 * repeats the id of one up to it (the same event stored again under a later position, which
 * the fold skips; found through `event_log_seat_event_id`, so without reading the history).
 */
import { sql } from 'kysely';
import {
  SEAT_HOLDING_EVENT_TYPES,
  SEAT_TIMELINE_EVENT_TYPES,
  foldSeatHoldings,
  foldSeatTimeline,
  parseEvent,
  type DomainEvent,
  type Plan,
  type SeatHolding,
  type SeatStretch,
  type TimelineEvent,
} from '@quorum/domain';
import { json, type TableOf, type Trx } from './write-plan';

const TIMELINE_TYPES: ReadonlySet<string> = new Set(SEAT_TIMELINE_EVENT_TYPES);
// Literal lists (the types are constants of the code): the planner then reads event_log by its
// (org_id, type, position) index instead of guessing at a set-returning function.
const literals = (types: readonly string[]) => sql.raw(types.map((t) => `'${t.replace(/'/g, "''")}'`).join(', '));
const TIMELINE_TYPE_LIST = literals(SEAT_TIMELINE_EVENT_TYPES);
const HOLDING_TYPE_LIST = literals(SEAT_HOLDING_EVENT_TYPES);
/** The largest `bigint`: no position is above it. */
const MAX_POSITION = '9223372036854775807';

interface LoggedEvent {
  /** The organization, or the organization and user (`org|user`), as the plan names it. */
  key: string;
  event_id: string;
  position: string;
  type: string;
  version: number;
  data: unknown;
  occurred_at: Date | string;
  /** An event with this id is in the log at or before the row the fold goes on from. */
  copied: boolean;
}

/** Where the fold of one organization (one user) starts: after `last`, or from nothing. */
interface Bound<Row> {
  key: string;
  org_id: string;
  user_id?: string;
  last: Row | undefined;
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

function groupBy<T, K>(rows: Iterable<T>, keyOf: (row: T) => K): Map<K, T[]> {
  const out = new Map<K, T[]>();
  for (const r of rows) {
    const k = keyOf(r);
    const group = out.get(k);
    if (group) group.push(r);
    else out.set(k, [r]);
  }
  return out;
}

const iso = (v: Date | string) => new Date(v).toISOString();
const holderKey = (orgId: string, userId: string) => `${orgId}|${userId}`;
const lower = (a: bigint | undefined, b: bigint) => (a === undefined || b < a ? b : a);

/** The organizations and users whose seat timeline a batch changes. */
export class SeatTimelinePlan {
  /** Per organization, the first position of the batch's timeline events. */
  private readonly orgs = new Map<string, bigint>();
  private readonly holders = new Map<string, { org_id: string; user_id: string; first: bigint }>();

  add(orgId: string, position: string, event: DomainEvent): void {
    const at = BigInt(position);
    if (TIMELINE_TYPES.has(event.type)) this.orgs.set(orgId, lower(this.orgs.get(orgId), at));
    if (event.type === 'seat.assigned' || event.type === 'seat.unassigned') {
      const key = holderKey(orgId, event.data.userId);
      const holder = this.holders.get(key);
      this.holders.set(key, { org_id: orgId, user_id: event.data.userId, first: lower(holder?.first, at) });
    }
  }

  /**
   * Folds the touched rows and writes them: the last row of each touched organization and user,
   * one read of the event log (a second one only for those whose events repeat an id), then one
   * statement per table that upserts the folded rows and, for those refolded whole, deletes the
   * touched ones no longer among them.
   */
  async flush(trx: Trx, t: TableOf): Promise<void> {
    if (this.orgs.size === 0 && this.holders.size === 0) return;
    const lastStretches = await this.lastStretches(trx, t);
    const lastHoldings = await this.lastHoldings(trx, t);
    // A row goes on only if the batch holds nothing at or before it; the batch's events are all
    // new to the log (the log's key is the position), so an event at its position is not one.
    const orgs: Array<Bound<SeatStretch>> = [...this.orgs].map(([orgId, first]) => {
      const last = lastStretches.get(orgId);
      return { key: orgId, org_id: orgId, last: last && last.position < first ? last : undefined };
    });
    const holders: Array<Bound<SeatHolding>> = [...this.holders].map(([key, h]) => {
      const last = lastHoldings.get(key);
      return { key, org_id: h.org_id, user_id: h.user_id, last: last && last.position < h.first ? last : undefined };
    });
    let logged = await this.read(trx, t, orgs, holders);
    const copied = new Set(logged.filter((r) => r.copied).map((r) => r.key));
    if (copied.size > 0) {
      for (const b of [...orgs, ...holders]) if (copied.has(b.key)) b.last = undefined;
      const again = await this.read(
        trx,
        t,
        orgs.filter((b) => copied.has(b.key)),
        holders.filter((b) => copied.has(b.key)),
      );
      logged = [...logged.filter((r) => !copied.has(r.key)), ...again];
    }
    const events = groupBy(logged, (r) => r.key);
    if (orgs.length > 0) await this.writeIntervals(trx, t, orgs, events);
    if (holders.length > 0) await this.writeHoldings(trx, t, holders, events);
  }

  /**
   * Each touched organization's last stretch. By (from_at, position): the fold never starts a
   * stretch before the one it follows, so that order is position order, and the
   * `seat_intervals_time` index answers it with one row per organization.
   */
  private async lastStretches(trx: Trx, t: TableOf): Promise<Map<string, SeatStretch>> {
    if (this.orgs.size === 0) return new Map();
    const { rows } = await sql<{
      key: string;
      event_id: string;
      position: string;
      quantity: number;
      plan: string | null;
      quantity_event_id: string | null;
      plan_event_id: string | null;
      from_at: Date | string;
    }>`
      SELECT o.key, l.event_id, l.position::text AS position, l.quantity, l.plan, l.quantity_event_id, l.plan_event_id, l.from_at
        FROM jsonb_array_elements_text(${json([...this.orgs.keys()])}::jsonb) AS o(key)
       CROSS JOIN LATERAL (
         SELECT * FROM ${t('seat_intervals')} s
          WHERE s.org_id = o.key::uuid
          ORDER BY s.from_at DESC, s.position DESC
          LIMIT 1) l`.execute(trx);
    return new Map(
      rows.map((r) => [
        r.key,
        {
          eventId: r.event_id,
          position: BigInt(r.position),
          quantity: r.quantity,
          // Written by the fold from the events' plans.
          plan: r.plan as Plan | null,
          quantityEventId: r.quantity_event_id,
          planEventId: r.plan_event_id,
          from: iso(r.from_at),
          to: null,
          toEventId: null,
        },
      ]),
    );
  }

  /** Each touched user's last holding, by the `seat_holdings_user` index. */
  private async lastHoldings(trx: Trx, t: TableOf): Promise<Map<string, SeatHolding>> {
    if (this.holders.size === 0) return new Map();
    const keys = [...this.holders].map(([key, h]) => ({ key, org_id: h.org_id, user_id: h.user_id }));
    const { rows } = await sql<{
      key: string;
      user_id: string;
      assigned_event_id: string;
      position: string;
      from_at: Date | string;
    }>`
      SELECT k.key, k.user_id, l.assigned_event_id, l.position::text AS position, l.from_at
        FROM jsonb_to_recordset(${json(keys)}::jsonb) AS k(key text, org_id uuid, user_id uuid)
       CROSS JOIN LATERAL (
         SELECT * FROM ${t('seat_holdings')} h
          WHERE h.org_id = k.org_id AND h.user_id = k.user_id
          ORDER BY h.position DESC
          LIMIT 1) l`.execute(trx);
    return new Map(
      rows.map((r) => [
        r.key,
        {
          userId: this.holders.get(r.key)!.user_id,
          assignedEventId: r.assigned_event_id,
          position: BigInt(r.position),
          from: iso(r.from_at),
          to: null,
          unassignedEventId: null,
          reason: null,
        },
      ]),
    );
  }

  /**
   * The events each bound folds, after its row or all of them, each marked when its id is in
   * the log at or before that row. Written for the planner's estimates, which otherwise reach
   * the JIT threshold (hundreds of milliseconds of compiling per batch): `LIMIT n` tells it how
   * many bounds the JSON parameter holds; the upper bound on `position`, always true, makes the
   * range's estimate the one of a narrow range (0.5%) rather than of an open one (a third of an
   * organization's events); `OFFSET 0` keeps each bound a scan of the `(org_id, type, position)`
   * index.
   */
  private async read(
    trx: Trx,
    t: TableOf,
    orgs: ReadonlyArray<Bound<SeatStretch>>,
    holders: ReadonlyArray<Bound<SeatHolding>>,
  ): Promise<LoggedEvent[]> {
    const after = (b: { last: { position: bigint } | undefined }) => b.last?.position.toString() ?? null;
    const orgBounds = orgs.map((b) => ({ key: b.key, org_id: b.org_id, after: after(b) }));
    const holderBounds = holders.map((b) => ({ key: b.key, org_id: b.org_id, user_id: b.user_id, after: after(b) }));
    const { rows } = await sql<LoggedEvent>`
      SELECT b.key, e.event_id, e.position::text AS position, e.type, e.version, e.data, e.occurred_at,
             b.after IS NOT NULL AND EXISTS (
               SELECT 1 FROM ${t('event_log')} p
                WHERE p.org_id = b.org_id AND p.event_id = e.event_id AND p.type IN (${TIMELINE_TYPE_LIST})
                  AND p.position <= b.after) AS copied
        FROM (SELECT * FROM jsonb_to_recordset(${json(orgBounds)}::jsonb) AS b(key text, org_id uuid, after bigint)
               LIMIT ${sql.lit(orgBounds.length)}) b
       CROSS JOIN LATERAL (
         SELECT event_id, position, type, (metadata->>'version')::int AS version, data, occurred_at
           FROM ${t('event_log')}
          WHERE org_id = b.org_id AND type IN (${TIMELINE_TYPE_LIST})
            AND position > coalesce(b.after, -1) AND position <= ${sql.lit(MAX_POSITION)}
         OFFSET 0) e
      UNION ALL
      SELECT b.key, e.event_id, e.position::text AS position, e.type, e.version, e.data, e.occurred_at,
             b.after IS NOT NULL AND EXISTS (
               SELECT 1 FROM ${t('event_log')} p
                WHERE p.org_id = b.org_id AND p.event_id = e.event_id AND p.type IN (${HOLDING_TYPE_LIST})
                  AND p.position <= b.after) AS copied
        FROM (SELECT * FROM jsonb_to_recordset(${json(holderBounds)}::jsonb) AS b(key text, org_id uuid, user_id text, after bigint)
               LIMIT ${sql.lit(holderBounds.length)}) b
       CROSS JOIN LATERAL (
         SELECT event_id, position, type, (metadata->>'version')::int AS version, data, occurred_at
           FROM ${t('event_log')}
          WHERE org_id = b.org_id AND type IN (${HOLDING_TYPE_LIST}) AND data->>'userId' = b.user_id
            AND position > coalesce(b.after, -1) AND position <= ${sql.lit(MAX_POSITION)}
         OFFSET 0) e`.execute(trx);
    return rows;
  }

  private async writeIntervals(
    trx: Trx,
    t: TableOf,
    orgs: ReadonlyArray<Bound<SeatStretch>>,
    events: ReadonlyMap<string, LoggedEvent[]>,
  ): Promise<void> {
    const rows = orgs.flatMap((b) => {
      const folded = (events.get(b.key) ?? []).map(timelineEvent);
      return foldSeatTimeline(folded, b.last).map((s) => ({
        org_id: b.org_id,
        event_id: s.eventId,
        position: s.position.toString(),
        quantity: s.quantity,
        plan: s.plan,
        quantity_event_id: s.quantityEventId,
        plan_event_id: s.planEventId,
        from_at: s.from,
        to_at: s.to,
        to_event_id: s.toEventId,
      }));
    });
    // Only an organization folded whole can lose rows; one gone on with keeps all before its last.
    // Without one, the statement has no delete: the planner cannot tell an empty list from a long
    // one and would scan the whole table for it.
    const refolded = orgs.filter((b) => b.last === undefined).map((b) => b.org_id);
    const gone =
      refolded.length === 0
        ? sql``
        : sql`, gone AS (
        DELETE FROM ${t('seat_intervals')} AS s
         WHERE s.org_id = ANY(ARRAY(SELECT (jsonb_array_elements_text(${json(refolded)}::jsonb))::uuid))
           AND NOT EXISTS (SELECT 1 FROM v WHERE v.org_id = s.org_id AND v.event_id = s.event_id)
      )`;
    await sql`
      WITH v AS (
        SELECT * FROM jsonb_to_recordset(${json(rows)}::jsonb) AS v(
          org_id uuid, event_id uuid, position bigint, quantity integer, plan text, quantity_event_id uuid,
          plan_event_id uuid, from_at timestamptz, to_at timestamptz, to_event_id uuid)
      )${gone}
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
    holders: ReadonlyArray<Bound<SeatHolding>>,
    events: ReadonlyMap<string, LoggedEvent[]>,
  ): Promise<void> {
    // Per organization, the users folded whole together (as the fold has always seen them) and
    // those gone on with together, each from their last holding.
    const groups = groupBy(holders, (b) => `${b.last === undefined ? 'whole' : 'on'}|${b.org_id}`);
    const rows = [...groups.values()].flatMap((group) => {
      const orgId = group[0]!.org_id;
      const folded = group.flatMap((b) => events.get(b.key) ?? []).map(timelineEvent);
      const last = group.flatMap((b) => (b.last ? [b.last] : []));
      return foldSeatHoldings(folded, last).map((h) => ({
        org_id: orgId,
        assigned_event_id: h.assignedEventId,
        user_id: h.userId,
        position: h.position.toString(),
        from_at: h.from,
        to_at: h.to,
        unassigned_event_id: h.unassignedEventId,
        reason: h.reason,
      }));
    });
    const refolded = holders.filter((b) => b.last === undefined).map((b) => ({ org_id: b.org_id, user_id: b.user_id }));
    const gone =
      refolded.length === 0
        ? sql``
        : sql`, gone AS (
        DELETE FROM ${t('seat_holdings')} AS h
         USING jsonb_to_recordset(${json(refolded)}::jsonb) AS k(org_id uuid, user_id uuid)
         WHERE h.org_id = k.org_id AND h.user_id = k.user_id
           AND NOT EXISTS (SELECT 1 FROM v WHERE v.org_id = h.org_id AND v.assigned_event_id = h.assigned_event_id)
      )`;
    await sql`
      WITH v AS (
        SELECT * FROM jsonb_to_recordset(${json(rows)}::jsonb) AS v(
          org_id uuid, assigned_event_id uuid, user_id uuid, position bigint, from_at timestamptz, to_at timestamptz,
          unassigned_event_id uuid, reason text)
      )${gone}
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
