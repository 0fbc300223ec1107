import { Kysely, PostgresDialect, type PostgresPoolClient } from 'kysely';
import type { SqlDatabase } from './sql-database';

const MUTATING = /^\s*(insert|update|delete|merge)\b/i;

/**
 * A kysely instance over a `SqlDatabase`, so kysely shares the pool (or PGlite's single
 * session and its lock) with the event store instead of opening a second one.
 */
export function createKysely<DB>(sql: SqlDatabase): Kysely<DB> {
  return new Kysely<DB>({
    dialect: new PostgresDialect({
      pool: {
        async connect() {
          const connection = await sql.acquire();
          // Kysely only streams through the cursor overload, which Quorum does not use.
          const query = (async (text: string, params: readonly unknown[]) => {
            const r = await connection.query(text, params);
            const command = MUTATING.exec(text)?.[1]?.toUpperCase() ?? 'SELECT';
            return { rows: r.rows, rowCount: r.rowCount, command };
          }) as PostgresPoolClient['query'];
          return { query, release: () => connection.release() };
        },
        // The SqlDatabase is closed by its owner, not by kysely.
        async end() {},
      },
    }),
  });
}
