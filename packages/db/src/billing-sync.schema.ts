/**
 * The billing consumer's own tables (`services/billing`), in the public schema: each
 * organization's Stripe objects as the sync last left them (rebuilt from `billing-<orgId>` when
 * missing), the events it has answered (its effects), how far it has reported each usage stream,
 * and its dead letters. See docs/billing.md.
 */
import type { ColumnType } from 'kysely';

type Timestamp = ColumnType<Date, Date | string, Date | string>;
type GeneratedTimestamp = ColumnType<Date, Date | string | undefined, Date | string>;
/** int8 columns arrive as decimal strings. */
type Int8 = ColumnType<string, string | bigint | number, string | bigint | number>;

/** An organization's Customer and Subscription, folded from its `billing-<orgId>` stream. */
export interface BillingAccountTable {
  org_id: string;
  customer_id: string | null;
  subscription_id: string | null;
  seat_item_id: string | null;
  metered_item_id: string | null;
  plan: string | null;
  seats: number | null;
  trial_end: Timestamp | null;
  cancel_at_period_end: boolean;
  updated_at: GeneratedTimestamp;
}

/** One event the sync has answered, and what it appended for it (null: nothing to do). */
export interface BillingEffectTable {
  cause_event_id: string;
  operation: string;
  org_id: string;
  outcome_event_id: string | null;
  created_at: GeneratedTimestamp;
}

/** How far one `usage-<orgId>-<yyyymm>` stream has been reported, and its meeting seconds so far. */
export interface BillingUsageCursorTable {
  stream_id: string;
  org_id: string;
  period: string;
  revision: Int8;
  meeting_seconds: Int8;
  updated_at: GeneratedTimestamp;
}

/** A sync Stripe refused for good, held until an operator retries or skips it. */
export interface BillingDeadLetterTable {
  cause_event_id: string;
  operation: string;
  org_id: string;
  cause_type: string;
  cause_position: Int8;
  /** What to send again for a usage report (its minutes and timestamp); null otherwise. */
  request: ColumnType<unknown, string | null, string | null>;
  error: ColumnType<unknown, string, string>;
  attempts: number;
  failed_at: Timestamp;
  resolved_at: Timestamp | null;
  /** `retried` (Stripe took it) or `skipped`. */
  resolution: string | null;
  resolved_by: string | null;
  /**
   * What an operator asked for from the finance page (`retry` or `skip`), carried out by the
   * billing process, which alone calls Stripe; cleared once done.
   */
  requested_action: string | null;
  requested_by: string | null;
  requested_reason: string | null;
  requested_at: Timestamp | null;
}

/** DDL of the billing tables, in the public schema. */
export const BILLING_SYNC_SQL = `
CREATE TABLE IF NOT EXISTS billing_accounts (
  org_id uuid PRIMARY KEY,
  customer_id text,
  subscription_id text,
  seat_item_id text,
  metered_item_id text,
  plan text,
  seats integer,
  trial_end timestamptz,
  cancel_at_period_end boolean NOT NULL DEFAULT false,
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS billing_effects (
  cause_event_id uuid NOT NULL,
  operation text NOT NULL,
  org_id uuid NOT NULL,
  outcome_event_id uuid,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (cause_event_id, operation)
);
CREATE TABLE IF NOT EXISTS billing_usage_cursors (
  stream_id text PRIMARY KEY,
  org_id uuid NOT NULL,
  period text NOT NULL,
  revision bigint NOT NULL,
  meeting_seconds bigint NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS billing_dead_letters (
  cause_event_id uuid NOT NULL,
  operation text NOT NULL,
  org_id uuid NOT NULL,
  cause_type text NOT NULL,
  cause_position bigint NOT NULL,
  request jsonb,
  error jsonb NOT NULL,
  attempts integer NOT NULL,
  failed_at timestamptz NOT NULL,
  resolved_at timestamptz,
  resolution text,
  resolved_by text,
  requested_action text CHECK (requested_action IN ('retry', 'skip')),
  requested_by text,
  requested_reason text,
  requested_at timestamptz,
  PRIMARY KEY (cause_event_id, operation)
);
CREATE INDEX IF NOT EXISTS billing_dead_letters_open ON billing_dead_letters (failed_at) WHERE resolved_at IS NULL;
`;
