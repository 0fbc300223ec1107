/**
 * Inputs of the usage procedures (`usage.summary`, `usage.records`) and of the CSV export
 * (`GET /usage/export.csv`). A period in the future is refused by the gateway, which knows the
 * time; everything else is checked here.
 */
import { IdSchema, UsageMeterSchema, UsagePeriodSchema } from '@quorum/domain';
import { z } from 'zod';

const DIGITS = /^\d{1,19}$/;
const MAX_POSITION = 2n ** 63n - 1n;

/** A `usage.records` page cursor: the `next` of the page before. */
export const UsageCursorSchema = z
  .string()
  .regex(DIGITS, 'must be the next cursor of a previous page')
  .refine((v) => !DIGITS.test(v) || BigInt(v) <= MAX_POSITION, 'must be the next cursor of a previous page');

/** A UTC calendar day, `yyyy-mm-dd`. */
export const UsageDaySchema = z
  .string()
  .regex(/^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/, 'must be a day as yyyy-mm-dd')
  .refine(
    (v) => !Number.isNaN(Date.parse(`${v}T00:00:00Z`)) && new Date(`${v}T00:00:00Z`).toISOString().startsWith(v),
    {
      message: 'must be a day of the calendar',
    },
  );

/** How `usage.summary` groups its rows. */
export const UsageGroupBySchema = z.enum(['day', 'meter', 'host', 'meeting']);
export type UsageGroupBy = z.infer<typeof UsageGroupBySchema>;

/** `usage.summary`: an organization's metered time in one month, grouped. */
export const UsageSummaryInputSchema = z.object({
  orgId: IdSchema,
  period: UsagePeriodSchema,
  groupBy: UsageGroupBySchema.default('day'),
});
export type UsageSummaryInput = z.infer<typeof UsageSummaryInputSchema>;

/** `usage.records`: the usage events of one month, oldest first, narrowed by any of the filters. */
export const UsageRecordsInputSchema = z.object({
  orgId: IdSchema,
  period: UsagePeriodSchema,
  meter: UsageMeterSchema.optional(),
  /** A day of `period`. */
  day: UsageDaySchema.optional(),
  hostUserId: IdSchema.optional(),
  sessionId: IdSchema.optional(),
  cursor: UsageCursorSchema.optional(),
  limit: z.number().int().min(1).max(500).default(100),
});
export type UsageRecordsInput = z.infer<typeof UsageRecordsInputSchema>;

/** The CSV export of one month's usage events (query parameters of `GET /usage/export.csv`). */
export const UsageExportInputSchema = z.object({ orgId: IdSchema, period: UsagePeriodSchema });
export type UsageExportInput = z.infer<typeof UsageExportInputSchema>;
