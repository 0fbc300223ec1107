import { createPgSqlDatabase } from '@quorum/db';
import { runEventStoreContract } from '../contract/event-store.contract';
import { connectTestPostgres } from '../testing/test-postgres';
import { PostgresEventStore } from './postgres-event-store';

runEventStoreContract('PostgreSQL adapter on pg (server)', async () => {
  const url = await connectTestPostgres();
  const db = createPgSqlDatabase({ connectionString: url, max: 24 });
  const store = await PostgresEventStore.create(db);
  return { store, cleanup: () => db.close() };
});
