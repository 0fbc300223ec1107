/**
 * Queries over the usage read models (`usage_daily`, `usage_records`, `usage_thresholds`) of
 * the active projection version. Records page by position (a keyset: every page is an index
 * range scan, however deep), which also orders them as they were recorded.
 */
import { readModelSchema, type Database } from '@quorum/db';
import { sql, type Kysely } from 'kysely';
import type { UsageGroupBy } from '@quorum/api/schemas';

type Meter = 'participant_minutes' | 'meeting_minutes';

/** Filters of a page of records. */
export interface UsageRecordFilter {
  meter?: Meter | undefined;
  day?: string | undefined;
  hostUserId?: string | undefined;
  sessionId?: string | undefined;
}

/** One `usage.recorded` event as the read model holds it. */
export interface UsageRecord {
  eventId: string;
  position: string;
  meter: Meter;
  sessionId: string;
  hostUserId: string;
  participantId: string | null;
  stint: string;
  day: string;
  from: string;
  to: string;
  seconds: number;
  sources: string[];
}

const GROUP_COLUMN = {
  day: 'day',
  meter: 'meter',
  host: 'host_user_id',
  meeting: 'session_id',
} as const satisfies Record<UsageGroupBy, string>;

export class UsageRepository {
  constructor(
    private readonly db: Kysely<Database>,
    /** The active read-model version (the gateway's `ReadModels.activeVersion`). */
    private readonly activeVersion: () => Promise<number>,
  ) {}

  /** The schema of the active version, resolved once per call so a call never straddles a switch. */
  private async rm(): Promise<Kysely<Database>> {
    return this.db.withSchema(readModelSchema(await this.activeVersion()));
  }

  /** Seconds and records per group and meter, in group order. */
  async summary(orgId: string, period: string, groupBy: UsageGroupBy) {
    const db = await this.rm();
    const rows = await db
      .selectFrom('usage_daily')
      .select([
        sql<string>`${sql.ref(GROUP_COLUMN[groupBy])}::text`.as('key'),
        'meter',
        sql<string>`sum(seconds)::text`.as('seconds'),
        sql<string>`sum(records)::text`.as('records'),
      ])
      .where('org_id', '=', orgId)
      .where('period', '=', period)
      .groupBy([sql.ref(GROUP_COLUMN[groupBy]), 'meter'])
      .orderBy('key')
      .orderBy('meter')
      .execute();
    return rows.map((r) => ({ key: r.key, meter: r.meter, seconds: Number(r.seconds), records: Number(r.records) }));
  }

  /** The thresholds of the included minutes `orgId` crossed in `period`. */
  async thresholds(orgId: string, period: string) {
    const db = await this.rm();
    return db
      .selectFrom('usage_thresholds')
      .select(['meter', 'threshold', 'included_minutes', 'used_seconds', 'crossed_at', 'event_id'])
      .where('org_id', '=', orgId)
      .where('period', '=', period)
      .orderBy('meter')
      .orderBy('threshold')
      .execute();
  }

  /** Up to `limit` records after position `after`, oldest first, at or below `upTo` when given. */
  async records(
    orgId: string,
    period: string,
    page: { filter?: UsageRecordFilter; after?: string | undefined; upTo?: string; limit: number },
    db?: Kysely<Database>,
  ): Promise<UsageRecord[]> {
    const f = page.filter ?? {};
    let query = (db ?? (await this.rm()))
      .selectFrom('usage_records')
      .select([
        'event_id',
        sql<string>`position::text`.as('position'),
        'meter',
        'session_id',
        'host_user_id',
        'participant_id',
        'stint',
        sql<string>`day::text`.as('day'),
        'from_at',
        'to_at',
        'seconds',
        'sources',
      ])
      .where('org_id', '=', orgId)
      .where('period', '=', period);
    if (f.meter) query = query.where('meter', '=', f.meter);
    if (f.day) query = query.where('day', '=', f.day);
    if (f.hostUserId) query = query.where('host_user_id', '=', f.hostUserId);
    if (f.sessionId) query = query.where('session_id', '=', f.sessionId);
    if (page.after !== undefined) query = query.where('position', '>', page.after);
    if (page.upTo !== undefined) query = query.where('position', '<=', page.upTo);
    // The column, not the `position::text` output of the same name: a bare `position` in ORDER BY
    // names the output column, which sorts as text ('10' before '9') and defeats the index.
    const rows = await query.orderBy('usage_records.position').limit(page.limit).execute();
    return rows.map((r) => ({
      eventId: r.event_id,
      position: r.position,
      meter: r.meter,
      sessionId: r.session_id,
      hostUserId: r.host_user_id,
      participantId: r.participant_id,
      stint: r.stint,
      day: r.day,
      from: new Date(r.from_at).toISOString(),
      to: new Date(r.to_at).toISOString(),
      seconds: r.seconds,
      sources: r.sources,
    }));
  }

  /**
   * Every record of `orgId` in `period`, oldest first, read `pageSize` at a time: one version's
   * schema and the records there when the first page was read, however long the reader takes.
   */
  async *allRecords(orgId: string, period: string, pageSize = 2_000): AsyncGenerator<UsageRecord[]> {
    const db = await this.rm();
    const head = await db
      .selectFrom('usage_records')
      .select(sql<string | null>`max(position)::text`.as('last'))
      .where('org_id', '=', orgId)
      .where('period', '=', period)
      .executeTakeFirst();
    const upTo = head?.last;
    if (upTo == null) return;
    const fetch = (after: string | undefined) => this.records(orgId, period, { after, upTo, limit: pageSize }, db);
    // The next page is read while the caller writes this one out.
    let next: Promise<UsageRecord[]> | undefined = fetch(undefined);
    try {
      while (next) {
        const page: UsageRecord[] = await next;
        next = page.length < pageSize ? undefined : fetch(page.at(-1)!.position);
        if (page.length > 0) yield page;
      }
    } finally {
      // A caller that stopped early leaves at most one read in flight; its outcome is moot.
      await next?.catch(() => undefined);
    }
  }
}
