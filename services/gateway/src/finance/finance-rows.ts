/** A page of the finance review's rows: each organization's totals with its month's seat stretches. */
import { periodBounds } from '@quorum/domain';
import { previewStretchesOf } from '../billing/preview-stretches';
import type { Context } from '../trpc';
import { financeRowOf, type FinanceOrgRow } from './finance-row';
import type { FinanceOrgTotals } from './finance.repository';

/** One read of the seat stretches for the whole page, then one row per organization. */
export async function financeRows(
  ctx: Context,
  period: string,
  page: readonly FinanceOrgTotals[],
): Promise<FinanceOrgRow[]> {
  const month = periodBounds(period);
  const stretches = await ctx.deps.billing.stretchesOf(
    page.map((t) => t.orgId),
    new Date(month.from),
    new Date(month.to),
  );
  return page.map((totals) =>
    financeRowOf(period, totals, previewStretchesOf(totals.orgId, stretches.get(totals.orgId) ?? [])),
  );
}
