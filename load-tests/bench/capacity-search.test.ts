import { describe, expect, it } from 'vitest';
import { capacityOf, nextRate, type SearchPlan, type Tried } from './capacity-search';

const plan: SearchPlan = { startRate: 50, bisectSteps: 3, maxRate: 3_200, minGap: 5 };

/**
 * Runs the search against a machine whose steps pass up to `limit` commands/s, except the steps
 * (by index) in `stalls`, which fail whatever their rate.
 */
function search(limit: number, p: SearchPlan = plan, stalls: readonly number[] = []): Tried[] {
  const tried: Tried[] = [];
  for (let rate = nextRate(tried, p); rate !== undefined; rate = nextRate(tried, p)) {
    tried.push({ rate, pass: rate <= limit && !stalls.includes(tried.length) });
  }
  return tried;
}

describe('the capacity search', () => {
  it('doubles from the start while steps pass, then bisects a few times', () => {
    const tried = search(130);
    // Every failure is run again before the search moves on.
    expect(tried.map((t) => t.rate)).toEqual([50, 100, 200, 200, 150, 150, 125, 138, 138]);
    expect(capacityOf(tried)).toBe(125);
  });

  it('bisects below the start rate when the first step fails', () => {
    const tried = search(20);
    expect(tried.map((t) => t.rate)).toEqual([50, 50, 25, 25, 13, 19]);
    expect(capacityOf(tried)).toBe(19);
  });

  it('answers 0 when nothing passes', () => {
    expect(capacityOf(search(0))).toBe(0);
  });

  it('stops at the largest rate it may try when that passes', () => {
    const tried = search(10_000, { ...plan, maxRate: 400 });
    expect(tried.map((t) => t.rate)).toEqual([50, 100, 200, 400]);
    expect(capacityOf(tried)).toBe(400);
  });

  it('stops splitting a bracket narrower than the smallest gap', () => {
    const tried = search(52, { ...plan, bisectSteps: 10, minGap: 5 });
    expect(tried.map((t) => t.rate)).toEqual([50, 100, 100, 75, 75, 63, 63, 57, 57, 54, 54]);
    expect(capacityOf(tried)).toBe(50);
  });

  it('a rate whose step failed once and passed when run again counts as passed', () => {
    // The second step (100/s) stalls; its rerun passes and the search goes on doubling.
    const tried = search(130, plan, [1]);
    expect(tried.map((t) => [t.rate, t.pass])).toEqual([
      [50, true],
      [100, false],
      [100, true],
      [200, false],
      [200, false],
      [150, false],
      [150, false],
      [125, true],
      [138, false],
      [138, false],
    ]);
    expect(capacityOf(tried)).toBe(125);
  });

  it('a rate that failed twice stays failed, whatever passes above it later', () => {
    const tried: Tried[] = [
      { rate: 50, pass: true },
      { rate: 100, pass: false },
      { rate: 100, pass: false },
      { rate: 75, pass: true },
    ];
    expect(nextRate(tried, plan)).toBe(88);
    expect(capacityOf([...tried, { rate: 88, pass: false }, { rate: 88, pass: true }])).toBe(88);
  });

  it('takes the highest pass below the lowest failure when a noisy step passes above it', () => {
    const tried: Tried[] = [
      { rate: 50, pass: true },
      { rate: 100, pass: false },
      { rate: 75, pass: true },
      { rate: 200, pass: true },
    ];
    expect(capacityOf(tried)).toBe(75);
  });
});
