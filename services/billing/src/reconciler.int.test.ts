/**
 * Reconciliation against stripe-mock through the recording proxy, on real PostgreSQL and NATS:
 * the proxy keeps the meter events and seat quantities it forwarded, as Stripe would, so the
 * figures Stripe answers are those of the calls the sync made, unless a test chooses others.
 */
import { randomUUID } from 'node:crypto';
import { migrateReadModelSchema, readModelSchema } from '@quorum/db';
import { streamIds } from '@quorum/domain';
import { openConsumerTestEnv, waitFor, type ConsumerTestEnv } from '@quorum/relay/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Billing } from './billing';
import { reconciliationEventId } from './billing-ids';
import { createStripeClient } from './stripe-calls';
import { changeSeats, createOrganization, currentPeriod, meetingUsage, testBilling } from './testing/billing-test-env';
import { startStripeProxy, type StripeProxy } from './testing/stripe-proxy';

const METER_ID = 'mtr_test_quorum_minutes';

let env: ConsumerTestEnv;
let proxy: StripeProxy;
let billing: Billing;

function startBilling(options: { durableName?: string; reconcileEveryMs?: number } = {}) {
  return testBilling(env, proxy.url, {
    meterId: METER_ID,
    reconcileEveryMs: options.reconcileEveryMs ?? 0,
    durableName: options.durableName ?? 'billing',
  });
}

beforeAll(async () => {
  env = await openConsumerTestEnv('reconcile-test', 'billing');
  proxy = await startStripeProxy();
  billing = startBilling();
  await billing.start();
}, 60_000);

afterAll(async () => {
  await billing?.close();
  await proxy?.close();
  await env?.close();
});

async function account(orgId: string) {
  const { rows } = await env.sql.query<Record<string, unknown>>(`SELECT * FROM billing_accounts WHERE org_id = $1`, [
    orgId,
  ]);
  return rows[0];
}

const billingEvents = (orgId: string) => env.store.readStream(streamIds.billing(orgId));
const reconciliations = async (orgId: string) =>
  (await billingEvents(orgId)).filter((e) => e.type === 'billing.reconciliation_completed');

/** A pro organization with `seats` seats and `usage` seconds of meetings this month, all synced. */
async function linkedOrg(seats: number, usage: readonly number[], refuse: readonly number[] = []) {
  const orgId = randomUUID();
  await createOrganization(env.store, orgId, 'pro', new Date(Date.now() + 86_400_000));
  await changeSeats(env.store, orgId, 'seats.purchased', seats, seats);
  await waitFor(
    async () => (await account(orgId))?.seats === seats,
    20_000,
    () => `seats ${seats}`,
  );
  const events = meetingUsage(orgId, usage);
  for (const i of refuse) {
    const id = events[i]!.id;
    proxy.fail({ status: 400, match: (c) => c.path === '/v1/billing/meter_events' && c.params.identifier === id });
  }
  if (events.length > 0) await env.store.appendToStream(streamIds.usage(orgId, currentPeriod()), events);
  const settled = async () =>
    (await billingEvents(orgId)).filter((e) => e.type === 'billing.usage_reported' || e.type === 'billing.sync_failed')
      .length;
  await waitFor(
    async () => (await settled()) === usage.length,
    20_000,
    async () => `${await settled()} of ${usage.length} usage events answered`,
  );
  const a = (await account(orgId))!;
  return { orgId, usage: events, customerId: a.customer_id as string, seatItemId: a.seat_item_id as string };
}

describe('reconciliation', () => {
  it('finds no difference when Quorum, what was reported, the meter and the seat item agree, and appends once per run', async () => {
    const { orgId, customerId } = await linkedOrg(3, [90, 30, 45, 100]);
    const period = currentPeriod();
    const done = await billing.reconciler!.reconcileOrg(orgId, period, 'run-1');
    expect(done).toMatchObject({
      orgId,
      eventId: reconciliationEventId(orgId, period, 'run-1'),
      appended: true,
      data: {
        period,
        run: 'run-1',
        customerId,
        figures: {
          quorumMinutes: 5,
          reportedMinutes: 5,
          stripeMeterMinutes: 5,
          invoiceMinutes: null,
          purchasedSeats: 3,
          subscriptionSeats: 3,
        },
        differences: [],
      },
    });
    const summaries = proxy.calls.filter((c) => c.path === `/v1/billing/meters/${METER_ID}/event_summaries`).at(-1)!;
    expect(summaries.params).toMatchObject({ customer: customerId });
    expect(summaries.idempotencyKey).toBeNull();

    // The same run again: its event stands, and Stripe is not asked again.
    const sent = proxy.calls.length;
    const again = await billing.reconciler!.reconcileOrg(orgId, period, 'run-1');
    expect(again).toMatchObject({ appended: false, eventId: done!.eventId, data: done!.data });
    expect(proxy.calls.length).toBe(sent);
    // Two instances running it at once append it once too.
    const other = startBilling({ durableName: `other-${randomUUID().slice(0, 8)}` });
    const both = await Promise.all([
      billing.reconciler!.reconcileOrg(orgId, period, 'run-2'),
      other.reconciler!.reconcileOrg(orgId, period, 'run-2'),
    ]).finally(() => other.close());
    expect(both.filter((r) => r!.appended)).toHaveLength(1);
    const events = await reconciliations(orgId);
    expect(events.map((e) => e.id)).toEqual([done!.eventId, reconciliationEventId(orgId, period, 'run-2')]);
  }, 60_000);

  it('names a dead-lettered usage event behind the minutes not reported, and Stripe’s meter missing them', async () => {
    const { orgId, usage } = await linkedOrg(1, [120, 61, 30], [1]);
    const refused = usage[1]!.id;
    expect((await billing.deadLetters()).some((d) => d.causeEventId === refused)).toBe(true);
    const done = await billing.reconciler!.reconcileOrg(orgId, currentPeriod(), 'run-1');
    // 120 s → 2 min; +61 s → ⌈181/60⌉ = 4 (2 more, refused); +30 s → ⌈211/60⌉ = 4 (0 more).
    expect(done!.data.figures).toMatchObject({ quorumMinutes: 4, reportedMinutes: 2, stripeMeterMinutes: 2 });
    const byWhat = new Map(done!.data.differences.map((d) => [d.compares, d]));
    expect([...byWhat.keys()]).toEqual(['reported_minutes', 'stripe_meter_minutes']);
    for (const d of byWhat.values()) {
      expect(d).toMatchObject({ quorum: 4, other: 2, moreEvents: 0 });
      expect(d.events).toEqual([
        { eventId: refused, type: 'usage.recorded', note: expect.stringMatching(/^2 min; dead letter open/) },
      ]);
    }

    // Skipped, the event is named as such.
    await billing.skip(refused, 'usage', 'finance@example.com', 'Credited by hand.');
    const later = await billing.reconciler!.reconcileOrg(orgId, currentPeriod(), 'run-2');
    expect(later!.data.differences[0]!.events[0]!.note).toBe(
      '2 min; skipped by finance@example.com: Credited by hand.',
    );
  }, 60_000);

  it("reports Stripe's meter off when it sums other minutes than were reported", async () => {
    const { orgId, customerId } = await linkedOrg(2, [60, 60]);
    proxy.answer(
      (c) => c.path === `/v1/billing/meters/${METER_ID}/event_summaries` && c.params.customer === customerId,
      {
        object: 'list',
        has_more: false,
        url: `/v1/billing/meters/${METER_ID}/event_summaries`,
        data: [{ id: 'mtrusg_off', object: 'billing.meter_event_summary', aggregated_value: 7, meter: METER_ID }],
      },
    );
    try {
      const done = await billing.reconciler!.reconcileOrg(orgId, currentPeriod(), 'run-1');
      expect(done!.data.figures).toMatchObject({ quorumMinutes: 2, reportedMinutes: 2, stripeMeterMinutes: 7 });
      expect(done!.data.differences).toEqual([
        {
          compares: 'stripe_meter_minutes',
          quorum: 2,
          other: 7,
          detail: expect.stringContaining("Stripe's meter sums 7 minutes where 2 minutes were reported"),
          events: [],
          moreEvents: 0,
        },
      ]);
    } finally {
      proxy.clearFailures();
    }
  }, 60_000);

  it('finds seats changed in Stripe by hand, and seat events the sync could not send', async () => {
    const { orgId, seatItemId } = await linkedOrg(3, []);
    const lastSync = (await billingEvents(orgId)).filter((e) => e.type === 'billing.subscription_synced').at(-1)!;
    // Someone sets the seat item's quantity in Stripe's dashboard.
    await createStripeClient('sk_test_123', proxy.url).subscriptionItems.update(seatItemId, { quantity: 9 });
    const done = await billing.reconciler!.reconcileOrg(orgId, currentPeriod(), 'run-1');
    expect(done!.data.figures).toMatchObject({ purchasedSeats: 3, subscriptionSeats: 9 });
    expect(done!.data.differences).toEqual([
      {
        compares: 'subscription_seats',
        quorum: 3,
        other: 9,
        detail: 'The seat item was changed in Stripe outside Quorum: the sync left 3 seats.',
        events: [{ eventId: lastSync.id, type: 'billing.subscription_synced', note: expect.stringContaining('3') }],
        moreEvents: 0,
      },
    ]);

    // A purchase Stripe refuses: the account and Stripe both lag behind it.
    await createStripeClient('sk_test_123', proxy.url).subscriptionItems.update(seatItemId, { quantity: 3 });
    proxy.fail({
      status: 400,
      match: (c) => c.path.startsWith('/v1/subscriptions/') && c.params['items[0][quantity]'] === '5',
    });
    try {
      await changeSeats(env.store, orgId, 'seats.purchased', 2, 5);
      await waitFor(
        async () => (await billing.deadLetters()).some((d) => d.orgId === orgId && d.operation === 'subscription'),
        20_000,
        () => 'the seat dead letter',
      );
    } finally {
      proxy.clearFailures();
    }
    const purchase = (await env.store.readStream(streamIds.seats(orgId))).at(-1)!;
    const behind = await billing.reconciler!.reconcileOrg(orgId, currentPeriod(), 'run-2');
    expect(
      behind!.data.differences.map((d) => [d.compares, d.quorum, d.other, d.events.map((e) => e.eventId)]),
    ).toEqual([
      ['account_seats', 5, 3, [purchase.id]],
      ['subscription_seats', 5, 3, [purchase.id]],
    ]);
    expect(behind!.data.differences[0]!.events[0]!.note).toMatch(/^5 seats; dead letter open/);
  }, 60_000);

  it("compares the invoice's metered minutes of the month, once the read model holds the invoice", async () => {
    const { orgId, customerId } = await linkedOrg(1, [600]);
    await migrateReadModelSchema(env.sql, 1);
    const month = currentPeriod();
    const from = new Date(Date.UTC(Number(month.slice(0, 4)), Number(month.slice(4)) - 1, 1)).toISOString();
    const to = new Date(Date.UTC(Number(month.slice(0, 4)), Number(month.slice(4)), 1)).toISOString();
    const line = (priceId: string, quantity: number) => ({
      description: null,
      priceId,
      quantity,
      amount: 0,
      periodStart: from,
      periodEnd: to,
    });
    // As the projector writes it from billing.invoice_finalized.
    await env.sql.query(
      `INSERT INTO ${readModelSchema(1)}.billing_invoices (invoice_id, org_id, customer_id, subscription_id, number, status,
         currency, subtotal, total, amount_due, amount_paid, hosted_invoice_url, period_start, period_end, lines,
         reported_at, stripe_event_id, event_id, position)
       VALUES ($1, $2, $3, NULL, NULL, 'open', 'usd', 0, 0, 0, 0, NULL, $4, $5, $6, now(), 'evt_1', $7, 1)`,
      [
        `in_${orgId.slice(0, 12)}`,
        orgId,
        customerId,
        from,
        to,
        JSON.stringify([line('price_pro_seat', 1), line('price_pro_minutes', 8)]),
        randomUUID(),
      ],
    );
    const done = await billing.reconciler!.reconcileOrg(orgId, month, 'run-1');
    expect(done!.data.figures).toMatchObject({ quorumMinutes: 10, stripeMeterMinutes: 10, invoiceMinutes: 8 });
    expect(done!.data.differences).toMatchObject([{ compares: 'invoice_minutes', quorum: 10, other: 8 }]);
  }, 60_000);

  it('runs on its schedule in the billing process, for the month just ended and this one', async () => {
    const { orgId } = await linkedOrg(1, [60]);
    // A second instance sharing the durable: it reconciles at start, then once per hour.
    const scheduled = startBilling({ reconcileEveryMs: 3_600_000 });
    await scheduled.start();
    try {
      await waitFor(
        async () => (await reconciliations(orgId)).length === 2,
        30_000,
        async () => `${(await reconciliations(orgId)).length} reconciliations`,
      );
    } finally {
      await scheduled.close();
    }
    const slot = new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000).toISOString();
    const data = (await reconciliations(orgId)).map((e) => e.data as { period: string; run: string });
    expect(data.map((d) => d.run)).toEqual([`scheduled-${slot}`, `scheduled-${slot}`]);
    expect(data.map((d) => d.period).sort()).toEqual(
      [
        currentPeriod(new Date(Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth() - 1, 1))),
        currentPeriod(),
      ].sort(),
    );
  }, 60_000);
});
