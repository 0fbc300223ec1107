/**
 * The capacity search's schedule: start at `startRate`, double while steps pass, then bisect
 * between the highest passing rate and the lowest failing one a few times. The capacity is
 * the highest rate that passed below every rate that failed.
 *
 * A failed step is run once more at the same rate, and the rate fails only if both did: on a
 * shared 2-core machine one stall of a few hundred milliseconds (seen in Postgres's commits, at
 * any rate) fails an 8 s step by itself, and a rate past the capacity fails twice anyway.
 */

export interface SearchPlan {
  startRate: number;
  /** Steps after the first failure. */
  bisectSteps: number;
  /** Doubling stops here: a pass at this rate ends the search. */
  maxRate: number;
  /** A bracket narrower than this (in commands/s) is not split further. */
  minGap: number;
}

export interface Tried {
  rate: number;
  pass: boolean;
}

/** Each rate tried, in the order first tried: it passed if any of its steps did. */
function verdicts(tried: readonly Tried[]): Tried[] {
  const byRate = new Map<number, boolean>();
  for (const t of tried) byRate.set(t.rate, (byRate.get(t.rate) ?? false) || t.pass);
  return [...byRate].map(([rate, pass]) => ({ rate, pass }));
}

/** The bracket the tries so far leave: the highest pass below the lowest failure, and that failure. */
export function bracket(tried: readonly Tried[]): { passed: number; failed: number | undefined } {
  const rates = verdicts(tried);
  const failures = rates.filter((t) => !t.pass).map((t) => t.rate);
  const failed = failures.length ? Math.min(...failures) : undefined;
  const passes = rates.filter((t) => t.pass && (failed === undefined || t.rate < failed)).map((t) => t.rate);
  return { passed: passes.length ? Math.max(...passes) : 0, failed };
}

/** The highest steady rate that passed (0 when none did). */
export function capacityOf(tried: readonly Tried[]): number {
  return bracket(tried).passed;
}

/** The next rate to try, or `undefined` when the search is done. */
export function nextRate(tried: readonly Tried[], plan: SearchPlan): number | undefined {
  if (tried.length === 0) return plan.startRate;
  const last = tried[tried.length - 1]!;
  if (!last.pass && tried.filter((t) => t.rate === last.rate).length === 1) return last.rate;
  const rates = verdicts(tried);
  const firstFailure = rates.findIndex((t) => !t.pass);
  const { passed, failed } = bracket(tried);
  if (failed === undefined) {
    if (passed >= plan.maxRate) return undefined;
    return Math.min(plan.maxRate, passed * 2);
  }
  const bisected = rates.length - 1 - firstFailure;
  if (bisected >= plan.bisectSteps || failed - passed <= plan.minGap) return undefined;
  return Math.round((passed + failed) / 2);
}
