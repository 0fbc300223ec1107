/**
 * The parts of Stripe's webhook payloads Quorum reads, parsed with zod on arrival. Stripe adds
 * fields freely, so objects keep what they do not name. Both shapes of an invoice's subscription
 * are read: current API versions put it under `parent.subscription_details`, older ones at
 * `subscription` and `subscription_details`; likewise a line's price is under
 * `pricing.price_details.price` now and `price.id` before.
 */
import { z } from 'zod';
import { IdSchema, type InvoiceDataSchema } from '@quorum/domain';

/** An id, or the object it names when the sender expanded it. */
const ExpandableIdSchema = z
  .union([z.string().min(1), z.looseObject({ id: z.string().min(1) })])
  .transform((v) => (typeof v === 'string' ? v : v.id));

const MetadataSchema = z
  .record(z.string(), z.string())
  .nullish()
  .transform((m) => m ?? {});

const UnixTimeSchema = z
  .number()
  .int()
  .nonnegative()
  .transform((s) => new Date(s * 1000).toISOString());

/** Every Stripe event: what is needed to route it. */
export const StripeEventSchema = z.looseObject({
  id: z.string().min(1),
  object: z.literal('event'),
  type: z.string().min(1),
  created: UnixTimeSchema,
  data: z.looseObject({ object: z.looseObject({}) }),
});
export type StripeEvent = z.infer<typeof StripeEventSchema>;

const InvoiceLineSchema = z.looseObject({
  description: z.string().nullish(),
  amount: z.number().int(),
  quantity: z.number().int().nullish(),
  period: z.looseObject({ start: UnixTimeSchema, end: UnixTimeSchema }),
  pricing: z.looseObject({ price_details: z.looseObject({ price: ExpandableIdSchema }).nullish() }).nullish(),
  price: z.looseObject({ id: z.string() }).nullish(),
});

const SubscriptionDetailsSchema = z.looseObject({
  metadata: MetadataSchema,
  subscription: ExpandableIdSchema.nullish(),
});

/** `data.object` of `invoice.*` events. */
export const StripeInvoiceSchema = z.looseObject({
  id: z.string().min(1),
  object: z.literal('invoice'),
  customer: ExpandableIdSchema,
  number: z.string().nullish(),
  status: z.string().nullish(),
  billing_reason: z.string().nullish(),
  currency: z.string().length(3),
  subtotal: z.number().int(),
  total: z.number().int(),
  amount_due: z.number().int(),
  amount_paid: z.number().int(),
  hosted_invoice_url: z.url().nullish(),
  period_start: UnixTimeSchema,
  period_end: UnixTimeSchema,
  lines: z.looseObject({ data: z.array(InvoiceLineSchema) }),
  parent: z.looseObject({ subscription_details: SubscriptionDetailsSchema.nullish() }).nullish(),
  subscription: ExpandableIdSchema.nullish(),
  subscription_details: SubscriptionDetailsSchema.nullish(),
});
export type StripeInvoice = z.infer<typeof StripeInvoiceSchema>;

/** `data.object` of `customer.subscription.*` events. */
export const StripeSubscriptionSchema = z.looseObject({
  id: z.string().min(1),
  object: z.literal('subscription'),
  customer: ExpandableIdSchema,
  status: z.string().min(1),
  metadata: MetadataSchema,
});
export type StripeSubscription = z.infer<typeof StripeSubscriptionSchema>;

/** The organization id the sync wrote into Stripe's metadata, when it is there and a uuid. */
function orgIdIn(metadata: Record<string, string>): string | undefined {
  const parsed = IdSchema.safeParse(metadata.orgId);
  return parsed.success ? parsed.data.toLowerCase() : undefined;
}

/** The organization an invoice names in its subscription's metadata. */
export function invoiceOrgId(invoice: StripeInvoice): string | undefined {
  const details = invoice.parent?.subscription_details ?? invoice.subscription_details;
  return details ? orgIdIn(details.metadata) : undefined;
}

/** The organization a subscription names in its metadata. */
export function subscriptionOrgId(subscription: StripeSubscription): string | undefined {
  return orgIdIn(subscription.metadata);
}

/** The invoice as the `billing.invoice_*` events carry it (`InvoiceDataSchema`). */
export function invoiceData(invoice: StripeInvoice, event: StripeEvent): z.input<typeof InvoiceDataSchema> {
  return {
    invoiceId: invoice.id,
    stripeEventId: event.id,
    customerId: invoice.customer,
    subscriptionId: invoice.parent?.subscription_details?.subscription ?? invoice.subscription ?? null,
    number: invoice.number ?? null,
    status: invoice.status ?? null,
    currency: invoice.currency,
    subtotal: invoice.subtotal,
    total: invoice.total,
    amountDue: invoice.amount_due,
    amountPaid: invoice.amount_paid,
    hostedInvoiceUrl: invoice.hosted_invoice_url ?? null,
    periodStart: invoice.period_start,
    periodEnd: invoice.period_end,
    lines: invoice.lines.data.map((line) => ({
      description: line.description ?? null,
      priceId: line.pricing?.price_details?.price ?? line.price?.id ?? null,
      quantity: line.quantity ?? null,
      amount: line.amount,
      periodStart: line.period.start,
      periodEnd: line.period.end,
    })),
    at: event.created,
  };
}
