/**
 * The usage repository's keyset paging on PostgreSQL, in a read-model schema of its own:
 * positions whose decimal forms differ in length ('9', '10', '100') page in numeric order, each
 * record once, and a page is an index range scan rather than a sort of the month.
 */
import { randomUUID } from 'node:crypto';
import {
  createKysely,
  createPgSqlDatabase,
  migrateReadModelSchema,
  readModelSchema,
  type Database,
  type SqlDatabase,
} from '@quorum/db';
import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { csvLine } from '../http/csv';
import { usageCsvFields } from './usage-export.route';
import { UsageRepository } from './usage.repository';

const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://quorum:quorum@127.0.0.1:5432/quorum_test';
/** A version no other test uses; its schema is dropped afterwards. */
const VERSION = 900_000 + Math.floor(Math.random() * 99_999);
const PERIOD = '202501';
const orgId = randomUUID();
const otherOrg = randomUUID();
/** Positions across two changes of digit count, out of insertion order. */
const POSITIONS = [...Array.from({ length: 28 }, (_, i) => 95 - i * 3), 5, 7, 9, 10, 11, 1000, 999];

let sql: SqlDatabase;
let db: Kysely<Database>;
let repo: UsageRepository;

beforeAll(async () => {
  sql = createPgSqlDatabase({ connectionString: DATABASE_URL, max: 2 });
  await migrateReadModelSchema(sql, VERSION);
  db = createKysely<Database>(sql);
  const row = (org: string, position: number) => ({
    event_id: randomUUID(),
    org_id: org,
    period: PERIOD,
    meter: 'participant_minutes' as const,
    session_id: randomUUID(),
    host_user_id: randomUUID(),
    participant_id: randomUUID(),
    stint: randomUUID(),
    from_at: '2025-01-02T10:00:00Z',
    to_at: '2025-01-02T10:05:00Z',
    seconds: 300,
    day: '2025-01-02',
    sources: JSON.stringify([randomUUID()]),
    position,
    recorded_at: '2025-01-02T10:05:00Z',
  });
  await db
    .withSchema(readModelSchema(VERSION))
    .insertInto('usage_records')
    .values([...POSITIONS.map((p) => row(orgId, p)), row(otherOrg, 50), row(otherOrg, 6)])
    .execute();
  repo = new UsageRepository(db, async () => VERSION);
});

afterAll(async () => {
  await sql?.query(`DROP SCHEMA IF EXISTS ${readModelSchema(VERSION)} CASCADE`);
  await sql?.close();
});

const numeric = [...POSITIONS].sort((a, b) => a - b).map(String);

describe('UsageRepository paging', () => {
  it('pages records in numeric position order, each once, whatever the page size', async () => {
    for (const limit of [1, 3, 7, 100]) {
      const seen: string[] = [];
      let after: string | undefined;
      for (;;) {
        const page = await repo.records(orgId, PERIOD, { after, limit });
        seen.push(...page.map((r) => r.position));
        if (page.length < limit) break;
        after = page.at(-1)!.position;
      }
      expect(seen, `limit ${limit}`).toEqual(numeric);
    }
  });

  it('reads the whole month in numeric order through allRecords, in pages', async () => {
    const pages: string[][] = [];
    for await (const page of repo.allRecords(orgId, PERIOD, 4)) pages.push(page.map((r) => r.position));
    expect(pages.flat()).toEqual(numeric);
    expect(pages.every((p) => p.length <= 4)).toBe(true);
  });

  it('plans a page as a range scan of the index, with no sort', async () => {
    // The repository over a connection that keeps what it sends, so its own page query is explained.
    const sent: Array<{ text: string; params: readonly unknown[] }> = [];
    const recording: SqlDatabase = Object.create(sql, {
      acquire: {
        value: async () => {
          const connection = await sql.acquire();
          return {
            query: (text: string, params: readonly unknown[] = []) => {
              sent.push({ text, params });
              return connection.query(text, params);
            },
            release: () => connection.release(),
          };
        },
      },
    });
    const page = await new UsageRepository(createKysely<Database>(recording), async () => VERSION).records(
      orgId,
      PERIOD,
      { after: '9', limit: 3 },
    );
    expect(page.map((r) => r.position)).toEqual(['10', '11', '14']);
    const query = sent.find((q) => /from "[^"]+"\."usage_records"/.test(q.text))!;
    const connection = await sql.acquire();
    try {
      // A table this small would be read whole; what matters is whether the ORDER BY needs a sort.
      await connection.query('SET enable_seqscan = off');
      const { rows } = await connection.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${query.text}`, query.params);
      const plan = rows.map((r) => r['QUERY PLAN']).join('\n');
      expect(plan).toMatch(/Index Scan using usage_records_period/);
      expect(plan).not.toMatch(/Sort/);
    } finally {
      await connection.query('RESET enable_seqscan');
      connection.release();
    }
  });
});

describe('UsageRepository CSV pages', () => {
  const csvOrg = randomUUID();
  const record = (position: string, over: Record<string, unknown>) => ({
    event_id: randomUUID(),
    org_id: csvOrg,
    period: PERIOD,
    meter: 'participant_minutes' as const,
    session_id: randomUUID(),
    host_user_id: randomUUID(),
    participant_id: randomUUID() as string | null,
    stint: randomUUID(),
    from_at: '2025-01-02T10:00:00.000Z',
    to_at: '2025-01-02T10:05:00.000Z',
    seconds: 300,
    day: '2025-01-02',
    sources: JSON.stringify([randomUUID()]),
    position,
    recorded_at: '2025-01-02T10:05:00Z',
    ...over,
  });

  beforeAll(async () => {
    await db
      .withSchema(readModelSchema(VERSION))
      .insertInto('usage_records')
      .values([
        record('3', {}),
        // The meeting's meter: no participant; three sources in stream order.
        record('9', {
          meter: 'meeting_minutes',
          participant_id: null,
          sources: JSON.stringify([randomUUID(), randomUUID(), randomUUID()]),
        }),
        record('10', {
          from_at: '2025-01-31T23:59:58.001Z',
          to_at: '2025-01-31T23:59:59.999Z',
          seconds: 1,
          day: '2025-01-31',
        }),
        // Microseconds the projector never writes: both sides drop them rather than round.
        record('11', {
          from_at: '2025-01-05T08:00:00.123456Z',
          to_at: '2025-01-05T08:00:00.999999Z',
          day: '2025-01-05',
        }),
        // Sources that must be quoted, which the event schema forbids but the column would hold.
        record('12', { sources: JSON.stringify(['a,b', 'say "hi"', 'x\r\ny']) }),
        record('13', { sources: JSON.stringify([]) }),
        record('9007199254740993', { seconds: 0 }),
      ])
      .execute();
  });

  it('writes each record as csvLine of its export fields', async () => {
    const records = await repo.records(csvOrg, PERIOD, { limit: 100 });
    expect(records).toHaveLength(7);
    const expected = records.map((r) => csvLine(usageCsvFields(PERIOD, r)));
    for (const pageSize of [1, 2, 3, 100]) {
      const pages: Array<{ csv: string; rows: number }> = [];
      for await (const page of repo.csvPages(csvOrg, PERIOD, pageSize)) pages.push(page);
      const sizes = Array.from({ length: Math.ceil(7 / pageSize) }, (_, i) => Math.min(pageSize, 7 - i * pageSize));
      expect(
        pages.map((p) => p.rows),
        `pageSize ${pageSize}`,
      ).toEqual(sizes);
      expect(pages.map((p) => p.csv).join(''), `pageSize ${pageSize}`).toBe(expected.join(''));
    }
    const [line9, line10, line11, line12, line13] = expected.slice(1, 6);
    expect(line9).toMatch(
      /,meeting_minutes,2025-01-02,.*,,[0-9a-f-]{36},[0-9a-f-]{36} [0-9a-f-]{36} [0-9a-f-]{36}\r\n$/,
    );
    expect(line10).toContain(',2025-01-31T23:59:58.001Z,2025-01-31T23:59:59.999Z,1,');
    expect(line11).toContain(',2025-01-05T08:00:00.123Z,2025-01-05T08:00:00.999Z,');
    expect(line12).toMatch(/,"a,b say ""hi"" x\r\ny"\r\n$/);
    expect(line13).toMatch(/,[0-9a-f-]{36},\r\n$/);
  });

  it('ends at the records there when the first page was read', async () => {
    const pages = repo.csvPages(csvOrg, PERIOD, 2);
    const first = await pages.next();
    await db
      .withSchema(readModelSchema(VERSION))
      .insertInto('usage_records')
      .values(record('9007199254740999', {}))
      .execute();
    let rows = first.done ? 0 : first.value.rows;
    for await (const page of pages) rows += page.rows;
    expect(rows).toBe(7);
    await db
      .withSchema(readModelSchema(VERSION))
      .deleteFrom('usage_records')
      .where('position', '=', '9007199254740999')
      .execute();
  });
});
