export { PostgresEventStore } from './postgres-event-store';
export type { PostgresEventStoreOptions } from './postgres-event-store';
export { EVENT_STORE_SCHEMA_SQL, MAX_EVENTS_PER_APPEND } from './schema';
