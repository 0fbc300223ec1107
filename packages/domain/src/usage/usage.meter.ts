/**
 * Metering: what a session's stream says about connected time, as closed usage intervals.
 *
 * The intervals are a pure function of the session's events and the fixed UTC cut points
 * (every `intervalSeconds` since the epoch, and every month's start); the clock only decides
 * how far they may be written yet (`settledUntil`), never what they say. So a replay, a
 * redelivery, a second metering instance or a rebuild derives the same intervals with the same
 * keys and the same contents, and appending one twice is a no-op by its derived id.
 *
 * Rules:
 * - Instants count in whole seconds: every `at` is truncated to its second (UTC), so an
 *   interval is a whole number of seconds and intervals add up exactly. Billing rounds an
 *   organization's monthly total of each meter up to the minute, once (docs/metering.md).
 * - A participant's stint runs from `participant.joined` to their `participant.left`,
 *   `participant.removed` or `session.ended`, whichever comes first; `participant.reconnected`
 *   (through another SFU node) continues it. A leave never counts before its join, nor a
 *   rejoin before the same person's previous leave.
 * - The meeting is occupied while anyone is present: the union of the stints. Each run of
 *   occupancy is identified by the stint that opened it.
 * - Intervals are cut at the cut points and at a stint's end, so none spans two months and a
 *   running meeting shows up one interval at a time.
 * - A closed stint's intervals are final as soon as its end is in the stream. Any other
 *   interval (an open stint's, or the meeting's, whose end a later join could still overlap) is
 *   final only when it ends at or before `settledUntil`: the caller promises that no event
 *   appended later says anything happened before that instant (a lost SFU node's leave is
 *   backdated to its last heartbeat, by a bounded amount).
 */
import type { SessionEvent } from '../session/session.events';
import { usagePeriodOf } from '../streams';

/** The meters: per participant, and per meeting (time with anyone in it). */
export const USAGE_METERS = ['participant_minutes', 'meeting_minutes'] as const;
/** A meter. */
export type UsageMeter = (typeof USAGE_METERS)[number];

/** Default spacing of the cut points: every 5 minutes (UTC). */
export const DEFAULT_USAGE_INTERVAL_SECONDS = 300;

/** A session event with the id it was stored under. */
export type StoredSessionEvent = SessionEvent & { readonly id: string };

/** One closed interval of metered time. */
export interface UsageInterval {
  /** Identity of the interval: session, participant (or `meeting`), stint and start. Same input, same key. */
  readonly key: string;
  readonly meter: UsageMeter;
  readonly orgId: string;
  readonly sessionId: string;
  readonly hostUserId: string;
  /** The participant, or null for `meeting_minutes`. */
  readonly participantId: string | null;
  /** Id of the `participant.joined` event that opened the stint (or the run of occupancy). */
  readonly stint: string;
  /** The usage period (`yyyymm`, UTC) the interval falls in. */
  readonly period: string;
  /** Start, inclusive (ISO 8601, whole seconds). */
  readonly from: string;
  /** End, exclusive (ISO 8601, whole seconds). */
  readonly to: string;
  /** `to - from` in seconds. */
  readonly seconds: number;
  /** Ids of the session events the interval came from, in stream order. */
  readonly sources: readonly string[];
}

/** Options of {@link meterSession}. */
export interface MeterOptions {
  /** Spacing of the cut points in seconds; must divide a day, so every day starts on one. */
  readonly intervalSeconds?: number;
}

interface Stint {
  readonly participantId: string;
  readonly joinId: string;
  readonly start: number;
  end: number | undefined;
  endId: string | undefined;
  /** Ids of this stint's events (join, reconnects, end) with their second, for `sources`. */
  readonly events: { id: string; at: number }[];
}

const toSecond = (iso: string): number => Math.floor(Date.parse(iso) / 1000);
const isoOf = (second: number): string => new Date(second * 1000).toISOString();

/** Start (epoch seconds) of the month after the one containing `second`. */
function nextMonthStart(second: number): number {
  const d = new Date(second * 1000);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1) / 1000;
}

/** The first cut point strictly after `second`. */
function nextCut(second: number, intervalSeconds: number): number {
  const grid = (Math.floor(second / intervalSeconds) + 1) * intervalSeconds;
  return Math.min(grid, nextMonthStart(second));
}

/** The participants' stints, in the order they opened. */
function stintsOf(events: readonly StoredSessionEvent[]): Stint[] {
  const stints: Stint[] = [];
  const open = new Map<string, Stint>();
  const lastEnd = new Map<string, number>();
  const close = (stint: Stint, id: string, at: number) => {
    stint.end = Math.max(stint.start, at);
    stint.endId = id;
    stint.events.push({ id, at: stint.end });
    open.delete(stint.participantId);
    lastEnd.set(stint.participantId, stint.end);
  };
  for (const event of events) {
    switch (event.type) {
      case 'participant.joined': {
        if (open.has(event.data.participantId)) break;
        // Clocks of two gateways may disagree by a little: a rejoin never counts again time
        // before the same person's previous leave.
        const start = Math.max(toSecond(event.data.at), lastEnd.get(event.data.participantId) ?? -Infinity);
        const stint: Stint = {
          participantId: event.data.participantId,
          joinId: event.id,
          start,
          end: undefined,
          endId: undefined,
          events: [{ id: event.id, at: start }],
        };
        stints.push(stint);
        open.set(stint.participantId, stint);
        break;
      }
      case 'participant.reconnected': {
        const stint = open.get(event.data.participantId);
        stint?.events.push({ id: event.id, at: Math.max(stint.start, toSecond(event.data.at)) });
        break;
      }
      case 'participant.left':
      case 'participant.removed': {
        const stint = open.get(event.data.participantId);
        if (stint) close(stint, event.id, toSecond(event.data.at));
        break;
      }
      case 'session.ended': {
        const at = toSecond(event.data.at);
        for (const stint of [...open.values()]) close(stint, event.id, at);
        break;
      }
      default:
        break;
    }
  }
  return stints;
}

interface Run {
  /** The stint that opened this run of occupancy. */
  readonly opener: Stint;
  readonly start: number;
  /** Undefined while some stint in the run is open. */
  end: number | undefined;
  readonly members: Stint[];
}

/**
 * Runs of occupancy: stints merged where they overlap. Stints that only touch (one ends the
 * second another starts) stay separate runs, so a run's identity never changes when a later
 * join lands exactly on an earlier run's end.
 */
function runsOf(stints: readonly Stint[]): Run[] {
  const sorted = [...stints].sort((a, b) => a.start - b.start || a.joinId.localeCompare(b.joinId));
  const runs: Run[] = [];
  let current: Run | undefined;
  for (const stint of sorted) {
    if (current && (current.end === undefined || stint.start < current.end)) {
      current.members.push(stint);
      current.end = current.end === undefined || stint.end === undefined ? undefined : Math.max(current.end, stint.end);
      continue;
    }
    current = { opener: stint, start: stint.start, end: stint.end, members: [stint] };
    runs.push(current);
  }
  return runs;
}

/**
 * Cuts `[start, end)` at the cut points and calls `emit` for each piece that is final: all of
 * them when `finalEnd` and the end is known, else those ending by `settledUntil`.
 */
function cut(
  start: number,
  end: number | undefined,
  finalEnd: boolean,
  settledUntil: number,
  intervalSeconds: number,
  emit: (from: number, to: number, endsAtEnd: boolean) => void,
): void {
  let from = start;
  for (;;) {
    const next = nextCut(from, intervalSeconds);
    const endsAtEnd = end !== undefined && end <= next;
    const to = endsAtEnd ? end : next;
    if (to <= from) return;
    if (to > settledUntil && !(finalEnd && end !== undefined)) return;
    emit(from, to, endsAtEnd);
    if (endsAtEnd) return;
    from = to;
  }
}

function intervalSecondsOf(options: MeterOptions): number {
  const intervalSeconds = options.intervalSeconds ?? DEFAULT_USAGE_INTERVAL_SECONDS;
  if (!Number.isInteger(intervalSeconds) || intervalSeconds <= 0 || 86_400 % intervalSeconds !== 0) {
    throw new RangeError(
      `intervalSeconds must be a whole number of seconds that divides a day; got ${intervalSeconds}`,
    );
  }
  return intervalSeconds;
}

/**
 * The earliest `settledUntil` at which {@link meterSession} gives an interval it does not give
 * at `settledUntil`: when the next piece of an open stint or of a run of occupancy becomes
 * final. Null when every interval the stream gives is final already (the meeting ended, or
 * everyone left and the end is settled): nothing changes until a new event is appended.
 */
export function nextSettledAt(
  events: readonly StoredSessionEvent[],
  settledUntil: Date,
  options: MeterOptions = {},
): Date | null {
  const intervalSeconds = intervalSecondsOf(options);
  if (!events.some((e) => e.type === 'session.scheduled')) return null;
  const settled = Math.floor(settledUntil.getTime() / 1000);
  let due = Infinity;
  // A run holds every stint in it, and pieces of a stint end where its run's do (at cut points
  // and at the stint's end), so the runs alone say when something next becomes final.
  for (const run of runsOf(stintsOf(events))) {
    const from = Math.max(run.start, settled);
    if (run.end === undefined) due = Math.min(due, nextCut(from, intervalSeconds));
    else if (run.end > from) due = Math.min(due, nextCut(from, intervalSeconds), run.end);
  }
  return due === Infinity ? null : new Date(due * 1000);
}

/**
 * The closed usage intervals a session's stream gives, up to `settledUntil`: every
 * participant's connected time and the meeting's occupied time. Deterministic: the same
 * events and the same `settledUntil` or later give a superset with identical members.
 */
export function meterSession(
  events: readonly StoredSessionEvent[],
  settledUntil: Date,
  options: MeterOptions = {},
): UsageInterval[] {
  const intervalSeconds = intervalSecondsOf(options);
  const scheduled = events.find((e) => e.type === 'session.scheduled');
  if (!scheduled || scheduled.type !== 'session.scheduled') return [];
  const { sessionId, orgId, hostUserId } = scheduled.data;
  const settled = Math.floor(settledUntil.getTime() / 1000);
  const stints = stintsOf(events);
  const intervals: UsageInterval[] = [];

  const order = new Map(events.map((e, i) => [e.id, i]));
  const sourcesWithin = (members: readonly Stint[], from: number, to: number, endsAtEnd: boolean) => {
    const ids = new Set<string>();
    for (const stint of members) {
      ids.add(stint.joinId);
      for (const e of stint.events) if (e.at >= from && (e.at < to || (endsAtEnd && e.at === to))) ids.add(e.id);
    }
    return [...ids].sort((a, b) => (order.get(a) ?? 0) - (order.get(b) ?? 0));
  };

  for (const stint of stints) {
    cut(stint.start, stint.end, true, settled, intervalSeconds, (from, to, endsAtEnd) => {
      intervals.push({
        key: `${sessionId}/${stint.participantId}/${stint.joinId}/${isoOf(from)}`,
        meter: 'participant_minutes',
        orgId,
        sessionId,
        hostUserId,
        participantId: stint.participantId,
        stint: stint.joinId,
        period: usagePeriodOf(new Date(from * 1000)),
        from: isoOf(from),
        to: isoOf(to),
        seconds: to - from,
        sources: sourcesWithin([stint], from, to, endsAtEnd),
      });
    });
  }
  for (const run of runsOf(stints)) {
    // A run's end can still move while a later join may overlap it, so only the settled part counts.
    cut(run.start, run.end, false, settled, intervalSeconds, (from, to, endsAtEnd) => {
      intervals.push({
        key: `${sessionId}/meeting/${run.opener.joinId}/${isoOf(from)}`,
        meter: 'meeting_minutes',
        orgId,
        sessionId,
        hostUserId,
        participantId: null,
        stint: run.opener.joinId,
        period: usagePeriodOf(new Date(from * 1000)),
        from: isoOf(from),
        to: isoOf(to),
        seconds: to - from,
        sources: sourcesWithin(
          run.members.filter((s) => s.start < to && (s.end === undefined || s.end > from)),
          from,
          to,
          endsAtEnd,
        ),
      });
    });
  }
  return intervals;
}
