/**
 * Opens the SQL database and the event store a projector process needs. Read models are in
 * Postgres (`DATABASE_URL`); the event store is the same database unless `ESDB_URL` is set.
 */
import { createPgSqlDatabase, type SqlDatabase } from '@quorum/db';
import type { EventStore } from '@quorum/eventstore';
import { EsdbEventStore } from '@quorum/eventstore/esdb';
import { PostgresEventStore } from '@quorum/eventstore/postgres';
import type { ProjectorEnv } from './env';

export interface Connections {
  sql: SqlDatabase;
  store: EventStore;
  /** Closes the store, then the database; idempotent. */
  close(): Promise<void>;
}

export async function openConnections(env: ProjectorEnv, applicationName: string): Promise<Connections> {
  if (env.DATABASE_URL === undefined) {
    throw new Error(
      'DATABASE_URL is required: a standalone projector keeps its read models in PostgreSQL (the embedded default runs in services/quorum)',
    );
  }
  const sql = createPgSqlDatabase({ connectionString: env.DATABASE_URL, applicationName });
  try {
    const store: EventStore =
      env.ESDB_URL !== undefined
        ? await EsdbEventStore.create({ connectionString: env.ESDB_URL })
        : await PostgresEventStore.create(sql);
    let closing: Promise<void> | undefined;
    return {
      sql,
      store,
      close: () =>
        (closing ??= (async () => {
          await store.close();
          await sql.close();
        })()),
    };
  } catch (err) {
    await sql.close();
    throw err;
  }
}
