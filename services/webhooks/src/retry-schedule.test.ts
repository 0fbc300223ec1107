import { describe, expect, it } from 'vitest';
import { MAX_ATTEMPTS, MAX_RETRY_AFTER_MS, nextRetryDelayMs, parseRetryAfter, RETRY_DELAYS_MS } from './retry-schedule';

const middle = () => 0.5;

describe('the retry schedule', () => {
  it('is immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h: eight attempts', () => {
    expect(RETRY_DELAYS_MS).toEqual([0, 5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000]);
    expect(MAX_ATTEMPTS).toBe(8);
    const delays = [1, 2, 3, 4, 5, 6, 7].map((n) => nextRetryDelayMs(n, { random: middle }));
    expect(delays).toEqual(RETRY_DELAYS_MS.slice(1));
  });

  it('ends after the eighth attempt', () => {
    expect(nextRetryDelayMs(8, { random: middle })).toBeUndefined();
    expect(nextRetryDelayMs(9, { random: middle })).toBeUndefined();
  });

  it('spreads each delay by at most 20% either way', () => {
    expect(nextRetryDelayMs(2, { random: () => 0 })).toBe(240_000);
    expect(nextRetryDelayMs(2, { random: () => 0.999_999 })).toBe(360_000);
  });

  it('scales every delay', () => {
    expect(nextRetryDelayMs(2, { scale: 0.001, random: middle })).toBe(300);
    expect(nextRetryDelayMs(7, { scale: 0.001, random: middle })).toBe(36_000);
  });

  it('waits at least as long as Retry-After asks, unscaled, up to a day', () => {
    expect(nextRetryDelayMs(1, { scale: 0.001, random: middle }, 2_000)).toBe(2_000);
    expect(nextRetryDelayMs(3, { random: middle }, 1_000)).toBe(1_800_000);
    expect(nextRetryDelayMs(1, { random: middle }, 10 * MAX_RETRY_AFTER_MS)).toBe(MAX_RETRY_AFTER_MS);
  });
});

describe('Retry-After', () => {
  const now = new Date('2026-03-01T12:00:00.000Z');

  it('reads delay-seconds', () => {
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
  });

  it('reads an HTTP date, a past one as no wait', () => {
    expect(parseRetryAfter('Sun, 01 Mar 2026 12:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Sun, 01 Mar 2026 11:00:00 GMT', now)).toBe(0);
  });

  it('ignores what it cannot read', () => {
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter('-5', now)).toBeUndefined();
  });
});
