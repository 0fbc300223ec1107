/**
 * The billing consumer against stripe-mock through the official SDK, on real PostgreSQL and NATS:
 * every call counted at a recording proxy, with its parameters and Idempotency-Key.
 */
import { randomUUID } from 'node:crypto';
import { streamIds } from '@quorum/domain';
import { logger, openConsumerTestEnv, waitFor, type ConsumerTestEnv } from '@quorum/relay/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Billing } from './billing';
import { localCallRateLimit } from './rate-limit';
import { createStripeClient, StripeCalls } from './stripe-calls';
import {
  TEST_METER_EVENT,
  TEST_PRICES,
  changePlan,
  changeSeats,
  closeOrganization,
  createOrganization,
  currentPeriod,
  meetingUsage,
} from './testing/billing-test-env';
import { startStripeProxy, type RecordedCall, type StripeProxy } from './testing/stripe-proxy';

let env: ConsumerTestEnv;
let proxy: StripeProxy;
let billing: Billing;

function startBilling(durableName = 'billing') {
  const calls = new StripeCalls(createStripeClient('sk_test_123', proxy.url), {
    limit: localCallRateLimit(100),
    logger,
    retry: { baseDelayMs: 20, maxDelayMs: 500 },
  });
  return new Billing({
    store: env.store,
    bus: env.bus,
    sql: env.sql,
    calls,
    prices: TEST_PRICES,
    meterEventName: TEST_METER_EVENT,
    logger,
    durableName,
  });
}

beforeAll(async () => {
  env = await openConsumerTestEnv('billing-test', 'billing');
  proxy = await startStripeProxy();
  billing = startBilling();
  await billing.start();
}, 60_000);

afterAll(async () => {
  await billing?.close();
  await proxy?.close();
  await env?.close();
});

const callsOf = (orgId: string, customerId?: string) =>
  proxy.calls.filter(
    (c) =>
      c.params['metadata[orgId]'] === orgId ||
      (customerId !== undefined &&
        (c.params.customer === customerId || c.params['payload[stripe_customer_id]'] === customerId)),
  );

async function account(orgId: string) {
  const { rows } = await env.sql.query<Record<string, unknown>>(`SELECT * FROM billing_accounts WHERE org_id = $1`, [
    orgId,
  ]);
  return rows[0];
}

async function billingEvents(orgId: string) {
  return env.store.readStream(streamIds.billing(orgId));
}

const meterCalls = (identifiers: ReadonlySet<string>) =>
  proxy.calls.filter((c) => c.path === '/v1/billing/meter_events' && identifiers.has(c.params.identifier!));

describe('billing sync', () => {
  it("keeps a paid organization's customer, subscription, seats, plan and minutes in Stripe, each call once", async () => {
    const orgId = randomUUID();
    const trialEnd = new Date(Date.now() + 14 * 86_400_000);
    const created = await createOrganization(env.store, orgId, 'pro', trialEnd);
    await waitFor(
      async () => (await account(orgId))?.subscription_id != null,
      20_000,
      () => JSON.stringify(proxy.calls.slice(-3)),
    );

    const customerCalls = proxy.calls.filter(
      (c) => c.path === '/v1/customers' && c.params['metadata[orgId]'] === orgId,
    );
    expect(customerCalls).toHaveLength(1);
    expect(customerCalls[0]!.idempotencyKey).toBe(`quorum-customer-${created}`);
    expect(customerCalls[0]!.params.email).toBe(`owner-${orgId.slice(0, 8)}@example.com`);
    const subCalls = proxy.calls.filter((c) => c.path === '/v1/subscriptions' && c.params['metadata[orgId]'] === orgId);
    expect(subCalls).toHaveLength(1);
    expect(subCalls[0]!.params).toMatchObject({
      'items[0][price]': 'price_pro_seat',
      'items[0][quantity]': '0',
      'items[1][price]': 'price_pro_minutes',
      trial_end: String(Math.floor(trialEnd.getTime() / 1000)),
      proration_behavior: 'create_prorations',
    });
    expect(subCalls[0]!.idempotencyKey).toMatch(new RegExp(`^quorum-subscription-${created}-[0-9a-f]{16}$`));
    const first = (await account(orgId))!;
    const subscriptionId = first.subscription_id as string;
    const customerId = first.customer_id as string;
    const updates = () => proxy.calls.filter((c) => c.path === `/v1/subscriptions/${subscriptionId}`);
    const before = updates().length;

    await changeSeats(env.store, orgId, 'seats.purchased', 3, 3);
    await waitFor(
      async () => (await account(orgId))?.seats === 3,
      20_000,
      () => 'seats 3',
    );
    await changeSeats(env.store, orgId, 'seats.released', 1, 2);
    await waitFor(
      async () => (await account(orgId))?.seats === 2,
      20_000,
      () => 'seats 2',
    );
    const seatUpdates = updates().slice(before);
    expect(seatUpdates.map((c) => [c.params['items[0][id]'], c.params['items[0][quantity]']])).toEqual([
      [first.seat_item_id, '3'],
      [first.seat_item_id, '2'],
    ]);
    expect(seatUpdates.every((c) => c.params.proration_behavior === 'create_prorations')).toBe(true);

    await changePlan(env.store, orgId, 'pro', 'business');
    await waitFor(
      async () => (await account(orgId))?.plan === 'business',
      20_000,
      () => 'plan business',
    );
    const swap = updates().at(-1)!;
    expect(swap.params).toMatchObject({
      'items[0][id]': first.seat_item_id,
      'items[0][price]': 'price_business_seat',
      'items[0][quantity]': '2',
      'items[1][id]': first.metered_item_id,
      'items[1][deleted]': 'true',
      'items[2][price]': 'price_business_minutes',
    });

    const usage = meetingUsage(orgId, [90, 30, 45, 100, 15]);
    const participant = meetingUsage(orgId, [300], 'participant_minutes');
    await env.store.appendToStream(streamIds.usage(orgId, currentPeriod()), [...usage, ...participant]);
    const ids = new Set(usage.map((u) => u.id));
    await waitFor(
      () => meterCalls(ids).length === usage.length,
      20_000,
      () => `${meterCalls(ids).length} meter events`,
    );
    const meter = meterCalls(ids);
    expect(meter.map((c) => c.params['payload[value]'])).toEqual(['2', '0', '1', '2', '0']);
    expect(meter.map((c) => Number(c.params['payload[value]'])).reduce((a, b) => a + b)).toBe(Math.ceil(280 / 60));
    for (const c of meter) {
      expect(c.params.event_name).toBe(TEST_METER_EVENT);
      expect(c.params['payload[stripe_customer_id]']).toBe(customerId);
      expect(c.idempotencyKey).toBe(`quorum-usage-${c.params.identifier}`);
    }
    expect(meterCalls(new Set(participant.map((p) => p.id)))).toHaveLength(0);

    await closeOrganization(env.store, orgId);
    await waitFor(
      async () => (await account(orgId))?.cancel_at_period_end === true,
      20_000,
      () => 'cancelled',
    );
    expect(updates().at(-1)!.params).toEqual({ cancel_at_period_end: 'true' });

    const types = (await billingEvents(orgId)).map((e) => e.type);
    expect(types.filter((t) => t === 'billing.customer_linked')).toHaveLength(1);
    expect(types.filter((t) => t === 'billing.subscription_synced')).toHaveLength(5);
    expect(types.filter((t) => t === 'billing.usage_reported')).toHaveLength(5);

    // Every call went once: no two calls of this organization share an Idempotency-Key.
    const all: RecordedCall[] = [...callsOf(orgId, customerId), ...updates()];
    const keys = all.map((c) => c.idempotencyKey);
    expect(new Set(keys).size).toBe(new Set(all).size);
  }, 90_000);

  it('answers a replay from the start, by a second instance on a durable of its own, with no call to Stripe', async () => {
    const orgId = randomUUID();
    await createOrganization(env.store, orgId, 'business', new Date(Date.now() + 86_400_000));
    await changeSeats(env.store, orgId, 'seats.purchased', 5, 5);
    const usage = meetingUsage(orgId, [61, 59, 120]);
    await env.store.appendToStream(streamIds.usage(orgId, currentPeriod()), usage);
    await waitFor(
      () => meterCalls(new Set(usage.map((u) => u.id))).length === 3,
      20_000,
      () => 'meter events',
    );
    await waitFor(
      async () => (await account(orgId))?.seats === 5,
      20_000,
      () => 'seats 5',
    );
    const sent = proxy.calls.length;
    const eventsBefore = (await billingEvents(orgId)).length;

    // The account table is the sync's cache: lost, it is folded again from the billing stream.
    await env.sql.query(`DELETE FROM billing_accounts WHERE org_id = $1`, [orgId]);
    const replay = startBilling(`billing-replay-${randomUUID().slice(0, 8)}`);
    await replay.start();
    try {
      await closeOrganization(env.store, orgId);
      await waitFor(
        async () => (await account(orgId))?.cancel_at_period_end === true,
        20_000,
        () => 'cancelled',
      );
      // Both instances saw the close; one call answered it, under one key.
      const after = proxy.calls.slice(sent);
      expect(after).toHaveLength(1);
      expect(after[0]!.params).toEqual({ cancel_at_period_end: 'true' });
      expect((await account(orgId))!.seats).toBe(5);
      expect((await billingEvents(orgId)).length).toBe(eventsBefore + 1);
    } finally {
      await replay.close();
    }
  }, 60_000);
});
