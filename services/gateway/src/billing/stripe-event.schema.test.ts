import { InvoiceDataSchema } from '@quorum/domain';
import { describe, expect, it } from 'vitest';
import {
  invoiceData,
  invoiceOrgId,
  StripeEventSchema,
  StripeInvoiceSchema,
  StripeSubscriptionSchema,
  subscriptionOrgId,
} from './stripe-event.schema';

const ORG = '6d3f8f0e-52a4-4c4b-9d0e-6a1f3c2b9e10';

const event = (object: object) =>
  StripeEventSchema.parse({
    id: 'evt_1QrmTest',
    object: 'event',
    type: 'invoice.paid',
    created: 1_793_491_200,
    data: { object },
  });

const base = {
  id: 'in_1QrmTest',
  object: 'invoice',
  customer: 'cus_QrmTest',
  number: 'QRM-0001',
  status: 'paid',
  currency: 'eur',
  subtotal: 1_200,
  total: 1_200,
  amount_due: 1_200,
  amount_paid: 1_200,
  hosted_invoice_url: 'https://invoice.stripe.com/i/acct_1/test_1',
  period_start: 1_790_812_800,
  period_end: 1_793_491_200,
};

describe('Stripe payloads', () => {
  it('reads an invoice of a current API version: subscription under parent, price under pricing', () => {
    const object = {
      ...base,
      parent: {
        type: 'subscription_details',
        subscription_details: { metadata: { orgId: ORG }, subscription: 'sub_1' },
      },
      lines: {
        object: 'list',
        data: [
          {
            amount: 1_200,
            description: 'Seat',
            quantity: 1,
            period: { start: 1_793_491_200, end: 1_796_083_200 },
            pricing: { type: 'price_details', price_details: { price: 'price_seat', product: 'prod_1' } },
          },
        ],
      },
    };
    const invoice = StripeInvoiceSchema.parse(object);
    expect(invoiceOrgId(invoice)).toBe(ORG);
    const data = InvoiceDataSchema.parse(invoiceData(invoice, event(object)));
    expect(data).toMatchObject({
      subscriptionId: 'sub_1',
      periodStart: '2026-10-01T00:00:00.000Z',
      periodEnd: '2026-11-01T00:00:00.000Z',
      at: '2026-11-01T00:00:00.000Z',
      lines: [{ priceId: 'price_seat', quantity: 1, amount: 1_200, periodStart: '2026-11-01T00:00:00.000Z' }],
    });
  });

  it('reads an invoice of an older API version: subscription and price at the top, customer expanded', () => {
    const object = {
      ...base,
      customer: { id: 'cus_QrmTest', object: 'customer' },
      subscription: 'sub_old',
      subscription_details: { metadata: { orgId: ORG.toUpperCase() } },
      lines: {
        data: [
          {
            amount: 1_200,
            description: null,
            quantity: null,
            period: { start: 1, end: 2 },
            price: { id: 'price_old' },
          },
        ],
      },
    };
    const invoice = StripeInvoiceSchema.parse(object);
    expect(invoiceOrgId(invoice)).toBe(ORG);
    expect(invoiceData(invoice, event(object))).toMatchObject({
      customerId: 'cus_QrmTest',
      subscriptionId: 'sub_old',
      lines: [{ priceId: 'price_old', quantity: null, description: null }],
    });
  });

  it('names no organization when the metadata holds none, or something that is not an id', () => {
    const lines = { data: [] };
    expect(invoiceOrgId(StripeInvoiceSchema.parse({ ...base, lines, parent: null }))).toBeUndefined();
    expect(
      invoiceOrgId(
        StripeInvoiceSchema.parse({ ...base, lines, subscription_details: { metadata: { orgId: 'acme' } } }),
      ),
    ).toBeUndefined();
    const subscription = { id: 'sub_1', object: 'subscription', customer: 'cus_1', status: 'canceled' };
    expect(subscriptionOrgId(StripeSubscriptionSchema.parse({ ...subscription, metadata: { orgId: ORG } }))).toBe(ORG);
    expect(subscriptionOrgId(StripeSubscriptionSchema.parse({ ...subscription, metadata: null }))).toBeUndefined();
  });
});
