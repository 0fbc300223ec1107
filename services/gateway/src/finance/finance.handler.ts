/**
 * The finance review for Quorum's operators: every organization's metered month, its plan and
 * its overage (`finance.orgs`, and the CSV export in `finance-export.route.ts`). Who may call
 * is settled before the handler runs (`operatorProcedure`, or the export's `authorize`); what
 * is left here is the input's time and the paging.
 */
import { encodeFinanceCursor, type FinanceOrgsQuery } from '@quorum/api/schemas';
import { awaitPosition } from '../access';
import type { Context } from '../trpc';
import { assertPeriodNotInFuture } from '../usage-periods';
import { financeRows } from './finance-rows';

export async function financeOrgs(ctx: Context, input: FinanceOrgsQuery & { minPosition?: string | undefined }) {
  await awaitPosition(ctx, input.minPosition);
  assertPeriodNotInFuture(ctx, input.period);
  // One more than asked: whether a next page exists is known, not guessed from a full page.
  const rows = await ctx.deps.finance.orgs(input.period, {
    sort: input.sort,
    order: input.order,
    after: input.cursor,
    limit: input.limit + 1,
  });
  const page = rows.slice(0, input.limit);
  const last = page.at(-1);
  return {
    period: input.period,
    sort: input.sort,
    order: input.order,
    orgs: await financeRows(ctx, input.period, page),
    next:
      rows.length > input.limit && last
        ? encodeFinanceCursor({ sort: input.sort, order: input.order, key: last.sortKey, orgId: last.orgId })
        : null,
  };
}
