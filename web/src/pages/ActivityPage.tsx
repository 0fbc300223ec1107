import { EVENT_SCHEMAS } from '@quorum/domain';
import { useInfiniteQuery } from '@tanstack/react-query';
import { useEffect, useMemo, useState } from 'react';
import { errorMessage } from '../errors';
import { useLive, type WireEvent } from '../live';
import { useLocation } from '../router';
import { trpc } from '../trpc';
import { Loading, LoadError, NotAllowed, Select } from '../ui';
import { permission, useOrg, useOrgQuery } from './org-context';

const PAGE_SIZE = 25;
const EVENT_TYPES = Object.keys(EVENT_SCHEMAS).sort();

export function ActivityPage() {
  const org = useOrg();
  const canRead = permission(org.yourRole, 'events.list', 'read the event log');
  if (!canRead.allowed) return <NotAllowed>{canRead.reason}</NotAllowed>;
  return <EventLog />;
}

function EventLog() {
  const org = useOrg();
  const orgId = org.orgId;
  const [type, setType] = useState('');
  const live = useLive();
  // `?event=<id>`: the event a link elsewhere (a usage event's sources) points at, marked in the list.
  const wanted = useLocation().search.get('event');
  const members = useOrgQuery('members.list', orgId, (p) => trpc.members.list.query({ orgId, ...p }));
  const who = useMemo(() => new Map((members.data?.members ?? []).map((m) => [m.userId, m.email])), [members.data]);

  // Keyed by the feed's generation, not by position: pages read after the feed (re)started,
  // and the feed brings everything newer, so nothing is missed and older pages stay loaded.
  const pages = useInfiniteQuery({
    queryKey: ['events.list', orgId, type, live.generation],
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam }) =>
      trpc.events.list.query({
        orgId,
        order: 'desc',
        limit: PAGE_SIZE,
        ...(pageParam ? { before: pageParam } : {}),
        ...(type ? { types: [type] } : {}),
      }),
    getNextPageParam: (last) => last.next ?? undefined,
    placeholderData: (previous) => previous,
  });

  const newest = live.events[0];
  const [announcement, setAnnouncement] = useState('');
  useEffect(() => {
    if (newest) setAnnouncement(`New event: ${newest.type}`);
  }, [newest]);
  const state = live.state;

  const events = useMemo(() => {
    const seen = new Set<string>();
    const out: WireEvent[] = [];
    const loaded = pages.data?.pages.flatMap((p) => p.events) ?? [];
    for (const e of [...live.events.filter((e) => !type || e.type === type), ...loaded]) {
      if (seen.has(e.position)) continue;
      seen.add(e.position);
      out.push(e);
    }
    return out.sort((a, b) =>
      BigInt(b.position) > BigInt(a.position) ? 1 : BigInt(b.position) < BigInt(a.position) ? -1 : 0,
    );
  }, [live, pages.data, type]);

  const wantedFound = wanted !== null && events.some((e) => e.id === wanted);
  useEffect(() => {
    if (wantedFound) document.querySelector('.event-list li.wanted')?.scrollIntoView({ block: 'center' });
  }, [wantedFound]);

  return (
    <div className="stack">
      <section className="card" aria-labelledby="log-heading">
        <div className="section-head">
          <h2 id="log-heading">Event log</h2>
          <span className="live-indicator" data-state={state} data-testid="live-state">
            <span className="dot" aria-hidden="true" />
            {state === 'live'
              ? 'Live'
              : state === 'connecting'
                ? 'Connecting…'
                : state === 'off'
                  ? 'Not live'
                  : 'Reconnecting…'}
          </span>
        </div>
        <p className="hint">Newest first. New events appear here as they happen.</p>
        <p className="visually-hidden" aria-live="polite" data-testid="live-announcement">
          {announcement}
        </p>
        <div className="inline-form">
          <Select
            label="Event type"
            name="type"
            value={type}
            onChange={(e) => setType(e.target.value)}
            options={[{ value: '', label: 'All types' }, ...EVENT_TYPES.map((t) => ({ value: t, label: t }))]}
          />
        </div>
        {wanted ? <WantedEvent id={wanted} found={wantedFound} more={pages.hasNextPage} /> : null}
        {pages.isPending ? <Loading what="events" /> : null}
        {pages.isError ? <LoadError error={errorMessage(pages.error)} retry={() => void pages.refetch()} /> : null}
        {pages.isSuccess && events.length === 0 ? <p>No events{type ? ` of type ${type}` : ''} yet.</p> : null}
        {events.length > 0 ? (
          <ol className="event-list" data-testid="event-list" aria-label="Events, newest first">
            {events.map((e) => (
              <li
                key={e.position}
                data-type={e.type}
                data-position={e.position}
                data-event-id={e.id}
                className={e.id === wanted ? 'wanted' : undefined}
                aria-current={e.id === wanted ? 'true' : undefined}
              >
                <div className="event-line">
                  <code className="event-type">{e.type}</code>
                  <time dateTime={e.occurredAt}>{new Date(e.occurredAt).toLocaleString()}</time>
                </div>
                <div className="event-meta">
                  by{' '}
                  {e.actor.kind === 'user'
                    ? (who.get(e.actor.id) ?? `user ${e.actor.id.slice(0, 8)}`)
                    : `${e.actor.kind === 'apiKey' ? 'API key' : 'system'} ${e.actor.id.slice(0, 8)}`}{' '}
                  · #{e.position}
                </div>
                <div className="event-data">{summarize(e.data, who)}</div>
              </li>
            ))}
          </ol>
        ) : null}
        {pages.hasNextPage ? (
          <button
            type="button"
            className="secondary"
            onClick={() => void pages.fetchNextPage()}
            disabled={pages.isFetchingNextPage}
          >
            {pages.isFetchingNextPage ? 'Loading older events…' : 'Load older events'}
          </button>
        ) : null}
      </section>
    </div>
  );
}

/** Where the event the address names is: marked below, or further back than the pages loaded. */
function WantedEvent({ id, found, more }: { id: string; found: boolean; more: boolean }) {
  return (
    <p className="notice" data-testid="wanted-event">
      Event <code>{id}</code>{' '}
      {found
        ? 'is marked below.'
        : more
          ? 'is not among the events loaded: load older events to find it.'
          : 'is not in this list (it may be of another type than the one chosen).'}
    </p>
  );
}

/** A one-line reading of an event's data, with user ids shown as emails when known. */
function summarize(data: unknown, who: Map<string, string>): string {
  if (!data || typeof data !== 'object') return '';
  const parts: string[] = [];
  for (const [key, value] of Object.entries(data as Record<string, unknown>)) {
    if (value === null || value === undefined || typeof value === 'object') continue;
    let text = String(value);
    if (typeof value === 'string' && who.has(value)) text = who.get(value) ?? text;
    parts.push(`${key}: ${text.length > 60 ? `${text.slice(0, 57)}…` : text}`);
  }
  return parts.join(' · ');
}
