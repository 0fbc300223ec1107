/**
 * A minimal SQL executor over either node-postgres (`pg.Pool`) or PGlite, so the event store
 * and the kysely read models run unchanged on a server and in the embedded default.
 *
 * PGlite is one Postgres session in WebAssembly. Two callers interleaving statements on it
 * would share a transaction, so every use of a PGlite database goes through one lock:
 * `acquire()` hands out the session exclusively until `release()`.
 */
import { createHash } from 'node:crypto';
import { PGlite, types as pgliteTypes } from '@electric-sql/pglite';
import pg from 'pg';

export interface QueryResult<R> {
  rows: R[];
  /** Rows inserted, updated or deleted; 0 for a SELECT. */
  rowCount: number;
}

export interface SqlExecutor {
  query<R = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<QueryResult<R>>;
}

/** A connection held exclusively until `release()`. */
export interface SqlConnection extends SqlExecutor {
  release(): void;
}

export interface SqlDatabase extends SqlExecutor {
  readonly kind: 'pg' | 'pglite';
  /**
   * Opens `connections` pool connections now rather than on the first burst of traffic, which
   * would otherwise pay the TCP and SCRAM handshakes while requests queue. No-op on PGlite.
   */
  warm(connections: number): Promise<void>;
  /** Checks out a connection (a pool client, or the PGlite session under its lock). */
  acquire(): Promise<SqlConnection>;
  /** Runs `fn` in a transaction; commits when it resolves, rolls back when it throws. */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  /** Runs several `;`-separated statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
  /** Idempotent; closes the pool or PGlite instance only if this object owns it. */
  close(): Promise<void>;
}

// int8 is returned as a decimal string by both drivers: positions exceed 2^53.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => v);

export interface PgSqlDatabaseOptions {
  connectionString: string;
  /** Pool size; defaults to 20. */
  max?: number;
  /**
   * Connections kept open however idle; default 0. Opening one costs a TCP and SCRAM handshake
   * and a server fork (about 6 ms, half of it this process's CPU), and a pool that closes idle
   * connections reopens them in a burst exactly when load rises: under a steady 500 commands/s
   * that burst stalled commands for up to 0.9 s. A request path keeps `min = max` and warms
   * them all (`warm(max)`), a fixed-size pool.
   */
  min?: number;
  applicationName?: string;
  /** Where connection failures are reported; default `process.emitWarning`. */
  onConnectionError?: (err: Error) => void;
}

/** Opens a `pg.Pool`; the returned database owns it. */
export function createPgSqlDatabase(options: PgSqlDatabaseOptions): SqlDatabase {
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.max ?? 20,
    min: options.min ?? 0,
    application_name: options.applicationName ?? 'quorum',
  });
  // An idle client that loses its server emits 'error' on the pool; without a listener
  // the process would crash. The next checkout gets a fresh client.
  const report =
    options.onConnectionError ?? ((err: Error) => process.emitWarning(`postgres connection failed: ${err.message}`));
  pool.on('error', report);
  // A checked-out client whose server connection dies (restart, failover,
  // pg_terminate_backend) also emits 'error'; unheard, that kills the process. Heard, its
  // next query fails and the holder recovers. Every client gets a listener for its life.
  pool.on('connect', (client) => {
    client.on('error', report);
  });
  return wrapPgPool(pool, true);
}

/** Most distinct statement texts prepared per pool; texts past it run unnamed. */
export const MAX_PREPARED_STATEMENTS = 500;

/**
 * Which statements run prepared: every one with parameters, under a name derived from its text
 * (the same on every connection and in every wrapper of one pool), up to
 * {@link MAX_PREPARED_STATEMENTS} texts. An unnamed statement is parsed and planned on every
 * call; a prepared one is parsed once per connection, and after a few calls Postgres may keep a
 * generic plan and skip planning too. On Quorum's projector batches parsing and planning were
 * three quarters of the statements' server time.
 *
 * A prepared statement whose result columns change under it (a `SELECT *` over a table that a
 * migration altered) fails with "cached plan must not change result type"; its text then runs
 * unnamed from that moment on, and a statement outside a transaction is retried once at once.
 */
class PreparedStatements {
  private readonly names = new Map<string, string | null>();

  /** The query to send: named when `text` has parameters and may be prepared. */
  config(text: string, params: readonly unknown[] | undefined): pg.QueryConfig | string {
    if (!params || params.length === 0) return text;
    let name = this.names.get(text);
    if (name === undefined) {
      if (this.names.size >= MAX_PREPARED_STATEMENTS) return { text, values: params as unknown[] };
      name = `q_${createHash('sha1').update(text).digest('base64url')}`;
      this.names.set(text, name);
    }
    return name === null ? { text, values: params as unknown[] } : { name, text, values: params as unknown[] };
  }

  /** True when `err` was a prepared statement's stale result type; `text` runs unnamed from now on. */
  stale(err: unknown, text: string): boolean {
    const e = err as { code?: string; message?: string };
    if (e?.code !== '0A000' || !e.message?.includes('cached plan must not change result type')) return false;
    if (!this.names.has(text)) return false;
    this.names.set(text, null);
    return true;
  }
}

/** Wraps an existing pool; `close()` ends it only when `owns` is true. */
export function wrapPgPool(pool: pg.Pool, owns: boolean): SqlDatabase {
  let closed = false;
  const toResult = <R>(r: pg.QueryResult): QueryResult<R> => ({ rows: r.rows as R[], rowCount: r.rowCount ?? 0 });
  const checkout = () => pool.connect();
  const prepared = new PreparedStatements();
  const onClient = async (client: pg.PoolClient, text: string, params?: readonly unknown[]) => {
    try {
      return await client.query(prepared.config(text, params));
    } catch (err) {
      prepared.stale(err, text);
      throw err;
    }
  };
  return {
    kind: 'pg',
    async query<R>(text: string, params?: readonly unknown[]) {
      try {
        return toResult<R>(await pool.query(prepared.config(text, params)));
      } catch (err) {
        // Outside a transaction nothing else was undone: the same statement again, unnamed.
        if (!prepared.stale(err, text)) throw err;
        return toResult<R>(await pool.query(prepared.config(text, params)));
      }
    },
    async acquire() {
      const client = await checkout();
      let broken = false;
      const onError = () => {
        broken = true;
      };
      client.on('error', onError);
      return {
        async query<R>(text: string, params?: readonly unknown[]) {
          return toResult<R>(await onClient(client, text, params));
        },
        release: () => {
          client.off('error', onError);
          client.release(broken);
        },
      };
    },
    async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
      const client = await checkout();
      const tx: SqlExecutor = {
        async query<R>(text: string, params?: readonly unknown[]) {
          return toResult<R>(await onClient(client, text, params));
        },
      };
      let broken = false;
      try {
        await client.query('BEGIN');
        const result = await fn(tx);
        await client.query('COMMIT');
        return result;
      } catch (err) {
        try {
          await client.query('ROLLBACK');
        } catch (rollbackErr) {
          broken = true;
          process.emitWarning(`rollback failed, discarding connection: ${(rollbackErr as Error).message}`);
        }
        throw err;
      } finally {
        client.release(broken);
      }
    },
    async exec(sql: string) {
      await pool.query(sql);
    },
    async warm(connections: number) {
      // Never more than the pool holds: the extra checkouts would wait for releases forever.
      const count = Math.min(connections, pool.options.max);
      const clients = await Promise.all(Array.from({ length: count }, () => pool.connect()));
      for (const client of clients) client.release();
    },
    async close() {
      if (closed) return;
      closed = true;
      if (owns) await pool.end();
    },
  };
}

/** A FIFO lock: one holder at a time. */
class Lock {
  private tail: Promise<void> = Promise.resolve();
  acquire(): Promise<() => void> {
    let release!: () => void;
    const next = new Promise<void>((resolve) => (release = resolve));
    const ready = this.tail.then(() => release);
    this.tail = this.tail.then(() => next);
    return ready;
  }
}

export interface PgliteSqlDatabaseOptions {
  /** A directory for the data files; in memory when omitted. */
  dataDir?: string;
}

/** Opens a PGlite database; the returned object owns it. */
export async function createPgliteSqlDatabase(options: PgliteSqlDatabaseOptions = {}): Promise<SqlDatabase> {
  const db = await PGlite.create({
    ...(options.dataDir ? { dataDir: options.dataDir } : {}),
    parsers: { [pgliteTypes.INT8]: (v: string) => v },
  });
  return wrapPglite(db, true);
}

export function wrapPglite(db: PGlite, owns: boolean): SqlDatabase {
  const lock = new Lock();
  let closed = false;
  const run = async <R>(text: string, params?: readonly unknown[]): Promise<QueryResult<R>> => {
    const r = await db.query<R>(text, params as unknown[] | undefined);
    return { rows: r.rows, rowCount: r.affectedRows ?? 0 };
  };
  const exclusive = async <T>(fn: () => Promise<T>): Promise<T> => {
    const release = await lock.acquire();
    try {
      return await fn();
    } finally {
      release();
    }
  };
  return {
    kind: 'pglite',
    query: (text, params) => exclusive(() => run(text, params)),
    async acquire() {
      const release = await lock.acquire();
      let released = false;
      return {
        query: (text, params) => run(text, params),
        release: () => {
          if (released) return;
          released = true;
          release();
        },
      };
    },
    transaction: (fn) =>
      exclusive(async () => {
        await db.exec('BEGIN');
        try {
          const result = await fn({ query: (text, params) => run(text, params) });
          await db.exec('COMMIT');
          return result;
        } catch (err) {
          await db.exec('ROLLBACK');
          throw err;
        }
      }),
    exec: (sql) =>
      exclusive(async () => {
        await db.exec(sql);
      }),
    warm: async () => {},
    async close() {
      if (closed) return;
      closed = true;
      // Waits for the current holder so an in-flight transaction is not cut off.
      await exclusive(async () => {
        if (owns) await db.close();
      });
    },
  };
}
