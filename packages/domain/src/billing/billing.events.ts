/**
 * Events of the Stripe billing sync (stream `billing-<orgId>`). The billing consumer appends
 * what each sync did (`billing.customer_linked`, `billing.subscription_synced`,
 * `billing.usage_reported`, `billing.sync_failed`, `billing.sync_skipped`); Stripe's webhooks
 * append what Stripe reports about invoices. Every id is derived from the event that caused it,
 * so a replay, a redelivery or a second instance appends nothing twice. See docs/billing.md.
 */
import { z } from 'zod';
import { PlanSchema } from '../plans';
import { IdSchema, IsoDateTimeSchema } from '../schemas';
import { UsagePeriodSchema } from '../usage/usage.events';

/** A Stripe object id (`cus_…`, `sub_…`, `si_…`, `in_…`, `evt_…`). */
export const StripeIdSchema = z.string().min(3).max(255);

/** The domain event a sync answered: its id and type. */
export const SyncCauseSchema = z.object({
  eventId: IdSchema,
  type: z.string().min(1),
});

/** `billing.customer_linked` v1: the organization has this Stripe Customer. */
export const BillingCustomerLinkedDataSchema = z.object({
  customerId: StripeIdSchema,
  cause: SyncCauseSchema,
  at: IsoDateTimeSchema,
});

/**
 * `billing.subscription_synced` v1: the organization's Subscription as Quorum left it: the
 * licensed seat item at `seats`, the metered item for meeting minutes when the plan bills
 * overage, the trial's end, and whether it cancels at the period's end (a closed organization).
 */
export const BillingSubscriptionSyncedDataSchema = z.object({
  subscriptionId: StripeIdSchema,
  /** Stripe's status of the subscription after the call (`trialing`, `active`, …). */
  status: z.string().min(1),
  plan: PlanSchema,
  seats: z.number().int().nonnegative(),
  seatItemId: StripeIdSchema,
  meteredItemId: StripeIdSchema.nullable(),
  trialEnd: IsoDateTimeSchema.nullable(),
  cancelAtPeriodEnd: z.boolean(),
  cause: SyncCauseSchema,
  at: IsoDateTimeSchema,
});

/**
 * `billing.usage_reported` v1: one `meeting_minutes` usage event sent to Stripe's Billing Meter
 * as a meter event whose `identifier` is the usage event's id. `minutes` is what the event adds
 * to its month's total rounded up to the whole minute (see docs/billing.md, Metered minutes), so
 * the meter's sum for a month is exactly the minutes Quorum bills.
 */
export const BillingUsageReportedDataSchema = z.object({
  usageEventId: IdSchema,
  period: UsagePeriodSchema,
  eventName: z.string().min(1),
  seconds: z.number().int().nonnegative(),
  minutes: z.number().int().nonnegative(),
  /** The meter event's timestamp: the interval's start. */
  timestamp: IsoDateTimeSchema,
  customerId: StripeIdSchema,
  at: IsoDateTimeSchema,
});

/** Stripe's answer to a call it refused. */
export const StripeErrorSchema = z.object({
  type: z.string(),
  code: z.string().nullable(),
  message: z.string(),
  statusCode: z.number().int().nullable(),
  requestId: z.string().nullable(),
});

/** What the sync was doing. */
export const SyncOperationSchema = z.enum(['customer', 'subscription', 'usage']);

/**
 * `billing.sync_failed` v1: Stripe refused a call for good (a 4xx other than 429); the cause is
 * held as a dead letter until an operator retries or skips it.
 */
export const BillingSyncFailedDataSchema = z.object({
  operation: SyncOperationSchema,
  cause: SyncCauseSchema,
  error: StripeErrorSchema,
  /** The attempt this refusal ended: 1, then one more per operator retry. */
  attempt: z.number().int().positive(),
  at: IsoDateTimeSchema,
});

/** `billing.sync_skipped` v1: an operator gave up on a dead letter; it is never sent. */
export const BillingSyncSkippedDataSchema = z.object({
  operation: SyncOperationSchema,
  cause: SyncCauseSchema,
  /** The operator who skipped it. */
  by: z.string().min(1),
  reason: z.string().min(1).max(500),
  at: IsoDateTimeSchema,
});

/** One line of a Stripe invoice. */
export const InvoiceLineSchema = z.object({
  description: z.string().nullable(),
  priceId: z.string().nullable(),
  quantity: z.number().int().nullable(),
  amount: z.number().int(),
  periodStart: IsoDateTimeSchema,
  periodEnd: IsoDateTimeSchema,
});

/** A Stripe invoice as a webhook reported it. */
export const InvoiceDataSchema = z.object({
  invoiceId: StripeIdSchema,
  /** The Stripe event that reported it. */
  stripeEventId: StripeIdSchema,
  customerId: StripeIdSchema,
  subscriptionId: StripeIdSchema.nullable(),
  number: z.string().nullable(),
  status: z.string().nullable(),
  currency: z.string().length(3),
  subtotal: z.number().int(),
  total: z.number().int(),
  amountDue: z.number().int(),
  amountPaid: z.number().int(),
  hostedInvoiceUrl: z.string().url().nullable(),
  periodStart: IsoDateTimeSchema,
  periodEnd: IsoDateTimeSchema,
  lines: z.array(InvoiceLineSchema),
  at: IsoDateTimeSchema,
});

/** What a reconciliation difference compares Quorum's figure with. */
export const ReconciliationComparisonSchema = z.enum([
  /** Minutes sent to Stripe (`billing.usage_reported` of the period). */
  'reported_minutes',
  /** Minutes Stripe's Billing Meter sums for the customer over the period. */
  'stripe_meter_minutes',
  /** Minutes on Stripe's invoice lines of the plan's metered price for the period. */
  'invoice_minutes',
  /** The seat item's quantity in Stripe. */
  'subscription_seats',
  /** The seats the sync last left in Stripe (its account). */
  'account_seats',
]);

/** An event behind a difference, and what it did or did not do. */
export const ReconciliationEventRefSchema = z.object({
  eventId: IdSchema,
  type: z.string().min(1),
  /** Why it counts here: `dead letter open`, `skipped by …`, `not reported yet`, … */
  note: z.string().min(1).max(500),
});

/** One figure of Quorum's that Stripe (or what was sent to it) does not match. */
export const ReconciliationDifferenceSchema = z.object({
  compares: ReconciliationComparisonSchema,
  /** Quorum's figure: meeting minutes of the month, or purchased seats. */
  quorum: z.number().int().nonnegative(),
  /** The other side's figure; null when Stripe has none (its answer is in `detail`). */
  other: z.number().int().nonnegative().nullable(),
  /** What the difference means, in a sentence. */
  detail: z.string().min(1).max(1000),
  /** The events behind it, at most 50; `moreEvents` counts the rest. */
  events: z.array(ReconciliationEventRefSchema).max(50),
  moreEvents: z.number().int().nonnegative(),
});

/**
 * `billing.reconciliation_completed` v1: one organization's figures of one month, Quorum's beside
 * Stripe's, and every difference between them with the events behind it. Its id is derived from
 * (organization, period, run), so a run appends it once however often it is repeated.
 */
export const BillingReconciliationCompletedDataSchema = z.object({
  period: UsagePeriodSchema,
  /** The run this belongs to (`scheduled-<slot start>` or one named on the command line). */
  run: z.string().min(1).max(200),
  at: IsoDateTimeSchema,
  customerId: StripeIdSchema,
  figures: z.object({
    /** ⌈meeting seconds of the month / 60⌉: the minutes Quorum bills. */
    quorumMinutes: z.number().int().nonnegative(),
    /** Sum of `billing.usage_reported` minutes of the period. */
    reportedMinutes: z.number().int().nonnegative(),
    /** Stripe's meter event summaries for the customer over the month; null when Stripe refused. */
    stripeMeterMinutes: z.number().int().nonnegative().nullable(),
    /** The invoice lines' quantity of the metered price for the month; null without an invoice. */
    invoiceMinutes: z.number().int().nonnegative().nullable(),
    /** Seats purchased, from the organization's seat stream. */
    purchasedSeats: z.number().int().nonnegative(),
    /** The seat item's quantity in Stripe; null without a subscription (or when Stripe refused). */
    subscriptionSeats: z.number().int().nonnegative().nullable(),
  }),
  differences: z.array(ReconciliationDifferenceSchema),
});

/** Current data schema of every billing event type. */
export const BILLING_EVENT_DATA_SCHEMAS = {
  'billing.customer_linked': BillingCustomerLinkedDataSchema,
  'billing.subscription_synced': BillingSubscriptionSyncedDataSchema,
  'billing.usage_reported': BillingUsageReportedDataSchema,
  'billing.sync_failed': BillingSyncFailedDataSchema,
  'billing.sync_skipped': BillingSyncSkippedDataSchema,
  'billing.invoice_finalized': InvoiceDataSchema,
  'billing.invoice_paid': InvoiceDataSchema,
  'billing.invoice_payment_failed': InvoiceDataSchema,
  'billing.reconciliation_completed': BillingReconciliationCompletedDataSchema,
} as const;

type Schemas = typeof BILLING_EVENT_DATA_SCHEMAS;

/** Type of a billing event. */
export type BillingEventType = keyof Schemas;

/** One billing event as the domain sees it. */
export type BillingEvent = {
  [T in BillingEventType]: { type: T; data: z.output<Schemas[T]> };
}[BillingEventType];
