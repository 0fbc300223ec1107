/**
 * The `core` projection: organizations, entitlements, members, invitations, seats, seat
 * assignments, meetings, webhook endpoints and the per-organization event log, in one read-model schema
 * (`rm_v<N>`), and metered usage and Stripe's customers and invoices beside them. This module
 * writes the event log and hands each event to the module of the read model it changes
 * (`organizations`, `members`, `seats`, `sessions`, `usage`, `billing`, `webhooks`, and the
 * seat timeline).
 *
 * Set-based: a batch of events is folded in memory into one final operation per row key
 * (insert, update, delete, replace), then each table is written with one statement whose rows
 * arrive as a single JSON parameter (`jsonb_to_recordset`). A batch of a thousand events costs
 * about fifteen statements instead of three per event, and lands on exactly the rows that
 * applying the events one by one would.
 *
 * Idempotency: the event log rows (org_id, position) are inserted first, in the same
 * transaction as every other write; an event whose row already exists was applied to this
 * schema before and has no further effect. Counts (`seats.assigned`) are recounted from the
 * assignment rows, never incremented; the seat timeline is refolded from the event log.
 */
import { sql, type RawBuilder } from 'kysely';
import { assertUnreachable, isDomainEventType, parseEvent, type DomainEvent } from '@quorum/domain';
import type { WireEvent } from '@quorum/eventstore';
import { BillingPlan } from './billing.projection';
import { planMembership, flushMemberships } from './members.projection';
import { planOrganization, flushOrganizations } from './organizations.projection';
import { planSeats, flushSeats } from './seats.projection';
import { SeatTimelinePlan } from './seat-timeline.projection';
import { flushSessions } from './sessions.projection';
import { UsagePlan } from './usage.projection';
import { flushEndpoints, planEndpoint } from './webhooks.projection';
import { json, WritePlan, type Trx } from './write-plan';

/** Name of the projection in the bookkeeping tables. */
export const CORE_PROJECTION = 'core';

/** `applied`: written now; `duplicate`: this position was already in the schema's event log. */
export type ApplyOutcome = 'applied' | 'duplicate';

function parse(event: WireEvent): DomainEvent | undefined {
  return isDomainEventType(event.type)
    ? parseEvent({ type: event.type, version: event.version, data: event.data })
    : undefined;
}

/** Hands each event to the read model that it changes. */
function plan(w: WritePlan, usage: UsagePlan, billing: BillingPlan, e: WireEvent, domainEvent: DomainEvent): void {
  const { orgId, streamId, occurredAt: at } = e;
  switch (domainEvent.type) {
    case 'organization.created':
    case 'organization.plan_changed':
    case 'organization.activated':
    case 'organization.reactivated':
    case 'organization.marked_past_due':
    case 'organization.suspended':
    case 'organization.closed':
      return planOrganization(w, orgId, at, domainEvent);
    case 'member.invited':
    case 'member.joined':
    case 'member.role_changed':
    case 'member.removed':
      return planMembership(w, orgId, at, domainEvent);
    case 'seats.purchased':
    case 'seats.released':
    case 'seat.assigned':
    case 'seat.unassigned':
      return planSeats(w, orgId, at, domainEvent);
    case 'api_key.created':
    case 'api_key.revoked':
      // Keys themselves live in the gateway's table; the log is their audit trail.
      return;
    case 'session.scheduled':
    case 'session.started':
    case 'participant.joined':
    case 'participant.left':
    case 'participant.reconnected':
    case 'session.locked':
    case 'session.unlocked':
    case 'participant.muted':
    case 'participant.removed':
    case 'session.ended':
      w.sessionEvents.push({ orgId, streamId, at, event: domainEvent });
      return;
    case 'usage.recorded':
    case 'usage.threshold_crossed':
      return usage.add(orgId, streamId, { id: e.id, position: e.position, at }, domainEvent);
    case 'billing.customer_linked':
    case 'billing.subscription_synced':
    case 'billing.usage_reported':
    case 'billing.sync_failed':
    case 'billing.sync_skipped':
    case 'billing.invoice_finalized':
    case 'billing.invoice_paid':
    case 'billing.invoice_payment_failed':
    case 'billing.reconciliation_completed':
      return billing.add(orgId, streamId, { id: e.id, position: e.position, at }, domainEvent);
    case 'endpoint.created':
    case 'endpoint.updated':
    case 'endpoint.paused':
    case 'endpoint.resumed':
    case 'endpoint.secret_rotated':
    case 'endpoint.deleted':
    case 'endpoint.disabled':
      return planEndpoint(w, orgId, streamId, { position: e.position, at }, domainEvent);
    default:
      return assertUnreachable(domainEvent);
  }
}

/** Moves a projection's checkpoint from `from` to `to`, if it is still at `from`. */
export interface CheckpointAdvance {
  projection: string;
  version: number;
  from: bigint;
  to: bigint;
}

/**
 * Applies `events` (in position order) to the read models of `schema`, inside `trx`.
 * @throws when the data of a known event type fails validation (after upcasting) or an
 *   envelope is inconsistent; nothing is written then (parsing happens before any write),
 *   and the caller can apply the events one by one to find the poison.
 */
export async function applyEvents(trx: Trx, schema: string, events: readonly WireEvent[]): Promise<ApplyOutcome[]> {
  return (await applyLogged(trx, schema, events, undefined))!;
}

/**
 * {@link applyEvents} with the checkpoint moved in the same statement as the event log's rows
 * (one round trip less per batch): the events are applied only if the checkpoint was still at
 * `advance.from`, and it then holds its row lock to the end of `trx`. Undefined, with nothing
 * written, when the checkpoint had moved.
 */
export async function applyEventsAdvancing(
  trx: Trx,
  schema: string,
  events: readonly WireEvent[],
  advance: CheckpointAdvance,
): Promise<ApplyOutcome[] | undefined> {
  return applyLogged(trx, schema, events, advance);
}

async function applyLogged(
  trx: Trx,
  schema: string,
  events: readonly WireEvent[],
  advance: CheckpointAdvance | undefined,
): Promise<ApplyOutcome[] | undefined> {
  if (events.length === 0) return [];
  const parsed = events.map(parse);
  const t = (name: string) => sql.table(`${schema}.${name}`);

  const rows = json(
    events.map((e) => ({
      org_id: e.orgId,
      position: e.position,
      event_id: e.id,
      type: e.type,
      stream_id: e.streamId,
      revision: e.revision,
      data: e.data ?? null,
      metadata: {
        version: e.version,
        actor: e.actor,
        correlationId: e.correlationId,
        causationId: e.causationId,
        traceparent: e.traceparent,
      },
      occurred_at: e.occurredAt,
    })),
  );
  const insertLog = (guard: RawBuilder<unknown>) => sql<{ position: string }>`
    INSERT INTO ${t('event_log')} (org_id, position, event_id, type, stream_id, revision, data, metadata, occurred_at)
    SELECT v.org_id, v.position, v.event_id, v.type, v.stream_id, v.revision, v.data, v.metadata, v.occurred_at
      FROM jsonb_to_recordset(${rows}::jsonb) AS v(org_id uuid, position bigint, event_id uuid, type text, stream_id text, revision bigint, data jsonb, metadata jsonb, occurred_at timestamptz)
     WHERE ${guard}
    ON CONFLICT (org_id, position) DO NOTHING
    RETURNING position`;
  let fresh: Set<string>;
  if (advance === undefined) {
    const logged = await insertLog(sql`true`).execute(trx);
    fresh = new Set(logged.rows.map((r) => String(r.position)));
  } else {
    const { rows: result } = await sql<{ advanced: number; positions: string[] }>`
      WITH cp AS (
        UPDATE projection_checkpoints SET position = ${advance.to.toString()}, updated_at = now()
         WHERE projection = ${advance.projection} AND version = ${advance.version} AND position = ${advance.from.toString()}
        RETURNING 1
      ), logged AS (${insertLog(sql`EXISTS (SELECT 1 FROM cp)`)})
      SELECT (SELECT count(*) FROM cp)::int AS advanced,
             (SELECT coalesce(array_agg(position::text), '{}') FROM logged) AS positions`.execute(trx);
    const row = result[0]!;
    if (row.advanced !== 1) return undefined;
    fresh = new Set(row.positions);
  }

  const w = new WritePlan();
  const usage = new UsagePlan();
  const billing = new BillingPlan();
  const timeline = new SeatTimelinePlan();
  const outcomes = events.map((e, i): ApplyOutcome => {
    if (!fresh.has(e.position)) return 'duplicate';
    const domainEvent = parsed[i];
    // Event types this code does not know (newer producers, other categories) only go to the log.
    if (domainEvent) {
      plan(w, usage, billing, e, domainEvent);
      timeline.add(e.orgId, e.position, domainEvent);
    }
    return 'applied';
  });
  await flushOrganizations(trx, t, w);
  await flushMemberships(trx, t, w);
  await flushSessions(trx, t, w.sessionEvents);
  await flushSeats(trx, t, w);
  await usage.flush(trx, t);
  await billing.flush(trx, t);
  await timeline.flush(trx, t);
  await flushEndpoints(trx, t, w);
  return outcomes;
}

/** Applies one event; see {@link applyEvents}. */
export async function applyEvent(trx: Trx, schema: string, event: WireEvent): Promise<ApplyOutcome> {
  const [outcome] = await applyEvents(trx, schema, [event]);
  return outcome!;
}
