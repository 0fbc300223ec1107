/**
 * Every organization's metered totals in one month, for the operators' finance review: the
 * organizations read model joined to `usage_daily` summed per organization, sorted by name, by
 * a meter's billed minutes or by the overage amount, and paged by keyset (the sort key, then
 * the organization id), so every page is one range of one ordering however deep.
 *
 * The overage is sorted in SQL from the same tables `meetingMinutesOverage` prices with
 * (`ENTITLEMENTS`, `PRICES`), so sorting needs no pass over every organization; the amounts
 * shown are that function's (`finance-row.ts`), and the tests hold the two equal.
 */
import { readModelSchema, type Database } from '@quorum/db';
import { ENTITLEMENTS, PLANS, PlanSchema, PRICES, type Plan } from '@quorum/domain';
import type { FinanceCursor, FinanceOrder, FinanceSort } from '@quorum/api/schemas';
import { sql, type Kysely, type RawBuilder } from 'kysely';

/** One organization's month as the read models hold it. */
export interface FinanceOrgTotals {
  orgId: string;
  name: string;
  /** The organization's plan now. */
  plan: Plan;
  participantSeconds: number;
  meetingSeconds: number;
}

/** Totals with the key the listing was sorted by (for the next page's cursor). */
export interface FinanceOrgTotalsRow extends FinanceOrgTotals {
  sortKey: string | number;
}

export interface FinancePage {
  sort: FinanceSort;
  order: FinanceOrder;
  /** The last row of the page before. */
  after?: FinanceCursor | undefined;
  limit: number;
}

const minutesOf = (seconds: RawBuilder<unknown>) => sql`((${seconds} + 59) / 60)`;
const PARTICIPANT_SECONDS = sql`coalesce(t.participant_seconds, 0)`;
const MEETING_SECONDS = sql`coalesce(t.meeting_seconds, 0)`;

/** The overage amount of a row in SQL: billed minutes past the plan's included ones, at its price. */
const OVERAGE_AMOUNT = sql`(CASE o.plan ${sql.join(
  PLANS.flatMap((plan) => {
    const included = ENTITLEMENTS[plan].meetingMinutesPerMonth;
    const price = PRICES[plan].overagePerMinute;
    if (included === null || price === null) return [];
    return [
      sql`WHEN ${sql.lit(plan)} THEN greatest(0, ${minutesOf(MEETING_SECONDS)} - ${sql.lit(included)}) * ${sql.lit(price)}`,
    ];
  }),
  sql` `,
)} ELSE 0 END)`;

const SORT_KEY: Record<FinanceSort, RawBuilder<unknown>> = {
  // By code point, the same on every database whatever its collation; case does not count.
  name: sql`(lower(o.name) COLLATE "C")`,
  participantMinutes: minutesOf(PARTICIPANT_SECONDS),
  meetingMinutes: minutesOf(MEETING_SECONDS),
  overage: OVERAGE_AMOUNT,
};

/** The first instant after `period` (`yyyymm`), UTC. */
function periodEnd(period: string): Date {
  return new Date(Date.UTC(Number(period.slice(0, 4)), Number(period.slice(4)), 1));
}

export class FinanceRepository {
  constructor(
    private readonly db: Kysely<Database>,
    /** The active read-model version (the gateway's `ReadModels.activeVersion`). */
    private readonly activeVersion: () => Promise<number>,
  ) {}

  private async rm(): Promise<Kysely<Database>> {
    return this.db.withSchema(readModelSchema(await this.activeVersion()));
  }

  /**
   * Up to `page.limit` organizations that existed in `period`, after `page.after` in the order
   * asked, with their seconds of each meter in it (0 without usage).
   */
  async orgs(period: string, page: FinancePage, db?: Kysely<Database>): Promise<FinanceOrgTotalsRow[]> {
    const rm = db ?? (await this.rm());
    const totals = rm
      .selectFrom('usage_daily')
      .select([
        'org_id',
        sql<string>`(sum(seconds) FILTER (WHERE meter = 'participant_minutes'))::bigint`.as('participant_seconds'),
        sql<string>`(sum(seconds) FILTER (WHERE meter = 'meeting_minutes'))::bigint`.as('meeting_seconds'),
      ])
      .where('period', '=', period)
      .groupBy('org_id');
    const key = SORT_KEY[page.sort];
    const direction = page.order === 'asc' ? sql`ASC` : sql`DESC`;
    let query = rm
      .selectFrom('organizations as o')
      .leftJoin(totals.as('t'), 't.org_id', 'o.org_id')
      .select([
        'o.org_id',
        'o.name',
        'o.plan',
        sql<string>`${PARTICIPANT_SECONDS}::text`.as('participant_seconds'),
        sql<string>`${MEETING_SECONDS}::text`.as('meeting_seconds'),
        sql<string>`${key}::text`.as('sort_key'),
      ])
      .where('o.created_at', '<', periodEnd(period));
    if (page.after) {
      const value = page.sort === 'name' ? sql`${page.after.key}` : sql`${page.after.key}::bigint`;
      const beyond = page.order === 'asc' ? sql`>` : sql`<`;
      query = query.where(sql<boolean>`(${key}, o.org_id) ${beyond} (${value}, ${page.after.orgId}::uuid)`);
    }
    const rows = await query
      .orderBy(sql`${key} ${direction}`)
      .orderBy(sql`o.org_id ${direction}`)
      .limit(page.limit)
      .execute();
    return rows.map((r) => ({
      orgId: r.org_id,
      name: r.name,
      plan: PlanSchema.parse(r.plan),
      participantSeconds: Number(r.participant_seconds),
      meetingSeconds: Number(r.meeting_seconds),
      sortKey: page.sort === 'name' ? r.sort_key : Number(r.sort_key),
    }));
  }

  /**
   * Every organization of `period` by name, `pageSize` at a time, all from one read-model
   * version however long the reader takes.
   */
  async *allOrgs(period: string, pageSize = 1_000): AsyncGenerator<FinanceOrgTotalsRow[]> {
    const db = await this.rm();
    let after: FinanceCursor | undefined;
    for (;;) {
      const page = await this.orgs(period, { sort: 'name', order: 'asc', after, limit: pageSize }, db);
      if (page.length > 0) yield page;
      if (page.length < pageSize) return;
      const last = page.at(-1)!;
      after = { sort: 'name', order: 'asc', key: last.sortKey, orgId: last.orgId };
    }
  }
}
