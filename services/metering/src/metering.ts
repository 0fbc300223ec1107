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
  ENTITLEMENTS,
  MAX_LEAVE_BACKDATE_MS,
  USAGE_THRESHOLDS,
  currentVersionOf,
  foldEvents,
  isDomainEventType,
  meterSession,
  nextSettledAt,
  organizationDecider,
  parseEvent,
  streamIds,
  type DomainEvent,
  type OrganizationEvent,
  type StoredSessionEvent,
  type UsageInterval,
} from '@quorum/domain';
import {
  DuplicateEventIdError,
  uuidV5,
  type EventStore,
  type NewEvent,
  type RecordedEvent,
  type WireEvent,
} from '@quorum/eventstore';
import type { Logger } from 'pino';

/** Namespace of usage event ids (uuid v5). Changing it would record everything again. */
const USAGE_NAMESPACE = '3d2b8f4e-7c1a-4e59-9b0d-5a6c8e2f1b73';

/** The id of the `usage.recorded` event for an interval with this key. */
export function usageEventId(key: string): string {
  return uuidV5(USAGE_NAMESPACE, `usage.recorded|${key}`);
}

/** The id of the `usage.threshold_crossed` event of an organization, period and threshold. */
export function thresholdEventId(orgId: string, period: string, threshold: number): string {
  return uuidV5(USAGE_NAMESPACE, `usage.threshold_crossed|${orgId}|${period}|${threshold}`);
}

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

/** Every session event of every organization (`evt.<orgId>.session.<type>`). */
const SESSION_SUBJECTS = 'evt.*.session.>';

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
  /** One pass per session at a time in this process: a ticker pass and a message never interleave. */
  private readonly inFlight = new Map<string, Promise<SessionMetered | undefined>>();

  private constructor(private readonly options: MeteringOptions) {
    this.now = options.now ?? (() => new Date());
    this.intervalSeconds = options.intervalSeconds;
    this.settleLagMs = options.settleLagMs ?? MAX_LEAVE_BACKDATE_MS + CLOCK_SKEW_MARGIN_MS;
    this.tickMs = options.tickMs ?? 5_000;
    if (this.settleLagMs < 0) throw new RangeError('settleLagMs must not be negative');
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
    for (const { session_id } of rows) await this.meter(session_id);
    return rows.length;
  }

  /** Meters one session from its stream in the store (also what a message or the ticker does). */
  meter(sessionId: string): Promise<SessionMetered | undefined> {
    const running = this.inFlight.get(sessionId);
    const next = (running ?? Promise.resolve(undefined))
      .catch(() => undefined)
      .then(() => this.meterNow(sessionId))
      .finally(() => {
        if (this.inFlight.get(sessionId) === next) this.inFlight.delete(sessionId);
      });
    this.inFlight.set(sessionId, next);
    return next;
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
    await Promise.allSettled([...this.inFlight.values()]);
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
    const sessions = new Set<string>();
    for (const message of messages) {
      const event = message.payload as WireEvent;
      if (typeof event?.streamId === 'string' && event.streamId.startsWith('session-')) {
        sessions.add(event.streamId.slice('session-'.length));
      }
    }
    // Throwing asks for the whole batch again; every pass is idempotent.
    for (const sessionId of sessions) await this.meter(sessionId);
  }

  private async meterNow(sessionId: string): Promise<SessionMetered | undefined> {
    const recorded = await this.options.store.readStream(streamIds.session(sessionId));
    const first = recorded[0];
    if (first === undefined) return undefined;
    const orgId = first.metadata.orgId;
    const byId = new Map(recorded.map((e) => [e.id, e]));
    const events = recorded.flatMap((e): StoredSessionEvent[] => {
      if (!isDomainEventType(e.type)) return [];
      const event: DomainEvent = parseEvent(e);
      return event.type.startsWith('session.') || event.type.startsWith('participant.')
        ? [{ ...event, id: e.id } as StoredSessionEvent]
        : [];
    });
    const settled = new Date(this.now().getTime() - this.settleLagMs);
    const options = this.intervalSeconds ? { intervalSeconds: this.intervalSeconds } : {};
    const intervals = meterSession(events, settled, options);
    const due = nextSettledAt(events, settled, options);
    const nextDue = due === null ? null : new Date(due.getTime() + this.settleLagMs);

    const ids = intervals.map((i) => usageEventId(i.key));
    const known = new Set(
      intervals.length === 0
        ? []
        : (
            await this.options.sql.query<{ event_id: string }>(
              `SELECT event_id FROM metering_effects WHERE event_id = ANY($1::uuid[])`,
              [ids],
            )
          ).rows.map((r) => r.event_id),
    );
    const fresh = intervals.map((interval, i) => ({ interval, id: ids[i]! })).filter(({ id }) => !known.has(id));

    const byStream = new Map<string, { interval: UsageInterval; id: string }[]>();
    for (const item of fresh) {
      const stream = streamIds.usage(orgId, item.interval.period);
      byStream.set(stream, [...(byStream.get(stream) ?? []), item]);
    }
    for (const [stream, items] of byStream) {
      await this.append(
        stream,
        items.map(({ interval, id }) => this.usageEvent(interval, id, orgId, byId)),
      );
    }

    const periods = new Set(intervals.filter((i) => i.meter === 'meeting_minutes').map((i) => i.period));
    await this.options.sql.transaction(async (tx) => {
      if (fresh.length > 0) {
        await tx.query(
          `WITH fresh AS (
             INSERT INTO metering_effects (event_id, org_id, period, meter, seconds, session_id)
             SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::int[], $6::uuid[])
             ON CONFLICT (event_id) DO NOTHING
             RETURNING org_id, period, meter, seconds)
           INSERT INTO metering_totals (org_id, period, meter, seconds)
           SELECT org_id, period, meter, sum(seconds) FROM fresh GROUP BY org_id, period, meter
           ON CONFLICT (org_id, period, meter) DO UPDATE SET seconds = metering_totals.seconds + EXCLUDED.seconds`,
          [
            fresh.map((f) => f.id),
            fresh.map(() => orgId),
            fresh.map((f) => f.interval.period),
            fresh.map((f) => f.interval.meter),
            fresh.map((f) => f.interval.seconds),
            fresh.map(() => sessionId),
          ],
        );
      }
      await tx.query(
        `INSERT INTO metering_sessions (session_id, org_id, next_due, metered_at) VALUES ($1, $2, $3, now())
         ON CONFLICT (session_id) DO UPDATE SET next_due = EXCLUDED.next_due, metered_at = now()`,
        [sessionId, orgId, nextDue],
      );
    });
    for (const period of periods) await this.checkThresholds(orgId, period);

    this.sessionsMetered++;
    this.usageAppended += fresh.length;
    return { sessionId, intervals: intervals.length, appended: fresh.length, nextDue };
  }

  private usageEvent(
    interval: UsageInterval,
    id: string,
    orgId: string,
    byId: ReadonlyMap<string, RecordedEvent>,
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
        correlationId: cause?.metadata.correlationId ?? interval.sessionId,
        causationId: cause?.id ?? null,
        ...(cause?.metadata.traceparent ? { traceparent: cause.metadata.traceparent } : {}),
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

  /** Appends `usage.threshold_crossed` once per threshold the period's meeting minutes have reached. */
  private async checkThresholds(orgId: string, period: string): Promise<void> {
    const { rows } = await this.options.sql.query<{ seconds: string; done: number[] | null }>(
      `SELECT t.seconds,
              (SELECT array_agg(threshold) FROM metering_thresholds h WHERE h.org_id = $1 AND h.period = $2) AS done
         FROM metering_totals t WHERE t.org_id = $1 AND t.period = $2 AND t.meter = 'meeting_minutes'`,
      [orgId, period],
    );
    const row = rows[0];
    if (!row) return;
    const used = Number(row.seconds);
    const done = new Set(row.done ?? []);
    const pending = USAGE_THRESHOLDS.filter((t) => !done.has(t));
    if (pending.length === 0) return;
    const plan = await this.planOf(orgId);
    const included = plan === undefined ? null : ENTITLEMENTS[plan].meetingMinutesPerMonth;
    if (included === null || included === 0) return;
    for (const threshold of pending) {
      if (used * 100 < threshold * included * 60) continue;
      const id = thresholdEventId(orgId, period, threshold);
      await this.options.store.appendToStream(streamIds.usage(orgId, period), [
        {
          id,
          type: 'usage.threshold_crossed',
          version: currentVersionOf('usage.threshold_crossed'),
          data: {
            period,
            meter: 'meeting_minutes',
            threshold,
            includedMinutes: included,
            usedSeconds: used,
            at: this.now().toISOString(),
          },
          metadata: {
            orgId,
            actor: { kind: 'system', id: 'metering' },
            correlationId: id,
            causationId: null,
          },
        },
      ]);
      await this.options.sql.query(
        `INSERT INTO metering_thresholds (org_id, period, threshold, event_id) VALUES ($1, $2, $3, $4)
         ON CONFLICT DO NOTHING`,
        [orgId, period, threshold, id],
      );
      this.options.logger.info({ orgId, period, threshold, usedSeconds: used, included }, 'usage threshold crossed');
    }
  }

  private async planOf(orgId: string) {
    const events = await this.options.store.readStream(streamIds.organization(orgId));
    const state = foldEvents(
      organizationDecider,
      events.filter((e) => isDomainEventType(e.type)).map((e) => parseEvent(e) as OrganizationEvent),
    );
    return state.exists ? state.plan : undefined;
  }
}
