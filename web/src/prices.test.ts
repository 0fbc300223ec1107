import { describe, expect, it } from 'vitest';
import { formatMoney, overageText, seatPriceText } from './prices';

describe('plan prices in words', () => {
  it('formats cents as money', () => {
    expect(formatMoney(1200, 'usd')).toBe('$12.00');
    expect(formatMoney(2, 'usd')).toBe('$0.02');
  });

  it('says what a seat and a minute beyond the included ones cost on each plan', () => {
    expect(seatPriceText('free')).toBe('Free');
    expect(seatPriceText('pro')).toBe('$12.00 per seat');
    expect(overageText('free')).toBe('Not available: new joins stop until next month');
    expect(overageText('pro')).toBe('$0.02 per minute');
    expect(overageText('enterprise')).toBe('None (unlimited)');
  });
});
