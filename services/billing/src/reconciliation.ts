/**
 * What a reconciliation concludes from the facts it gathered about one organization and month
 * (services/billing/src/reconciler.ts gathers them): Quorum's minutes against what was reported,
 * what Stripe's meter sums and what the invoice bills; purchased seats against the seat item in
 * Stripe and against the account. Pure, so every verdict is tested without Stripe.
 */
import type { z } from 'zod';
import type { BILLING_EVENT_DATA_SCHEMAS, ReconciliationDifferenceSchema } from '@quorum/domain';

export type ReconciliationData = z.infer<(typeof BILLING_EVENT_DATA_SCHEMAS)['billing.reconciliation_completed']>;
export type ReconciliationFigures = ReconciliationData['figures'];
export type ReconciliationDifference = z.infer<typeof ReconciliationDifferenceSchema>;
export type EventRef = ReconciliationDifference['events'][number];

/** Events listed per difference; the rest are counted. */
export const EVENTS_PER_DIFFERENCE = 50;

/** Stripe's answer to a read: a figure, or its refusal. */
export type StripeFigure = { value: number } | { refused: string };

export interface ReconciliationFacts {
  /** ⌈meeting seconds of the month / 60⌉. */
  quorumMinutes: number;
  /** Minutes of the month's `billing.usage_reported`. */
  reportedMinutes: number;
  /** Usage events whose minutes were not reported (minutes > 0), each saying why. */
  unreported: readonly EventRef[];
  meter: StripeFigure;
  /** Minutes on the invoice lines of the month; null without an invoice. */
  invoiceMinutes: number | null;
  purchasedSeats: number;
  /** Seats the sync last left in Stripe; null before any subscription. */
  accountSeats: number | null;
  /** The seat item's quantity; null without a subscription. */
  subscriptionSeats: StripeFigure | null;
  /** Seat events after the last subscription sync, each saying why it is not in Stripe. */
  unsyncedSeatEvents: readonly EventRef[];
  /** The `billing.subscription_synced` event that last set the seat item. */
  lastSync: EventRef | null;
}

function difference(
  compares: ReconciliationDifference['compares'],
  quorum: number,
  other: number | null,
  detail: string,
  events: readonly EventRef[],
): ReconciliationDifference {
  return {
    compares,
    quorum,
    other,
    detail,
    events: events.slice(0, EVENTS_PER_DIFFERENCE),
    moreEvents: Math.max(0, events.length - EVENTS_PER_DIFFERENCE),
  };
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

export function reconcile(f: ReconciliationFacts): {
  figures: ReconciliationFigures;
  differences: ReconciliationDifference[];
} {
  const differences: ReconciliationDifference[] = [];
  const q = f.quorumMinutes;

  if (f.reportedMinutes !== q) {
    const missing = q - f.reportedMinutes;
    differences.push(
      difference(
        'reported_minutes',
        q,
        f.reportedMinutes,
        missing > 0
          ? `${plural(missing, 'minute')} of ${plural(f.unreported.length, 'usage event')} were not reported to Stripe.`
          : `${plural(-missing, 'minute')} more were reported than Quorum counts.`,
        f.unreported,
      ),
    );
  }

  const meter = 'value' in f.meter ? f.meter.value : null;
  if (meter === null) {
    const refused = 'refused' in f.meter ? f.meter.refused : '';
    differences.push(difference('stripe_meter_minutes', q, null, `Stripe refused the meter summary: ${refused}`, []));
  } else if (meter !== q) {
    differences.push(
      meter === f.reportedMinutes
        ? difference(
            'stripe_meter_minutes',
            q,
            meter,
            "Stripe's meter holds what was reported; the minutes not reported are missing from it too.",
            f.unreported,
          )
        : difference(
            'stripe_meter_minutes',
            q,
            meter,
            `Stripe's meter sums ${plural(meter, 'minute')} where ${plural(f.reportedMinutes, 'minute was', 'minutes were')} reported: meter events sent or cancelled outside Quorum, or reports Stripe has not aggregated yet (it takes a few minutes).`,
            [],
          ),
    );
  }

  if (f.invoiceMinutes !== null && f.invoiceMinutes !== q) {
    differences.push(
      difference(
        'invoice_minutes',
        q,
        f.invoiceMinutes,
        f.invoiceMinutes === meter
          ? "The invoice bills what Stripe's meter holds."
          : "The invoice bills other minutes than Stripe's meter holds: usage after the invoice was drawn, or an invoice period that is not the calendar month.",
        f.invoiceMinutes === f.reportedMinutes ? f.unreported : [],
      ),
    );
  }

  const seats = f.purchasedSeats;
  if (f.accountSeats !== null && f.accountSeats !== seats) {
    differences.push(
      difference(
        'account_seats',
        seats,
        f.accountSeats,
        `The sync last left ${plural(f.accountSeats, 'seat')} in Stripe; later seat events are not synced.`,
        f.unsyncedSeatEvents,
      ),
    );
  }
  let subscriptionSeats: number | null = null;
  if (f.subscriptionSeats !== null) {
    if ('refused' in f.subscriptionSeats) {
      differences.push(
        difference(
          'subscription_seats',
          seats,
          null,
          `Stripe refused the seat item: ${f.subscriptionSeats.refused}`,
          f.lastSync ? [f.lastSync] : [],
        ),
      );
    } else {
      subscriptionSeats = f.subscriptionSeats.value;
      if (subscriptionSeats !== seats) {
        differences.push(
          subscriptionSeats === f.accountSeats
            ? difference(
                'subscription_seats',
                seats,
                subscriptionSeats,
                'Stripe has the seats the sync last left; later seat events are not synced.',
                f.unsyncedSeatEvents,
              )
            : difference(
                'subscription_seats',
                seats,
                subscriptionSeats,
                `The seat item was changed in Stripe outside Quorum: the sync left ${plural(f.accountSeats ?? 0, 'seat')}.`,
                f.lastSync ? [f.lastSync] : [],
              ),
        );
      }
    }
  }

  return {
    figures: {
      quorumMinutes: q,
      reportedMinutes: f.reportedMinutes,
      stripeMeterMinutes: meter,
      invoiceMinutes: f.invoiceMinutes,
      purchasedSeats: seats,
      subscriptionSeats,
    },
    differences,
  };
}
