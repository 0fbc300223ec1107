/**
 * Rules every reader of metered usage shares (an organization's own usage, and the operators'
 * finance review): how seconds become billed minutes, and which months may be asked for.
 */
import { badRequest, usagePeriodOf } from '@quorum/domain';
import type { Context } from './trpc';

/** Whole minutes billed for `seconds`: rounded up. */
export function billedMinutes(seconds: number): number {
  return Math.ceil(seconds / 60);
}

/** Refuses a month after the current one (UTC): it has no usage yet, and asking for it is a mistake. */
export function assertPeriodNotInFuture(ctx: Pick<Context, 'deps'>, period: string): void {
  const current = usagePeriodOf(ctx.deps.now());
  if (period > current)
    throw badRequest('usage.period_in_future', `Period ${period} is in the future; the current period is ${current}.`, {
      period,
      current,
    });
}
