/**
 * Meeting minutes reported to Stripe's Billing Meter: every `meeting_minutes` usage event of an
 * organization with a Stripe Customer becomes one meter event whose `identifier` is the usage
 * event's id (Stripe keeps one event per identifier) and whose timestamp is the interval's start.
 *
 * Its value is what the event adds to its month's total rounded up to the whole minute:
 * ceil(total after / 60) − ceil(total before / 60), totals in the usage stream's order. A month's
 * values therefore add up to exactly the minutes Quorum bills (its total rounded up once, see
 * docs/metering.md), whatever Stripe's meter does with them, and each value depends only on the
 * stream, so a repeat sends the same request. `participant_minutes` are not billed, so not sent.
 */
import { currentVersionOf, parseEvent } from '@quorum/domain';
import type { NewEvent, RecordedEvent } from '@quorum/eventstore';
import { idempotencyKey, outcomeEventId } from './billing-ids';
import type { StripeCalls } from './stripe-calls';

/** One meter event to send, and how it was counted. */
export interface MeterReport {
  usageEventId: string;
  orgId: string;
  period: string;
  seconds: number;
  minutes: number;
  /** The interval's start (ISO). */
  timestamp: string;
}

/** Minutes `seconds` adds to a month that had `before` seconds. */
export function addedMinutes(before: number, seconds: number): number {
  return Math.ceil((before + seconds) / 60) - Math.ceil(before / 60);
}

/**
 * The meter reports of `events` (a usage stream's events in order) after `meetingSeconds` of the
 * month, and the month's seconds after them.
 */
export function meterReports(
  orgId: string,
  events: readonly RecordedEvent[],
  meetingSeconds: number,
): { reports: MeterReport[]; meetingSeconds: number } {
  const reports: MeterReport[] = [];
  let total = meetingSeconds;
  for (const stored of events) {
    const e = parseEvent(stored);
    if (e.type !== 'usage.recorded' || e.data.meter !== 'meeting_minutes') continue;
    reports.push({
      usageEventId: stored.id,
      orgId,
      period: e.data.period,
      seconds: e.data.seconds,
      minutes: addedMinutes(total, e.data.seconds),
      timestamp: e.data.from,
    });
    total += e.data.seconds;
  }
  return { reports, meetingSeconds: total };
}

/** Sends `report` for `customerId`; the `billing.usage_reported` event that records it. */
export async function sendMeterReport(
  calls: StripeCalls,
  eventName: string,
  customerId: string,
  report: MeterReport,
  meta: NewEvent['metadata'],
  at: string,
  attempt = 1,
): Promise<NewEvent> {
  const timestamp = Math.floor(Date.parse(report.timestamp) / 1000);
  await calls.call('billing.meterEvents.create', idempotencyKey('usage', report.usageEventId, attempt), (o) =>
    calls.stripe.billing.meterEvents.create(
      {
        event_name: eventName,
        identifier: report.usageEventId,
        timestamp,
        payload: { stripe_customer_id: customerId, value: String(report.minutes) },
      },
      o,
    ),
  );
  return {
    id: outcomeEventId('billing.usage_reported', report.usageEventId, attempt),
    type: 'billing.usage_reported',
    version: currentVersionOf('billing.usage_reported'),
    data: {
      usageEventId: report.usageEventId,
      period: report.period,
      eventName,
      seconds: report.seconds,
      minutes: report.minutes,
      timestamp: report.timestamp,
      customerId,
      at,
    },
    metadata: meta,
  };
}
