/**
 * The checks of every read of one organization's month (`usage.*`, the CSV export,
 * `billing.preview`): the read model reached `minPosition`, the caller may take the action in
 * the organization, and the period is not in the future. Authorization comes before the period,
 * so a stranger learns nothing from the answer.
 */
import { badRequest, usagePeriodOf, type Action } from '@quorum/domain';
import { authorizeQuery, awaitPosition } from './access';
import type { Context, Principal } from './trpc';

type Authed = Context & { principal: Principal };

/** Refuses a month after the current one (UTC): it has no usage yet, and asking for it is a mistake. */
function assertPeriodNotInFuture(ctx: Authed, period: string): void {
  const current = usagePeriodOf(ctx.deps.now());
  if (period > current)
    throw badRequest('usage.period_in_future', `Period ${period} is in the future; the current period is ${current}.`, {
      period,
      current,
    });
}

/** Waits for `minPosition`, authorizes `action` in `orgId`, then checks the period. */
export async function authorizePeriodRead(
  ctx: Authed,
  input: { orgId: string; period: string; minPosition?: string | undefined },
  action: Action,
): Promise<void> {
  await awaitPosition(ctx, input.minPosition);
  await authorizeQuery(ctx, input.orgId, action);
  assertPeriodNotInFuture(ctx, input.period);
}
