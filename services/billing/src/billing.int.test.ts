/**
 * The billing consumer against stripe-mock through the official SDK, on real PostgreSQL and NATS:
 * every call counted at a recording proxy, with its parameters and Idempotency-Key.
 */
import { randomUUID } from 'node:crypto';
import { streamIds } from '@quorum/domain';
import { openConsumerTestEnv, waitFor, type ConsumerTestEnv } from '@quorum/relay/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Billing } from './billing';
import {
  TEST_METER_EVENT,
  changePlan,
  changeSeats,
  closeOrganization,
  createOrganization,
  currentPeriod,
  meetingUsage,
  testBilling,
} from './testing/billing-test-env';
import { startStripeProxy, type RecordedCall, type StripeProxy } from './testing/stripe-proxy';

let env: ConsumerTestEnv;
let proxy: StripeProxy;
let billing: Billing;

function startBilling(durableName = 'billing') {
  return testBilling(env, proxy.url, { durableName });
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

/** Waits until the billing stream records `n` usage reports: the sync appends them after its calls. */
async function reportedEvents(orgId: string, n: number) {
  const reported = async () => (await billingEvents(orgId)).filter((e) => e.type === 'billing.usage_reported');
  await waitFor(
    async () => (await reported()).length >= n,
    20_000,
    async () => `${(await reported()).length} of ${n} reported`,
  );
  return reported();
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
    await reportedEvents(orgId, 3);
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

  it('reports everything once Stripe answers again after a while of 500s and 429s with Retry-After', async () => {
    const orgId = randomUUID();
    await createOrganization(env.store, orgId, 'pro', new Date(Date.now() + 86_400_000));
    await waitFor(
      async () => (await account(orgId))?.subscription_id != null,
      20_000,
      () => 'subscription',
    );
    proxy.fail({ status: 500, times: 6, match: (c) => c.path === '/v1/billing/meter_events' });
    proxy.fail({
      status: 429,
      times: 4,
      headers: { 'retry-after': '1' },
      match: (c) => c.path === '/v1/billing/meter_events',
    });
    const usage = meetingUsage(
      orgId,
      Array.from({ length: 20 }, (_, i) => 30 + i),
    );
    await env.store.appendToStream(streamIds.usage(orgId, currentPeriod()), usage);
    const ids = new Set(usage.map((u) => u.id));
    const ok = () => meterCalls(ids).filter((c) => c.status === 200);
    await waitFor(
      () => ok().length === usage.length,
      60_000,
      () => `${ok().length} of ${usage.length} reported`,
    );
    proxy.clearFailures();
    const attempts = meterCalls(ids);
    expect(attempts.filter((c) => c.status === 500)).toHaveLength(6);
    expect(attempts.filter((c) => c.status === 429)).toHaveLength(4);
    // Each usage event reported once; every repeat was a retry under the same key and identifier.
    expect(new Set(ok().map((c) => c.params.identifier)).size).toBe(usage.length);
    for (const c of attempts) expect(c.idempotencyKey).toBe(`quorum-usage-${c.params.identifier}`);
    // After each 429 with Retry-After: 1, the same request came again no sooner than that second.
    for (const [i, c] of attempts.entries()) {
      if (c.status !== 429) continue;
      const again = attempts.slice(i + 1).find((n) => n.params.identifier === c.params.identifier)!;
      expect(again.at - c.at).toBeGreaterThanOrEqual(950);
    }
    expect(await reportedEvents(orgId, usage.length)).toHaveLength(usage.length);
  }, 90_000);

  it('holds a call Stripe refuses (400) as a dead letter, and sends it again when an operator retries', async () => {
    const orgId = randomUUID();
    await createOrganization(env.store, orgId, 'pro', new Date(Date.now() + 86_400_000));
    await waitFor(
      async () => (await account(orgId))?.subscription_id != null,
      20_000,
      () => 'subscription',
    );
    const usage = meetingUsage(orgId, [120, 60, 30]);
    const refusedId = usage[1]!.id;
    proxy.fail({
      status: 400,
      body: { error: { type: 'invalid_request_error', code: 'parameter_invalid_integer', message: 'Invalid value.' } },
      match: (c) => c.path === '/v1/billing/meter_events' && c.params.identifier === refusedId,
    });
    await env.store.appendToStream(streamIds.usage(orgId, currentPeriod()), usage);
    const ids = new Set(usage.map((u) => u.id));
    await waitFor(
      async () => (await billing.deadLetters()).some((d) => d.causeEventId === refusedId),
      20_000,
      () => 'dead letter',
    );
    await waitFor(
      () => meterCalls(ids).filter((c) => c.status === 200).length === 2,
      20_000,
      () => 'the others',
    );
    const letter = (await billing.deadLetters()).find((d) => d.causeEventId === refusedId)!;
    expect(letter).toMatchObject({
      operation: 'usage',
      orgId,
      causeType: 'usage.recorded',
      attempts: 1,
      error: { type: 'StripeInvalidRequestError', code: 'parameter_invalid_integer', statusCode: 400 },
    });
    // A refusal is final for that attempt: sent once, not retried by the sync.
    expect(meterCalls(new Set([refusedId]))).toHaveLength(1);
    const failedEvents = (await billingEvents(orgId)).filter((e) => e.type === 'billing.sync_failed');
    expect(failedEvents.map((e) => (e.data as { cause: { eventId: string } }).cause.eventId)).toEqual([refusedId]);

    // Still refused: the letter records a second attempt under a new key.
    expect(await billing.retry(refusedId, 'usage', 'operator@example.com')).toBe('refused');
    proxy.clearFailures();
    // The finance page asks; the billing process carries it out.
    await env.sql.query(
      `UPDATE billing_dead_letters SET requested_action = 'retry', requested_by = 'finance@example.com', requested_at = now()
        WHERE cause_event_id = $1`,
      [refusedId],
    );
    await waitFor(
      async () => !(await billing.deadLetters()).some((d) => d.causeEventId === refusedId),
      20_000,
      () => 'the requested retry',
    );
    const sends = meterCalls(new Set([refusedId]));
    expect(sends.map((c) => [c.status, c.idempotencyKey])).toEqual([
      [400, `quorum-usage-${refusedId}`],
      [400, `quorum-usage-${refusedId}-2`],
      [200, `quorum-usage-${refusedId}-3`],
    ]);
    expect(sends[2]!.params['payload[value]']).toBe('1');
    const resolved = (await billing.deadLetters({ all: true })).find((d) => d.causeEventId === refusedId)!;
    expect(resolved).toMatchObject({ resolution: 'retried', resolvedBy: 'finance@example.com', attempts: 2 });
    expect(await reportedEvents(orgId, 3)).toHaveLength(3);
    await expect(billing.retry(refusedId, 'usage', 'operator@example.com')).rejects.toThrow(/no open dead letter/);

    // A skip is recorded as an event and the call is never sent.
    const more = meetingUsage(orgId, [45]);
    proxy.fail({ status: 400, match: (c) => c.params.identifier === more[0]!.id });
    await env.store.appendToStream(streamIds.usage(orgId, currentPeriod()), more);
    await waitFor(
      async () => (await billing.deadLetters()).some((d) => d.causeEventId === more[0]!.id),
      20_000,
      () => 'the second dead letter',
    );
    proxy.clearFailures();
    await billing.skip(more[0]!.id, 'usage', 'operator@example.com', 'Credited by hand.');
    expect(meterCalls(new Set([more[0]!.id]))).toHaveLength(1);
    const skipped = (await billingEvents(orgId)).filter((e) => e.type === 'billing.sync_skipped');
    expect(skipped.map((e) => e.data)).toMatchObject([
      { operation: 'usage', by: 'operator@example.com', reason: 'Credited by hand.', cause: { eventId: more[0]!.id } },
    ]);
  }, 60_000);
});
