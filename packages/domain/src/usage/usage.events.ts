/**
 * Events of metered usage (stream `usage-<orgId>-<yyyymm>`, one per organization and UTC
 * month). The metering consumer derives them from session streams (`meterSession`), under ids
 * derived from their source, so a replay or a second instance appends nothing new.
 */
import { z } from 'zod';
import { IdSchema, IsoDateTimeSchema } from '../schemas';

/** A usage period: a UTC calendar month as `yyyymm`. */
export const UsagePeriodSchema = z
  .string()
  .regex(/^\d{4}(0[1-9]|1[0-2])$/, 'must be a month as yyyymm, such as 202501');
/** A meter. */
export const UsageMeterSchema = z.enum(['participant_minutes', 'meeting_minutes']);

/**
 * `usage.recorded` v1: one closed interval of metered time, `[from, to)` in whole seconds,
 * never across a cut point (every 5 minutes of UTC, a month's start) or a stint's end.
 * `participantId` is null for `meeting_minutes`. `stint` is the id of the `participant.joined`
 * event that opened the stint (for `meeting_minutes`, the run of occupancy); `sources` the
 * session events the interval came from, in stream order.
 */
export const UsageRecordedDataSchema = z.object({
  meter: UsageMeterSchema,
  sessionId: IdSchema,
  hostUserId: IdSchema,
  participantId: IdSchema.nullable(),
  stint: IdSchema,
  period: UsagePeriodSchema,
  from: IsoDateTimeSchema,
  to: IsoDateTimeSchema,
  seconds: z.number().int().positive(),
  sources: z.array(IdSchema).min(1),
});

/**
 * `usage.threshold_crossed` v1: the organization's `meeting_minutes` in `period` reached
 * `threshold` percent of the minutes its plan includes. One per organization, period and
 * threshold.
 */
export const UsageThresholdCrossedDataSchema = z.object({
  period: UsagePeriodSchema,
  meter: z.literal('meeting_minutes'),
  threshold: z.union([z.literal(80), z.literal(100)]),
  includedMinutes: z.number().int().nonnegative(),
  /** The period's metered `meeting_minutes` seconds when the crossing was recorded. */
  usedSeconds: z.number().int().nonnegative(),
  /** When metering recorded the crossing. */
  at: IsoDateTimeSchema,
});

/** Current data schema of every usage event type. */
export const USAGE_EVENT_DATA_SCHEMAS = {
  'usage.recorded': UsageRecordedDataSchema,
  'usage.threshold_crossed': UsageThresholdCrossedDataSchema,
} as const;

type Schemas = typeof USAGE_EVENT_DATA_SCHEMAS;

/** Type of a usage event. */
export type UsageEventType = keyof Schemas;

/** One usage event as the domain sees it. */
export type UsageEvent = {
  [T in UsageEventType]: { type: T; data: z.output<Schemas[T]> };
}[UsageEventType];

/** Thresholds of the included minutes at which `usage.threshold_crossed` is recorded, in percent. */
export const USAGE_THRESHOLDS = [80, 100] as const;
