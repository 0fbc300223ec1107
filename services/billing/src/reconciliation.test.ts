import { describe, expect, it } from 'vitest';
import { periodsAround } from './reconciler';
import { EVENTS_PER_DIFFERENCE, reconcile, type ReconciliationFacts } from './reconciliation';

const ID = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

const agreed: ReconciliationFacts = {
  quorumMinutes: 10,
  reportedMinutes: 10,
  unreported: [],
  meter: { value: 10 },
  invoiceMinutes: null,
  purchasedSeats: 4,
  accountSeats: 4,
  subscriptionSeats: { value: 4 },
  unsyncedSeatEvents: [],
  lastSync: { eventId: ID(1), type: 'billing.subscription_synced', note: 'the last sync' },
};

describe('reconcile', () => {
  it('finds nothing when every figure agrees', () => {
    expect(reconcile(agreed)).toEqual({
      figures: {
        quorumMinutes: 10,
        reportedMinutes: 10,
        stripeMeterMinutes: 10,
        invoiceMinutes: null,
        purchasedSeats: 4,
        subscriptionSeats: 4,
      },
      differences: [],
    });
  });

  it('lists at most 50 events behind a difference and counts the rest', () => {
    const unreported = Array.from({ length: 60 }, (_, i) => ({
      eventId: ID(i),
      type: 'usage.recorded',
      note: '1 min',
    }));
    const { differences } = reconcile({
      ...agreed,
      quorumMinutes: 60,
      reportedMinutes: 0,
      unreported,
      meter: { value: 0 },
    });
    const reported = differences.find((d) => d.compares === 'reported_minutes')!;
    expect(reported.events).toHaveLength(EVENTS_PER_DIFFERENCE);
    expect(reported.moreEvents).toBe(10);
  });

  it('says a meter refusal and an invoice billing what the meter holds', () => {
    const { differences, figures } = reconcile({ ...agreed, meter: { refused: '404 resource_missing: No meter' } });
    expect(figures.stripeMeterMinutes).toBeNull();
    expect(differences).toEqual([
      expect.objectContaining({
        compares: 'stripe_meter_minutes',
        other: null,
        detail: expect.stringContaining('404'),
      }),
    ]);
    const invoice = reconcile({ ...agreed, meter: { value: 9 }, invoiceMinutes: 9 }).differences.at(-1)!;
    expect(invoice).toMatchObject({ compares: 'invoice_minutes', quorum: 10, other: 9 });
    expect(invoice.detail).toContain("what Stripe's meter holds");
  });

  it('tells seats not synced yet from seats changed in Stripe', () => {
    const purchase = { eventId: ID(2), type: 'seats.purchased', note: '6 seats; not synced yet' };
    const lagging = reconcile({ ...agreed, purchasedSeats: 6, unsyncedSeatEvents: [purchase] }).differences;
    expect(lagging.map((d) => [d.compares, d.quorum, d.other, d.events])).toEqual([
      ['account_seats', 6, 4, [purchase]],
      ['subscription_seats', 6, 4, [purchase]],
    ]);
    const byHand = reconcile({ ...agreed, subscriptionSeats: { value: 7 } }).differences;
    expect(byHand).toEqual([
      expect.objectContaining({ compares: 'subscription_seats', other: 7, events: [agreed.lastSync] }),
    ]);
    expect(reconcile({ ...agreed, accountSeats: null, subscriptionSeats: null }).figures.subscriptionSeats).toBeNull();
  });
});

describe('periodsAround', () => {
  it('gives the month before and the month of a day, across a year', () => {
    expect(periodsAround(new Date('2026-01-01T00:00:00Z'))).toEqual(['202512', '202601']);
    expect(periodsAround(new Date('2026-03-31T23:59:59Z'))).toEqual(['202602', '202603']);
  });
});
