/**
 * Quorum with Stripe connected (stripe-mock behind a recording proxy, and Stripe's webhooks
 * signed with the test secret): an organization's whole life through the API — created on a paid
 * plan with its trial, seats bought and released, the plan changed, meetings metered — reaches
 * Stripe through the all-in-one process's billing sync, each call once, under keys derived from
 * the events; then what Stripe reports moves it: an invoice paid (active), a failed payment (past
 * due), the subscription deleted (suspended), and paid again (active).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { startStripeProxy, testStripeEnv, type StripeProxy } from '@quorum/billing/testing';
import { streamIds } from '@quorum/domain';
import { afterAll, beforeAll, expect, it } from 'vitest';
import Stripe from 'stripe';
import { createOrg, signUp } from '../support/people';
import { invoiceEvent, subscriptionDeleted } from '../support/stripe-events';
import { startTestQuorum, type TestQuorum } from '../support/test-quorum';
import { appendUsage } from '../support/usage';

const WEBHOOK_SECRET = `whsec_${randomBytes(24).toString('base64url')}`;
let proxy: StripeProxy;
let q: TestQuorum;

beforeAll(async () => {
  proxy = await startStripeProxy();
  q = await startTestQuorum('stripesync', {
    ...testStripeEnv(proxy.url),
    STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
    BILLING_DUNNING_SWEEP_SECONDS: '0',
  });
}, 120_000);

afterAll(async () => {
  await q?.stop();
  await proxy?.close();
});

/** Delivers a Stripe event as Stripe does: pretty-printed JSON, signed with the endpoint's secret. */
async function deliver(event: object): Promise<number> {
  const text = JSON.stringify(event, null, 2);
  const res = await fetch(`${q.baseUrl}/webhooks/stripe`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json; charset=utf-8',
      'stripe-signature': Stripe.webhooks.generateTestHeaderString({ payload: text, secret: WEBHOOK_SECRET }),
    },
    body: text,
  });
  await res.arrayBuffer();
  return res.status;
}

async function until<T>(what: string, read: () => Promise<T | undefined> | T | undefined): Promise<T> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

it('follows an organization from its creation through seats, a plan change and metered minutes into Stripe', async () => {
  const owner = await signUp(q.http, 'owner');
  const { orgId } = await createOrg(q.http, owner, 'pro');
  const customer = await until('the customer', () =>
    proxy.calls.find((c) => c.path === '/v1/customers' && c.params['metadata[orgId]'] === orgId),
  );
  const subscription = await until('the subscription', () =>
    proxy.calls.find((c) => c.path === '/v1/subscriptions' && c.params['metadata[orgId]'] === orgId),
  );
  expect(subscription.params).toMatchObject({
    'items[0][price]': 'price_pro_seat',
    'items[1][price]': 'price_pro_minutes',
  });
  expect(Number(subscription.params.trial_end)).toBeGreaterThan(Date.now() / 1000);

  const billingEvents = () => q.app.store.readStream(streamIds.billing(orgId));
  const synced = await until('the subscription synced', async () =>
    (await billingEvents()).find((e) => e.type === 'billing.subscription_synced'),
  );
  const subscriptionId = (synced.data as { subscriptionId: string }).subscriptionId;
  const updates = () => proxy.calls.filter((c) => c.path === `/v1/subscriptions/${subscriptionId}`);

  await q.http.mutation('seats.purchase', { orgId, quantity: 4 }, { token: owner.token });
  await until('4 seats', () => updates().find((c) => c.params['items[0][quantity]'] === '4'));
  await q.http.mutation('seats.release', { orgId, quantity: 1 }, { token: owner.token });
  await until('3 seats', () => updates().find((c) => c.params['items[0][quantity]'] === '3'));
  await q.http.mutation('org.changePlan', { orgId, plan: 'business' }, { token: owner.token });
  const swap = await until('the price swap', () =>
    updates().find((c) => c.params['items[0][price]'] === 'price_business_seat'),
  );
  expect(swap.params).toMatchObject({ 'items[1][deleted]': 'true', 'items[2][price]': 'price_business_minutes' });

  const now = Date.now();
  const hour = new Date(
    Math.max(Date.UTC(new Date(now).getUTCFullYear(), new Date(now).getUTCMonth(), 1), now - 3_600_000),
  );
  const { events } = await appendUsage(q.app.store, orgId, [
    {
      meter: 'meeting_minutes',
      sessionId: randomUUID(),
      hostUserId: randomUUID(),
      from: new Date(Math.floor(hour.getTime() / 1000) * 1000).toISOString(),
      seconds: 150,
    },
    {
      meter: 'participant_minutes',
      sessionId: randomUUID(),
      hostUserId: randomUUID(),
      from: new Date(Math.floor(hour.getTime() / 1000) * 1000).toISOString(),
      seconds: 150,
    },
  ]);
  const meetingEvent = events.find((e) => e.data.meter === 'meeting_minutes')!;
  const meter = await until('the meter event', () =>
    proxy.calls.find((c) => c.path === '/v1/billing/meter_events' && c.params.identifier === meetingEvent.id),
  );
  expect(meter.params['payload[value]']).toBe('3');
  expect(meter.params['payload[stripe_customer_id]']).toBeTruthy();

  // Each call once: no Idempotency-Key repeats among this organization's calls.
  const mine = [customer, subscription, ...updates(), meter];
  expect(new Set(mine.map((c) => c.idempotencyKey)).size).toBe(mine.length);
  expect(
    proxy.calls.filter(
      (c) => c.path === '/v1/billing/meter_events' && events.some((e) => e.id === c.params.identifier),
    ),
  ).toHaveLength(1);
  const types = (await billingEvents()).map((e) => e.type);
  expect(types.filter((t) => t === 'billing.customer_linked')).toHaveLength(1);
  expect(types.filter((t) => t === 'billing.subscription_synced')).toHaveLength(4);
  await until('the usage reported', async () =>
    (await billingEvents()).find((e) => e.type === 'billing.usage_reported'),
  );

  // The owner's console: billed through Stripe, under the Customer the sync linked.
  const linked = (await billingEvents()).find((e) => e.type === 'billing.customer_linked')!;
  const customerId = (linked.data as { customerId: string }).customerId;
  const period = `${new Date().getUTCFullYear()}${String(new Date().getUTCMonth() + 1).padStart(2, '0')}`;
  const preview = await until('the preview with its customer', async () => {
    const p = await q.http.query('billing.preview', { orgId, period }, { token: owner.token });
    return p.stripe.customerId ? p : undefined;
  });
  expect(preview.stripe).toEqual({ connected: true, customerId, invoices: [] });

  // What Stripe reports moves the organization: paid, a failed payment, the subscription deleted, paid again.
  const status = async () =>
    (await q.http.query('org.get', { orgId }, { token: owner.token })) as unknown as { status: string };
  const becomes = (wanted: string) =>
    until(`status ${wanted}`, async () => ((await status()).status === wanted ? true : undefined));
  expect(
    await deliver(invoiceEvent('invoice.paid', { customer: customerId, orgId, status: 'paid', amountPaid: 6_900 })),
  ).toBe(200);
  await becomes('active');
  expect(
    await deliver(
      invoiceEvent('invoice.payment_failed', { customer: customerId, orgId, status: 'open', amountPaid: 0 }),
    ),
  ).toBe(200);
  await becomes('past_due');
  expect(await deliver(subscriptionDeleted(customerId, orgId))).toBe(200);
  await becomes('suspended');
  expect(
    await deliver(invoiceEvent('invoice.paid', { customer: customerId, orgId, status: 'paid', amountPaid: 6_900 })),
  ).toBe(200);
  await becomes('active');
  const invoices = (await billingEvents()).filter((e) => e.type.startsWith('billing.invoice_')).map((e) => e.type);
  expect(invoices).toEqual(['billing.invoice_paid', 'billing.invoice_payment_failed', 'billing.invoice_paid']);
}, 90_000);
