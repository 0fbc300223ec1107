/**
 * What `billing.preview` reads from the active projection version: the stretches of seat
 * quantity and plan that overlap a month (`seat_intervals`), the seat holdings in it
 * (`seat_holdings`), and its meeting minutes (`usage_daily`). One repeatable-read transaction,
 * so the three agree on which events they include.
 */
import { readModelSchema, type Database } from '@quorum/db';
import { sql, type Kysely } from 'kysely';

export interface BillingFacts {
  stretches: Array<{
    eventId: string;
    quantity: number;
    plan: string | null;
    quantityEventId: string | null;
    planEventId: string | null;
    from: string;
    to: string | null;
  }>;
  holdings: Array<{
    userId: string;
    from: string;
    to: string | null;
    assignedEventId: string;
    unassignedEventId: string | null;
    reason: string | null;
  }>;
  meetingSeconds: number;
  /** `usage.recorded` events of `meeting_minutes` behind `meetingSeconds`. */
  meetingRecords: number;
}

const iso = (v: Date | string) => new Date(v).toISOString();

function stretchOf(r: {
  event_id: string;
  quantity: number;
  plan: string | null;
  quantity_event_id: string | null;
  plan_event_id: string | null;
  from_at: Date | string;
  to_at: Date | string | null;
}): BillingFacts['stretches'][number] {
  return {
    eventId: r.event_id,
    quantity: r.quantity,
    plan: r.plan,
    quantityEventId: r.quantity_event_id,
    planEventId: r.plan_event_id,
    from: iso(r.from_at),
    to: r.to_at === null ? null : iso(r.to_at),
  };
}

export class BillingRepository {
  constructor(
    private readonly db: Kysely<Database>,
    /** The active read-model version (the gateway's `ReadModels.activeVersion`). */
    private readonly activeVersion: () => Promise<number>,
  ) {}

  /** The seat stretches overlapping `[from, to)` of each of `orgIds`, in position order. */
  async stretchesOf(orgIds: readonly string[], from: Date, to: Date): Promise<Map<string, BillingFacts['stretches']>> {
    const byOrg = new Map<string, BillingFacts['stretches']>(orgIds.map((id) => [id, []]));
    if (orgIds.length === 0) return byOrg;
    const rows = await this.db
      .withSchema(readModelSchema(await this.activeVersion()))
      .selectFrom('seat_intervals')
      .select(['org_id', 'event_id', 'quantity', 'plan', 'quantity_event_id', 'plan_event_id', 'from_at', 'to_at'])
      .where('org_id', 'in', [...orgIds])
      .where('from_at', '<', to)
      .where((eb) => eb.or([eb('to_at', 'is', null), eb('to_at', '>', from)]))
      .orderBy('position')
      .execute();
    for (const r of rows) byOrg.get(r.org_id)?.push(stretchOf(r));
    return byOrg;
  }

  /** The facts of `orgId`'s invoice for `period`, which runs `[from, to)`. */
  async previewFacts(orgId: string, period: string, from: Date, to: Date): Promise<BillingFacts> {
    const schema = readModelSchema(await this.activeVersion());
    return this.db
      .transaction()
      .setIsolationLevel('repeatable read')
      .execute(async (trx) => {
        const db = trx.withSchema(schema);
        const stretches = await db
          .selectFrom('seat_intervals')
          .select(['event_id', 'quantity', 'plan', 'quantity_event_id', 'plan_event_id', 'from_at', 'to_at'])
          .where('org_id', '=', orgId)
          .where('from_at', '<', to)
          .where((eb) => eb.or([eb('to_at', 'is', null), eb('to_at', '>', from)]))
          .orderBy('position')
          .execute();
        const holdings = await db
          .selectFrom('seat_holdings')
          .select(['user_id', 'from_at', 'to_at', 'assigned_event_id', 'unassigned_event_id', 'reason'])
          .where('org_id', '=', orgId)
          .where('from_at', '<', to)
          .where((eb) => eb.or([eb('to_at', 'is', null), eb('to_at', '>', from)]))
          .orderBy('position')
          .execute();
        const usage = await db
          .selectFrom('usage_daily')
          .select([
            sql<string>`coalesce(sum(seconds), 0)::text`.as('seconds'),
            sql<string>`coalesce(sum(records), 0)::text`.as('records'),
          ])
          .where('org_id', '=', orgId)
          .where('period', '=', period)
          .where('meter', '=', 'meeting_minutes')
          .executeTakeFirstOrThrow();
        return {
          stretches: stretches.map(stretchOf),
          holdings: holdings.map((r) => ({
            userId: r.user_id,
            from: iso(r.from_at),
            to: r.to_at === null ? null : iso(r.to_at),
            assignedEventId: r.assigned_event_id,
            unassignedEventId: r.unassigned_event_id,
            reason: r.reason,
          })),
          meetingSeconds: Number(usage.seconds),
          meetingRecords: Number(usage.records),
        };
      });
  }
}
