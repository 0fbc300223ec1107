import { describe, expect, it } from 'vitest';
import type { StoredSessionEvent, UsageInterval } from './usage.meter';
import { meterSession } from './usage.meter';

const ORG = '00000000-0000-4000-8000-00000000000a';
const SESSION = '00000000-0000-4000-8000-000000000051';
const HOST = '00000000-0000-4000-8000-000000000001';
const BOB = '00000000-0000-4000-8000-000000000002';
// 10:00:00 UTC on the last day of January: the month ends 14 hours later.
const T0 = Date.parse('2025-01-31T10:00:00.000Z');
const iso = (seconds: number) => new Date(T0 + seconds * 1000).toISOString();
const at = (seconds: number) => new Date(T0 + seconds * 1000);

let seq = 0;
const id = () => `00000000-0000-4000-8000-${String(++seq).padStart(12, '0')}`;
const scheduled = (): StoredSessionEvent => ({
  id: id(),
  type: 'session.scheduled',
  data: { sessionId: SESSION, orgId: ORG, title: 'Standup', hostUserId: HOST, scheduledFor: null },
});
const joined = (participantId: string, seconds: number): StoredSessionEvent => ({
  id: id(),
  type: 'participant.joined',
  data: { participantId, displayName: 'x', isHost: participantId === HOST, at: iso(seconds) },
});
const left = (participantId: string, seconds: number): StoredSessionEvent => ({
  id: id(),
  type: 'participant.left',
  data: { participantId, reason: 'left', at: iso(seconds) },
});
const ended = (seconds: number): StoredSessionEvent => ({
  id: id(),
  type: 'session.ended',
  data: { reason: 'ended_by_host', by: HOST, at: iso(seconds) },
});

const spans = (intervals: UsageInterval[], meter: UsageInterval['meter'], participantId: string | null = null) =>
  intervals
    .filter((i) => i.meter === meter && i.participantId === participantId)
    .map((i) => [i.from.slice(11, 19), i.to.slice(11, 19), i.seconds]);

describe('meterSession', () => {
  it('cuts a stint at every five-minute mark and at the leave, truncating instants to the second', () => {
    const events = [scheduled(), joined(HOST, 130.7), left(HOST, 790.2)];
    const intervals = meterSession(events, at(10_000));
    expect(spans(intervals, 'participant_minutes', HOST)).toEqual([
      ['10:02:10', '10:05:00', 170],
      ['10:05:00', '10:10:00', 300],
      ['10:10:00', '10:13:10', 190],
    ]);
    expect(spans(intervals, 'meeting_minutes')).toEqual(spans(intervals, 'participant_minutes', HOST));
    const last = intervals.find((i) => i.meter === 'participant_minutes' && i.to.endsWith('10:13:10.000Z'))!;
    expect(last.sources).toEqual([events[1]!.id, events[2]!.id]);
    expect(last.key).toBe(`${SESSION}/${HOST}/${events[1]!.id}/${iso(600)}`);
  });

  it('shows a running meeting one settled interval at a time', () => {
    const events = [scheduled(), joined(HOST, 0)];
    expect(meterSession(events, at(299))).toEqual([]);
    expect(spans(meterSession(events, at(300)), 'participant_minutes', HOST)).toEqual([['10:00:00', '10:05:00', 300]]);
    expect(spans(meterSession(events, at(901)), 'meeting_minutes')).toHaveLength(3);
  });

  it("writes a closed stint's intervals at once, but the meeting's only as they settle", () => {
    const events = [scheduled(), joined(HOST, 0), left(HOST, 700)];
    const intervals = meterSession(events, at(310));
    expect(spans(intervals, 'participant_minutes', HOST)).toHaveLength(3);
    expect(spans(intervals, 'meeting_minutes')).toEqual([['10:00:00', '10:05:00', 300]]);
  });

  it('counts the meeting once while two people overlap, and a gap as a new run', () => {
    const events = [
      scheduled(),
      joined(HOST, 0),
      joined(BOB, 60),
      left(HOST, 120),
      left(BOB, 180),
      joined(BOB, 200),
      ended(260),
    ];
    const intervals = meterSession(events, at(10_000));
    expect(spans(intervals, 'meeting_minutes')).toEqual([
      ['10:00:00', '10:03:00', 180],
      ['10:03:20', '10:04:20', 60],
    ]);
    expect(spans(intervals, 'participant_minutes', BOB)).toEqual([
      ['10:01:00', '10:03:00', 120],
      ['10:03:20', '10:04:20', 60],
    ]);
    const runs = new Set(intervals.filter((i) => i.meter === 'meeting_minutes').map((i) => i.stint));
    expect(runs).toEqual(new Set([events[1]!.id, events[5]!.id]));
  });

  it('splits a stint across the month end into both months', () => {
    // 23:58 on January 31st until 00:03 on February 1st.
    const start = 14 * 3600 - 120;
    const intervals = meterSession([scheduled(), joined(HOST, start), left(HOST, start + 300)], at(start + 10_000));
    const mine = intervals.filter((i) => i.meter === 'participant_minutes');
    expect(mine.map((i) => [i.period, i.seconds])).toEqual([
      ['202501', 120],
      ['202502', 180],
    ]);
  });

  it('never counts a leave backdated before its join, nor a leave of someone absent', () => {
    const events = [scheduled(), joined(HOST, 100), left(HOST, 50), left(BOB, 400)];
    expect(meterSession(events, at(10_000))).toEqual([]);
  });

  it('refuses cut points that do not divide a day', () => {
    expect(() => meterSession([scheduled()], at(0), { intervalSeconds: 7 * 60 })).toThrow(/divides a day/);
    expect(() => meterSession([scheduled()], at(0), { intervalSeconds: 0 })).toThrow(/divides a day/);
  });
});
