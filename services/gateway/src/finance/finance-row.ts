/**
 * One organization's row of the finance review, the same in `finance.orgs` and in the CSV
 * export: both build it with {@link financeRowOf} and the CSV writes it with
 * {@link financeCsvFields}, so whatever a row comes to carry (an invoice preview beside the
 * overage) is added in this module once and reaches both.
 */
import { invoicePreview, meetingMinutesOverage, type Currency, type Plan, type PreviewStretch } from '@quorum/domain';
import { csvText } from '../http/csv';
import type { CsvFields } from '../http/csv-export';
import { billedMinutes } from '../usage-periods';
import type { FinanceOrgTotals } from './finance.repository';

/** A meter's month: its metered seconds and the minutes billed for them (rounded up, once). */
export interface MeterTotal {
  seconds: number;
  minutes: number;
}

export interface FinanceOrgRow {
  orgId: string;
  name: string;
  plan: Plan;
  currency: Currency;
  participantMinutes: MeterTotal;
  meetingMinutes: MeterTotal;
  /** Meeting minutes the plan includes per month; `null` is unlimited. */
  includedMinutes: number | null;
  /** Billed meeting minutes beyond the included ones. */
  overageMinutes: number;
  /** Price of one overage minute in minor units; `null` when the plan never bills overage. */
  overagePerMinute: number | null;
  /** `overageMinutes × overagePerMinute` in minor units of `currency`. */
  overageAmount: number;
  /**
   * The month's invoice preview totals (`billing.preview`: seats prorated by the second, and the
   * overage at the plan in force at the month's end), in minor units; null for an organization
   * with no seat stretch in the month.
   */
  preview: { seats: number; usage: number; total: number } | null;
}

/**
 * The row of one organization's month, priced by `meetingMinutesOverage` against its plan, with
 * the invoice preview of its seat stretches in the month beside it.
 */
export function financeRowOf(
  period: string,
  totals: FinanceOrgTotals,
  stretches: readonly PreviewStretch[],
): FinanceOrgRow {
  const overage = meetingMinutesOverage(totals.plan, totals.meetingSeconds);
  const preview =
    stretches.length === 0 ? null : invoicePreview({ period, stretches, meetingSeconds: totals.meetingSeconds }).totals;
  return {
    orgId: totals.orgId,
    name: totals.name,
    plan: totals.plan,
    currency: overage.currency,
    participantMinutes: { seconds: totals.participantSeconds, minutes: billedMinutes(totals.participantSeconds) },
    meetingMinutes: { seconds: totals.meetingSeconds, minutes: overage.billableMinutes },
    includedMinutes: overage.includedMinutes,
    overageMinutes: overage.overageMinutes,
    overagePerMinute: overage.overagePerMinute,
    overageAmount: overage.amount,
    preview,
  };
}

/** The CSV export's columns, in the order {@link financeCsvFields} writes them. */
export const FINANCE_CSV_COLUMNS = [
  'org_id',
  'name',
  'period',
  'plan',
  'currency',
  'participant_seconds',
  'participant_minutes',
  'meeting_seconds',
  'meeting_minutes',
  'included_minutes',
  'overage_minutes',
  'overage_per_minute',
  'overage_amount',
  'preview_seats',
  'preview_usage',
  'preview_total',
] as const;

/**
 * A row's CSV record; unlimited included minutes and an overage price never billed are empty
 * fields, and a name that would start a spreadsheet formula is kept as text (`csvText`).
 */
export function financeCsvFields(period: string, row: FinanceOrgRow): CsvFields {
  return [
    row.orgId,
    csvText(row.name),
    period,
    row.plan,
    row.currency,
    row.participantMinutes.seconds,
    row.participantMinutes.minutes,
    row.meetingMinutes.seconds,
    row.meetingMinutes.minutes,
    row.includedMinutes,
    row.overageMinutes,
    row.overagePerMinute,
    row.overageAmount,
    row.preview?.seats ?? null,
    row.preview?.usage ?? null,
    row.preview?.total ?? null,
  ];
}
