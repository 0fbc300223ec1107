/**
 * One organization synced by one billing instance at a time: a queue within the process, and a
 * PostgreSQL advisory lock across processes. Every lock of an instance is taken with
 * `pg_try_advisory_lock` on one connection, retried while another instance holds it, and the
 * connection goes back to the pool once the instance holds and awaits no lock: however many
 * organizations it syncs at once, an instance holds at most one pooled connection for its locks,
 * so the work itself always finds connections (instances sharing a small pool would otherwise each
 * hold connections for locks and wait on each other). A lost lock connection ends its session,
 * which releases every lock it held.
 */
import type { SqlConnection, SqlDatabase } from '@quorum/db';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class OrgLocks {
  private readonly queues = new Map<string, Promise<unknown>>();
  private connection: Promise<SqlConnection> | undefined;
  /** Locks held, and lock requests in progress, on `connection`. */
  private inUse = 0;

  constructor(
    private readonly sql: SqlDatabase,
    /** How long to wait before asking again for a lock another instance holds. */
    private readonly retryMs = 50,
  ) {}

  /** Runs `fn` as the only work on `orgId`: queued in this process, locked across processes. */
  run<T>(orgId: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(orgId) ?? Promise.resolve();
    const turn = previous.catch(() => undefined).then(() => this.locked(orgId, fn));
    this.queues.set(orgId, turn);
    void turn
      .finally(() => {
        if (this.queues.get(orgId) === turn) this.queues.delete(orgId);
      })
      .catch(() => undefined);
    return turn;
  }

  /** Waits for the work in progress, then gives the lock connection back. */
  async close(): Promise<void> {
    await Promise.allSettled(this.queues.values());
    this.drop();
  }

  private async locked<T>(orgId: string, fn: () => Promise<T>): Promise<T> {
    // PGlite is one session in one process: the queue is the whole lock.
    if (this.sql.kind === 'pglite') return fn();
    const key = `quorum:billing:${orgId}`;
    this.inUse++;
    try {
      while (!(await this.query(`SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS ok`, key))) {
        await sleep(this.retryMs);
      }
      try {
        return await fn();
      } finally {
        await this.query(`SELECT pg_advisory_unlock(hashtextextended($1, 0)) AS ok`, key).catch(() => undefined);
      }
    } finally {
      // No lock held or awaited: the connection (and no lock with it) goes back to the pool.
      if (--this.inUse === 0) this.drop();
    }
  }

  /** One statement on the lock connection; a failure drops the connection (and with it its locks). */
  private async query(text: string, key: string): Promise<boolean> {
    this.connection ??= this.sql.acquire();
    const pending = this.connection;
    try {
      const { rows } = await (await pending).query<{ ok: boolean }>(text, [key]);
      return rows[0]?.ok === true;
    } catch (err) {
      if (this.connection === pending) this.drop();
      throw err;
    }
  }

  private drop(): void {
    const connection = this.connection;
    this.connection = undefined;
    void connection?.then((c) => c.release()).catch(() => undefined);
  }
}
