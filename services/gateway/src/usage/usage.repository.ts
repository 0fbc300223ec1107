/**
 * Queries over the usage read models (`usage_daily`, `usage_records`, `usage_thresholds`) of
 * the active projection version. Records page by position (a keyset: every page is an index
 * range scan, however deep), which also orders them as they were recorded.
 */
import { readModelSchema, type Database } from '@quorum/db';
import { sql, type Kysely, type RawBuilder } from 'kysely';
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

/** Records as CSV: CRLF-terminated lines (RFC 4180) and how many. */
export interface UsageCsvPage {
  csv: string;
  rows: number;
}

/**
 * A field of text the database holds, written as `csvField` writes it: quoted, inner quotes
 * doubled, when it holds a comma, a quote, CR or LF.
 */
function csvText(value: RawBuilder<string>): RawBuilder<string> {
  return sql<string>`CASE WHEN ${value} ~ E'[",\\r\\n]' THEN '"' || replace(${value}, '"', '""') || '"' ELSE ${value} END`;
}

/** An instant as `Date.prototype.toISOString` writes it: UTC, milliseconds, `Z`. */
function isoInstant(column: 'from_at' | 'to_at'): RawBuilder<string> {
  return sql<string>`to_char(${sql.ref(column)} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
}

/**
 * One record as the CSV line `usage-export.route` writes for it (`csvLine` of its fields), in
 * SQL. Uuids, integers, dates and instants never need quoting; the text columns are quoted as
 * `csvField` would, and `sources` (a JSON array) is its elements joined by spaces. The identical
 * `string_agg` calls in the quoting of `sources` are computed once.
 */
const USAGE_CSV_LINE = sql<string>`concat_ws(',',
  event_id::text, position::text, ${csvText(sql<string>`period`)}, ${csvText(sql<string>`meter`)}, day::text,
  ${isoInstant('from_at')}, ${isoInstant('to_at')}, seconds::text, session_id::text, host_user_id::text,
  coalesce(participant_id::text, ''), stint::text,
  (SELECT ${csvText(sql<string>`coalesce(string_agg(source, ' ' ORDER BY n), '')`)}
     FROM jsonb_array_elements_text(sources) WITH ORDINALITY AS s(source, n))
) || E'\\r\\n'`;

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
  allRecords(orgId: string, period: string, pageSize = 2_000): AsyncGenerator<UsageRecord[]> {
    return this.keyset(orgId, period, pageSize, async (db, after, upTo) => {
      const rows = await this.records(orgId, period, { after, upTo, limit: pageSize }, db);
      return { page: rows, rows: rows.length, last: rows.at(-1)?.position };
    });
  }

  /**
   * The records of {@link allRecords} as CSV, each page one string of CRLF-terminated lines in
   * `usage-export.route`'s columns, formatted by PostgreSQL: a page reaches JavaScript as one
   * value instead of a row object, a `Date` and an array per record, which kept the export's
   * memory growing with the month.
   */
  csvPages(orgId: string, period: string, pageSize = 2_000): AsyncGenerator<UsageCsvPage> {
    return this.keyset(orgId, period, pageSize, async (db, after, upTo) => {
      let lines = db
        .selectFrom('usage_records')
        .select([USAGE_CSV_LINE.as('line'), 'position'])
        .where('org_id', '=', orgId)
        .where('period', '=', period)
        .where('position', '<=', upTo);
      if (after !== undefined) lines = lines.where('position', '>', after);
      const page = await db
        .selectFrom(lines.orderBy('usage_records.position').limit(pageSize).as('page'))
        .select([
          sql<string | null>`string_agg(line, '' ORDER BY position)`.as('csv'),
          sql<number>`count(*)::int`.as('rows'),
          sql<string | null>`max(position)::text`.as('last'),
        ])
        .executeTakeFirstOrThrow();
      const csv = { csv: page.csv ?? '', rows: page.rows };
      return { page: csv, rows: page.rows, last: page.last ?? undefined };
    });
  }

  /**
   * Pages of `orgId`'s records in `period` by position, each read by `fetch` (`pageSize` records
   * after `after`, none past `upTo`), the next read while the caller handles the current one.
   * The schema is resolved and `upTo` fixed once, so the pages are one version's records as they
   * stood at the first read.
   */
  private async *keyset<P>(
    orgId: string,
    period: string,
    pageSize: number,
    fetch: (
      db: Kysely<Database>,
      after: string | undefined,
      upTo: string,
    ) => Promise<{ page: P; rows: number; last: string | undefined }>,
  ): AsyncGenerator<P> {
    const db = await this.rm();
    const head = await db
      .selectFrom('usage_records')
      .select(sql<string | null>`max(position)::text`.as('last'))
      .where('org_id', '=', orgId)
      .where('period', '=', period)
      .executeTakeFirst();
    const upTo = head?.last;
    if (upTo == null) return;
    let next: ReturnType<typeof fetch> | undefined = fetch(db, undefined, upTo);
    try {
      while (next) {
        const read: Awaited<ReturnType<typeof fetch>> = await next;
        next = read.rows < pageSize ? undefined : fetch(db, read.last, upTo);
        if (read.rows > 0) yield read.page;
      }
    } finally {
      // A caller that stopped early leaves at most one read in flight; its outcome is moot.
      await next?.catch(() => undefined);
    }
  }
}
