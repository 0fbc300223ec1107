/**
 * Read models of metered usage (`usage.recorded`, `usage.threshold_crossed`), in each
 * read-model version's schema beside the core tables. See docs/metering.md.
 */
import type { ColumnType, Selectable } from 'kysely';

type Timestamp = ColumnType<Date, Date | string, Date | string>;
/** int8 columns arrive as decimal strings. */
type Int8 = ColumnType<string, string | bigint | number, string | bigint | number>;
/**
 * A calendar date (UTC). Drivers parse `date` into a local-midnight `Date`; queries select it
 * as `day::text` (`yyyy-mm-dd`) instead.
 */
type CalendarDate = ColumnType<Date | string, string, string>;

/** One `usage.recorded` event: a closed interval `[from_at, to_at)` of one meter. */
export interface UsageRecordTable {
  event_id: string;
  org_id: string;
  /** `yyyymm`. */
  period: string;
  meter: 'participant_minutes' | 'meeting_minutes';
  session_id: string;
  host_user_id: string;
  participant_id: string | null;
  stint: string;
  from_at: Timestamp;
  to_at: Timestamp;
  seconds: number;
  /** The UTC date of `from_at` (an interval never crosses midnight UTC). */
  day: CalendarDate;
  /** Ids of the session events the interval came from, in stream order (a JSON array). */
  sources: ColumnType<string[], string, string>;
  position: Int8;
  recorded_at: Timestamp;
}

/**
 * Seconds and records per organization, period, meter, day, host and meeting; kept in the
 * transaction that inserts each `usage_records` row, and only when that row was new.
 */
export interface UsageDailyTable {
  org_id: string;
  period: string;
  meter: 'participant_minutes' | 'meeting_minutes';
  day: CalendarDate;
  host_user_id: string;
  session_id: string;
  seconds: Int8;
  records: number;
}

/** One `usage.threshold_crossed` event; the first per organization, period, meter and threshold. */
export interface UsageThresholdTable {
  org_id: string;
  period: string;
  meter: 'meeting_minutes';
  /** Percent of the included minutes: 80 or 100. */
  threshold: number;
  included_minutes: number;
  used_seconds: Int8;
  /** When metering recorded the crossing (the event's `at`). */
  crossed_at: Timestamp;
  event_id: string;
}

export type UsageRecordRow = Selectable<UsageRecordTable>;
export type UsageDailyRow = Selectable<UsageDailyTable>;
export type UsageThresholdRow = Selectable<UsageThresholdTable>;

/** DDL of the usage tables in read-model schema `s`. */
export function usageReadModelSql(s: string): string {
  return `
CREATE TABLE IF NOT EXISTS ${s}.usage_records (
  event_id uuid PRIMARY KEY,
  org_id uuid NOT NULL,
  period text NOT NULL,
  meter text NOT NULL,
  session_id uuid NOT NULL,
  host_user_id uuid NOT NULL,
  participant_id uuid,
  stint uuid NOT NULL,
  from_at timestamptz NOT NULL,
  to_at timestamptz NOT NULL,
  seconds integer NOT NULL,
  day date NOT NULL,
  sources jsonb NOT NULL,
  position bigint NOT NULL,
  recorded_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS usage_records_period ON ${s}.usage_records (org_id, period, position);
CREATE INDEX IF NOT EXISTS usage_records_day ON ${s}.usage_records (org_id, period, day, position);
CREATE INDEX IF NOT EXISTS usage_records_host ON ${s}.usage_records (org_id, period, host_user_id, position);
CREATE INDEX IF NOT EXISTS usage_records_session ON ${s}.usage_records (org_id, session_id, position);
CREATE TABLE IF NOT EXISTS ${s}.usage_daily (
  org_id uuid NOT NULL,
  period text NOT NULL,
  meter text NOT NULL,
  day date NOT NULL,
  host_user_id uuid NOT NULL,
  session_id uuid NOT NULL,
  seconds bigint NOT NULL,
  records integer NOT NULL,
  PRIMARY KEY (org_id, period, meter, day, host_user_id, session_id)
);
CREATE TABLE IF NOT EXISTS ${s}.usage_thresholds (
  org_id uuid NOT NULL,
  period text NOT NULL,
  meter text NOT NULL,
  threshold integer NOT NULL,
  included_minutes integer NOT NULL,
  used_seconds bigint NOT NULL,
  crossed_at timestamptz NOT NULL,
  event_id uuid NOT NULL,
  PRIMARY KEY (org_id, period, meter, threshold)
);
`;
}
