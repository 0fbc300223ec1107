import { z } from 'zod';

/** Plans in ascending order of capability. */
export const PLANS = ['free', 'pro', 'business', 'enterprise'] as const;

/** A plan name. */
export const PlanSchema = z.enum(PLANS);
/** A plan name. */
export type Plan = z.infer<typeof PlanSchema>;

/** What a plan allows. `null` means unlimited. */
export interface Entitlements {
  /** Most seats an organization on this plan may hold (purchased, not assigned). */
  readonly maxSeats: number;
  /** Most participants in one meeting at once. */
  readonly maxParticipantsPerMeeting: number;
  /** Meeting minutes included per calendar month (UTC); `null` is unlimited. */
  readonly meetingMinutesPerMonth: number | null;
  /** Whether meetings may be recorded. */
  readonly recording: boolean;
  /** Whether API keys may be created and used. */
  readonly apiAccess: boolean;
}

/** The single entitlement table; everything that enforces a limit reads it from here. */
export const ENTITLEMENTS: Readonly<Record<Plan, Entitlements>> = {
  free: { maxSeats: 3, maxParticipantsPerMeeting: 4, meetingMinutesPerMonth: 600, recording: false, apiAccess: false },
  pro: {
    maxSeats: 25,
    maxParticipantsPerMeeting: 50,
    meetingMinutesPerMonth: 10_000,
    recording: true,
    apiAccess: true,
  },
  business: {
    maxSeats: 250,
    maxParticipantsPerMeeting: 150,
    meetingMinutesPerMonth: 100_000,
    recording: true,
    apiAccess: true,
  },
  enterprise: {
    maxSeats: 10_000,
    maxParticipantsPerMeeting: 500,
    meetingMinutesPerMonth: null,
    recording: true,
    apiAccess: true,
  },
};

/** Entitlements of `plan`. */
export function entitlementsFor(plan: Plan): Entitlements {
  return ENTITLEMENTS[plan];
}

/** Currency of every price; amounts are integers in its minor unit (cents). */
export type Currency = 'usd';

/** What a plan costs, in integer minor units of `currency`. */
export interface PlanPrices {
  readonly currency: Currency;
  /** Price of one purchased seat for a calendar month. */
  readonly seatMonthly: number;
  /**
   * Price of each meeting minute beyond {@link Entitlements.meetingMinutesPerMonth} in a month.
   * `null`: never billed. With limited included minutes (the free plan) that means meetings
   * stop at the included minutes instead ({@link cutOffAtIncludedMinutes}); with unlimited
   * ones (enterprise) there is nothing beyond them.
   */
  readonly overagePerMinute: number | null;
}

/** The single price table; billing and the plan page read prices from here. */
export const PRICES: Readonly<Record<Plan, PlanPrices>> = {
  free: { currency: 'usd', seatMonthly: 0, overagePerMinute: null },
  pro: { currency: 'usd', seatMonthly: 1200, overagePerMinute: 2 },
  business: { currency: 'usd', seatMonthly: 2400, overagePerMinute: 1 },
  enterprise: { currency: 'usd', seatMonthly: 4500, overagePerMinute: null },
};

/** Prices of `plan`. */
export function pricesFor(plan: Plan): PlanPrices {
  return PRICES[plan];
}

/**
 * Whether an organization on `plan` may not start or join meetings once it has used the
 * meeting minutes its plan includes this month: its minutes are limited and never billed
 * beyond (the free plan). Paid plans are billed {@link PlanPrices.overagePerMinute} instead and
 * never cut off; enterprise minutes are unlimited.
 */
export function cutOffAtIncludedMinutes(plan: Plan): boolean {
  return ENTITLEMENTS[plan].meetingMinutesPerMonth !== null && PRICES[plan].overagePerMinute === null;
}

/** A month's `meeting_minutes` priced against a plan; amounts in minor units of `currency`. */
export interface MeetingMinutesOverage {
  readonly currency: Currency;
  /** The month's metered seconds rounded up to the whole minute, once, on the total. */
  readonly billableMinutes: number;
  /** Minutes the plan includes; `null` is unlimited. */
  readonly includedMinutes: number | null;
  /** Billable minutes beyond the included ones (0 when unlimited). */
  readonly overageMinutes: number;
  /** Price of one overage minute; `null` when the plan never bills overage. */
  readonly overagePerMinute: number | null;
  /** `overageMinutes × overagePerMinute`; 0 when the plan never bills overage. */
  readonly amount: number;
}

/**
 * The overage of a month in which an organization on `plan` used `meetingSeconds` of
 * `meeting_minutes` (the sum of its `usage.recorded` seconds of that meter and month): the
 * total rounded up to the whole minute, minus the included minutes, times the plan's price.
 * Minutes a free organization ran past its limit (a meeting already under way is not cut off)
 * are counted but never billed.
 */
export function meetingMinutesOverage(plan: Plan, meetingSeconds: number): MeetingMinutesOverage {
  if (!Number.isSafeInteger(meetingSeconds) || meetingSeconds < 0) {
    throw new RangeError(`meetingSeconds must be a whole number of seconds ≥ 0, got ${meetingSeconds}`);
  }
  const { currency, overagePerMinute } = PRICES[plan];
  const includedMinutes = ENTITLEMENTS[plan].meetingMinutesPerMonth;
  const billableMinutes = Math.ceil(meetingSeconds / 60);
  const overageMinutes = includedMinutes === null ? 0 : Math.max(0, billableMinutes - includedMinutes);
  return {
    currency,
    billableMinutes,
    includedMinutes,
    overageMinutes,
    overagePerMinute,
    amount: overagePerMinute === null ? 0 : overageMinutes * overagePerMinute,
  };
}

/** Length of the trial every new organization starts with. */
export const TRIAL_DAYS = 14;
/** {@link TRIAL_DAYS} in milliseconds. */
export const TRIAL_MS = TRIAL_DAYS * 24 * 60 * 60 * 1000;

/** Negative if `a` is a lesser plan than `b`, 0 if equal, positive if greater. */
export function comparePlans(a: Plan, b: Plan): number {
  return PLANS.indexOf(a) - PLANS.indexOf(b);
}

/**
 * Status of a new organization: paid plans start a 14-day trial; the free plan has nothing
 * to try out and starts active (so it never lapses into `past_due`).
 */
export function initialStatusFor(plan: Plan): 'trialing' | 'active' {
  return plan === 'free' ? 'active' : 'trialing';
}
