import { describe, expect, it } from 'vitest';
import { PLANS, PlanSchema, TRIAL_DAYS, comparePlans, entitlementsFor } from './plans';

describe('plans', () => {
  it('grow monotonically in seats and participants', () => {
    for (let i = 1; i < PLANS.length; i++) {
      const lower = entitlementsFor(PLANS[i - 1] ?? 'free');
      const higher = entitlementsFor(PLANS[i] ?? 'free');
      expect(higher.maxSeats).toBeGreaterThan(lower.maxSeats);
      expect(higher.maxParticipantsPerMeeting).toBeGreaterThan(lower.maxParticipantsPerMeeting);
      expect(comparePlans(PLANS[i] ?? 'free', PLANS[i - 1] ?? 'free')).toBeGreaterThan(0);
    }
  });

  it('match the published table', () => {
    expect(entitlementsFor('free')).toEqual({
      maxSeats: 3,
      maxParticipantsPerMeeting: 4,
      meetingMinutesPerMonth: 600,
      recording: false,
      apiAccess: false,
    });
    expect(entitlementsFor('pro').maxSeats).toBe(25);
    expect(entitlementsFor('enterprise').meetingMinutesPerMonth).toBeNull();
    expect(TRIAL_DAYS).toBe(14);
    expect(PlanSchema.safeParse('gold').success).toBe(false);
  });
});
