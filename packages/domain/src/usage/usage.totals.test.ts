import { describe, expect, it } from 'vitest';
import type { UsageEvent } from './usage.events';
import { meteredSeconds } from './usage.totals';

const SESSION = '00000000-0000-4000-8000-000000000051';
const HOST = '00000000-0000-4000-8000-000000000001';
const STINT = '00000000-0000-4000-8000-0000000000f1';

const recorded = (meter: 'meeting_minutes' | 'participant_minutes', seconds: number): UsageEvent => ({
  type: 'usage.recorded',
  data: {
    meter,
    sessionId: SESSION,
    hostUserId: HOST,
    participantId: meter === 'meeting_minutes' ? null : HOST,
    stint: STINT,
    period: '202501',
    from: '2025-01-01T10:00:00.000Z',
    to: new Date(Date.parse('2025-01-01T10:00:00.000Z') + seconds * 1000).toISOString(),
    seconds,
    sources: [STINT],
  },
});

describe('meteredSeconds', () => {
  const events: UsageEvent[] = [
    recorded('meeting_minutes', 300),
    recorded('participant_minutes', 300),
    recorded('participant_minutes', 300),
    {
      type: 'usage.threshold_crossed',
      data: {
        period: '202501',
        meter: 'meeting_minutes',
        threshold: 80,
        includedMinutes: 600,
        usedSeconds: 28_800,
        at: '2025-01-20T12:00:00.000Z',
      },
    },
    recorded('meeting_minutes', 17),
  ];

  it('sums the seconds of one meter, ignoring the other meter and thresholds', () => {
    expect(meteredSeconds(events, 'meeting_minutes')).toBe(317);
    expect(meteredSeconds(events, 'participant_minutes')).toBe(600);
    expect(meteredSeconds([], 'meeting_minutes')).toBe(0);
  });

  it('adds the events after a known total to it', () => {
    expect(
      meteredSeconds(events.slice(3), 'meeting_minutes', meteredSeconds(events.slice(0, 3), 'meeting_minutes')),
    ).toBe(317);
  });
});
