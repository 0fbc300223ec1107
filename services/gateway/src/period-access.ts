/**
 * The checks of every read of one organization's month (`usage.*`, the CSV export,
 * `billing.preview`): the read model reached `minPosition`, the caller may take the action in
 * the organization, and the period is not in the future. Authorization comes before the period,
 * so a stranger learns nothing from the answer.
 */
import type { Action } from '@quorum/domain';
import { authorizeQuery, awaitPosition } from './access';
import type { Context, Principal } from './trpc';
import { assertPeriodNotInFuture } from './usage-periods';

/** Waits for `minPosition`, authorizes `action` in `orgId`, then checks the period. */
export async function authorizePeriodRead(
  ctx: Context & { principal: Principal },
  input: { orgId: string; period: string; minPosition?: string | undefined },
  action: Action,
): Promise<void> {
  await awaitPosition(ctx, input.minPosition);
  await authorizeQuery(ctx, input.orgId, action);
  assertPeriodNotInFuture(ctx, input.period);
}
