import { describe, expect, it } from 'vitest';
import {
  ariaSort,
  financeCsvPath,
  financePath,
  financeViewFromSearch,
  loadedTotals,
  nextSort,
  type FinanceOrg,
  type FinanceView,
} from './finance-view';

const view = (over: Partial<FinanceView> = {}): FinanceView => ({
  period: '202612',
  sort: 'name',
  order: 'asc',
  ...over,
});

function row(orgId: string, meetingMinutes: number, participantMinutes: number, overage: number): FinanceOrg {
  return {
    orgId,
    name: orgId,
    plan: 'pro',
    currency: 'usd',
    participantMinutes: { seconds: participantMinutes * 60, minutes: participantMinutes },
    meetingMinutes: { seconds: meetingMinutes * 60, minutes: meetingMinutes },
    includedMinutes: 10_000,
    overageMinutes: overage,
    overagePerMinute: 2,
    overageAmount: overage * 2,
    preview: null,
  };
}

describe('the finance view in the address', () => {
  it('reads month, sort, order and the opened organization, and writes them back', () => {
    const search = new URLSearchParams('period=202611&sort=meetingMinutes&order=desc&org=o1');
    const read = financeViewFromSearch(search, '202612');
    expect(read).toEqual({ period: '202611', sort: 'meetingMinutes', order: 'desc', orgId: 'o1' });
    expect(financeViewFromSearch(new URLSearchParams(financePath(read).split('?')[1]), '202612')).toEqual(read);
  });

  it('falls back to this month by name A to Z for anything missing or wrong', () => {
    expect(financeViewFromSearch(new URLSearchParams('period=2026-12&sort=plan&order=up'), '202612')).toEqual(
      view({ orgId: undefined }),
    );
    expect(financePath(view())).toBe('/finance?period=202612&sort=name&order=asc');
  });
});

describe('sorting by a column header', () => {
  it('sorts a new column names first A to Z and amounts largest first, and turns the order on a second click', () => {
    expect(nextSort(view(), 'meetingMinutes')).toEqual({ sort: 'meetingMinutes', order: 'desc' });
    expect(nextSort(view({ sort: 'meetingMinutes', order: 'desc' }), 'meetingMinutes')).toEqual({
      sort: 'meetingMinutes',
      order: 'asc',
    });
    expect(nextSort(view({ sort: 'overage', order: 'desc' }), 'name')).toEqual({ sort: 'name', order: 'asc' });
    expect(nextSort(view(), 'name')).toEqual({ sort: 'name', order: 'desc' });
  });

  it('marks only the sorted column for assistive technology', () => {
    expect(ariaSort(view({ sort: 'overage', order: 'desc' }), 'overage')).toBe('descending');
    expect(ariaSort(view(), 'name')).toBe('ascending');
    expect(ariaSort(view(), 'overage')).toBeUndefined();
  });
});

describe('the loaded rows', () => {
  it('adds up minutes and overage of the rows shown', () => {
    expect(loadedTotals([row('a', 10, 30, 0), row('b', 12_000, 20_000, 2_000)])).toEqual({
      meetingMinutes: 12_010,
      participantMinutes: 20_030,
      overageMinutes: 2_000,
      overageAmounts: [{ currency: 'usd', amount: 4_000 }],
    });
    expect(loadedTotals([]).overageAmounts).toEqual([]);
  });

  it('exports the month as CSV from a same-site address', () => {
    expect(financeCsvPath('202612')).toBe('/finance/export.csv?period=202612');
  });
});
