/**
 * Relay leadership: a session-level advisory lock held on one dedicated connection for as long
 * as the relay leads. The lock lives and dies with that session, so a crashed relay frees it
 * when Postgres notices the dead socket, and a relay whose connection dies has lost it.
 *
 * `SqlConnection` reports nothing when its connection dies, so a heartbeat notices instead; the
 * relay also writes its checkpoint through this connection, which fences a leader that lost the
 * lock: it cannot advance the checkpoint after its session is gone.
 *
 * Keys use the two-int form `(RELAY_LOCK_NAMESPACE, hashtext(name))`, a key space apart from the
 * single-bigint locks other code takes (the event store's migration lock), and one lock per
 * relay name so differently named relays never block each other.
 */
import type { SqlConnection, SqlDatabase, SqlExecutor } from '@quorum/db';
import type { Logger } from 'pino';

/** First half of every relay lock key ("rl" in ASCII); the second half is `hashtext(name)`. */
export const RELAY_LOCK_NAMESPACE = 0x726c;

export class LeaderLock {
  private lostFlag = false;
  private released = false;
  private heartbeat: NodeJS.Timeout | undefined;
  private readonly lostListeners = new Set<() => void>();

  private constructor(
    private readonly conn: SqlConnection,
    private readonly key: string,
    private readonly logger: Logger,
  ) {}

  /**
   * Takes the lock on a fresh connection, or returns `undefined` (connection given back) when
   * another session holds it.
   */
  static async tryAcquire(sql: SqlDatabase, name: string, logger: Logger): Promise<LeaderLock | undefined> {
    const key = lockKeyText(name);
    const conn = await sql.acquire();
    let locked = false;
    try {
      const { rows } = await conn.query<{ locked: boolean }>(
        'SELECT pg_try_advisory_lock($1, hashtext($2)) AS locked',
        [RELAY_LOCK_NAMESPACE, key],
      );
      locked = rows[0]?.locked === true;
    } finally {
      if (!locked) conn.release();
    }
    return locked ? new LeaderLock(conn, key, logger) : undefined;
  }

  /** The lock's connection: writes through it fail once the lock is lost. */
  get executor(): SqlExecutor {
    return this.conn;
  }

  get lost(): boolean {
    return this.lostFlag;
  }

  onLost(listener: () => void): void {
    this.lostListeners.add(listener);
  }

  /** Checks the session every `intervalMs`; the first failure marks the lock lost. */
  startHeartbeat(intervalMs: number): void {
    const beat = async () => {
      await this.check();
      if (!this.lostFlag && !this.released) this.heartbeat = setTimeout(() => void beat(), intervalMs);
    };
    this.heartbeat = setTimeout(() => void beat(), intervalMs);
  }

  /** Round-trips on the lock's session; returns false (and marks the lock lost) if it is gone. */
  async check(): Promise<boolean> {
    if (this.lostFlag || this.released) return !this.lostFlag;
    try {
      await this.conn.query('SELECT 1');
      return true;
    } catch (err) {
      this.markLost(err);
      return false;
    }
  }

  /** Unlocks and returns the connection. Idempotent. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    clearTimeout(this.heartbeat);
    if (!this.lostFlag) {
      try {
        await this.conn.query('SELECT pg_advisory_unlock($1, hashtext($2))', [RELAY_LOCK_NAMESPACE, this.key]);
      } catch (err) {
        // The session is gone, and the lock with it; the pool drops a connection that broke.
        this.logger.warn({ err }, 'unlocking the relay leader lock failed; its session is gone');
      }
    }
    this.conn.release();
  }

  private markLost(err: unknown): void {
    if (this.lostFlag) return;
    this.lostFlag = true;
    clearTimeout(this.heartbeat);
    this.logger.error({ err }, 'relay leader lock connection failed; leadership lost');
    for (const listener of this.lostListeners) listener();
  }
}

/** Text hashed into the second half of a relay's lock key. */
export function lockKeyText(name: string): string {
  return `quorum:relay:${name}`;
}
