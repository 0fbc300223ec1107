/**
 * Finance, for Quorum's operators: every organization's metered month from `finance.orgs`,
 * sorted by the server (a column header is a sort), paged with its cursor, and the month's CSV
 * export. An operator need not belong to an organization: opening one shows its usage summary
 * only when `usage.summary` lets them read it, and otherwise its finance row alone. Whether the
 * caller is an operator is the server's answer to each call, so the page asks and shows the
 * refusal in words rather than trusting what the navigation was told.
 */
import type { FinanceSort } from '@quorum/api/schemas';
import { keepPreviousData, useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { useEffect, useMemo, useRef } from 'react';
import { PageTitle } from '../../PageTitle';
import { errorCode, errorMessage } from '../../errors';
import { formatMoney } from '../../prices';
import { Link, navigate, useLocation } from '../../router';
import { trpc } from '../../trpc';
import { LoadError, Loading, NotAllowed, Select } from '../../ui';
import { StripeSync } from './StripeSync';
import { METER_LABELS, METERS, minutesText, periodLabel, recentPeriods } from '../usage/usage-view';
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

const PAGE_SIZE = 50;

const count = (n: number) => n.toLocaleString('en-US');

/** The month's invoice so far, or why there is none (no seat held in the month). */
const previewText = (r: FinanceOrg) => (r.preview ? formatMoney(r.preview.total, r.currency) : 'No seats');

const PLAN_WORDS: Record<string, string> = { free: 'Free', pro: 'Pro', enterprise: 'Enterprise' };

export function FinancePage() {
  const { search } = useLocation();
  const periods = useMemo(() => recentPeriods(new Date()), []);
  const view = financeViewFromSearch(search, periods[0]!);
  const orgs = useInfiniteQuery({
    queryKey: ['finance.orgs', view.period, view.sort, view.order],
    queryFn: ({ pageParam }) =>
      trpc.finance.orgs.query({
        period: view.period,
        sort: view.sort,
        order: view.order,
        limit: PAGE_SIZE,
        ...(pageParam ? { cursor: pageParam } : {}),
      }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next ?? undefined,
    placeholderData: keepPreviousData,
  });
  const rows = useMemo(() => (orgs.data?.pages ?? []).flatMap((p) => p.orgs), [orgs.data]);
  const go = (next: Partial<FinanceView>) => navigate(financePath({ ...view, ...next }));

  if (errorCode(orgs.error) === 'FORBIDDEN') {
    return (
      <PageTitle title="Finance">
        <NotAllowed>
          Finance is for Quorum’s operators only: it shows every organization’s usage and billing. Your own
          organizations’ usage is on their Usage & billing pages.
        </NotAllowed>
      </PageTitle>
    );
  }

  const options = (periods.includes(view.period) ? periods : [view.period, ...periods]).map((p) => ({
    value: p,
    label: periodLabel(p),
  }));
  const opened = view.orgId ? rows.find((r) => r.orgId === view.orgId) : undefined;

  return (
    <PageTitle title="Finance">
      <div className="stack finance-page" aria-busy={orgs.isPlaceholderData || undefined}>
        <section className="card" aria-labelledby="finance-period-heading">
          <h2 id="finance-period-heading" className="visually-hidden">
            Month
          </h2>
          <div className="inline-form usage-toolbar">
            <Select
              label="Month (UTC)"
              name="period"
              value={view.period}
              onChange={(e) => go({ period: e.target.value, orgId: undefined })}
              options={options}
            />
            <a className="button-link" href={financeCsvPath(view.period)} download data-testid="finance-csv">
              Download CSV
            </a>
          </div>
          <p className="hint">
            Every organization’s metered minutes in {periodLabel(view.period)} and the overage they come to on its plan.
            The CSV holds every organization, by name.
          </p>
        </section>

        {view.orgId ? (
          <OrgDetails
            key={`${view.orgId}/${view.period}`}
            orgId={view.orgId}
            period={view.period}
            row={opened}
            onClose={() => go({ orgId: undefined })}
          />
        ) : null}

        <StripeSync />

        <section className="card" aria-labelledby="finance-orgs-heading">
          <h2 id="finance-orgs-heading">Organizations</h2>
          {orgs.isPending ? <Loading what="organizations" /> : null}
          {orgs.isError ? <LoadError error={errorMessage(orgs.error)} retry={() => void orgs.refetch()} /> : null}
          {orgs.isSuccess && rows.length === 0 ? <p className="hint">No organization yet.</p> : null}
          {rows.length > 0 ? (
            <>
              <OrgsTable
                rows={rows}
                view={view}
                onSort={(sort) => go(nextSort(view, sort))}
                onOpen={(orgId) => go({ orgId })}
              />
              {orgs.hasNextPage ? (
                <button
                  type="button"
                  className="secondary"
                  onClick={() => void orgs.fetchNextPage()}
                  disabled={orgs.isFetchingNextPage}
                >
                  {orgs.isFetchingNextPage ? 'Loading more…' : 'More'}
                </button>
              ) : null}
            </>
          ) : null}
        </section>
      </div>
    </PageTitle>
  );
}

const COLUMNS: ReadonlyArray<{ sort?: FinanceSort; label: string }> = [
  { sort: 'name', label: 'Organization' },
  { label: 'Plan' },
  { sort: 'meetingMinutes', label: 'Meeting minutes' },
  { sort: 'participantMinutes', label: 'Participant minutes' },
  { label: 'Included' },
  { label: 'Overage minutes' },
  { sort: 'overage', label: 'Overage' },
  { label: 'Invoice preview' },
];

function OrgsTable({
  rows,
  view,
  onSort,
  onOpen,
}: {
  rows: readonly FinanceOrg[];
  view: FinanceView;
  onSort: (sort: FinanceSort) => void;
  onOpen: (orgId: string) => void;
}) {
  const totals = loadedTotals(rows);
  return (
    <div className="table-wrap">
      <table data-testid="finance-orgs">
        <caption className="visually-hidden">
          Organizations in {periodLabel(view.period)}; a column header with a button sorts by that column.
        </caption>
        <thead>
          <tr>
            {COLUMNS.map((c) => (
              <th key={c.label} scope="col" aria-sort={c.sort ? ariaSort(view, c.sort) : undefined}>
                {c.sort ? (
                  <button type="button" className="link-button sort-button" onClick={() => onSort(c.sort!)}>
                    {c.label}
                    <span aria-hidden="true">{view.sort === c.sort ? (view.order === 'asc' ? ' ▲' : ' ▼') : ''}</span>
                  </button>
                ) : (
                  c.label
                )}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr
              key={r.orgId}
              data-testid={`finance-org-${r.orgId}`}
              className={r.orgId === view.orgId ? 'selected' : undefined}
            >
              <th scope="row">
                <button
                  type="button"
                  className="link-button drill"
                  onClick={() => onOpen(r.orgId)}
                  aria-pressed={r.orgId === view.orgId}
                >
                  {r.name}
                </button>
              </th>
              <td>{PLAN_WORDS[r.plan] ?? r.plan}</td>
              <td data-testid="meeting-minutes">{count(r.meetingMinutes.minutes)}</td>
              <td data-testid="participant-minutes">{count(r.participantMinutes.minutes)}</td>
              <td>{r.includedMinutes === null ? 'Unlimited' : count(r.includedMinutes)}</td>
              <td data-testid="overage-minutes">{count(r.overageMinutes)}</td>
              <td data-testid="overage-amount">{formatMoney(r.overageAmount, r.currency)}</td>
              <td data-testid="invoice-preview">{previewText(r)}</td>
            </tr>
          ))}
        </tbody>
        <tfoot>
          <tr data-testid="finance-loaded-totals">
            <th scope="row">
              {rows.length} organization{rows.length === 1 ? '' : 's'} shown
            </th>
            <td />
            <td>{count(totals.meetingMinutes)}</td>
            <td>{count(totals.participantMinutes)}</td>
            <td />
            <td>{count(totals.overageMinutes)}</td>
            <td>{totals.overageAmounts.map((a) => formatMoney(a.amount, a.currency)).join(' + ') || '—'}</td>
            <td />
          </tr>
        </tfoot>
      </table>
    </div>
  );
}

function OrgDetails({
  orgId,
  period,
  row,
  onClose,
}: {
  orgId: string;
  period: string;
  row: FinanceOrg | undefined;
  onClose: () => void;
}) {
  // The operator's own standing in the organization decides, as for anyone: a non-member is told
  // NOT_FOUND (an organization is not disclosed to outsiders), a member without the role
  // FORBIDDEN; either way the finance row is all they see.
  const summary = useQuery({
    queryKey: ['usage.summary', orgId, period, 'meter'],
    queryFn: () => trpc.usage.summary.query({ orgId, period, groupBy: 'meter' }),
  });
  const refused = ['FORBIDDEN', 'NOT_FOUND'].includes(errorCode(summary.error) ?? '');
  // Opened from a row far down a long table: bring the details into view and announce them.
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);
  const title = row?.name ?? `Organization ${orgId.slice(0, 8)}`;
  return (
    <section className="card" aria-labelledby="finance-org-heading" data-testid="finance-org-details">
      <div className="page-head">
        <h2 id="finance-org-heading" ref={heading} tabIndex={-1}>
          {title} · {periodLabel(period)}
        </h2>
        <button type="button" className="secondary" onClick={onClose}>
          Close
        </button>
      </div>
      {row ? (
        <dl className="facts" data-testid="finance-org-facts">
          <div>
            <dt>Plan</dt>
            <dd>{PLAN_WORDS[row.plan] ?? row.plan}</dd>
          </div>
          <div>
            <dt>Meeting minutes</dt>
            <dd data-testid="finance-fact-meeting-minutes">{minutesText(row.meetingMinutes.minutes)}</dd>
          </div>
          <div>
            <dt>Participant minutes</dt>
            <dd>{minutesText(row.participantMinutes.minutes)}</dd>
          </div>
          <div>
            <dt>Included</dt>
            <dd>{row.includedMinutes === null ? 'Unlimited' : minutesText(row.includedMinutes)}</dd>
          </div>
          <div>
            <dt>Beyond the included minutes</dt>
            <dd>{minutesText(row.overageMinutes)}</dd>
          </div>
          <div>
            <dt>Per minute</dt>
            <dd>{row.overagePerMinute === null ? 'No overage' : formatMoney(row.overagePerMinute, row.currency)}</dd>
          </div>
          <div>
            <dt>Overage</dt>
            <dd>{formatMoney(row.overageAmount, row.currency)}</dd>
          </div>
          <div>
            <dt>Invoice preview (seats + usage)</dt>
            <dd>
              {row.preview
                ? `${formatMoney(row.preview.seats, row.currency)} + ${formatMoney(row.preview.usage, row.currency)} = ${formatMoney(row.preview.total, row.currency)}`
                : previewText(row)}
            </dd>
          </div>
        </dl>
      ) : (
        <p className="hint">This organization is not among the rows loaded below.</p>
      )}
      {summary.isPending ? <Loading what="its usage" /> : null}
      {refused ? (
        <p className="hint" data-testid="finance-org-no-usage">
          Its usage summary is for the organization’s owners and billing members: you see its finance row only.
        </p>
      ) : null}
      {summary.isError && !refused ? (
        <LoadError error={errorMessage(summary.error)} retry={() => void summary.refetch()} />
      ) : null}
      {summary.data ? (
        <>
          <div className="table-wrap">
            <table data-testid="finance-org-usage">
              <caption className="visually-hidden">Usage summary of {title}</caption>
              <thead>
                <tr>
                  <th scope="col">Meter</th>
                  <th scope="col">Minutes</th>
                  <th scope="col">Usage events</th>
                </tr>
              </thead>
              <tbody>
                {METERS.map((meter) => {
                  const total = summary.data.totals.find((t) => t.meter === meter);
                  return (
                    <tr key={meter}>
                      <th scope="row">{METER_LABELS[meter]}</th>
                      <td>{minutesText(total?.minutes ?? 0)}</td>
                      <td>{total?.records ?? 0}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
          <p>
            <Link to={`/orgs/${orgId}/usage?period=${period}`}>Open its Usage & billing page</Link>
          </p>
        </>
      ) : null}
    </section>
  );
}
