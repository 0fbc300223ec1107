import { CommonEnvSchema, parseEnv, z } from '@quorum/config';

const PriceId = z.string().min(3).max(255);

/**
 * Settings of the Stripe billing sync, shared by its own process and the all-in-one process.
 * Without `STRIPE_SECRET_KEY` the sync does not run: billing stays local (docs/billing.md).
 */
export const BillingEnvShape = {
  /** A secret key (`sk_test_…` for test mode). Absent: Stripe is not connected. */
  STRIPE_SECRET_KEY: z.string().min(1).optional(),
  /** Another API server, such as stripe-mock on loopback (`http://127.0.0.1:12111`). Default: Stripe's. */
  STRIPE_API_BASE: z.string().url().optional(),
  /** Price of one seat per month, per paid plan (licensed, recurring monthly). */
  STRIPE_PRICE_PRO_SEAT: PriceId.optional(),
  STRIPE_PRICE_BUSINESS_SEAT: PriceId.optional(),
  STRIPE_PRICE_ENTERPRISE_SEAT: PriceId.optional(),
  /** Metered price of meeting minutes on the Billing Meter, per plan that bills overage. */
  STRIPE_PRICE_PRO_MINUTES: PriceId.optional(),
  STRIPE_PRICE_BUSINESS_MINUTES: PriceId.optional(),
  /** The Billing Meter's event name. */
  STRIPE_METER_EVENT_NAME: z
    .string()
    .regex(/^[A-Za-z0-9_]{1,100}$/)
    .default('quorum_meeting_minutes'),
  /**
   * The Billing Meter's id (`mtr_…`), whose event summaries reconciliation reads. Unset: no
   * reconciliation (the sync itself needs only the event name).
   */
  STRIPE_METER_ID: z.string().min(3).max(255).optional(),
  /** How often every organization is reconciled with Stripe (the month just ended and the current one); 0: never. */
  BILLING_RECONCILE_EVERY_SECONDS: z.coerce.number().int().min(0).default(86_400),
  /**
   * Stripe calls per second, shared by every billing instance through Redis. Stripe allows 25
   * per second in test mode and 100 in live mode; the default stays under both.
   */
  BILLING_STRIPE_CALLS_PER_SECOND: z.coerce.number().int().min(1).max(100).default(20),
} as const;

/** Environment of the standalone billing consumer (`src/main.ts`). */
export const BillingEnvSchema = CommonEnvSchema.extend({
  /** Holds the billing tables (and the event store unless `ESDB_URL` is set). */
  DATABASE_URL: z.string().url(),
  NATS_URL: z.string().min(1),
  /** Shares the Stripe call rate between instances; without it each instance limits itself. */
  REDIS_URL: z.string().min(1).optional(),
  /** Durable consumer name; instances sharing it share the work. */
  BILLING_DURABLE: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,100}$/)
    .default('billing'),
  ...BillingEnvShape,
});
export type BillingEnv = z.infer<typeof BillingEnvSchema>;

export function parseBillingEnv(source?: Record<string, string | undefined>): BillingEnv {
  return parseEnv(BillingEnvSchema, source);
}
