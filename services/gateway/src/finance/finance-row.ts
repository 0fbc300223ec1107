/**
 * One organization's row of the finance review, the same in `finance.orgs` and in the CSV
 * export: both build it with {@link financeRowOf} and the CSV writes it with
 * {@link financeCsvFields}, so whatever a row comes to carry (an invoice preview beside the
 * overage) is added in this module once and reaches both.
 */
import { meetingMinutesOverage, type Currency, type Plan } from '@quorum/domain';
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
}

/** The row of one organization's month, priced by `meetingMinutesOverage` against its plan. */
export function financeRowOf(totals: FinanceOrgTotals): FinanceOrgRow {
  const overage = meetingMinutesOverage(totals.plan, totals.meetingSeconds);
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
  ];
}
