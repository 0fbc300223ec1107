/**
 * The shared tail of an organization's event log, for live feeds (`events.live`, the `/v1`
 * event stream). Without it every open feed woke on each projection advance and queried the
 * log itself, so a thousand feeds of one organization cost a thousand queries per batch.
 *
 * One tail per organization with at least one open feed: on each advance (`onProjected`, and a
 * safety poll) it reads what is new after the highest position it holds, once, and keeps the
 * latest events in a ring bounded by count and bytes. The ring holds every event of the
 * organization in (`floor`, `high`], so a feed whose cursor is at or after `floor` reads from it
 * without a query and gets exactly what a page of the log would give; a feed behind `floor`
 * pages the log (with its role check) until it catches up. The tail stops with its last feed.
 *
 * Role checks of feeds reading from the ring are shared per credential: at most one query per
 * credential and organization every `roleCheckMs`, and at once when a feed asks for it (its
 * membership changed).
 */
import type { WireEvent } from '@quorum/eventstore';
import type { Logger } from 'pino';
import type { ReadModels } from '../read/read-models.repository';
import { toWireEvent } from './events.handler';

export interface EventTailSettings {
  /** Events the ring of one organization keeps. */
  maxEvents: number;
  /** Bytes (estimated from the stored data) the ring of one organization keeps. */
  maxBytes: number;
}

export const DEFAULT_EVENT_TAIL_SETTINGS: EventTailSettings = { maxEvents: 2_000, maxBytes: 4 * 1024 * 1024 };

/** Rows read per query, when the tail or a feed behind it pages the log. */
export const TAIL_PAGE = 100;
/** Without a projector hook (standalone gateway), poll this often. */
const POLL_MS = 1_000;
/** With the hook, still poll now and then: a version switch or another process may advance it. */
const SAFETY_POLL_MS = 5_000;
/** How long a passed role check holds for the feeds of one credential. */
export const ROLE_CHECK_MS = 5_000;
/** What an event costs the ring beyond its data: ids, names, metadata and the entry itself. */
const EVENT_OVERHEAD_BYTES = 512;

export interface EventTailOptions extends EventTailSettings {
  read: Pick<ReadModels, 'events'>;
  onProjected?: (listener: () => void) => () => void;
  logger: Logger;
  now?: () => number;
}

/** A feed's hold on its organization's tail. */
export interface TailSubscription {
  /**
   * Up to `limit` events after `after` (-1n: from the first), and whether more are in the ring;
   * undefined when `after` is before the ring's start, so the caller pages the log instead.
   */
  after(after: bigint, limit: number): TailPage | undefined;
  /**
   * Runs `check` for credential `key` unless one passed within `roleCheckMs` (or `force`);
   * concurrent callers of one credential share one run. Rejects as `check` does.
   */
  authorize(key: string, check: () => Promise<unknown>, force: boolean): Promise<void>;
  /** Idempotent. */
  close(): void;
}

/**
 * Events of the ring after a cursor. Feeds at the same cursor between two reads of the log get
 * the same page object (and the same `events` array), so what a transport makes of a page (the
 * `/v1` stream's one chunk of text) is made once for all of them. Never change it.
 */
export interface TailPage {
  readonly events: readonly WireEvent[];
  readonly more: boolean;
}

interface RoleCheck {
  at: number;
  result: Promise<void>;
}

class OrgTail {
  private readonly events: WireEvent[] = [];
  private readonly positions: bigint[] = [];
  private readonly sizes: number[] = [];
  private start = 0;
  private bytes = 0;
  /** The ring holds every event of the organization after `floor` up to `high`. */
  private floor = -1n;
  private high = -1n;
  private readonly subscribers = new Set<() => void>();
  private readonly roleChecks = new Map<string, RoleCheck>();
  /** Pages handed out since the ring last changed, by cursor and limit. */
  private readonly pages = new Map<string, TailPage>();
  private pagesOf = { floor: -1n, high: -1n };
  private pulling = false;
  private again = false;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;
  readonly ready: Promise<void>;
  /** Reads of the log this tail made, for tests and metrics. */
  reads = 0;

  constructor(
    private readonly orgId: string,
    private readonly options: EventTailOptions,
    private readonly onStop: () => void,
  ) {
    this.ready = this.begin();
  }

  private async begin(): Promise<void> {
    this.reads++;
    const newest = await this.options.read.events(this.orgId, { order: 'desc', limit: 1 });
    const position = newest[0] ? BigInt(newest[0].position) : -1n;
    this.floor = position;
    this.high = position;
    if (this.stopped) return;
    this.unsubscribe = this.options.onProjected?.(() => this.pull());
    this.schedule();
  }

  private schedule() {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(
      () => {
        this.pull();
        this.schedule();
      },
      this.unsubscribe ? SAFETY_POLL_MS : POLL_MS,
    );
    this.timer.unref();
  }

  /** Reads what is new; an advance during a read makes it read again rather than run twice at once. */
  pull(): void {
    if (this.stopped) return;
    if (this.pulling) {
      this.again = true;
      return;
    }
    this.pulling = true;
    void (async () => {
      try {
        do {
          this.again = false;
          await this.readNew();
        } while (this.again && !this.stopped);
      } catch (err) {
        // The next advance or poll reads again; feeds meanwhile wait, they do not skip.
        this.options.logger.warn({ err, orgId: this.orgId }, 'the event tail could not read the log; retrying');
      } finally {
        this.pulling = false;
      }
    })();
  }

  private async readNew(): Promise<void> {
    for (;;) {
      this.reads++;
      const rows = await this.options.read.events(this.orgId, { after: this.high, order: 'asc', limit: TAIL_PAGE });
      if (this.stopped) return;
      for (const row of rows) {
        const event = toWireEvent(row);
        const size = EVENT_OVERHEAD_BYTES + JSON.stringify(event.data ?? null).length;
        this.events.push(event);
        this.positions.push(BigInt(event.position));
        this.sizes.push(size);
        this.bytes += size;
        this.high = BigInt(event.position);
      }
      this.evict();
      if (rows.length > 0) for (const wake of this.subscribers) wake();
      if (rows.length < TAIL_PAGE) return;
    }
  }

  private evict() {
    const { maxEvents, maxBytes } = this.options;
    while (this.positions.length - this.start > 0) {
      const count = this.positions.length - this.start;
      if (count <= maxEvents && this.bytes <= maxBytes) break;
      this.floor = this.positions[this.start] ?? this.floor;
      this.bytes -= this.sizes[this.start] ?? 0;
      this.start++;
    }
    // Compacting only now and then keeps eviction O(1) per event.
    if (this.start > 1_024 && this.start * 2 > this.positions.length) {
      this.events.splice(0, this.start);
      this.positions.splice(0, this.start);
      this.sizes.splice(0, this.start);
      this.start = 0;
    }
  }

  subscribe(wake: () => void): TailSubscription {
    this.subscribers.add(wake);
    let closed = false;
    return {
      after: (after, limit) => this.read(after, limit),
      authorize: (key, check, force) => this.authorize(key, check, force),
      close: () => {
        if (closed) return;
        closed = true;
        this.subscribers.delete(wake);
        if (this.subscribers.size === 0) this.stop();
      },
    };
  }

  private read(after: bigint, limit: number): TailPage | undefined {
    if (after < this.floor) return undefined;
    if (this.pagesOf.floor !== this.floor || this.pagesOf.high !== this.high) {
      this.pages.clear();
      this.pagesOf = { floor: this.floor, high: this.high };
    }
    const key = `${after}/${limit}`;
    const made = this.pages.get(key);
    if (made) return made;
    // The first entry after `after`: positions ascend, so a binary search.
    let lo = this.start;
    let hi = this.positions.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.positions[mid] ?? 0n) <= after) lo = mid + 1;
      else hi = mid;
    }
    const end = Math.min(lo + limit, this.positions.length);
    const page: TailPage = { events: this.events.slice(lo, end), more: end < this.positions.length };
    this.pages.set(key, page);
    return page;
  }

  private authorize(key: string, check: () => Promise<unknown>, force: boolean): Promise<void> {
    const now = (this.options.now ?? Date.now)();
    const held = this.roleChecks.get(key);
    if (held && !force && now - held.at < ROLE_CHECK_MS) return held.result;
    const result = check().then(() => undefined);
    const entry = { at: now, result };
    this.roleChecks.set(key, entry);
    // A refusal is not remembered: each feed asking again checks again.
    result.catch(() => {
      if (this.roleChecks.get(key) === entry) this.roleChecks.delete(key);
    });
    return result;
  }

  private stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    this.unsubscribe?.();
    this.onStop();
  }
}

/** The tails of one gateway process, one per organization followed now. */
export function createEventTails(options: EventTailOptions) {
  const tails = new Map<string, OrgTail>();
  return {
    /** Follows `orgId`'s tail (starting it if needed); `wake` is called when new events are in. */
    async subscribe(orgId: string, wake: () => void): Promise<TailSubscription> {
      let tail = tails.get(orgId);
      if (!tail) {
        const created: OrgTail = new OrgTail(orgId, options, () => {
          if (tails.get(orgId) === created) tails.delete(orgId);
        });
        tail = created;
        tails.set(orgId, tail);
      }
      const subscription = tail.subscribe(wake);
      try {
        await tail.ready;
      } catch (err) {
        subscription.close();
        throw err;
      }
      return subscription;
    },
    /** Organizations with a running tail. */
    get size() {
      return tails.size;
    },
    /** Log reads of `orgId`'s running tail (0 without one). */
    readsOf(orgId: string): number {
      return tails.get(orgId)?.reads ?? 0;
    },
  };
}

export type EventTails = ReturnType<typeof createEventTails>;
