/**
 * What the Usage & billing page shows, computed from `usage.summary`'s answers: the months one
 * may pick, the daily series of the chart, the threshold reached and the overage on the plan.
 * Pure, so it is tested without a browser.
 */
import { ENTITLEMENTS, meetingMinutesOverage, usagePeriodOf, type Plan } from '@quorum/domain';
import type { RouterOutputs } from '../../trpc';

export type UsageSummary = RouterOutputs['usage']['summary'];
export type UsageRow = UsageSummary['rows'][number];
export type UsageTotal = UsageSummary['totals'][number];
export type UsageThreshold = UsageSummary['thresholds'][number];
export type Meter = UsageTotal['meter'];

/** Meters in the order the page lists them: the billed one first. */
export const METERS: readonly Meter[] = ['meeting_minutes', 'participant_minutes'];

export const METER_LABELS: Record<Meter, string> = {
  meeting_minutes: 'Meeting minutes',
  participant_minutes: 'Participant minutes',
};

const PERIOD = /^(\d{4})(0[1-9]|1[0-2])$/;

/** Whether `period` is a `yyyymm` month. */
export function isPeriod(period: string): boolean {
  return PERIOD.test(period);
}

/** The month before `period`. */
function previousPeriod(period: string): string {
  const [, y, m] = PERIOD.exec(period)!;
  const month = Number(m);
  return month === 1 ? `${Number(y) - 1}12` : `${y}${String(month - 1).padStart(2, '0')}`;
}

/** The current UTC month and the `count - 1` before it, newest first: never a future month. */
export function recentPeriods(now: Date, count = 12): string[] {
  const out = [usagePeriodOf(now)];
  while (out.length < count) out.push(previousPeriod(out.at(-1)!));
  return out;
}

/** `202612` → `December 2026`. */
export function periodLabel(period: string): string {
  const [, y, m] = PERIOD.exec(period) ?? [];
  if (!y || !m) return period;
  return new Date(Date.UTC(Number(y), Number(m) - 1, 1)).toLocaleString('en-US', {
    month: 'long',
    year: 'numeric',
    timeZone: 'UTC',
  });
}

/** Every UTC day of `period`, `yyyy-mm-dd`. */
export function daysOfPeriod(period: string): string[] {
  const [, y, m] = PERIOD.exec(period) ?? [];
  if (!y || !m) return [];
  const count = new Date(Date.UTC(Number(y), Number(m), 0)).getUTCDate();
  return Array.from({ length: count }, (_, i) => `${y}-${m}-${String(i + 1).padStart(2, '0')}`);
}

export interface DailySeries {
  days: string[];
  /** Midnight UTC of each day, in seconds (the chart's x axis). */
  x: number[];
  /** Metered minutes of each day, unrounded (seconds / 60): the chart draws what was measured. */
  minutes: Record<Meter, number[]>;
}

/** The month's `groupBy: 'day'` rows as one value per day and meter, zero where nothing ran. */
export function dailySeries(period: string, rows: readonly UsageRow[]): DailySeries {
  const days = daysOfPeriod(period);
  const index = new Map(days.map((d, i) => [d, i]));
  const minutes: Record<Meter, number[]> = {
    meeting_minutes: days.map(() => 0),
    participant_minutes: days.map(() => 0),
  };
  for (const row of rows) {
    const i = index.get(row.key);
    if (i === undefined) continue;
    minutes[row.meter][i] = (minutes[row.meter][i] ?? 0) + row.seconds / 60;
  }
  return { days, x: days.map((d) => Date.parse(`${d}T00:00:00Z`) / 1000), minutes };
}

export interface DayUsage {
  day: string;
  meeting: UsageRow | undefined;
  participant: UsageRow | undefined;
}

/** The days that have usage, oldest first, with each meter's row: the chart as a table. */
export function daysWithUsage(rows: readonly UsageRow[]): DayUsage[] {
  const byDay = new Map<string, DayUsage>();
  for (const row of rows) {
    const entry = byDay.get(row.key) ?? { day: row.key, meeting: undefined, participant: undefined };
    if (row.meter === 'meeting_minutes') entry.meeting = row;
    else entry.participant = row;
    byDay.set(row.key, entry);
  }
  return [...byDay.values()].sort((a, b) => (a.day < b.day ? -1 : a.day > b.day ? 1 : 0));
}

export interface KeyUsage {
  key: string;
  meetingMinutes: number;
  participantMinutes: number;
  seconds: Record<Meter, number>;
  records: number;
}

/** `groupBy: 'meeting'` or `'host'` rows as one line per key, most meeting time first. */
export function usageByKey(rows: readonly UsageRow[]): KeyUsage[] {
  const byKey = new Map<string, KeyUsage>();
  for (const row of rows) {
    const entry = byKey.get(row.key) ?? {
      key: row.key,
      meetingMinutes: 0,
      participantMinutes: 0,
      seconds: { meeting_minutes: 0, participant_minutes: 0 },
      records: 0,
    };
    entry.seconds[row.meter] += row.seconds;
    if (row.meter === 'meeting_minutes') entry.meetingMinutes = row.minutes;
    else entry.participantMinutes = row.minutes;
    entry.records += row.records;
    byKey.set(row.key, entry);
  }
  return [...byKey.values()].sort(
    (a, b) => b.seconds.meeting_minutes - a.seconds.meeting_minutes || (a.key < b.key ? -1 : 1),
  );
}

export type ThresholdState = { reached: 0 } | { reached: 80 | 100; crossedAt: string; eventId: string };

/** The highest threshold of `meter`'s included minutes crossed this month. */
export function thresholdState(thresholds: readonly UsageThreshold[], meter: Meter): ThresholdState {
  let best: ThresholdState = { reached: 0 };
  for (const t of thresholds) {
    const reached = t.threshold;
    if (t.meter !== meter || (reached !== 80 && reached !== 100)) continue;
    if (reached > best.reached) best = { reached, crossedAt: t.crossedAt, eventId: t.eventId };
  }
  return best;
}

/** The threshold state in words. */
export function thresholdText(state: ThresholdState): string {
  if (state.reached === 100) return 'All included minutes used';
  if (state.reached === 80) return '80% of included minutes used';
  return 'Under 80% of included minutes';
}

/** Included minutes of `meter` on `plan`: `null` unlimited, `undefined` when the meter is not limited. */
export function includedMinutes(plan: Plan, meter: Meter): number | null | undefined {
  return meter === 'meeting_minutes' ? ENTITLEMENTS[plan].meetingMinutesPerMonth : undefined;
}

/**
 * The month's `meeting_minutes` priced on `plan` (rounded once, on the total), or `null` when
 * the plan never bills minutes beyond the included ones (free: meetings stop; enterprise:
 * unlimited).
 */
export function overageOf(plan: Plan, totals: readonly UsageTotal[]) {
  const seconds = totals.find((t) => t.meter === 'meeting_minutes')?.seconds ?? 0;
  const overage = meetingMinutesOverage(plan, seconds);
  return overage.overagePerMinute === null ? null : overage;
}

/** A number of whole minutes with its unit: `1 minute`, `1,250 minutes`. */
export function minutesText(minutes: number): string {
  return `${minutes.toLocaleString('en-US')} minute${minutes === 1 ? '' : 's'}`;
}

/** `[from, to)` of a usage event as UTC times of day: `14:05:00–14:10:00 UTC`. */
export function intervalText(from: string, to: string): string {
  const time = (iso: string) => iso.slice(11, 19);
  return `${from.slice(0, 10)} ${time(from)}–${time(to)} UTC`;
}

/** What a drill-down lists: the usage events of one day, one meeting or one host. */
export type UsageFilter = { day: string } | { sessionId: string } | { hostUserId: string };

/** The drill-down named in the page's address (`?day=`, `?meeting=`, `?host=`), if any. */
export function filterFromSearch(search: URLSearchParams): UsageFilter | undefined {
  const day = search.get('day');
  if (day) return { day };
  const meeting = search.get('meeting');
  if (meeting) return { sessionId: meeting };
  const host = search.get('host');
  if (host) return { hostUserId: host };
  return undefined;
}

/** The page's address for `period` and a drill-down. */
export function usagePath(orgId: string, period: string, filter?: UsageFilter): string {
  const q = new URLSearchParams({ period });
  if (filter && 'day' in filter) q.set('day', filter.day);
  if (filter && 'sessionId' in filter) q.set('meeting', filter.sessionId);
  if (filter && 'hostUserId' in filter) q.set('host', filter.hostUserId);
  return `/orgs/${orgId}/usage?${q.toString()}`;
}

/** The CSV export of a month: a plain GET the browser's session cookie authenticates. */
export function exportCsvPath(orgId: string, period: string): string {
  return `/usage/export.csv?${new URLSearchParams({ orgId, period }).toString()}`;
}
