import { describe, expect, it } from 'vitest';
import {
  PLANS,
  PRICES,
  PlanSchema,
  TRIAL_DAYS,
  comparePlans,
  cutOffAtIncludedMinutes,
  entitlementsFor,
  meetingMinutesOverage,
} from './plans';

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

describe('prices', () => {
  it('are whole minor units of one currency, free costing nothing', () => {
    for (const plan of PLANS) {
      const { currency, seatMonthly, overagePerMinute } = PRICES[plan];
      expect(currency).toBe('usd');
      expect(Number.isInteger(seatMonthly) && seatMonthly >= 0).toBe(true);
      if (overagePerMinute !== null) expect(Number.isInteger(overagePerMinute) && overagePerMinute > 0).toBe(true);
    }
    expect(PRICES.free).toEqual({ currency: 'usd', seatMonthly: 0, overagePerMinute: null });
    expect(PRICES.pro).toEqual({ currency: 'usd', seatMonthly: 1200, overagePerMinute: 2 });
  });

  it('cut off only the free plan at its included minutes', () => {
    expect(PLANS.filter(cutOffAtIncludedMinutes)).toEqual(['free']);
    // Every other plan with limited minutes must bill beyond them, or it would be cut off too.
    for (const plan of PLANS.filter((p) => entitlementsFor(p).meetingMinutesPerMonth !== null && p !== 'free')) {
      expect(PRICES[plan].overagePerMinute).not.toBeNull();
    }
  });
});

describe('meetingMinutesOverage', () => {
  const PRO_INCLUDED_SECONDS = 10_000 * 60;

  it('is nothing within the included minutes', () => {
    expect(meetingMinutesOverage('pro', 0)).toEqual({
      currency: 'usd',
      billableMinutes: 0,
      includedMinutes: 10_000,
      overageMinutes: 0,
      overagePerMinute: 2,
      amount: 0,
    });
    expect(meetingMinutesOverage('pro', PRO_INCLUDED_SECONDS).amount).toBe(0);
  });

  it('rounds the total up to the minute once, then bills the minutes beyond the included', () => {
    // One second past the included minutes is a whole billable minute.
    expect(meetingMinutesOverage('pro', PRO_INCLUDED_SECONDS + 1)).toMatchObject({
      billableMinutes: 10_001,
      overageMinutes: 1,
      amount: 2,
    });
    // 90 minutes and 1 second beyond: 91 minutes at 2 cents.
    expect(meetingMinutesOverage('pro', PRO_INCLUDED_SECONDS + 90 * 60 + 1)).toMatchObject({
      overageMinutes: 91,
      amount: 182,
    });
    expect(meetingMinutesOverage('business', 100_000 * 60 + 600)).toMatchObject({ overageMinutes: 10, amount: 10 });
  });

  it('counts but never bills minutes a free organization ran past its limit', () => {
    expect(meetingMinutesOverage('free', 650 * 60)).toEqual({
      currency: 'usd',
      billableMinutes: 650,
      includedMinutes: 600,
      overageMinutes: 50,
      overagePerMinute: null,
      amount: 0,
    });
  });

  it('has no overage on unlimited minutes', () => {
    expect(meetingMinutesOverage('enterprise', 10_000_000 * 60)).toMatchObject({
      includedMinutes: null,
      overageMinutes: 0,
      amount: 0,
    });
  });

  it('refuses a negative or fractional number of seconds', () => {
    expect(() => meetingMinutesOverage('pro', -1)).toThrow(RangeError);
    expect(() => meetingMinutesOverage('pro', 1.5)).toThrow(RangeError);
  });
});
