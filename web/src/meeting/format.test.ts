import { describe, expect, it } from 'vitest';
import { formatDuration, meetingDuration, whoIsHere } from './format';

describe('formatDuration', () => {
  it('uses seconds, then minutes, then hours and minutes', () => {
    expect([0, 45.4, 60, 719, 3600, 3900, 36_000].map(formatDuration)).toEqual([
      '0 s',
      '45 s',
      '1 min',
      '11 min',
      '1 h 00 min',
      '1 h 05 min',
      '10 h 00 min',
    ]);
  });
});

describe('meetingDuration', () => {
  const now = Date.parse('2026-01-01T10:10:00Z');
  it('is the recorded duration of a past meeting, the time so far of a live one, nothing before it starts', () => {
    expect(meetingDuration({ status: 'ended', startedAt: '2026-01-01T09:00:00Z', durationSeconds: 1200 }, now)).toBe(
      1200,
    );
    expect(meetingDuration({ status: 'live', startedAt: '2026-01-01T10:00:00Z', durationSeconds: null }, now)).toBe(
      600,
    );
    expect(meetingDuration({ status: 'scheduled', startedAt: null, durationSeconds: null }, now)).toBeNull();
  });
});

describe('whoIsHere', () => {
  it('names the others briefly', () => {
    expect(whoIsHere([])).toBe('Only you');
    expect(whoIsHere(['Ada'])).toBe('You and Ada');
    expect(whoIsHere(['Ada', 'Bob'])).toBe('You, Ada and Bob');
    expect(whoIsHere(['Ada', 'Bob', 'Cleo'])).toBe('You, Ada and 2 others');
  });
});
