/**
 * The SQL database and the event store of a process, opened in one place: PostgreSQL or
 * PGlite for SQL, and for events EventStoreDB when a connection string is given, otherwise the
 * PostgreSQL adapter over the same database.
 */
import { mkdir } from 'node:fs/promises';
import { createPgSqlDatabase, createPgliteSqlDatabase, migratePublicSchema, type SqlDatabase } from '@quorum/db';
import type { EventStore } from '@quorum/eventstore';
import type { Logger } from 'pino';
import { EsdbEventStore } from '@quorum/eventstore/esdb';
import { PostgresEventStore } from '@quorum/eventstore/postgres';

/** A PostgreSQL server. */
export interface PostgresDatabaseOptions {
  kind: 'postgres';
  connectionString: string;
  /** Shown in `pg_stat_activity`. */
  applicationName: string;
  /**
   * A fixed-size pool of this many connections, all opened before `openDatabase` resolves (see
   * `PgSqlDatabaseOptions.min`). Without it, the driver's default pool that opens on demand.
   */
  poolSize?: number;
  /** Where failures of idle or checked-out connections are reported. */
  onConnectionError?: (err: Error) => void;
}

/** PGlite in this process, its files under `dataDir` (created when missing). */
export interface PgliteDatabaseOptions {
  kind: 'pglite';
  dataDir: string;
}

export type DatabaseOptions = PostgresDatabaseOptions | PgliteDatabaseOptions;

/** Opens the SQL database; the caller owns it (`close()`). */
export async function openDatabase(options: DatabaseOptions): Promise<SqlDatabase> {
  if (options.kind === 'pglite') {
    await mkdir(options.dataDir, { recursive: true });
    return createPgliteSqlDatabase({ dataDir: options.dataDir });
  }
  const sql = createPgSqlDatabase({
    connectionString: options.connectionString,
    applicationName: options.applicationName,
    ...(options.poolSize === undefined ? {} : { max: options.poolSize, min: options.poolSize }),
    ...(options.onConnectionError ? { onConnectionError: options.onConnectionError } : {}),
  });
  if (options.poolSize !== undefined) {
    try {
      await sql.warm(options.poolSize);
    } catch (err) {
      await sql.close();
      throw err;
    }
  }
  return sql;
}

export interface StoreOptions {
  database: DatabaseOptions;
  /** EventStoreDB (`esdb://…`); when absent or empty, events go to the PostgreSQL adapter over `database`. */
  esdbUrl?: string | undefined;
  /** Applies the public schema (users, sessions, relay checkpoints, …) before the store opens. */
  migratePublicSchema?: boolean;
}

export interface OpenedStore {
  sql: SqlDatabase;
  store: EventStore;
  /** Which adapter `store` is. */
  adapter: 'esdb' | 'postgres';
  /** Closes the store, then the database; idempotent. */
  close(): Promise<void>;
}

/** Opens the SQL database and the event store; on failure closes what it opened and rethrows. */
export async function openStore(options: StoreOptions): Promise<OpenedStore> {
  const sql = await openDatabase(options.database);
  try {
    if (options.migratePublicSchema) await migratePublicSchema(sql);
    const store: EventStore = options.esdbUrl
      ? await EsdbEventStore.create({ connectionString: options.esdbUrl })
      : await PostgresEventStore.create(sql);
    let closing: Promise<void> | undefined;
    return {
      sql,
      store,
      adapter: options.esdbUrl ? 'esdb' : 'postgres',
      close: () =>
        (closing ??= (async () => {
          try {
            await store.close();
          } finally {
            await sql.close();
          }
        })()),
    };
  } catch (err) {
    await sql.close();
    throw err;
  }
}

/** {@link openStore} over PostgreSQL, the one database a standalone process takes. */
export interface PostgresStoreOptions
  extends Omit<PostgresDatabaseOptions, 'kind' | 'onConnectionError'>, Omit<StoreOptions, 'database'> {
  /** Failures of idle or checked-out connections are logged here at warn; the next query on one fails. */
  logger?: Logger;
}

/** Opens a PostgreSQL database and the event store over it (or EventStoreDB with `esdbUrl`). */
export function openPostgresStore(options: PostgresStoreOptions): Promise<OpenedStore> {
  const { esdbUrl, migratePublicSchema, logger, ...database } = options;
  return openStore({
    database: {
      kind: 'postgres',
      ...database,
      ...(logger
        ? { onConnectionError: (err) => logger.warn({ err }, 'postgres connection failed; its next query fails') }
        : {}),
    },
    esdbUrl,
    migratePublicSchema,
  });
}
