/**
 * What the operators' Finance page keeps in its address (month, sort, order, the organization
 * opened) and how a column header turns the sort. Pure, so it is tested without a browser.
 */
import { FinanceSortSchema, type FinanceSort } from '@quorum/api/schemas';
import type { RouterOutputs } from '../../trpc';
import { isPeriod } from '../usage/usage-view';

export type FinanceOrgs = RouterOutputs['finance']['orgs'];
export type FinanceOrg = FinanceOrgs['orgs'][number];
export type SortOrder = 'asc' | 'desc';

export interface FinanceView {
  period: string;
  sort: FinanceSort;
  order: SortOrder;
  /** The organization whose details are open. */
  orgId?: string | undefined;
}

/** The view the address asks for; anything it does not name or names wrongly is the default. */
export function financeViewFromSearch(search: URLSearchParams, currentPeriod: string): FinanceView {
  const period = search.get('period');
  const sort = FinanceSortSchema.safeParse(search.get('sort'));
  const order = search.get('order');
  return {
    period: period && isPeriod(period) ? period : currentPeriod,
    sort: sort.success ? sort.data : 'name',
    order: order === 'desc' ? 'desc' : 'asc',
    orgId: search.get('org') ?? undefined,
  };
}

export function financePath(view: FinanceView): string {
  const q = new URLSearchParams({ period: view.period, sort: view.sort, order: view.order });
  if (view.orgId) q.set('org', view.orgId);
  return `/finance?${q.toString()}`;
}

/**
 * A header clicked: its column sorted, names A to Z and amounts largest first; the sorted
 * column clicked again turns the order around.
 */
export function nextSort(view: FinanceView, sort: FinanceSort): Pick<FinanceView, 'sort' | 'order'> {
  if (view.sort === sort) return { sort, order: view.order === 'asc' ? 'desc' : 'asc' };
  return { sort, order: sort === 'name' ? 'asc' : 'desc' };
}

/** The `aria-sort` of a column header. */
export function ariaSort(view: FinanceView, sort: FinanceSort): 'ascending' | 'descending' | undefined {
  if (view.sort !== sort) return undefined;
  return view.order === 'asc' ? 'ascending' : 'descending';
}

/** The CSV export of a month for operators: a plain GET the browser's session cookie authenticates. */
export function financeCsvPath(period: string): string {
  return `/finance/export.csv?${new URLSearchParams({ period }).toString()}`;
}

/** Totals of the rows loaded so far; amounts are summed per currency, never across currencies. */
export function loadedTotals(rows: readonly FinanceOrg[]) {
  const amounts = new Map<FinanceOrg['currency'], number>();
  for (const r of rows) amounts.set(r.currency, (amounts.get(r.currency) ?? 0) + r.overageAmount);
  return {
    meetingMinutes: rows.reduce((n, r) => n + r.meetingMinutes.minutes, 0),
    participantMinutes: rows.reduce((n, r) => n + r.participantMinutes.minutes, 0),
    overageMinutes: rows.reduce((n, r) => n + r.overageMinutes, 0),
    overageAmounts: [...amounts].map(([currency, amount]) => ({ currency, amount })),
  };
}
