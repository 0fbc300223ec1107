/**
 * Group commit of appends. Appends that arrive while earlier ones are on their way to the
 * database wait and then go together, as one `es_append_batch` statement: one round trip,
 * one transaction and one WAL flush for the group instead of one each. An append that finds
 * fewer than `maxInFlight` appends or groups on their way goes at once, alone, through
 * `es_append`, so a quiet store adds no latency; under load a group forms by itself from what
 * arrived during the last round trip.
 *
 * Each item keeps its own outcome: the batch function runs every item in a subtransaction,
 * and an item refused for its expected revision, a guard or a stored event id comes back as
 * that item's error, exactly as `es_append` raises it, while the others commit. Durability
 * and order are those of one append: the caller hears of its events only after the group's
 * commit, and the items' positions follow their order of arrival (one transaction id, the
 * position index running on across items).
 *
 * A group that fails as a whole with a database error (bad data in one item, a deadlock
 * with another process's transaction) wrote nothing; its items are then appended one by one,
 * so each caller gets the outcome its own append would have had. A failure without an SQL
 * state (the connection) reaches every caller of the group, as it would have reached each
 * of their appends.
 */
import type { SqlDatabase } from '@quorum/db';
import { MAX_EVENTS_PER_APPEND } from './schema';

/** One append, serialized: `events` and `guards` are JSON arrays already. */
export interface AppendItem {
  streamId: string;
  expected: string;
  events: string;
  guards: string | null;
  count: number;
}

export interface AppendRow {
  next_revision: string;
  last_position: string;
}

/** An item refused inside a group, shaped like the error `es_append` raises for it. */
export class AppendRefusal extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly detail: string | undefined,
  ) {
    super(message);
    this.name = 'AppendRefusal';
  }
}

export interface GroupCommitOptions {
  /**
   * Most items in one group. Each item is a subtransaction; PostgreSQL keeps 64 of them per
   * transaction in shared memory before other sessions' snapshots must look them up on disk.
   */
  maxItems?: number;
  /** Groups (or lone appends) on their way to the database at once. */
  maxInFlight?: number;
}

export const DEFAULT_GROUP_ITEMS = 48;
export const DEFAULT_GROUPS_IN_FLIGHT = 2;

interface Waiting {
  item: AppendItem;
  resolve(row: AppendRow): void;
  reject(err: unknown): void;
}

interface BatchRow {
  item: number;
  next_revision: string | null;
  last_position: string | null;
  error_code: string | null;
  error_message: string | null;
  error_detail: string | null;
}

function hasSqlState(err: unknown): boolean {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string';
}

export class GroupCommit {
  private readonly queue: Waiting[] = [];
  private inFlight = 0;
  private readonly maxItems: number;
  private readonly maxInFlight: number;

  constructor(
    private readonly db: SqlDatabase,
    options: GroupCommitOptions = {},
  ) {
    this.maxItems = options.maxItems ?? DEFAULT_GROUP_ITEMS;
    this.maxInFlight = options.maxInFlight ?? DEFAULT_GROUPS_IN_FLIGHT;
    if (!Number.isInteger(this.maxItems) || this.maxItems < 1 || this.maxItems > 64)
      throw new Error(`group commit maxItems must be an integer from 1 to 64, got ${this.maxItems}`);
    if (!Number.isInteger(this.maxInFlight) || this.maxInFlight < 1)
      throw new Error(`group commit maxInFlight must be a positive integer, got ${this.maxInFlight}`);
  }

  /** Appends `item`, alone or in a group; rejects with the database's error or an {@link AppendRefusal}. */
  append(item: AppendItem): Promise<AppendRow> {
    return new Promise((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.inFlight < this.maxInFlight && this.queue.length > 0) {
      const group = this.take();
      this.inFlight++;
      void this.send(group).finally(() => {
        this.inFlight--;
        this.pump();
      });
    }
  }

  /** The next group: up to `maxItems`, and no more events than one transaction's positions hold. */
  private take(): Waiting[] {
    let events = 0;
    let n = 0;
    while (n < this.queue.length && n < this.maxItems) {
      const count = this.queue[n]!.item.count;
      if (n > 0 && events + count > MAX_EVENTS_PER_APPEND) break;
      events += count;
      n++;
    }
    return this.queue.splice(0, n);
  }

  private async send(group: Waiting[]): Promise<void> {
    if (group.length === 1) {
      await this.alone(group[0]!);
      return;
    }
    let rows: BatchRow[];
    try {
      rows = (
        await this.db.query<BatchRow>(
          'SELECT item, next_revision, last_position, error_code, error_message, error_detail FROM es_append_batch($1::jsonb)',
          [batchJson(group)],
        )
      ).rows;
    } catch (err) {
      if (!hasSqlState(err)) {
        for (const w of group) w.reject(err);
        return;
      }
      // Nothing of the group was written: each item on its own finds its own outcome.
      await Promise.all(group.map((w) => this.alone(w)));
      return;
    }
    const answered = new Set<number>();
    for (const row of rows) {
      const w = group[row.item - 1];
      if (!w || answered.has(row.item)) continue;
      answered.add(row.item);
      if (row.error_code !== null)
        w.reject(new AppendRefusal(row.error_code, row.error_message ?? '', row.error_detail ?? undefined));
      else w.resolve({ next_revision: row.next_revision!, last_position: row.last_position! });
    }
    // Cannot happen with the function in schema.ts; a caller must never wait forever if it does.
    group.forEach((w, i) => {
      if (!answered.has(i + 1)) w.reject(new Error(`es_append_batch gave no row for item ${i + 1} of ${group.length}`));
    });
  }

  private async alone(w: Waiting): Promise<void> {
    try {
      const { rows } = await this.db.query<AppendRow>(
        'SELECT next_revision, last_position FROM es_append($1, $2, $3::jsonb, $4::jsonb)',
        [w.item.streamId, w.item.expected, w.item.events, w.item.guards],
      );
      const row = rows[0];
      if (!row) throw new Error('es_append returned no row');
      w.resolve(row);
    } catch (err) {
      w.reject(err);
    }
  }
}

/** The items as es_append_batch reads them, from the parts serialized already. */
function batchJson(group: readonly Waiting[]): string {
  const parts = group.map(
    ({ item }) =>
      `{"stream":${JSON.stringify(item.streamId)},"expected":${JSON.stringify(item.expected)},"events":${item.events}${
        item.guards === null ? '' : `,"guards":${item.guards}`
      }}`,
  );
  return `[${parts.join(',')}]`;
}
