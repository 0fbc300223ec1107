/**
 * The metering consumer: follows session events on the bus and appends the usage they give
 * (`meterSession`, packages/domain/src/usage/usage.meter.ts) to `usage-<orgId>-<yyyymm>`.
 *
 * Exactly-once effects without a checkpoint:
 * - Each usage event's id is a uuid v5 of its interval's key (session, participant or
 *   `meeting`, stint, start), so appending it again, from a redelivery, a restart, a replay or
 *   a second instance, is a no-op in the store.
 * - `metering_effects` remembers what was appended (keyed by event id), written after the
 *   append; `metering_totals` grows only by rows newly inserted there, in the same
 *   transaction, so a crash between the two repeats the append (a no-op) and then counts once.
 * - The session stream is read from the store, not from the bus message, so a message that
 *   arrives twice, late or out of order meters what the stream says now.
 *
 * Running meetings: time counts as settled `settleLagMs` behind the clock (a late leave is
 * recorded at most `MAX_LEAVE_BACKDATE_MS` before its decision; the rest is clock skew). After
 * each pass a session gets `next_due`, the instant more of it settles (`nextSettledAt`), and a
 * ticker meters the sessions that are due, so a meeting with nobody joining or leaving still
 * shows up interval by interval.
 */
import type { Consumer, DeliveredMessage, EventBus } from '@quorum/bus';
import type { SqlDatabase } from '@quorum/db';
import {
  MAX_LEAVE_BACKDATE_MS,
  currentVersionOf,
  meterSession,
  nextSettledAt,
  streamIds,
  type UsageInterval,
} from '@quorum/domain';
import {
  DuplicateEventIdError,
  parseWireEvent,
  type EventStore,
  type NewEvent,
  type WireEvent,
} from '@quorum/eventstore';
import type { Logger } from 'pino';
import { SessionStreams, type SessionRecord } from './session-streams';
import { Thresholds } from './thresholds';
import { usageEventId } from './usage-ids';

export { thresholdEventId } from './thresholds';
export { usageEventId } from './usage-ids';

/** Clock skew allowed between the gateways that stamp joins and leaves and this consumer. */
export const CLOCK_SKEW_MARGIN_MS = 30_000;

export interface MeteringOptions {
  store: EventStore;
  bus: EventBus;
  /** Holds the `metering_*` tables (run `migratePublicSchema` first). */
  sql: SqlDatabase;
  logger: Logger;
  now?: () => Date;
  /** Spacing of the cut points in seconds (default 300); must divide a day. */
  intervalSeconds?: number;
  /** How far behind the clock time counts as settled; default `MAX_LEAVE_BACKDATE_MS` + 30 s. */
  settleLagMs?: number;
  /** How often sessions that are due are metered again; default 5 s. 0 turns the timer off. */
  tickMs?: number;
  /** Durable consumer name; instances sharing it share the work. Default `metering`. */
  durableName?: string;
}

/** What one pass over a session did. */
export interface SessionMetered {
  sessionId: string;
  /** Intervals the stream gives so far. */
  intervals: number;
  /** Usage events this pass appended (not known to `metering_effects` before). */
  appended: number;
  /** When the session is due again; null when all of it is recorded. */
  nextDue: Date | null;
}

export interface MeteringStatus {
  /** Sessions metered since start. */
  sessionsMetered: number;
  /** Usage events appended since start. */
  usageAppended: number;
  /** Sessions waiting for their next interval to settle. */
  dueLater: number;
}

/** Sessions metered at once from one batch of messages. */
const PARALLEL_SESSIONS = 16;
/** Sessions whose recorded ids and `next_due` are kept in memory. */
const KNOWN_SESSIONS = 20_000;

/** Every session event of every organization (`evt.<orgId>.session.<type>`). */
const SESSION_SUBJECTS = 'evt.*.session.>';

/** `fn` over `items`, at most `limit` at a time, results in order. */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < items.length; i = next++) results[i] = await fn(items[i]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

export class Metering {
  private consumer: Consumer | undefined;
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private closed = false;
  private sessionsMetered = 0;
  private usageAppended = 0;
  private readonly now: () => Date;
  private readonly intervalSeconds: number | undefined;
  private readonly settleLagMs: number;
  private readonly tickMs: number;
  /** The pass in progress (or the last one); the next waits for it. */
  private passes: Promise<unknown> = Promise.resolve();
  /** Streams of recently metered sessions (insertion order = recency). */
  private readonly streams: SessionStreams;
  /** Usage event ids known to be recorded, per recently metered session (insertion order = recency). */
  private readonly knownIds = new Map<string, Set<string>>();
  /** `next_due` as last written per session, so a pass that changes nothing writes nothing. */
  private readonly dueWritten = new Map<string, number | null>();
  private readonly thresholds: Thresholds;

  private constructor(private readonly options: MeteringOptions) {
    this.now = options.now ?? (() => new Date());
    this.intervalSeconds = options.intervalSeconds;
    this.settleLagMs = options.settleLagMs ?? MAX_LEAVE_BACKDATE_MS + CLOCK_SKEW_MARGIN_MS;
    this.tickMs = options.tickMs ?? 5_000;
    if (this.settleLagMs < 0) throw new RangeError('settleLagMs must not be negative');
    this.streams = new SessionStreams(options.store, KNOWN_SESSIONS);
    this.thresholds = new Thresholds({ ...options, now: this.now });
  }

  static async create(options: MeteringOptions): Promise<Metering> {
    // Fails fast on a bad interval before anything consumes.
    meterSession([], new Date(0), { ...(options.intervalSeconds ? { intervalSeconds: options.intervalSeconds } : {}) });
    return new Metering(options);
  }

  /** Starts the durable consumer on session events and the ticker. */
  async start(): Promise<void> {
    this.consumer = await this.options.bus.consume({
      durableName: this.options.durableName ?? 'metering',
      filterSubjects: [SESSION_SUBJECTS],
      maxBatch: 200,
      batchHandler: (messages) => this.handle(messages),
      onError: (error) => this.options.logger.warn({ err: error }, 'metering consumer: bus error'),
    });
    if (this.tickMs > 0) this.schedule();
  }

  /** Meters every session whose next interval has settled. Returns how many were metered. */
  async tick(): Promise<number> {
    const { rows } = await this.options.sql.query<{ session_id: string }>(
      `SELECT session_id FROM metering_sessions WHERE next_due IS NOT NULL AND next_due <= $1 ORDER BY next_due LIMIT 500`,
      [this.now()],
    );
    await this.meterAll(rows.map((r) => [r.session_id, []]));
    return rows.length;
  }

  /**
   * Meters one session from its stream (also what a message or the ticker does); `hints` are
   * events of that stream the bus handed over.
   */
  async meter(sessionId: string, hints: readonly WireEvent[] = []): Promise<SessionMetered | undefined> {
    return (await this.meterAll([[sessionId, hints]]))[0];
  }
  async status(): Promise<MeteringStatus> {
    const { rows } = await this.options.sql.query<{ n: string }>(
      `SELECT count(*) AS n FROM metering_sessions WHERE next_due IS NOT NULL`,
    );
    return {
      sessionsMetered: this.sessionsMetered,
      usageAppended: this.usageAppended,
      dueLater: Number(rows[0]?.n ?? 0),
    };
  }

  /** Stops the ticker and the consumer (which finishes the batch in hand). Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.timer);
    await this.consumer?.close();
    await this.ticking;
    await this.passes.catch(() => undefined);
  }

  private schedule(): void {
    if (this.closed) return;
    this.timer = setTimeout(() => {
      this.ticking = this.tick()
        .then(() => undefined)
        .catch((err: unknown) => this.options.logger.warn({ err }, 'metering: a timed pass failed; will retry'))
        .finally(() => this.schedule());
    }, this.tickMs);
    this.timer.unref();
  }

  private async handle(messages: readonly DeliveredMessage[]): Promise<void> {
    const sessions = new Map<string, WireEvent[]>();
    for (const message of messages) {
      let event: WireEvent;
      try {
        event = parseWireEvent(message.payload);
      } catch (err) {
        this.options.logger.warn({ err, id: message.id }, 'metering: a message that is not an event envelope; skipped');
        continue;
      }
      if (!event.streamId.startsWith('session-')) continue;
      const sessionId = event.streamId.slice('session-'.length);
      sessions.set(sessionId, [...(sessions.get(sessionId) ?? []), event]);
    }
    // Throwing asks for the whole batch again; every pass is idempotent.
    await this.meterAll([...sessions]);
  }

  /** One pass at a time in this process, so a timed pass and a batch of messages never interleave. */
  private meterAll(sessions: ReadonlyArray<readonly [string, readonly WireEvent[]]>): Promise<SessionMetered[]> {
    const run = this.passes.catch(() => undefined).then(() => this.pass(sessions));
    this.passes = run;
    return run;
  }
  /**
   * Meters sessions together, in a fixed number of round trips however many there are: their
   * streams (held in memory, or read), one lookup of the usage ids not known to be recorded, one
   * append per usage stream, one statement recording effects, totals and when each is due.
   */
  private async pass(sessions: ReadonlyArray<readonly [string, readonly WireEvent[]]>): Promise<SessionMetered[]> {
    const streams = await mapLimit(sessions, PARALLEL_SESSIONS, ([sessionId, hints]) =>
      this.streams.get(sessionId, hints),
    );
    const settled = new Date(this.now().getTime() - this.settleLagMs);
    const options = this.intervalSeconds ? { intervalSeconds: this.intervalSeconds } : {};
    const passes = sessions.flatMap(([sessionId], n) => {
      const held = streams[n];
      if (held === undefined) return [];
      const events = held.records.flatMap((r) => (r.event ? [r.event] : []));
      const intervals = meterSession(events, settled, options);
      const settles = nextSettledAt(events, settled, options);
      return [
        {
          sessionId,
          held,
          intervals,
          ids: intervals.map((i) => usageEventId(i.key)),
          // Ids this process saw recorded for the session need no lookup.
          known: new Set(this.knownIds.get(sessionId)),
          nextDue: settles === null ? null : new Date(settles.getTime() + this.settleLagMs),
        },
      ];
    });

    const unknown = passes.flatMap((p) => p.ids.filter((id) => !p.known.has(id)));
    if (unknown.length > 0) {
      const { rows } = await this.options.sql.query<{ event_id: string }>(
        `SELECT event_id FROM metering_effects WHERE event_id = ANY($1::uuid[])`,
        [unknown],
      );
      const recorded = new Set(rows.map((r) => r.event_id));
      for (const p of passes) for (const id of p.ids) if (recorded.has(id)) p.known.add(id);
    }

    const byStream = new Map<string, NewEvent[]>();
    const fresh: { id: string; orgId: string; sessionId: string; interval: UsageInterval }[] = [];
    for (const p of passes) {
      const byId = new Map(p.held.records.map((r) => [r.id, r]));
      p.intervals.forEach((interval, n) => {
        const id = p.ids[n]!;
        if (p.known.has(id)) return;
        fresh.push({ id, orgId: p.held.orgId, sessionId: p.sessionId, interval });
        const stream = streamIds.usage(p.held.orgId, interval.period);
        byStream.set(stream, [...(byStream.get(stream) ?? []), this.usageEvent(interval, id, p.held.orgId, byId)]);
      });
    }
    await mapLimit([...byStream], PARALLEL_SESSIONS, ([stream, events]) => this.append(stream, events));

    // Only sessions with something new, or whose next_due moved, need writing.
    const changed = passes.filter((p) => {
      const due = p.nextDue === null ? null : p.nextDue.getTime();
      return !this.dueWritten.has(p.sessionId) || this.dueWritten.get(p.sessionId) !== due;
    });
    if (fresh.length > 0 || changed.length > 0) {
      // One statement, so one round trip and atomic: the effects rows, the totals grown by the
      // rows newly inserted among them, and when each session is due again.
      await this.options.sql.query(
        `WITH fresh AS (
           INSERT INTO metering_effects (event_id, org_id, period, meter, seconds, session_id)
           SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::int[], $6::uuid[])
           ON CONFLICT (event_id) DO NOTHING
           RETURNING org_id, period, meter, seconds),
         totals AS (
           INSERT INTO metering_totals (org_id, period, meter, seconds)
           SELECT org_id, period, meter, sum(seconds) FROM fresh GROUP BY org_id, period, meter
           ON CONFLICT (org_id, period, meter) DO UPDATE SET seconds = metering_totals.seconds + EXCLUDED.seconds)
         INSERT INTO metering_sessions (session_id, org_id, next_due, metered_at)
         SELECT *, now() FROM unnest($7::uuid[], $8::uuid[], $9::timestamptz[])
         ON CONFLICT (session_id) DO UPDATE SET next_due = EXCLUDED.next_due, metered_at = now()`,
        [
          fresh.map((f) => f.id),
          fresh.map((f) => f.orgId),
          fresh.map((f) => f.interval.period),
          fresh.map((f) => f.interval.meter),
          fresh.map((f) => f.interval.seconds),
          fresh.map((f) => f.sessionId),
          changed.map((p) => p.sessionId),
          changed.map((p) => p.held.orgId),
          changed.map((p) => p.nextDue),
        ],
      );
    }

    // Thresholds move only with new meeting minutes; each period is checked once per process
    // too, so one whose crossing was not recorded before a crash is after the restart.
    const periods = new Set<string>();
    for (const p of passes) {
      p.intervals.forEach((i, n) => {
        const key = `${p.held.orgId}/${i.period}`;
        if (
          i.meter === 'meeting_minutes' &&
          (!p.known.has(p.ids[n]!) || !this.thresholds.wasChecked(p.held.orgId, i.period))
        )
          periods.add(key);
      });
      for (const id of p.ids) p.known.add(id);
      this.rememberKnown(p.sessionId, p.known);
      this.dueWritten.set(p.sessionId, p.nextDue === null ? null : p.nextDue.getTime());
    }
    for (const key of periods) {
      const [orgId, period] = key.split('/') as [string, string];
      await this.thresholds.check(orgId, period);
    }

    const appended = new Map<string, number>();
    for (const f of fresh) appended.set(f.sessionId, (appended.get(f.sessionId) ?? 0) + 1);
    this.sessionsMetered += passes.length;
    this.usageAppended += fresh.length;
    return passes.map((p) => ({
      sessionId: p.sessionId,
      intervals: p.intervals.length,
      appended: appended.get(p.sessionId) ?? 0,
      nextDue: p.nextDue,
    }));
  }

  /** Keeps the ids recorded for a session, for the most recently metered sessions only. */
  private rememberKnown(sessionId: string, ids: Set<string>): void {
    this.knownIds.delete(sessionId);
    this.knownIds.set(sessionId, ids);
    if (this.knownIds.size > KNOWN_SESSIONS) this.knownIds.delete(this.knownIds.keys().next().value!);
    if (this.dueWritten.size > KNOWN_SESSIONS) this.dueWritten.delete(this.dueWritten.keys().next().value!);
  }

  private usageEvent(
    interval: UsageInterval,
    id: string,
    orgId: string,
    byId: ReadonlyMap<string, SessionRecord>,
  ): NewEvent<'usage.recorded'> {
    // The session event that closed the interval caused it; its trace and correlation carry on.
    const cause = byId.get(interval.sources[interval.sources.length - 1]!);
    return {
      id,
      type: 'usage.recorded',
      version: currentVersionOf('usage.recorded'),
      data: {
        meter: interval.meter,
        sessionId: interval.sessionId,
        hostUserId: interval.hostUserId,
        participantId: interval.participantId,
        stint: interval.stint,
        period: interval.period,
        from: interval.from,
        to: interval.to,
        seconds: interval.seconds,
        sources: interval.sources,
      },
      metadata: {
        orgId,
        actor: { kind: 'system', id: 'metering' },
        correlationId: cause?.correlationId ?? interval.sessionId,
        causationId: cause?.id ?? null,
        ...(cause?.traceparent ? { traceparent: cause.traceparent } : {}),
      },
    };
  }

  /**
   * Appends events whose ids are derived: stored ones are no-ops. A batch mixing stored and new
   * ids (a crash after an append, before `metering_effects` recorded it) is refused as a whole,
   * so it goes one event at a time.
   */
  private async append(stream: string, events: readonly NewEvent[]): Promise<void> {
    try {
      await this.options.store.appendToStream(stream, events);
    } catch (err) {
      if (!(err instanceof DuplicateEventIdError)) throw err;
      for (const event of events) await this.options.store.appendToStream(stream, [event]);
    }
  }
}
