/**
 * Stripe's webhook payloads as API version 2026-10-28 sends them (trimmed of fields Quorum does
 * not read), for the tests that deliver them to `POST /webhooks/stripe`, signed with the SDK.
 */
import { randomBytes } from 'node:crypto';

export const stripeId = (prefix: string) => `${prefix}_${randomBytes(12).toString('base64url').replace(/[-_]/g, 'x')}`;
export const unix = (iso: string) => Math.floor(Date.parse(iso) / 1000);

export interface InvoiceOptions {
  customer: string;
  /** The organization in the subscription's metadata; absent, the invoice names none. */
  orgId?: string;
  invoiceId?: string;
  status: 'open' | 'paid';
  amountPaid: number;
  billingReason?: string;
}

/** An `invoice` object as API version 2026-10-28 sends it, trimmed of fields Quorum does not read. */
export function invoiceObject(o: InvoiceOptions) {
  const subscription = stripeId('sub');
  const invoiceId = o.invoiceId ?? stripeId('in');
  return {
    id: invoiceId,
    object: 'invoice',
    account_country: 'DE',
    account_name: 'Quorum GmbH',
    amount_due: 6_900,
    amount_overpaid: 0,
    amount_paid: o.amountPaid,
    amount_remaining: 6_900 - o.amountPaid,
    attempt_count: o.status === 'paid' ? 1 : 0,
    attempted: o.status === 'paid',
    auto_advance: o.status !== 'paid',
    billing_reason: o.billingReason ?? 'subscription_cycle',
    collection_method: 'charge_automatically',
    created: unix('2026-11-01T00:00:12.000Z'),
    currency: 'eur',
    customer: o.customer,
    customer_email: 'owner@example.com',
    description: null,
    hosted_invoice_url: `https://invoice.stripe.com/i/acct_1Qrm/test_${invoiceId}`,
    invoice_pdf: `https://pay.stripe.com/invoice/acct_1Qrm/test_${invoiceId}/pdf`,
    lines: {
      object: 'list',
      data: [
        {
          id: stripeId('il'),
          object: 'line_item',
          amount: 6_000,
          currency: 'eur',
          description: '5 × Quorum Pro seat (at €12.00 / month)',
          invoice: invoiceId,
          livemode: false,
          metadata: {},
          parent: {
            type: 'subscription_item_details',
            subscription_item_details: { subscription, subscription_item: stripeId('si'), proration: false },
          },
          period: { start: unix('2026-11-01T00:00:00.000Z'), end: unix('2026-12-01T00:00:00.000Z') },
          pricing: { type: 'price_details', price_details: { price: 'price_1QrmProSeat', product: 'prod_QrmPro' } },
          quantity: 5,
        },
        {
          id: stripeId('il'),
          object: 'line_item',
          amount: 900,
          currency: 'eur',
          description: 'Meeting minutes beyond the included amount',
          invoice: invoiceId,
          livemode: false,
          metadata: {},
          parent: {
            type: 'subscription_item_details',
            subscription_item_details: { subscription, subscription_item: stripeId('si'), proration: false },
          },
          period: { start: unix('2026-10-01T00:00:00.000Z'), end: unix('2026-11-01T00:00:00.000Z') },
          pricing: { type: 'price_details', price_details: { price: 'price_1QrmMinutes', product: 'prod_QrmMinutes' } },
          quantity: 450,
        },
      ],
      has_more: false,
      total_count: 2,
      url: `/v1/invoices/${invoiceId}/lines`,
    },
    livemode: false,
    metadata: {},
    number: 'QRM-2026-0042',
    parent: {
      type: 'subscription_details',
      quote_details: null,
      subscription_details: { metadata: o.orgId ? { orgId: o.orgId } : {}, subscription },
    },
    period_end: unix('2026-11-01T00:00:00.000Z'),
    period_start: unix('2026-10-01T00:00:00.000Z'),
    status: o.status,
    subtotal: 6_900,
    total: 6_900,
  };
}

export function stripeEvent<T extends object>(type: string, object: T, created = new Date()) {
  return {
    id: stripeId('evt'),
    object: 'event',
    api_version: '2026-10-28.endive',
    created: Math.floor(created.getTime() / 1000),
    data: { object },
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type,
  };
}

export const invoiceEvent = (
  type: 'invoice.finalized' | 'invoice.paid' | 'invoice.payment_failed',
  o: InvoiceOptions,
) => stripeEvent(type, invoiceObject(o));

export function subscriptionDeleted(customer: string, orgId: string) {
  return stripeEvent('customer.subscription.deleted', {
    id: stripeId('sub'),
    object: 'subscription',
    cancel_at_period_end: false,
    canceled_at: Math.floor(Date.now() / 1000),
    customer,
    ended_at: Math.floor(Date.now() / 1000),
    metadata: { orgId },
    status: 'canceled',
  });
}
