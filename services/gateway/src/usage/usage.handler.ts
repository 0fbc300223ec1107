/**
 * Metered usage for an organization's owners and billing members: totals (`usage.summary`),
 * the usage events behind them (`usage.records`), and the CSV export (`usage-export.route.ts`).
 * Minutes are the seconds rounded up to the whole minute, once, on the number shown: a total's
 * minutes are what billing charges (docs/metering.md), and the minutes of its rows may add up
 * to more.
 */
import type { UsageRecordsInput, UsageSummaryInput } from '@quorum/api/schemas';
import { badRequest, UsageMeterSchema } from '@quorum/domain';
import { authorizePeriodRead } from '../period-access';
import type { Context, Principal } from '../trpc';
import { billedMinutes } from '../usage-periods';

type Authed = Context & { principal: Principal };

const METERS = UsageMeterSchema.options;

export async function usageSummary(ctx: Authed, input: UsageSummaryInput & { minPosition?: string | undefined }) {
  await authorizePeriodRead(ctx, input, 'usage.summary');
  const [groups, crossed] = await Promise.all([
    ctx.deps.usage.summary(input.orgId, input.period, input.groupBy),
    ctx.deps.usage.thresholds(input.orgId, input.period),
  ]);
  const totals = METERS.map((meter) => {
    const of = groups.filter((g) => g.meter === meter);
    const seconds = of.reduce((n, g) => n + g.seconds, 0);
    return { meter, seconds, minutes: billedMinutes(seconds), records: of.reduce((n, g) => n + g.records, 0) };
  });
  return {
    orgId: input.orgId,
    period: input.period,
    groupBy: input.groupBy,
    rows: groups.map((g) => ({ ...g, minutes: billedMinutes(g.seconds) })),
    totals,
    thresholds: crossed.map((t) => ({
      meter: t.meter,
      threshold: t.threshold,
      includedMinutes: t.included_minutes,
      usedSeconds: Number(t.used_seconds),
      crossedAt: new Date(t.crossed_at).toISOString(),
      eventId: t.event_id,
    })),
  };
}

export async function usageRecords(ctx: Authed, input: UsageRecordsInput & { minPosition?: string | undefined }) {
  await authorizePeriodRead(ctx, input, 'usage.records');
  if (input.day !== undefined && input.day.slice(0, 7).replace('-', '') !== input.period)
    throw badRequest('usage.day_outside_period', `Day ${input.day} is not in period ${input.period}.`, {
      day: input.day,
      period: input.period,
    });
  // One more than asked: whether a next page exists is known, not guessed from a full page.
  const rows = await ctx.deps.usage.records(input.orgId, input.period, {
    filter: { meter: input.meter, day: input.day, hostUserId: input.hostUserId, sessionId: input.sessionId },
    after: input.cursor,
    limit: input.limit + 1,
  });
  const records = rows.slice(0, input.limit);
  return { records, next: rows.length > input.limit ? records.at(-1)!.position : null };
}
