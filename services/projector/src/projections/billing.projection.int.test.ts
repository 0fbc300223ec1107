import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migratePublicSchema, migrateReadModelSchema, readModelSchema } from '@quorum/db';
import { streamIds, type BillingEvent } from '@quorum/domain';
import { toWireEvent, type NewEvent, type RecordedEvent } from '@quorum/eventstore';
import { rebuildProjection } from '../rebuild';
import {
  append,
  createTestDatabase,
  newEvent,
  snapshot,
  testDb,
  testLogger,
  type TestDatabase,
} from '../testing/projector-test-env';
import { applyEvents, type ApplyOutcome } from './core.projection';

const VERSION = 1;
const schema = readModelSchema(VERSION);
let t: TestDatabase;

beforeAll(async () => {
  t = await createTestDatabase();
  await migratePublicSchema(t.sql);
  await migrateReadModelSchema(t.sql, VERSION);
});
afterAll(async () => {
  await t?.drop();
});

async function apply(events: readonly RecordedEvent[]): Promise<ApplyOutcome[]> {
  return testDb(t.sql)
    .transaction()
    .execute((trx) => applyEvents(trx, schema, events.map(toWireEvent)));
}

type InvoiceType = 'billing.invoice_finalized' | 'billing.invoice_paid' | 'billing.invoice_payment_failed';

function invoiceEvent(
  orgId: string,
  type: InvoiceType,
  invoice: { id: string; status: string; amountPaid: number; at: string },
): NewEvent {
  const event: BillingEvent = {
    type,
    data: {
      invoiceId: invoice.id,
      stripeEventId: `evt_${randomUUID().replaceAll('-', '')}`,
      customerId: 'cus_T0r5u9Xw2b',
      subscriptionId: 'sub_1SAf3r2eZvKYlo2C',
      number: 'QRM-0001',
      status: invoice.status,
      currency: 'eur',
      subtotal: 6_000,
      total: 6_000,
      amountDue: 6_000,
      amountPaid: invoice.amountPaid,
      hostedInvoiceUrl: `https://invoice.stripe.com/i/acct_1/test_${invoice.id}`,
      periodStart: '2025-03-01T00:00:00.000Z',
      periodEnd: '2025-04-01T00:00:00.000Z',
      lines: [
        {
          description: '5 × Pro seat (at €12.00 / month)',
          priceId: 'price_seat_pro',
          quantity: 5,
          amount: 6_000,
          periodStart: '2025-03-01T00:00:00.000Z',
          periodEnd: '2025-04-01T00:00:00.000Z',
        },
      ],
      at: invoice.at,
    },
  };
  return newEvent(orgId, event);
}

/** An invoice finalized, a failed payment, then paid; Stripe's times one minute apart. */
function invoiceLife(orgId: string, id = `in_${randomUUID().slice(0, 12)}`) {
  return [
    invoiceEvent(orgId, 'billing.invoice_finalized', {
      id,
      status: 'open',
      amountPaid: 0,
      at: '2025-04-01T01:00:00.000Z',
    }),
    invoiceEvent(orgId, 'billing.invoice_payment_failed', {
      id,
      status: 'open',
      amountPaid: 0,
      at: '2025-04-01T01:01:00.000Z',
    }),
    invoiceEvent(orgId, 'billing.invoice_paid', {
      id,
      status: 'paid',
      amountPaid: 6_000,
      at: '2025-04-04T09:00:00.000Z',
    }),
  ];
}

function reconciliation(orgId: string, period: string, run: string, at: string, differences = 0): NewEvent {
  const event: BillingEvent = {
    type: 'billing.reconciliation_completed',
    data: {
      period,
      run,
      at,
      customerId: 'cus_T0r5u9Xw2b',
      figures: {
        quorumMinutes: 12,
        reportedMinutes: 12 - differences,
        stripeMeterMinutes: 12 - differences,
        invoiceMinutes: null,
        purchasedSeats: 3,
        subscriptionSeats: 3,
      },
      differences: Array.from({ length: differences }, () => ({
        compares: 'reported_minutes' as const,
        quorum: 12,
        other: 12 - differences,
        detail: 'Minutes were not reported to Stripe.',
        events: [{ eventId: randomUUID(), type: 'usage.recorded', note: '1 min; dead letter open' }],
        moreEvents: 0,
      })),
    },
  };
  return newEvent(orgId, event);
}

describe('billing projection', () => {
  it('links a Stripe Customer to its organization', async () => {
    const orgId = randomUUID();
    const cause = { eventId: randomUUID(), type: 'organization.created' };
    const stored = await append(t.store, streamIds.billing(orgId), [
      newEvent(orgId, {
        type: 'billing.customer_linked',
        data: { customerId: `cus_${orgId.slice(0, 8)}`, cause, at: '2025-03-01T10:00:00.000Z' },
      }),
    ]);
    expect(await apply(stored)).toEqual(['applied']);
    const { billing_customers } = await snapshot(t.sql, schema, [orgId]);
    expect(billing_customers).toEqual([
      {
        customer_id: `cus_${orgId.slice(0, 8)}`,
        org_id: orgId,
        event_id: stored[0]!.id,
        position: stored[0]!.position.toString(),
        linked_at: new Date('2025-03-01T10:00:00.000Z'),
      },
    ]);
  });

  it("keeps an invoice's latest state, whatever order its reports arrive in and however they are batched", async () => {
    const inOrder = randomUUID();
    const shuffled = randomUUID();
    const oneByOne = randomUUID();
    const ordered = await append(t.store, streamIds.billing(inOrder), invoiceLife(inOrder, 'in_1Ordered'));
    expect(await apply(ordered)).toEqual(['applied', 'applied', 'applied']);

    // Paid reported first, then the older reports: they do not take the row back to open.
    const [finalized, failed, paid] = invoiceLife(shuffled, 'in_1Shuffled');
    const late = await append(t.store, streamIds.billing(shuffled), [paid!, finalized!, failed!]);
    await apply(late);

    const single = await append(t.store, streamIds.billing(oneByOne), invoiceLife(oneByOne, 'in_1Single'));
    for (const e of [single[2]!, single[0]!, single[1]!]) await apply([e]);

    const rows = await snapshot(t.sql, schema, [inOrder, shuffled, oneByOne]);
    expect(rows.billing_invoices).toHaveLength(3);
    for (const row of rows.billing_invoices) {
      expect(row).toMatchObject({
        status: 'paid',
        currency: 'eur',
        subtotal: '6000',
        total: '6000',
        amount_due: '6000',
        amount_paid: '6000',
        number: 'QRM-0001',
        subscription_id: 'sub_1SAf3r2eZvKYlo2C',
        customer_id: 'cus_T0r5u9Xw2b',
        hosted_invoice_url: `https://invoice.stripe.com/i/acct_1/test_${row.invoice_id}`,
        lines: [expect.objectContaining({ priceId: 'price_seat_pro', quantity: 5, amount: 6_000 })],
      });
      expect(row.period_start).toEqual(new Date('2025-03-01T00:00:00.000Z'));
      expect(row.reported_at).toEqual(new Date('2025-04-04T09:00:00.000Z'));
    }
    const byOrg = new Map(rows.billing_invoices.map((r) => [r.org_id, r]));
    expect(byOrg.get(inOrder)!.event_id).toBe(ordered[2]!.id);
    expect(byOrg.get(shuffled)!.event_id).toBe(late[0]!.id);
    expect(byOrg.get(oneByOne)!.event_id).toBe(single[2]!.id);

    // The same positions again change nothing.
    expect(await apply(ordered)).toEqual(['duplicate', 'duplicate', 'duplicate']);
    expect((await snapshot(t.sql, schema, [inOrder, shuffled, oneByOne])).billing_invoices).toEqual(
      rows.billing_invoices,
    );
  });

  it('shows an unpaid invoice as Stripe last reported it', async () => {
    const orgId = randomUUID();
    const [finalized, failed] = invoiceLife(orgId, 'in_1Unpaid');
    const stored = await append(t.store, streamIds.billing(orgId), [finalized!, failed!]);
    await apply(stored);
    const { billing_invoices } = await snapshot(t.sql, schema, [orgId]);
    expect(billing_invoices).toEqual([
      expect.objectContaining({ status: 'open', amount_paid: '0', event_id: stored[1]!.id }),
    ]);
  });

  it("refuses a billing event on another organization's stream, writing nothing", async () => {
    const orgId = randomUUID();
    const [e] = await append(t.store, streamIds.billing(randomUUID()), invoiceLife(orgId).slice(0, 1));
    await expect(apply([e!])).rejects.toThrow(/not that of org/);
    const rows = await snapshot(t.sql, schema, [orgId]);
    expect([rows.event_log, rows.billing_invoices]).toEqual([[], []]);
  });

  it("keeps each organization's last reconciliation of a month, whatever the batching", async () => {
    const orgId = randomUUID();
    const runs = [
      reconciliation(orgId, '202503', 'scheduled-2025-04-01T00:00:00.000Z', '2025-04-01T00:00:05.000Z', 1),
      reconciliation(orgId, '202504', 'scheduled-2025-04-01T00:00:00.000Z', '2025-04-01T00:00:06.000Z'),
      reconciliation(orgId, '202503', 'scheduled-2025-04-02T00:00:00.000Z', '2025-04-02T00:00:05.000Z'),
    ];
    const stored = await append(t.store, streamIds.billing(orgId), runs);
    // The later run first, alone, then the rest: the earlier run does not take March back.
    await apply([stored[2]!]);
    await apply(stored.slice(0, 2));
    const { billing_reconciliations } = await snapshot(t.sql, schema, [orgId]);
    expect(billing_reconciliations.map((r) => [r.period, r.run, r.difference_count, r.event_id])).toEqual([
      ['202503', 'scheduled-2025-04-02T00:00:00.000Z', 0, stored[2]!.id],
      ['202504', 'scheduled-2025-04-01T00:00:00.000Z', 0, stored[1]!.id],
    ]);
    expect(billing_reconciliations[0]).toMatchObject({
      customer_id: 'cus_T0r5u9Xw2b',
      reconciled_at: new Date('2025-04-02T00:00:05.000Z'),
      figures: { quorumMinutes: 12, purchasedSeats: 3, invoiceMinutes: null },
      differences: [],
    });
  });

  it('a rebuild reproduces the customers, invoices and reconciliations', async () => {
    const orgs = [randomUUID(), randomUUID()];
    const recorded: RecordedEvent[] = [];
    for (const orgId of orgs) {
      recorded.push(
        ...(await append(t.store, streamIds.billing(orgId), [
          newEvent(orgId, {
            type: 'billing.customer_linked',
            data: {
              customerId: `cus_${orgId.slice(0, 12)}`,
              cause: { eventId: randomUUID(), type: 'organization.created' },
              at: '2025-03-01T10:00:00.000Z',
            },
          }),
          ...invoiceLife(orgId),
          ...invoiceLife(orgId).slice(0, 2),
          reconciliation(orgId, '202503', 'run-1', '2025-04-01T00:00:05.000Z', 2),
          reconciliation(orgId, '202503', 'run-2', '2025-04-02T00:00:05.000Z', 1),
          reconciliation(orgId, '202504', 'run-2', '2025-04-02T00:00:06.000Z'),
        ])),
      );
    }
    await apply(recorded);
    const live = await snapshot(t.sql, schema, orgs);
    expect(live.billing_customers).toHaveLength(2);
    expect(live.billing_invoices).toHaveLength(4);
    expect(live.billing_reconciliations.map((r) => [r.period, r.run, r.difference_count])).toEqual([
      ['202503', 'run-2', 1],
      ['202504', 'run-2', 0],
      ['202503', 'run-2', 1],
      ['202504', 'run-2', 0],
    ]);

    // Batches of two split each invoice's reports across statements. (The store also holds the
    // event refused above, which the rebuild sets aside as a dead letter.)
    const result = await rebuildProjection({ sql: t.sql, store: t.store, logger: testLogger(), batchSize: 2 });
    const rebuilt = await snapshot(t.sql, readModelSchema(result.version), orgs);
    expect({
      customers: rebuilt.billing_customers,
      invoices: rebuilt.billing_invoices,
      reconciliations: rebuilt.billing_reconciliations,
    }).toEqual({
      customers: live.billing_customers,
      invoices: live.billing_invoices,
      reconciliations: live.billing_reconciliations,
    });
  });
});
