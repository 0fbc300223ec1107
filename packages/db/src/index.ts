export {
  createPgSqlDatabase,
  createPgliteSqlDatabase,
  wrapPgPool,
  wrapPglite,
} from './sql-database';
export type {
  PgSqlDatabaseOptions,
  PgliteSqlDatabaseOptions,
  QueryResult,
  SqlConnection,
  SqlDatabase,
  SqlExecutor,
} from './sql-database';
