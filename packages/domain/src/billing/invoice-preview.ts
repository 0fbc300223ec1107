/**
 * The invoice of one month (UTC) as it stands: seats prorated by the second over the stretches
 * of quantity and plan in force, and the month's meeting minutes against the plan in force at
 * its end. Pure; see docs/metering.md#invoice-preview for the rules.
 *
 * Rounding: every seat line's exact amount is `seatMonthly × quantity × seconds / monthSeconds`,
 * a rational number of cents. The seat subtotal is the exact sum rounded half up to the cent,
 * once; the lines share it by the largest-remainder method (each gets its exact amount rounded
 * down, then the cents left over go one each to the lines with the largest fractions, earlier
 * lines first on a tie). So the lines add up to the subtotal exactly, each is within a cent of
 * its exact amount, and a month of one unchanged quantity and plan costs exactly its monthly
 * price, however many stretches it was cut into.
 */
import { ENTITLEMENTS, PRICES, meetingMinutesOverage, type Currency, type Plan } from '../plans';

/** A stretch of one seat quantity and plan, as the seat timeline records it. */
export interface PreviewStretch {
  /** ISO 8601; the stretch is `[from, to)`. */
  from: string;
  /** ISO 8601, or null while still in force (the preview then prices it to the month's end). */
  to: string | null;
  quantity: number;
  plan: Plan;
  /** The event that started the stretch. */
  eventId: string;
  /** The event that set `quantity` (null: no seats were ever purchased, so 0). */
  quantityEventId: string | null;
  /** The event that set `plan`. */
  planEventId: string;
}

export interface InvoicePreviewInput {
  /** `yyyymm`, a UTC calendar month. */
  period: string;
  /**
   * The stretches in position order, not overlapping; any that miss the month are ignored. A
   * gap between two (the organization was closed) bills nothing.
   */
  stretches: readonly PreviewStretch[];
  /** The month's `meeting_minutes` seconds (sum of its `usage.recorded` of that meter). */
  meetingSeconds: number;
}

/** Where a seat line's quantity and plan came from. */
export interface SeatLineSources {
  /** The event that started the stretch. */
  eventId: string;
  quantityEventId: string | null;
  planEventId: string;
}

/** Seats of one stretch, prorated by the second. */
export interface SeatLine {
  kind: 'seats';
  plan: Plan;
  quantity: number;
  /** The stretch within the month, truncated to whole seconds. */
  from: string;
  to: string;
  seconds: number;
  /** Seconds of the whole month: the line is `seconds / monthSeconds` of a month. */
  monthSeconds: number;
  /** Price of one seat for a whole month. */
  unitAmount: number;
  amount: number;
  sources: SeatLineSources;
}

/** The minutes the plan at the month's end includes, and how many of them were used. */
export interface IncludedMinutesLine {
  kind: 'included_minutes';
  plan: Plan;
  /** Used minutes within the included ones. */
  minutes: number;
  /** Minutes the plan includes; null is unlimited. */
  includedMinutes: number | null;
  amount: 0;
  sources: { planEventId: string };
}

/** Minutes beyond the included ones, at the overage price of the plan at the month's end. */
export interface OverageMinutesLine {
  kind: 'overage_minutes';
  plan: Plan;
  minutes: number;
  /** Price of one minute; null when the plan never bills overage (amount 0). */
  unitAmount: number | null;
  amount: number;
  sources: { planEventId: string };
}

export type InvoiceLine = SeatLine | IncludedMinutesLine | OverageMinutesLine;

export interface InvoicePreview {
  period: string;
  currency: Currency;
  /** The month: `[from, to)`. */
  from: string;
  to: string;
  monthSeconds: number;
  /** The plan in force at the month's end (or when the organization closed); null if none was in the month. */
  planAtEnd: { plan: Plan; eventId: string } | null;
  meetingSeconds: number;
  /** `meetingSeconds` rounded up to the minute, once. */
  billableMinutes: number;
  lines: InvoiceLine[];
  /** `seats` + `usage` = `total`; each the sum of its lines. */
  totals: { seats: number; usage: number; total: number };
}

const PERIOD = /^(\d{4})(0[1-9]|1[0-2])$/;

/** The UTC month `yyyymm` as `[from, to)` in milliseconds. */
export function periodBounds(period: string): { from: number; to: number } {
  const m = PERIOD.exec(period);
  if (!m) throw new RangeError(`period must be yyyymm, got ${period}`);
  const year = Number(m[1]);
  const month = Number(m[2]) - 1;
  return { from: Date.UTC(year, month, 1), to: Date.UTC(year, month + 1, 1) };
}

const floorToSecond = (ms: number) => Math.floor(ms / 1000) * 1000;

/**
 * Shares `round_half_up(Σ numerators / denominator)` whole units among the lines: each gets
 * its exact share rounded down, and the units left over go one each to the largest fractions
 * (earlier lines first on a tie). The shares add up to the rounded sum exactly.
 */
export function allocateRounded(numerators: readonly bigint[], denominator: bigint): number[] {
  if (denominator <= 0n) throw new RangeError('denominator must be positive');
  const sum = numerators.reduce((a, b) => a + b, 0n);
  const total = (2n * sum + denominator) / (2n * denominator);
  const shares = numerators.map((n) => n / denominator);
  let left = total - shares.reduce((a, b) => a + b, 0n);
  const byFraction = numerators
    .map((n, i) => ({ i, rest: n % denominator }))
    .sort((a, b) => (a.rest === b.rest ? a.i - b.i : a.rest > b.rest ? -1 : 1));
  for (const { i } of byFraction) {
    if (left <= 0n) break;
    shares[i] = shares[i]! + 1n;
    left--;
  }
  return shares.map(Number);
}

/**
 * Prices `period` for an organization whose seat quantity and plan were `stretches`, and which
 * used `meetingSeconds` of meeting minutes in it.
 * @throws RangeError when the period is malformed, the stretches overlap or run backwards, a
 *   quantity or the seconds are not whole and ≥ 0, plans differ in currency, or there is usage
 *   in a month with no plan in force.
 */
export function invoicePreview(input: InvoicePreviewInput): InvoicePreview {
  const { period, meetingSeconds } = input;
  const month = periodBounds(period);
  const monthSeconds = (month.to - month.from) / 1000;
  if (!Number.isSafeInteger(meetingSeconds) || meetingSeconds < 0)
    throw new RangeError(`meetingSeconds must be a whole number ≥ 0, got ${meetingSeconds}`);

  let previousTo: number | null = Number.NEGATIVE_INFINITY;
  const inMonth: Array<{ s: PreviewStretch; from: number; to: number }> = [];
  for (const s of input.stretches) {
    if (!Number.isSafeInteger(s.quantity) || s.quantity < 0)
      throw new RangeError(`quantity must be a whole number ≥ 0, got ${s.quantity}`);
    const from = Date.parse(s.from);
    const to = s.to === null ? null : Date.parse(s.to);
    if (Number.isNaN(from) || (to !== null && (Number.isNaN(to) || to < from)))
      throw new RangeError(`stretch ${s.eventId} runs from ${s.from} to ${s.to}`);
    if (previousTo === null || from < previousTo)
      throw new RangeError(`stretch ${s.eventId} overlaps the stretch before it`);
    previousTo = to;
    if (from < month.to && (to === null || to > month.from))
      inMonth.push({ s, from: Math.max(from, month.from), to: Math.min(to ?? month.to, month.to) });
  }

  const currencies = new Set(inMonth.map(({ s }) => PRICES[s.plan].currency));
  if (currencies.size > 1) throw new RangeError(`plans of ${period} are priced in ${[...currencies].join(' and ')}`);
  const currency: Currency = [...currencies][0] ?? PRICES.free.currency;

  // Whole seconds, as metering counts them: boundaries are truncated, so contiguous stretches
  // stay contiguous and a month covered end to end adds up to exactly its seconds.
  const priced = inMonth
    .map(({ s, from, to }) => ({ s, from: floorToSecond(from), to: floorToSecond(to) }))
    .filter(({ from, to }) => to > from);
  const amounts = allocateRounded(
    priced.map(
      ({ s, from, to }) => BigInt(PRICES[s.plan].seatMonthly) * BigInt(s.quantity) * BigInt((to - from) / 1000),
    ),
    BigInt(monthSeconds),
  );
  const lines: InvoiceLine[] = priced.map(({ s, from, to }, i) => ({
    kind: 'seats',
    plan: s.plan,
    quantity: s.quantity,
    from: new Date(from).toISOString(),
    to: new Date(to).toISOString(),
    seconds: (to - from) / 1000,
    monthSeconds,
    unitAmount: PRICES[s.plan].seatMonthly,
    amount: amounts[i]!,
    sources: { eventId: s.eventId, quantityEventId: s.quantityEventId, planEventId: s.planEventId },
  }));
  const seats = amounts.reduce((a, b) => a + b, 0);

  const last = inMonth.at(-1)?.s;
  const billableMinutes = Math.ceil(meetingSeconds / 60);
  let usage = 0;
  if (last) {
    const overage = meetingMinutesOverage(last.plan, meetingSeconds);
    const included = ENTITLEMENTS[last.plan].meetingMinutesPerMonth;
    const sources = { planEventId: last.planEventId };
    lines.push(
      {
        kind: 'included_minutes',
        plan: last.plan,
        minutes: included === null ? billableMinutes : Math.min(billableMinutes, included),
        includedMinutes: included,
        amount: 0,
        sources,
      },
      {
        kind: 'overage_minutes',
        plan: last.plan,
        minutes: overage.overageMinutes,
        unitAmount: overage.overagePerMinute,
        amount: overage.amount,
        sources,
      },
    );
    usage = overage.amount;
  } else if (meetingSeconds > 0) {
    throw new RangeError(`${meetingSeconds} s of meeting minutes in ${period}, when no plan was in force`);
  }

  return {
    period,
    currency,
    from: new Date(month.from).toISOString(),
    to: new Date(month.to).toISOString(),
    monthSeconds,
    planAtEnd: last ? { plan: last.plan, eventId: last.planEventId } : null,
    meetingSeconds,
    billableMinutes,
    lines,
    totals: { seats, usage, total: seats + usage },
  };
}
