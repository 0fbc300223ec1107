/**
 * The usage events behind a day, a meeting or a host (`usage.records`, oldest first, a page at
 * a time): each with its interval, seconds and the session events it was metered from, which
 * link to the event log.
 */
import { useInfiniteQuery } from '@tanstack/react-query';
import { useEffect, useRef } from 'react';
import { errorMessage } from '../../errors';
import { useLive } from '../../live';
import { Link } from '../../router';
import { trpc } from '../../trpc';
import { LoadError, Loading } from '../../ui';
import { intervalText, METER_LABELS, type UsageFilter } from './usage-view';

const PAGE_SIZE = 50;
/** Records never change once written; new ones are picked up this often while the list is open. */
const REFRESH_MS = 30_000;

export function UsageRecords({
  orgId,
  period,
  filter,
  title,
  who,
  onClose,
}: {
  orgId: string;
  period: string;
  filter: UsageFilter;
  title: string;
  who: (userId: string) => string;
  onClose: () => void;
}) {
  const live = useLive();
  // Opened by a click further down or up the page: bring the list into view and announce it.
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    heading.current?.focus();
  }, []);
  // Keyed by the feed's generation like the event log: every usage event the feed brings also
  // advances the summaries, and a restarted feed reloads the list from its first page.
  const pages = useInfiniteQuery({
    queryKey: ['usage.records', orgId, period, filter, live.generation],
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam }) =>
      trpc.usage.records.query({
        orgId,
        period,
        limit: PAGE_SIZE,
        ...filter,
        ...(pageParam ? { cursor: pageParam } : {}),
      }),
    getNextPageParam: (last) => last.next ?? undefined,
    placeholderData: (previous) => previous,
    refetchInterval: REFRESH_MS,
  });
  const records = pages.data?.pages.flatMap((p) => p.records) ?? [];

  return (
    <section className="card usage-drilldown" aria-labelledby="usage-records-heading" data-testid="usage-records">
      <div className="section-head">
        <h2 id="usage-records-heading" ref={heading} tabIndex={-1}>
          {title}
        </h2>
        <button type="button" className="secondary" onClick={onClose}>
          Close
        </button>
      </div>
      <p className="hint">
        Each usage event is one interval of metered time, oldest first. Its sources are the session events (joins,
        leaves, the end of the meeting) it was metered from; they are in the{' '}
        <Link to={`/orgs/${orgId}/activity`}>event log</Link>.
      </p>
      {pages.isPending ? <Loading what="usage events" /> : null}
      {pages.isError ? <LoadError error={errorMessage(pages.error)} retry={() => void pages.refetch()} /> : null}
      {pages.isSuccess && records.length === 0 ? <p>No usage events here yet.</p> : null}
      {records.length > 0 ? (
        <div className="table-wrap">
          <table className="usage-records">
            <caption className="visually-hidden">{title}</caption>
            <thead>
              <tr>
                <th scope="col">Interval</th>
                <th scope="col">Meter</th>
                <th scope="col">Seconds</th>
                <th scope="col">Who</th>
                <th scope="col">Usage event and its sources</th>
              </tr>
            </thead>
            <tbody>
              {records.map((r) => (
                <tr key={r.eventId} data-testid="usage-record" data-event-id={r.eventId} data-meter={r.meter}>
                  <td>{intervalText(r.from, r.to)}</td>
                  <td>{METER_LABELS[r.meter]}</td>
                  <td data-testid="usage-record-seconds">{r.seconds}</td>
                  <td>{r.participantId ? who(r.participantId) : 'The meeting'}</td>
                  <td>
                    <code title="Usage event id">{r.eventId}</code>
                    <ul className="source-list" aria-label={`Sources of usage event ${r.eventId}`}>
                      {r.sources.map((id) => (
                        <li key={id}>
                          <Link
                            to={`/orgs/${orgId}/activity?event=${id}`}
                            data-testid="usage-source"
                            data-source-id={id}
                            aria-label={`Session event ${id} in the event log`}
                          >
                            <code>{id}</code>
                          </Link>
                        </li>
                      ))}
                    </ul>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {pages.hasNextPage ? (
        <button
          type="button"
          className="secondary"
          onClick={() => void pages.fetchNextPage()}
          disabled={pages.isFetchingNextPage}
        >
          {pages.isFetchingNextPage ? 'Loading more…' : 'More'}
        </button>
      ) : null}
    </section>
  );
}
