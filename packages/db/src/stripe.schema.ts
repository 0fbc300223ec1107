/**
 * What Stripe tells Quorum. In the public schema, the gateway's record of each webhook event it
 * handled (`stripe_webhook_events`), so a redelivery has no second effect. In each read-model
 * version's schema, which Stripe Customer belongs to which organization (`billing_customers`,
 * from `billing.customer_linked`) and Stripe's invoices (`billing_invoices`, from
 * `billing.invoice_*`), and the last reconciliation of each organization and month
 * (`billing_reconciliations`, from `billing.reconciliation_completed`). See docs/billing.md.
 */
import type { ColumnType, Selectable } from 'kysely';

type Timestamp = ColumnType<Date, Date | string, Date | string>;
type GeneratedTimestamp = ColumnType<Date, Date | string | undefined, Date | string>;
/** int8 columns arrive as decimal strings. */
type Int8 = ColumnType<string, string | bigint | number, string | bigint | number>;

/** One Stripe webhook event the gateway handled, by Stripe's event id. */
export interface StripeWebhookEventTable {
  /** Stripe's event id (`evt_…`). */
  event_id: string;
  type: string;
  /** `applied`: its effects are in the event store; `ignored`: a type Quorum does not act on, or no organization. */
  outcome: 'applied' | 'ignored';
  org_id: string | null;
  /** Why it was ignored, or what it did. */
  detail: string;
  received_at: GeneratedTimestamp;
}

/** A Stripe Customer and the organization it bills. */
export interface BillingCustomerTable {
  customer_id: string;
  org_id: string;
  /** The `billing.customer_linked` event. */
  event_id: string;
  position: Int8;
  linked_at: Timestamp;
}

/** A Stripe invoice as the latest of its `billing.invoice_*` events reported it. */
export interface BillingInvoiceTable {
  invoice_id: string;
  org_id: string;
  customer_id: string;
  subscription_id: string | null;
  number: string | null;
  status: string | null;
  currency: string;
  subtotal: Int8;
  total: Int8;
  amount_due: Int8;
  amount_paid: Int8;
  hosted_invoice_url: string | null;
  period_start: Timestamp;
  period_end: Timestamp;
  /** The invoice's lines (`InvoiceLineSchema`), a JSON array. */
  lines: ColumnType<unknown[], string, string>;
  /** When Stripe reported this state (its event's `created`). */
  reported_at: Timestamp;
  stripe_event_id: string;
  /** The Quorum event that carried this state. */
  event_id: string;
  position: Int8;
}

/** The last reconciliation of one organization's month: Quorum's figures beside Stripe's. */
export interface BillingReconciliationTable {
  org_id: string;
  period: string;
  /** The run it belongs to (`scheduled-<slot start>`, or named on the command line). */
  run: string;
  customer_id: string;
  reconciled_at: Timestamp;
  /** `figures` of the event, a JSON object. */
  figures: ColumnType<unknown, string, string>;
  /** `differences` of the event, a JSON array. */
  differences: ColumnType<unknown[], string, string>;
  difference_count: number;
  event_id: string;
  position: Int8;
}

export type StripeWebhookEventRow = Selectable<StripeWebhookEventTable>;
export type BillingReconciliationRow = Selectable<BillingReconciliationTable>;
export type BillingCustomerRow = Selectable<BillingCustomerTable>;
export type BillingInvoiceRow = Selectable<BillingInvoiceTable>;

/** DDL of the webhook record, in the public schema. */
export const STRIPE_WEBHOOKS_SQL = `
CREATE TABLE IF NOT EXISTS stripe_webhook_events (
  event_id text PRIMARY KEY,
  type text NOT NULL,
  outcome text NOT NULL,
  org_id uuid,
  detail text NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now()
);
`;

/** DDL of the Stripe read models in read-model schema `s`. */
export function stripeReadModelSql(s: string): string {
  return `
CREATE TABLE IF NOT EXISTS ${s}.billing_customers (
  customer_id text PRIMARY KEY,
  org_id uuid NOT NULL,
  event_id uuid NOT NULL,
  position bigint NOT NULL,
  linked_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS billing_customers_org ON ${s}.billing_customers (org_id);
CREATE TABLE IF NOT EXISTS ${s}.billing_invoices (
  invoice_id text PRIMARY KEY,
  org_id uuid NOT NULL,
  customer_id text NOT NULL,
  subscription_id text,
  number text,
  status text,
  currency text NOT NULL,
  subtotal bigint NOT NULL,
  total bigint NOT NULL,
  amount_due bigint NOT NULL,
  amount_paid bigint NOT NULL,
  hosted_invoice_url text,
  period_start timestamptz NOT NULL,
  period_end timestamptz NOT NULL,
  lines jsonb NOT NULL,
  reported_at timestamptz NOT NULL,
  stripe_event_id text NOT NULL,
  event_id uuid NOT NULL,
  position bigint NOT NULL
);
CREATE INDEX IF NOT EXISTS billing_invoices_org ON ${s}.billing_invoices (org_id, period_start DESC);
CREATE TABLE IF NOT EXISTS ${s}.billing_reconciliations (
  org_id uuid NOT NULL,
  period text NOT NULL,
  run text NOT NULL,
  customer_id text NOT NULL,
  reconciled_at timestamptz NOT NULL,
  figures jsonb NOT NULL,
  differences jsonb NOT NULL,
  difference_count integer NOT NULL,
  event_id uuid NOT NULL,
  position bigint NOT NULL,
  PRIMARY KEY (org_id, period)
);
CREATE INDEX IF NOT EXISTS billing_reconciliations_at ON ${s}.billing_reconciliations (reconciled_at DESC);
`;
}
