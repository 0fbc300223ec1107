/**
 * Opens the SQL database and the event store a projector process needs. Read models are in
 * Postgres (`DATABASE_URL`); the event store is the same database unless `ESDB_URL` is set.
 */
import { openPostgresStore, type OpenedStore } from '@quorum/runtime';
import type { ProjectorEnv } from './env';

/** The database and the store; `close()` closes the store, then the database (idempotent). */
export type Connections = OpenedStore;

export async function openConnections(env: ProjectorEnv, applicationName: string): Promise<Connections> {
  if (env.DATABASE_URL === undefined) {
    throw new Error(
      'DATABASE_URL is required: a standalone projector keeps its read models in PostgreSQL (the embedded default runs in services/quorum)',
    );
  }
  return openPostgresStore({ connectionString: env.DATABASE_URL, applicationName, esdbUrl: env.ESDB_URL });
}
