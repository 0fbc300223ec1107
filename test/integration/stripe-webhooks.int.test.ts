/**
 * Stripe's webhooks over HTTP against the real servers: deliveries signed with the test
 * secret by the `stripe` SDK (`webhooks.generateTestHeaderString`), payloads shaped as Stripe's
 * current API sends them (an invoice's subscription under `parent.subscription_details`, its
 * lines' prices under `pricing.price_details`). What each delivery did is read from the event
 * store itself, and "nothing appended" is the store's settled head not moving.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { currentVersionOf, streamIds, type DomainEvent } from '@quorum/domain';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOrg, signUp } from '../support/people';
import { invoiceEvent, stripeEvent, stripeId, subscriptionDeleted } from '../support/stripe-events';
import { settledHead, startTestQuorum, type TestQuorum } from '../support/test-quorum';

const SECRET = `whsec_${randomBytes(24).toString('base64url')}`;
let q: TestQuorum;

beforeAll(async () => {
  q = await startTestQuorum('stripe_webhooks', { STRIPE_WEBHOOK_SECRET: SECRET, BILLING_DUNNING_SWEEP_SECONDS: '0' });
}, 120_000);

afterAll(async () => {
  await q?.stop();
});

interface Delivery {
  /** Sign with another secret. */
  secret?: string;
  /** The signature's time, in Unix seconds. */
  timestamp?: number;
  /** No `Stripe-Signature` header at all. */
  unsigned?: boolean;
  baseUrl?: string;
}

/** What the route answers: a 200's fields, or a refusal's `error`. */
interface Answer {
  received?: boolean;
  duplicate?: boolean;
  outcome?: 'applied' | 'ignored';
  detail?: string;
  error?: string;
}

/** POSTs `payload` (an object is sent as Stripe sends it: pretty-printed JSON) as Stripe would. */
async function deliver(payload: object | string, d: Delivery = {}): Promise<{ status: number; body: Answer }> {
  const text = typeof payload === 'string' ? payload : JSON.stringify(payload, null, 2);
  const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8' };
  if (!d.unsigned)
    headers['stripe-signature'] = Stripe.webhooks.generateTestHeaderString({
      payload: text,
      secret: d.secret ?? SECRET,
      ...(d.timestamp !== undefined ? { timestamp: d.timestamp } : {}),
    });
  const res = await fetch(`${d.baseUrl ?? q.baseUrl}/webhooks/stripe`, { method: 'POST', headers, body: text });
  return { status: res.status, body: (await res.json()) as Answer };
}

/** A trialing pro organization of a fresh owner, and the Stripe Customer id the sync would have made. */
async function organization() {
  const owner = await signUp(q.http, 'stripe');
  const { orgId } = await createOrg(q.http, owner, 'pro');
  return { orgId, customer: stripeId('cus') };
}

const types = async (stream: string) => (await q.app.store.readStream(stream)).map((e) => e.type);
const lifecycle = async (orgId: string) =>
  (await types(streamIds.organization(orgId))).filter((t) => t.startsWith('organization.'));

async function projected(): Promise<void> {
  expect(await q.app.pipeline.waitForPosition(await settledHead(q), 20_000)).toBe(true);
}

async function readModel(): Promise<string> {
  const { rows } = await q.app.sql.query<{ version: number }>(
    "SELECT version FROM projection_active WHERE projection = 'core'",
  );
  return `rm_v${rows[0]?.version ?? 1}`;
}

/** Appends `event` to `stream` as its producer would (the outbound sync, the organization decider). */
async function appendAs(stream: string, orgId: string, event: DomainEvent, id = randomUUID()) {
  return q.app.store.appendToStream(stream, [
    {
      id,
      type: event.type,
      version: currentVersionOf(event.type),
      data: event.data,
      metadata: { orgId, actor: { kind: 'system', id: 'test' }, correlationId: randomUUID(), causationId: null },
    },
  ]);
}

describe('POST /webhooks/stripe: what Stripe reports moves the organization', () => {
  it('a finalized then paid invoice: two invoice events, the trial ends active, the invoice is a read-model row', async () => {
    const { orgId, customer } = await organization();
    const invoiceId = stripeId('in');
    const finalized = invoiceEvent('invoice.finalized', { customer, orgId, invoiceId, status: 'open', amountPaid: 0 });
    expect(await deliver(finalized)).toMatchObject({
      status: 200,
      body: { received: true, duplicate: false, outcome: 'applied' },
    });
    expect(await lifecycle(orgId)).toEqual(['organization.created']);

    const paid = invoiceEvent('invoice.paid', { customer, orgId, invoiceId, status: 'paid', amountPaid: 6_900 });
    expect(await deliver(paid)).toMatchObject({ status: 200, body: { outcome: 'applied' } });
    expect(await lifecycle(orgId)).toEqual(['organization.created', 'organization.activated']);

    const billing = await q.app.store.readStream(streamIds.billing(orgId));
    expect(billing.map((e) => e.type)).toEqual(['billing.invoice_finalized', 'billing.invoice_paid']);
    expect(billing[1]!.metadata).toMatchObject({ orgId, actor: { kind: 'system', id: 'gateway:stripe-webhooks' } });
    expect(billing[1]!.data).toEqual({
      invoiceId,
      stripeEventId: paid.id,
      customerId: customer,
      subscriptionId: paid.data.object.parent.subscription_details.subscription,
      number: 'QRM-2026-0042',
      status: 'paid',
      currency: 'eur',
      subtotal: 6_900,
      total: 6_900,
      amountDue: 6_900,
      amountPaid: 6_900,
      hostedInvoiceUrl: `https://invoice.stripe.com/i/acct_1Qrm/test_${invoiceId}`,
      periodStart: '2026-10-01T00:00:00.000Z',
      periodEnd: '2026-11-01T00:00:00.000Z',
      lines: [
        {
          description: '5 × Quorum Pro seat (at €12.00 / month)',
          priceId: 'price_1QrmProSeat',
          quantity: 5,
          amount: 6_000,
          periodStart: '2026-11-01T00:00:00.000Z',
          periodEnd: '2026-12-01T00:00:00.000Z',
        },
        {
          description: 'Meeting minutes beyond the included amount',
          priceId: 'price_1QrmMinutes',
          quantity: 450,
          amount: 900,
          periodStart: '2026-10-01T00:00:00.000Z',
          periodEnd: '2026-11-01T00:00:00.000Z',
        },
      ],
      at: new Date(paid.created * 1000).toISOString(),
    });

    await projected();
    const { rows } = await q.app.sql.query(
      `SELECT org_id, status, total::text, amount_paid::text, number, hosted_invoice_url FROM ${await readModel()}.billing_invoices WHERE invoice_id = $1`,
      [invoiceId],
    );
    expect(rows).toEqual([
      {
        org_id: orgId,
        status: 'paid',
        total: '6900',
        amount_paid: '6900',
        number: 'QRM-2026-0042',
        hosted_invoice_url: `https://invoice.stripe.com/i/acct_1Qrm/test_${invoiceId}`,
      },
    ]);
  });

  it('a zero invoice paid at the start of the trial leaves the organization trialing', async () => {
    const { orgId, customer } = await organization();
    const paid = invoiceEvent('invoice.paid', {
      customer,
      orgId,
      status: 'paid',
      amountPaid: 0,
      billingReason: 'subscription_create',
    });
    expect(await deliver(paid)).toMatchObject({ status: 200, body: { outcome: 'applied' } });
    expect(await lifecycle(orgId)).toEqual(['organization.created']);
    expect(await types(streamIds.billing(orgId))).toEqual(['billing.invoice_paid']);
  });

  it('a failed payment marks it past due; the invoice paid later makes it active again', async () => {
    const { orgId, customer } = await organization();
    await deliver(invoiceEvent('invoice.paid', { customer, orgId, status: 'paid', amountPaid: 6_900 }));
    const invoiceId = stripeId('in');
    expect(
      await deliver(
        invoiceEvent('invoice.payment_failed', { customer, orgId, invoiceId, status: 'open', amountPaid: 0 }),
      ),
    ).toMatchObject({ status: 200, body: { outcome: 'applied' } });
    expect(await lifecycle(orgId)).toEqual([
      'organization.created',
      'organization.activated',
      'organization.marked_past_due',
    ]);
    await deliver(invoiceEvent('invoice.paid', { customer, orgId, invoiceId, status: 'paid', amountPaid: 6_900 }));
    expect((await lifecycle(orgId)).slice(3)).toEqual(['organization.activated']);
  });

  it('a cancelled subscription suspends it; an invoice paid afterwards lifts the suspension', async () => {
    const { orgId, customer } = await organization();
    expect(await deliver(subscriptionDeleted(customer, orgId))).toMatchObject({
      status: 200,
      body: { outcome: 'applied' },
    });
    const stream = await q.app.store.readStream(streamIds.organization(orgId));
    expect(stream.at(-1)).toMatchObject({ type: 'organization.suspended', data: { reason: 'subscription cancelled' } });

    // Cancelled again (Stripe reports it twice under two event ids): already suspended, nothing more.
    const head = await settledHead(q);
    expect(await deliver(subscriptionDeleted(customer, orgId))).toMatchObject({ status: 200 });
    expect(await settledHead(q)).toBe(head);

    await deliver(invoiceEvent('invoice.paid', { customer, orgId, status: 'paid', amountPaid: 6_900 }));
    expect((await lifecycle(orgId)).slice(-2)).toEqual(['organization.suspended', 'organization.reactivated']);
  });

  it("finds the organization through the Customer's link when the payload names none", async () => {
    const { orgId, customer } = await organization();
    await appendAs(streamIds.billing(orgId), orgId, {
      type: 'billing.customer_linked',
      data: {
        customerId: customer,
        cause: { eventId: randomUUID(), type: 'organization.created' },
        at: new Date().toISOString(),
      },
    });
    await projected();
    expect(
      await deliver(invoiceEvent('invoice.payment_failed', { customer, status: 'open', amountPaid: 0 })),
    ).toMatchObject({ status: 200, body: { outcome: 'applied' } });
    expect(await lifecycle(orgId)).toEqual(['organization.created', 'organization.marked_past_due']);
  });
});

describe('POST /webhooks/stripe: each Stripe event once', () => {
  it('a redelivery answers 200 and appends nothing; two deliveries at once append once', async () => {
    const { orgId, customer } = await organization();
    const failed = invoiceEvent('invoice.payment_failed', { customer, orgId, status: 'open', amountPaid: 0 });
    expect(await deliver(failed)).toMatchObject({ status: 200, body: { duplicate: false } });
    const head = await settledHead(q);
    // Stripe signs each delivery anew.
    expect(await deliver(failed, { timestamp: Math.floor(Date.now() / 1000) + 1 })).toMatchObject({
      status: 200,
      body: { received: true, duplicate: true, outcome: 'applied' },
    });
    expect(await settledHead(q)).toBe(head);

    const paid = invoiceEvent('invoice.paid', { customer, orgId, status: 'paid', amountPaid: 6_900 });
    const answers = await Promise.all([deliver(paid), deliver(paid), deliver(paid)]);
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    expect(await types(streamIds.billing(orgId))).toEqual(['billing.invoice_payment_failed', 'billing.invoice_paid']);
    expect(await lifecycle(orgId)).toEqual([
      'organization.created',
      'organization.marked_past_due',
      'organization.activated',
    ]);
  });

  it('refuses with 400, appending and recording nothing: a bad signature, none, an old timestamp, signed non-JSON', async () => {
    const { orgId, customer } = await organization();
    const event = invoiceEvent('invoice.payment_failed', { customer, orgId, status: 'open', amountPaid: 0 });
    const head = await settledHead(q);

    const forged = await deliver(event, { secret: `whsec_${randomBytes(24).toString('base64url')}` });
    expect(forged.status).toBe(400);
    expect(forged.body.error).toMatch(/signature/i);

    const unsigned = await deliver(event, { unsigned: true });
    expect(unsigned).toEqual({ status: 400, body: { error: 'the Stripe-Signature header is missing' } });

    const old = await deliver(event, { timestamp: Math.floor(Date.now() / 1000) - 301 });
    expect(old.status).toBe(400);
    expect(old.body.error).toMatch(/tolerance/i);

    // The signature holds for exactly these bytes, so a body changed on the way fails it too.
    const text = JSON.stringify(event);
    const tampered = await fetch(`${q.baseUrl}/webhooks/stripe`, {
      method: 'POST',
      headers: {
        'stripe-signature': Stripe.webhooks.generateTestHeaderString({ payload: text, secret: SECRET }),
      },
      body: text.replace('"open"', '"paid"'),
    });
    expect(tampered.status).toBe(400);

    const garbled = await deliver('{"id": "evt_1", "object": "event", ');
    expect(garbled.status).toBe(400);
    expect(garbled.body.error).toMatch(/not JSON/);

    const notAnEvent = await deliver({ id: 'evt_1', object: 'invoice' });
    expect(notAnEvent.status).toBe(400);

    const wrongShape = await deliver(stripeEvent('invoice.paid', { id: 'in_1', object: 'invoice', customer }));
    expect(wrongShape.status).toBe(400);
    expect(wrongShape.body.error).toMatch(/invoice.paid payload/);

    expect(await settledHead(q)).toBe(head);
    expect(await lifecycle(orgId)).toEqual(['organization.created']);
    const { rows } = await q.app.sql.query('SELECT 1 FROM stripe_webhook_events WHERE event_id = $1', [event.id]);
    expect(rows).toEqual([]);
  });

  it('an unknown customer, an organization that does not exist, or another type: 200, ignored, nothing appended', async () => {
    const head = await settledHead(q);
    const unknown = await deliver(
      invoiceEvent('invoice.payment_failed', { customer: stripeId('cus'), status: 'open', amountPaid: 0 }),
    );
    expect(unknown).toMatchObject({ status: 200, body: { outcome: 'ignored' } });
    expect(unknown.body.detail).toMatch(/no organization for customer/);

    const nowhere = await deliver(subscriptionDeleted(stripeId('cus'), randomUUID()));
    expect(nowhere).toMatchObject({ status: 200, body: { outcome: 'ignored' } });
    expect(nowhere.body.detail).toMatch(/does not exist/);

    const other = stripeEvent('customer.updated', { id: stripeId('cus'), object: 'customer', metadata: {} });
    expect(await deliver(other)).toMatchObject({
      status: 200,
      body: { outcome: 'ignored', detail: 'Quorum does not act on customer.updated' },
    });
    expect(await settledHead(q)).toBe(head);

    // Recorded, so Stripe's retries of it are answered from the record.
    expect(await deliver(other)).toMatchObject({ status: 200, body: { duplicate: true, outcome: 'ignored' } });
  });

  it('answers 405 to anything but POST', async () => {
    const res = await fetch(`${q.baseUrl}/webhooks/stripe`);
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('POST');
  });
});

describe('dunning', () => {
  it('suspends an organization past due beyond the grace, once, and leaves one within it', async () => {
    const overdue = await organization();
    const recent = await organization();
    // Marked past due 8 and 2 days ago: appended with those times, as the gateway cannot backdate.
    await q.app.sql.exec(`
      CREATE TABLE IF NOT EXISTS test_backdates (event_id uuid PRIMARY KEY, occurred_at timestamptz NOT NULL);
      CREATE OR REPLACE FUNCTION test_backdate() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        SELECT b.occurred_at INTO NEW.occurred_at FROM test_backdates b WHERE b.event_id = NEW.event_id;
        IF NEW.occurred_at IS NULL THEN NEW.occurred_at := now(); END IF;
        RETURN NEW;
      END $$;
      DROP TRIGGER IF EXISTS test_backdate ON es_events;
      CREATE TRIGGER test_backdate BEFORE INSERT ON es_events FOR EACH ROW EXECUTE FUNCTION test_backdate();
    `);
    for (const [org, days] of [
      [overdue, 8],
      [recent, 2],
    ] as const) {
      const id = randomUUID();
      await q.app.sql.query('INSERT INTO test_backdates (event_id, occurred_at) VALUES ($1, $2)', [
        id,
        new Date(Date.now() - days * 86_400_000).toISOString(),
      ]);
      await appendAs(
        streamIds.organization(org.orgId),
        org.orgId,
        { type: 'organization.marked_past_due', data: {} },
        id,
      );
    }
    await projected();

    const sweeper = q.app.gateway.dunningSweeper!;
    expect(await sweeper.sweep()).toBe(1);
    const stream = await q.app.store.readStream(streamIds.organization(overdue.orgId));
    expect(stream.at(-1)).toMatchObject({
      type: 'organization.suspended',
      data: { reason: 'payment past due for more than 7 days' },
      metadata: { actor: { kind: 'system', id: 'gateway:dunning' } },
    });
    expect(await lifecycle(recent.orgId)).toEqual(['organization.created', 'organization.marked_past_due']);

    // The read model may still show it past due: the stream decides, and nothing more is appended.
    const head = await settledHead(q);
    expect(await sweeper.sweep()).toBe(0);
    await projected();
    expect(await sweeper.sweep()).toBe(0);
    expect(await settledHead(q)).toBe(head);

    // Suspended until paid.
    await deliver(
      invoiceEvent('invoice.paid', {
        customer: overdue.customer,
        orgId: overdue.orgId,
        status: 'paid',
        amountPaid: 6_900,
      }),
    );
    expect((await lifecycle(overdue.orgId)).at(-1)).toBe('organization.reactivated');
  });
});

describe('without STRIPE_WEBHOOK_SECRET', () => {
  it('answers 404: Stripe is not connected', async () => {
    const plain = await startTestQuorum('stripe_off', { SFU: 'off' });
    try {
      const res = await deliver({ id: 'evt_1' }, { baseUrl: plain.baseUrl });
      expect(res.status).toBe(404);
      expect(res.body.error).toMatch(/Stripe is not connected/);
      expect(plain.app.gateway.dunningSweeper).toBeUndefined();
    } finally {
      await plain.stop();
    }
  });
});
