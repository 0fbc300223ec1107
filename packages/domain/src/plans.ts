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
