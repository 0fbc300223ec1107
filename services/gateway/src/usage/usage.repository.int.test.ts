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
