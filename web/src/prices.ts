/** Plan prices from the domain's price table (`PRICES`), in words for the plan page. */
import { ENTITLEMENTS, PRICES, type Currency, type Plan } from '@quorum/domain';

/** An amount in minor units (cents) as money: `1200` → `$12.00`. */
export function formatMoney(minor: number, currency: Currency | string): string {
  return new Intl.NumberFormat('en-US', { style: 'currency', currency: currency.toUpperCase() }).format(minor / 100);
}

/** What one seat costs a month on `plan`. */
export function seatPriceText(plan: Plan): string {
  const { seatMonthly, currency } = PRICES[plan];
  return seatMonthly === 0 ? 'Free' : `${formatMoney(seatMonthly, currency)} per seat`;
}

/** What a meeting minute beyond the included ones costs on `plan`, or why there is none. */
export function overageText(plan: Plan): string {
  const { overagePerMinute, currency } = PRICES[plan];
  if (ENTITLEMENTS[plan].meetingMinutesPerMonth === null) return 'None (unlimited)';
  if (overagePerMinute === null) return 'Not available: new joins stop until next month';
  return `${formatMoney(overagePerMinute, currency)} per minute`;
}
