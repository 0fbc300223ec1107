import { createPgliteSqlDatabase } from '@quorum/db';
import { runEventStoreContract } from '../contract/event-store.contract';
import { PostgresEventStore } from './postgres-event-store';

runEventStoreContract('PostgreSQL adapter on PGlite (embedded)', async () => {
  const db = await createPgliteSqlDatabase();
  const store = await PostgresEventStore.create(db);
  return { store, cleanup: () => db.close() };
});
