/**
 * Read-your-writes: waits until a projection has applied a position. One implementation for
 * every process: the live projector and the worker-thread pipeline report each advance (the
 * local fast path, which settles waits at once), and a process with neither, such as the
 * gateway on its own, polls the active checkpoint in the database.
 */
import { createKysely, type Database, type SqlDatabase } from '@quorum/db';
import { readActiveCheckpoint } from './bookkeeping.repository';
import { CORE_PROJECTION } from './projections/core.projection';

/** How a {@link ProjectionWaiter} looks for progress that is not reported to it. */
export interface CheckpointPoll {
  /** The position the projection has applied, `undefined` when it has none yet. */
  read(): Promise<bigint | undefined>;
  /** Delay before the first read; doubles up to `maxIntervalMs`. */
  intervalMs: number;
  maxIntervalMs: number;
  /**
   * Called with a failed read, and polling goes on. Without it a failed read fails the
   * pending waits, for a caller that has no logger to report it to.
   */
  onError?(err: unknown): void;
}

export interface ProjectionWaiterOptions {
  /** The position already applied. Default -1 (nothing). */
  position?: bigint;
  /** Polled while waits are pending; without it only {@link ProjectionWaiter.advance} settles them. */
  poll?: CheckpointPoll;
}

interface Wait {
  position: bigint;
  settle(outcome: boolean | { error: unknown }): void;
}

/** Pending waits on one projection's position, with one shared poll however many there are. */
export class ProjectionWaiter {
  private current: bigint;
  private readonly waits = new Set<Wait>();
  private pollTimer: ReturnType<typeof setTimeout> | undefined;
  private polling: object | undefined;
  private closed = false;

  constructor(private readonly options: ProjectionWaiterOptions = {}) {
    this.current = options.position ?? -1n;
  }

  /** The applied position as last reported through {@link advance}. */
  get position(): bigint {
    return this.current;
  }

  /**
   * Reports the applied position and settles the waits it reaches. It normally only grows; a
   * switch to a rebuilt version sets that version's checkpoint, which is what waits measure.
   */
  advance(position: bigint): void {
    this.current = position;
    this.reached(position);
  }

  /**
   * Resolves `true` once the position reaches `target`, `false` after `timeoutMs` or when the
   * waiter closes first. After {@link close}, answers at once from the last known position.
   */
  wait(target: bigint, timeoutMs: number): Promise<boolean> {
    if (this.current >= target) return Promise.resolve(true);
    if (this.closed) return Promise.resolve(false);
    return new Promise<boolean>((resolve, reject) => {
      const timeout = setTimeout(() => wait.settle(false), timeoutMs);
      const wait: Wait = {
        position: target,
        settle: (outcome) => {
          if (!this.waits.delete(wait)) return;
          clearTimeout(timeout);
          if (this.waits.size === 0) this.stopPoll();
          if (typeof outcome === 'boolean') resolve(outcome);
          else reject(outcome.error);
        },
      };
      this.waits.add(wait);
      this.startPoll();
    });
  }

  /** Settles every pending wait `false`; later waits answer from the last known position. Idempotent. */
  close(): void {
    this.closed = true;
    for (const wait of [...this.waits]) wait.settle(false);
  }

  private reached(position: bigint): void {
    for (const wait of [...this.waits]) if (wait.position <= position) wait.settle(true);
  }

  private startPoll(): void {
    const poll = this.options.poll;
    if (!poll || this.polling) return;
    // A read in flight when the last wait settles may finish after a new wait started another
    // chain; the token lets the old chain see that it is done.
    const chain = {};
    this.polling = chain;
    let interval = poll.intervalMs;
    const next = () => {
      this.pollTimer = setTimeout(() => {
        poll
          .read()
          .then((position) => {
            if (position !== undefined) this.reached(position);
          })
          .catch((err: unknown) => {
            if (poll.onError) poll.onError(err);
            else for (const wait of [...this.waits]) wait.settle({ error: err });
          })
          .finally(() => {
            if (this.polling !== chain) return;
            interval = Math.min(interval * 2, poll.maxIntervalMs);
            next();
          });
      }, interval);
    };
    next();
  }

  private stopPoll(): void {
    clearTimeout(this.pollTimer);
    this.pollTimer = undefined;
    this.polling = undefined;
  }
}

/** A poll of the active version's checkpoint of `projection` (default `core`). */
export function activeCheckpointPoll(
  sql: SqlDatabase,
  options: Omit<CheckpointPoll, 'read'> & { projection?: string },
): CheckpointPoll {
  const db = createKysely<Database>(sql);
  const projection = options.projection ?? CORE_PROJECTION;
  return {
    ...options,
    read: async () => (await readActiveCheckpoint(db, projection))?.position,
  };
}

export interface WaitForProjectionOptions {
  /** Default `core`. */
  projection?: string;
  /** First poll interval; doubles up to `maxIntervalMs`. Default 5 ms. */
  intervalMs?: number;
  /** Default 50 ms. */
  maxIntervalMs?: number;
}

/**
 * Read-your-writes for a process without a projector (the gateway): polls the active
 * version's checkpoint until it reaches `position` (`true`) or `timeoutMs` passes (`false`).
 * Polls start at 5 ms and back off to 50 ms, so a lagging projection is not hammered.
 */
export async function waitForProjection(
  sql: SqlDatabase,
  position: bigint,
  timeoutMs: number,
  options: WaitForProjectionOptions = {},
): Promise<boolean> {
  const poll = activeCheckpointPoll(sql, {
    intervalMs: options.intervalMs ?? 5,
    maxIntervalMs: options.maxIntervalMs ?? 50,
    ...(options.projection ? { projection: options.projection } : {}),
  });
  const applied = await poll.read();
  if (applied !== undefined && applied >= position) return true;
  return new ProjectionWaiter({ poll }).wait(position, timeoutMs);
}
