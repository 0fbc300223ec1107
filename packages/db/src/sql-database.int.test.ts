/**
 * Prepared statements against a real PostgreSQL: a statement with parameters is parsed once per
 * connection, and a table altered under a prepared `SELECT *` costs no caller more than the one
 * statement that found it out.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgSqlDatabase, MAX_PREPARED_STATEMENTS, type SqlDatabase } from './sql-database';

const url = process.env.DATABASE_URL ?? 'postgres://quorum:quorum@127.0.0.1:5432/quorum_test';

describe('pg SqlDatabase prepared statements', () => {
  let db: SqlDatabase;
  const schema = `prep_${randomUUID().replace(/-/g, '')}`;

  beforeAll(async () => {
    db = createPgSqlDatabase({ connectionString: url, max: 1 });
    await db.exec(`CREATE SCHEMA ${schema}; CREATE TABLE ${schema}.t (id int PRIMARY KEY, a text)`);
    await db.query(`INSERT INTO ${schema}.t (id, a) VALUES ($1, $2), ($3, $4)`, [1, 'one', 2, 'two']);
  });

  afterAll(async () => {
    await db.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await db.close();
  });

  /** The statements this session (the pool's only connection) has prepared, by text. */
  async function preparedOnSession(): Promise<Map<string, string>> {
    const { rows } = await db.query<{ name: string; statement: string }>(
      'SELECT name, statement FROM pg_prepared_statements',
    );
    return new Map(rows.map((r) => [r.statement, r.name]));
  }

  it('prepares a statement with parameters once and runs it again by name', async () => {
    const text = `SELECT a FROM ${schema}.t WHERE id = $1`;
    expect((await db.query<{ a: string }>(text, [1])).rows).toEqual([{ a: 'one' }]);
    const name = (await preparedOnSession()).get(text);
    expect(name).toMatch(/^q_/);
    expect((await db.query<{ a: string }>(text, [2])).rows).toEqual([{ a: 'two' }]);
    const conn = await db.acquire();
    try {
      expect((await conn.query<{ a: string }>(text, [1])).rows).toEqual([{ a: 'one' }]);
    } finally {
      conn.release();
    }
    await db.transaction(async (tx) => {
      expect((await tx.query<{ a: string }>(text, [2])).rows).toEqual([{ a: 'two' }]);
    });
    // Still the one statement, under the same name.
    const after = await preparedOnSession();
    expect(after.get(text)).toBe(name);
    expect([...after.keys()].filter((t) => t === text)).toHaveLength(1);
  });

  it('leaves statements without parameters unprepared (several in one text still run)', async () => {
    await db.query(`UPDATE ${schema}.t SET a = 'one' WHERE id = 1; UPDATE ${schema}.t SET a = 'two' WHERE id = 2`);
    const prepared = await preparedOnSession();
    expect([...prepared.keys()].some((t) => t.includes('SET a ='))).toBe(false);
  });

  it('a prepared SELECT * over an altered table: the next call outside a transaction answers with the new columns', async () => {
    const text = `SELECT * FROM ${schema}.t WHERE id = $1`;
    expect((await db.query(text, [1])).rows).toEqual([{ id: 1, a: 'one' }]);
    await db.exec(`ALTER TABLE ${schema}.t ADD COLUMN b int NOT NULL DEFAULT 7`);
    expect((await db.query(text, [1])).rows).toEqual([{ id: 1, a: 'one', b: 7 }]);
    // From now on that text runs unnamed, so further changes cannot trip it.
    await db.exec(`ALTER TABLE ${schema}.t ADD COLUMN c int NOT NULL DEFAULT 8`);
    expect((await db.query(text, [2])).rows).toEqual([{ id: 2, a: 'two', b: 7, c: 8 }]);
  });

  it('inside a transaction the stale statement fails that transaction once, and the retried transaction succeeds', async () => {
    const text = `SELECT * FROM ${schema}.t WHERE id = $1 AND $2::int = $2`;
    await db.transaction((tx) => tx.query(text, [1, 0]));
    await db.exec(`ALTER TABLE ${schema}.t ADD COLUMN d int NOT NULL DEFAULT 9`);
    await expect(db.transaction((tx) => tx.query(text, [1, 0]))).rejects.toMatchObject({ code: '0A000' });
    const { rows } = await db.transaction((tx) => tx.query(text, [1, 0]));
    expect(rows).toEqual([{ id: 1, a: 'one', b: 7, c: 8, d: 9 }]);
  });

  it(`prepares at most ${MAX_PREPARED_STATEMENTS} texts; the rest run unnamed and still answer`, async () => {
    const before = (await preparedOnSession()).size;
    for (let i = 0; i < MAX_PREPARED_STATEMENTS + 20; i++) {
      const { rows } = await db.query<{ n: number }>(`SELECT $1::int + ${i} AS n`, [1]);
      expect(rows[0]!.n).toBe(1 + i);
    }
    const prepared = await preparedOnSession();
    expect(prepared.size).toBeGreaterThan(before);
    expect(prepared.size).toBeLessThanOrEqual(MAX_PREPARED_STATEMENTS);
  });
});
