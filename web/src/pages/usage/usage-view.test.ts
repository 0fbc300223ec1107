import { describe, expect, it } from 'vitest';
import {
  dailySeries,
  daysOfPeriod,
  daysWithUsage,
  exportCsvPath,
  filterFromSearch,
  intervalText,
  overageOf,
  periodLabel,
  recentPeriods,
  thresholdState,
  thresholdText,
  usageByKey,
  usagePath,
  type UsageRow,
  type UsageThreshold,
} from './usage-view';

const row = (key: string, meter: UsageRow['meter'], seconds: number, records = 1): UsageRow => ({
  key,
  meter,
  seconds,
  minutes: Math.ceil(seconds / 60),
  records,
});

describe('usage periods', () => {
  it('offers this month and the ones before it, across a year, never a future one', () => {
    expect(recentPeriods(new Date('2026-02-28T23:59:59Z'), 4)).toEqual(['202602', '202601', '202512', '202511']);
    expect(recentPeriods(new Date('2026-12-01T00:00:00Z'))).toHaveLength(12);
    expect(recentPeriods(new Date('2026-12-01T00:00:00Z'))[0]).toBe('202612');
  });

  it('names months and lists their UTC days', () => {
    expect(periodLabel('202612')).toBe('December 2026');
    expect(daysOfPeriod('202402')).toHaveLength(29);
    expect(daysOfPeriod('202502').at(-1)).toBe('2025-02-28');
    expect(daysOfPeriod('202613')).toEqual([]);
  });
});

describe('the daily series', () => {
  it('has a value per day and meter, unrounded, zero where nothing ran', () => {
    const s = dailySeries('202612', [
      row('2026-12-03', 'meeting_minutes', 90),
      row('2026-12-03', 'participant_minutes', 270),
      row('2026-12-31', 'meeting_minutes', 30),
    ]);
    expect(s.days).toHaveLength(31);
    expect(s.x[0]).toBe(Date.parse('2026-12-01T00:00:00Z') / 1000);
    expect(s.minutes.meeting_minutes[2]).toBe(1.5);
    expect(s.minutes.participant_minutes[2]).toBe(4.5);
    expect(s.minutes.meeting_minutes[30]).toBe(0.5);
    expect(s.minutes.meeting_minutes.reduce((a, b) => a + b, 0)).toBe(2);
  });

  it('lists the days with usage as a table, oldest first', () => {
    const days = daysWithUsage([
      row('2026-12-09', 'participant_minutes', 61),
      row('2026-12-03', 'meeting_minutes', 90),
      row('2026-12-09', 'meeting_minutes', 30),
    ]);
    expect(days.map((d) => [d.day, d.meeting?.minutes, d.participant?.minutes])).toEqual([
      ['2026-12-03', 2, undefined],
      ['2026-12-09', 1, 2],
    ]);
  });
});

describe('usage by meeting or host', () => {
  it('puts both meters of a key on one line, most meeting time first', () => {
    const rows = usageByKey([
      row('s1', 'meeting_minutes', 60, 2),
      row('s2', 'meeting_minutes', 600, 3),
      row('s2', 'participant_minutes', 1_500, 9),
      row('s1', 'participant_minutes', 61, 4),
    ]);
    expect(rows.map((r) => [r.key, r.meetingMinutes, r.participantMinutes, r.records])).toEqual([
      ['s2', 10, 25, 12],
      ['s1', 1, 2, 6],
    ]);
  });
});

describe('thresholds and overage', () => {
  const crossing = (threshold: 80 | 100): UsageThreshold => ({
    meter: 'meeting_minutes',
    threshold,
    includedMinutes: 10_000,
    usedSeconds: threshold * 6_000,
    crossedAt: `2026-12-0${threshold === 80 ? 2 : 5}T10:00:00.000Z`,
    eventId: `e${threshold}`,
  });

  it('says the highest threshold crossed', () => {
    expect(thresholdState([], 'meeting_minutes')).toEqual({ reached: 0 });
    expect(thresholdText(thresholdState([], 'meeting_minutes'))).toBe('Under 80% of included minutes');
    const both = thresholdState([crossing(100), crossing(80)], 'meeting_minutes');
    expect(both).toMatchObject({ reached: 100, eventId: 'e100' });
    expect(thresholdText(both)).toBe('All included minutes used');
    expect(thresholdText(thresholdState([crossing(80)], 'meeting_minutes'))).toBe('80% of included minutes used');
  });

  it('prices the meeting minutes beyond the included ones on paid plans, rounded once on the total', () => {
    const totals = [
      { meter: 'meeting_minutes' as const, seconds: 10_002 * 60 + 1, minutes: 10_003, records: 9 },
      { meter: 'participant_minutes' as const, seconds: 999_999, minutes: 16_667, records: 9 },
    ];
    expect(overageOf('pro', totals)).toMatchObject({ billableMinutes: 10_003, overageMinutes: 3, amount: 6 });
    expect(overageOf('business', totals)).toMatchObject({ overageMinutes: 0, amount: 0 });
    expect(overageOf('free', totals)).toBeNull();
    expect(overageOf('enterprise', totals)).toBeNull();
  });
});

describe('addresses', () => {
  it('round-trips a drill-down through the address', () => {
    for (const filter of [{ day: '2026-12-03' }, { sessionId: 's1' }, { hostUserId: 'u1' }]) {
      const path = usagePath('o1', '202612', filter);
      const search = new URL(path, 'http://x').searchParams;
      expect(search.get('period')).toBe('202612');
      expect(filterFromSearch(search)).toEqual(filter);
    }
    expect(filterFromSearch(new URLSearchParams('period=202612'))).toBeUndefined();
    expect(exportCsvPath('o 1', '202612')).toBe('/usage/export.csv?orgId=o+1&period=202612');
  });

  it('shows an interval in UTC', () => {
    expect(intervalText('2026-12-03T14:05:00.000Z', '2026-12-03T14:10:00.000Z')).toBe(
      '2026-12-03 14:05:00–14:10:00 UTC',
    );
  });
});
