/**
 * The metering consumer's own tables (`services/metering`), in the public schema: what it has
 * appended (its effects, by event id), the totals those add up to, when each session is next
 * due, and the thresholds recorded. See docs/metering.md.
 */
import type { ColumnType } from 'kysely';

type Timestamp = ColumnType<Date, Date | string, Date | string>;
type GeneratedTimestamp = ColumnType<Date, Date | string | undefined, Date | string>;
/** int8 columns arrive as decimal strings. */
type Int8 = ColumnType<string, string | bigint | number, string | bigint | number>;

/** A session the metering consumer has seen, and when it is next due to be metered again. */
export interface MeteringSessionTable {
  session_id: string;
  org_id: string;
  /** When more of it settles (a running meeting's next interval); null when all is recorded. */
  next_due: Timestamp | null;
  metered_at: GeneratedTimestamp;
}
/** One usage event the metering consumer has appended: its effects table, keyed by event id. */
export interface MeteringEffectTable {
  event_id: string;
  org_id: string;
  period: string;
  meter: string;
  seconds: number;
  session_id: string;
  created_at: GeneratedTimestamp;
}
/** Seconds per organization, period and meter, counted once per row of `metering_effects`. */
export interface MeteringTotalTable {
  org_id: string;
  period: string;
  meter: string;
  seconds: Int8;
}
/** `usage.threshold_crossed` events appended, one per organization, period and threshold. */
export interface MeteringThresholdTable {
  org_id: string;
  period: string;
  threshold: number;
  event_id: string;
}

/** DDL of the metering tables, in the public schema. */
export const METERING_SQL = `
CREATE TABLE IF NOT EXISTS metering_sessions (
  session_id uuid PRIMARY KEY,
  org_id uuid NOT NULL,
  next_due timestamptz,
  metered_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS metering_sessions_due ON metering_sessions (next_due) WHERE next_due IS NOT NULL;
CREATE TABLE IF NOT EXISTS metering_effects (
  event_id uuid PRIMARY KEY,
  org_id uuid NOT NULL,
  period text NOT NULL,
  meter text NOT NULL,
  seconds integer NOT NULL,
  session_id uuid NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS metering_totals (
  org_id uuid NOT NULL,
  period text NOT NULL,
  meter text NOT NULL,
  seconds bigint NOT NULL,
  PRIMARY KEY (org_id, period, meter)
);
CREATE TABLE IF NOT EXISTS metering_thresholds (
  org_id uuid NOT NULL,
  period text NOT NULL,
  threshold integer NOT NULL,
  event_id uuid NOT NULL,
  PRIMARY KEY (org_id, period, threshold)
);
`;
