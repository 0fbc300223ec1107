export { createPgSqlDatabase, createPgliteSqlDatabase, wrapPgPool, wrapPglite } from './sql-database';
export type {
  PgSqlDatabaseOptions,
  PgliteSqlDatabaseOptions,
  QueryResult,
  SqlConnection,
  SqlDatabase,
  SqlExecutor,
} from './sql-database';
export { createKysely } from './kysely';
export {
  PUBLIC_SCHEMA_SQL,
  migratePublicSchema,
  migrateReadModelSchema,
  readModelSchema,
  readModelSchemaSql,
} from './schema';
export type * from './schema';
export type * from './usage.schema';
export type * from './billing.schema';
export type * from './operators.schema';
export type * from './metering.schema';
export type * from './billing-sync.schema';
export type * from './stripe.schema';
export type * from './webhooks.schema';
export type * from './webhook-deliveries.schema';
