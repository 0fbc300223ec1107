/**
 * Usage & billing: one month of the organization's metered usage (`usage.summary` by day,
 * meeting and host), what it comes to on the plan, and the usage events behind any day,
 * meeting or host (`usage.records`). Owners and billing members only; the address carries
 * the month and the drill-down, so both survive a reload and the back button.
 */
import { PlanSchema, type Plan } from '@quorum/domain';
import { useCallback, useMemo } from 'react';
import { errorCode, errorMessage } from '../../errors';
import { formatMoney } from '../../prices';
import { navigate, useLocation } from '../../router';
import { trpc } from '../../trpc';
import { LoadError, Loading, NotAllowed, Select, formatDate } from '../../ui';
import { permission, useOrg, useOrgQuery } from '../org-context';
import { InvoiceCard } from './InvoiceCard';
import { UsageChart } from './UsageChart';
import { UsageRecords } from './UsageRecords';
import {
  dailySeries,
  daysWithUsage,
  exportCsvPath,
  filterFromSearch,
  includedMinutes,
  isPeriod,
  METER_LABELS,
  METERS,
  minutesText,
  overageOf,
  periodLabel,
  recentPeriods,
  thresholdState,
  thresholdText,
  usageByKey,
  usagePath,
  type KeyUsage,
  type UsageFilter,
  type UsageSummary,
} from './usage-view';

/**
 * Usage grows while meetings run: the live feed advances the organization's position with each
 * usage event (and so refreshes these reads); this interval also covers a feed that is down.
 */
const REFRESH_MS = 30_000;

export function UsagePage() {
  const org = useOrg();
  const allowed = permission(org.yourRole, 'usage.summary', 'see usage and billing');
  if (!allowed.allowed) return <NotAllowed>{allowed.reason}</NotAllowed>;
  return <Usage />;
}

function useSummary(orgId: string, period: string, groupBy: 'day' | 'meeting' | 'host') {
  return useOrgQuery('usage.summary', orgId, (p) => trpc.usage.summary.query({ orgId, period, groupBy, ...p }), {
    extraKey: [period, groupBy],
    refetchInterval: REFRESH_MS,
  });
}

function Usage() {
  const org = useOrg();
  const orgId = org.orgId;
  const { search } = useLocation();
  const periods = useMemo(() => recentPeriods(new Date()), []);
  const asked = search.get('period');
  const period = asked && isPeriod(asked) ? asked : periods[0]!;
  const filter = filterFromSearch(search);
  const plan = PlanSchema.safeParse(org.plan);

  const byDay = useSummary(orgId, period, 'day');
  const byMeeting = useSummary(orgId, period, 'meeting');
  const byHost = useSummary(orgId, period, 'host');
  const meetings = useOrgQuery('meetings.list', orgId, (p) => trpc.meetings.list.query({ orgId, ...p }));
  const members = useOrgQuery('members.list', orgId, (p) => trpc.members.list.query({ orgId, ...p }));

  // The same read as the Meetings tab (one cache entry); a meeting older than it lists is named by its id.
  const titles = useMemo(
    () => new Map((meetings.data?.meetings ?? []).map((m) => [m.sessionId, m.title])),
    [meetings.data],
  );
  const emails = useMemo(() => new Map((members.data?.members ?? []).map((m) => [m.userId, m.email])), [members.data]);
  const meetingName = useCallback(
    (sessionId: string) => titles.get(sessionId) ?? `Meeting ${sessionId.slice(0, 8)}`,
    [titles],
  );
  const who = useCallback((userId: string) => emails.get(userId) ?? `User ${userId.slice(0, 8)}`, [emails]);

  const show = useCallback(
    (next: UsageFilter | undefined) => navigate(usagePath(orgId, period, next)),
    [orgId, period],
  );

  const refused = [byDay, byMeeting, byHost].find((q) => errorCode(q.error) === 'FORBIDDEN');
  if (refused) return <NotAllowed>{errorMessage(refused.error)}</NotAllowed>;

  const options = (periods.includes(period) ? periods : [period, ...periods]).map((p) => ({
    value: p,
    label: periodLabel(p),
  }));

  return (
    <div className="stack usage-page" aria-busy={byDay.isPlaceholderData || undefined}>
      <section className="card" aria-labelledby="usage-period-heading">
        <h2 id="usage-period-heading" className="visually-hidden">
          Month
        </h2>
        <div className="inline-form usage-toolbar">
          <Select
            label="Month (UTC)"
            name="period"
            value={period}
            onChange={(e) => navigate(usagePath(orgId, e.target.value))}
            options={options}
          />
          <a className="button-link" href={exportCsvPath(orgId, period)} download data-testid="usage-csv">
            Download CSV
          </a>
        </div>
        <p className="hint">
          Every usage event of {periodLabel(period)}, one row each, with the session events it came from. Usage
          refreshes while this page is open.
        </p>
      </section>

      {byDay.isPending ? <Loading what="usage" /> : null}
      {byDay.isError ? <LoadError error={errorMessage(byDay.error)} retry={() => void byDay.refetch()} /> : null}
      {byDay.data ? (
        <>
          {plan.success ? (
            <Totals summary={byDay.data} plan={plan.data} period={period} />
          ) : (
            <LoadError error={`The plan ${org.plan} is not one this console knows; reload to update it.`} />
          )}
          <InvoiceCard orgId={orgId} period={period} />
          <Daily summary={byDay.data} period={period} onPickDay={(day) => show({ day })} />
        </>
      ) : null}

      {filter ? (
        <UsageRecords
          key={JSON.stringify(filter)}
          orgId={orgId}
          period={period}
          filter={filter}
          title={recordsTitle(filter, meetingName, who)}
          who={who}
          onClose={() => show(undefined)}
        />
      ) : null}

      <ByKey
        id="meeting"
        title="By meeting"
        heading="Meeting"
        query={byMeeting}
        name={meetingName}
        onPick={(sessionId) => show({ sessionId })}
      />
      <ByKey
        id="host"
        title="By host"
        heading="Host"
        query={byHost}
        name={who}
        onPick={(hostUserId) => show({ hostUserId })}
      />
    </div>
  );
}

function recordsTitle(filter: UsageFilter, meetingName: (id: string) => string, who: (id: string) => string): string {
  if ('day' in filter) return `Usage events of ${filter.day}`;
  if ('sessionId' in filter) return `Usage events of ${meetingName(filter.sessionId)}`;
  return `Usage events of meetings hosted by ${who(filter.hostUserId)}`;
}

function Totals({ summary, plan, period }: { summary: UsageSummary; plan: Plan; period: string }) {
  const overage = overageOf(plan, summary.totals);
  return (
    <section className="card" aria-labelledby="usage-totals-heading">
      <h2 id="usage-totals-heading">Totals for {periodLabel(period)}</h2>
      <div className="table-wrap">
        <table data-testid="usage-totals">
          <thead>
            <tr>
              <th scope="col">Meter</th>
              <th scope="col">Used</th>
              <th scope="col">Included in your plan</th>
              <th scope="col">Threshold</th>
            </tr>
          </thead>
          <tbody>
            {METERS.map((meter) => {
              const total = summary.totals.find((t) => t.meter === meter);
              const included = includedMinutes(plan, meter);
              const state = thresholdState(summary.thresholds, meter);
              return (
                <tr key={meter} data-testid={`usage-total-${meter}`}>
                  <th scope="row">{METER_LABELS[meter]}</th>
                  <td data-testid="usage-total-minutes">{minutesText(total?.minutes ?? 0)}</td>
                  <td>
                    {included === undefined ? 'Not limited' : included === null ? 'Unlimited' : minutesText(included)}
                  </td>
                  <td data-testid="usage-threshold" data-reached={state.reached}>
                    {included === undefined || included === null ? (
                      '—'
                    ) : (
                      <>
                        {thresholdText(state)}
                        {state.reached ? <span className="hint"> · since {formatDate(state.crossedAt)}</span> : null}
                      </>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      <p className="hint">
        Each total is rounded up to the whole minute once, on the month; the rows below are rounded each on its own, so
        their minutes may add up to a little more.
      </p>
      {overage ? (
        <dl className="facts usage-overage" data-testid="usage-overage">
          <div>
            <dt>Billable meeting minutes</dt>
            <dd>{minutesText(overage.billableMinutes)}</dd>
          </div>
          <div>
            <dt>Beyond the included minutes</dt>
            <dd data-testid="usage-overage-minutes">{minutesText(overage.overageMinutes)}</dd>
          </div>
          <div>
            <dt>Per minute</dt>
            <dd>{formatMoney(overage.overagePerMinute ?? 0, overage.currency)}</dd>
          </div>
          <div>
            <dt>Overage so far</dt>
            <dd data-testid="usage-overage-amount">{formatMoney(overage.amount, overage.currency)}</dd>
          </div>
        </dl>
      ) : (
        <p className="hint" data-testid="usage-overage">
          {plan === 'free'
            ? 'The free plan bills no minutes: once the included minutes are used, new joins wait for next month.'
            : 'Your plan has no overage: meeting minutes are unlimited.'}
        </p>
      )}
    </section>
  );
}

function Daily({
  summary,
  period,
  onPickDay,
}: {
  summary: UsageSummary;
  period: string;
  onPickDay: (day: string) => void;
}) {
  const series = useMemo(() => dailySeries(period, summary.rows), [period, summary.rows]);
  const days = useMemo(() => daysWithUsage(summary.rows), [summary.rows]);
  const meetingTotal = summary.totals.find((t) => t.meter === 'meeting_minutes')?.minutes ?? 0;
  const participantTotal = summary.totals.find((t) => t.meter === 'participant_minutes')?.minutes ?? 0;
  const chartSummary =
    days.length === 0
      ? `No usage in ${periodLabel(period)}.`
      : `Daily minutes in ${periodLabel(period)}: ${minutesText(meetingTotal)} of meetings and ${minutesText(participantTotal)} of participants over ${days.length} day${days.length === 1 ? '' : 's'}. The table below lists them.`;
  return (
    <section className="card" aria-labelledby="usage-daily-heading">
      <h2 id="usage-daily-heading">By day</h2>
      <UsageChart series={series} summary={chartSummary} onPickDay={onPickDay} />
      {days.length === 0 ? (
        <p className="hint">No meeting has been metered in {periodLabel(period)} yet.</p>
      ) : (
        <div className="table-wrap">
          <table data-testid="usage-days">
            <caption className="visually-hidden">Minutes per day (UTC)</caption>
            <thead>
              <tr>
                <th scope="col">Day (UTC)</th>
                <th scope="col">Meeting minutes</th>
                <th scope="col">Participant minutes</th>
                <th scope="col">Usage events</th>
              </tr>
            </thead>
            <tbody>
              {days.map((d) => (
                <tr key={d.day} data-testid={`usage-day-${d.day}`}>
                  <th scope="row">{d.day}</th>
                  <td>{d.meeting?.minutes ?? 0}</td>
                  <td>{d.participant?.minutes ?? 0}</td>
                  <td>
                    <button
                      type="button"
                      className="link-button drill"
                      onClick={() => onPickDay(d.day)}
                      aria-label={`Usage events of ${d.day}`}
                    >
                      {(d.meeting?.records ?? 0) + (d.participant?.records ?? 0)} events
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function ByKey({
  id,
  title,
  heading,
  query,
  name,
  onPick,
}: {
  id: string;
  title: string;
  heading: string;
  query: ReturnType<typeof useSummary>;
  name: (key: string) => string;
  onPick: (key: string) => void;
}) {
  const rows: KeyUsage[] = useMemo(() => usageByKey(query.data?.rows ?? []), [query.data]);
  return (
    <section className="card" aria-labelledby={`usage-${id}-heading`}>
      <h2 id={`usage-${id}-heading`}>{title}</h2>
      {query.isPending ? <Loading what={title.toLowerCase()} /> : null}
      {query.isError ? <LoadError error={errorMessage(query.error)} retry={() => void query.refetch()} /> : null}
      {query.isSuccess && rows.length === 0 ? <p className="hint">Nothing metered yet.</p> : null}
      {rows.length > 0 ? (
        <div className="table-wrap">
          <table data-testid={`usage-by-${id}`}>
            <thead>
              <tr>
                <th scope="col">{heading}</th>
                <th scope="col">Meeting minutes</th>
                <th scope="col">Participant minutes</th>
                <th scope="col">Usage events</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={r.key} data-testid={`usage-${id}-${r.key}`}>
                  <th scope="row">{name(r.key)}</th>
                  <td data-testid="meeting-minutes">{r.meetingMinutes}</td>
                  <td data-testid="participant-minutes">{r.participantMinutes}</td>
                  <td>
                    <button
                      type="button"
                      className="link-button drill"
                      onClick={() => onPick(r.key)}
                      aria-label={`Usage events of ${name(r.key)}`}
                    >
                      {r.records} events
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </section>
  );
}
