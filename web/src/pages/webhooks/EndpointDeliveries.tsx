/**
 * The part of an endpoint's panel that belongs to its deliveries (the delivery log, resend,
 * recover): kept apart from the endpoint's own settings above it in `EndpointPanel`.
 *
 * Deliveries are the delivery engine's bookkeeping, not events, so a resend or a recovery
 * answers no position to wait for: the log is reloaded instead, and reloads itself every few
 * seconds while any delivery it shows is still pending.
 */
import { useInfiniteQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { errorMessage } from '../../errors';
import { minPositionInput, useOrgPosition } from '../../positions';
import { useAction } from '../../status';
import { trpc } from '../../trpc';
import { FormError, LoadError, Loading, Select } from '../../ui';
import { permission, useOrg } from '../org-context';
import { DeliveryAttempts } from './DeliveryAttempts';
import {
  DELIVERY_STATUS_WORDS,
  deliveryTitle,
  formatInstant,
  lastProblem,
  toLocalInput,
  type DeliveryRow,
  type DeliveryStatus,
} from './delivery-view';
import type { EndpointRow } from './WebhooksPage';

const PAGE_SIZE = 20;
const PENDING_REFRESH_MS = 2_000;
const DAY_MS = 86_400_000;

const FILTERS = [
  { value: '', label: 'Every status' },
  { value: 'pending', label: 'Pending' },
  { value: 'delivered', label: 'Delivered' },
  { value: 'failed', label: 'Failed' },
];

export function EndpointDeliveries({ endpoint }: { endpoint: EndpointRow }) {
  const org = useOrg();
  const position = useOrgPosition(org.orgId);
  const queryClient = useQueryClient();
  const canResend = permission(org.yourRole, 'webhookDeliveries.resend', 'resend a delivery');
  const canRecover = permission(org.yourRole, 'webhookDeliveries.recover', 'recover failed deliveries');
  const [status, setStatus] = useState<DeliveryStatus | ''>('');
  const [openId, setOpenId] = useState<string | undefined>();
  const [since, setSince] = useState(() => toLocalInput(new Date(Date.now() - DAY_MS)));

  const listKey = ['webhookDeliveries.list', org.orgId, endpoint.id];
  const pages = useInfiniteQuery({
    queryKey: [...listKey, status, position],
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam }) =>
      trpc.webhookDeliveries.list.query({
        orgId: org.orgId,
        endpointId: endpoint.id,
        limit: PAGE_SIZE,
        ...(status ? { status } : {}),
        ...(pageParam ? { cursor: pageParam } : {}),
        ...minPositionInput(position),
      }),
    getNextPageParam: (last) => last.nextCursor ?? undefined,
    placeholderData: (previous) => previous,
    refetchInterval: (query) =>
      query.state.data?.pages.some((p) => p.items.some((d) => d.status === 'pending')) ? PENDING_REFRESH_MS : false,
  });
  const deliveries = pages.data?.pages.flatMap((p) => p.items) ?? [];
  const open = deliveries.find((d) => d.deliveryId === openId);
  const reload = () => void queryClient.invalidateQueries({ queryKey: listKey });

  const resend = useAction(
    (d: DeliveryRow) => trpc.webhookDeliveries.resend.mutate({ orgId: org.orgId, deliveryId: d.deliveryId }),
    {
      progress: (d) => `Resending ${deliveryTitle(d)}…`,
      success: (_out, d) => `Resending ${deliveryTitle(d)}: it goes out again now, with the same webhook-id.`,
      onSuccess: reload,
    },
  );
  const recover = useAction(
    (sinceIso: string) =>
      trpc.webhookDeliveries.recover.mutate({ orgId: org.orgId, endpointId: endpoint.id, since: sinceIso }),
    {
      progress: (sinceIso) => `Recovering the deliveries that failed since ${formatInstant(sinceIso)}…`,
      success: ({ recovered }, sinceIso) =>
        recovered === 0
          ? `No delivery failed since ${formatInstant(sinceIso)}: nothing to recover.`
          : `Queued ${recovered} failed ${recovered === 1 ? 'delivery' : 'deliveries'} to go out again.`,
      onSuccess: reload,
    },
  );
  const submitRecover = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const at = new Date(since);
    if (!Number.isNaN(at.getTime())) recover.mutate(at.toISOString());
  };

  return (
    <section className="deliveries" aria-label={`Deliveries to ${endpoint.url}`} data-testid="endpoint-deliveries">
      <div className="section-head">
        <h4>Deliveries</h4>
        <button type="button" className="secondary" onClick={() => void pages.refetch()} disabled={pages.isFetching}>
          {pages.isFetching && !pages.isFetchingNextPage ? 'Refreshing…' : 'Refresh'}
        </button>
      </div>
      <div className="inline-form delivery-filter">
        <Select
          label="Status"
          name="status"
          value={status}
          onChange={(e) => setStatus(e.currentTarget.value as DeliveryStatus | '')}
          options={FILTERS}
        />
      </div>

      {pages.isPending ? <Loading what="deliveries" /> : null}
      {pages.isError ? <LoadError error={errorMessage(pages.error)} retry={() => void pages.refetch()} /> : null}
      {pages.isSuccess && deliveries.length === 0 ? (
        <p className="hint">
          {status ? `No ${DELIVERY_STATUS_WORDS[status].toLowerCase()} deliveries.` : 'Nothing delivered to it yet.'}
        </p>
      ) : null}
      {deliveries.length > 0 ? (
        <div className="table-wrap">
          <table className="delivery-log">
            <caption className="visually-hidden">Deliveries to {endpoint.url}, newest event first</caption>
            <thead>
              <tr>
                <th scope="col">Event</th>
                <th scope="col">Status</th>
                <th scope="col">Next attempt</th>
                <th scope="col">Last error</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {deliveries.map((d) => (
                <tr
                  key={d.deliveryId}
                  data-testid="delivery-row"
                  data-status={d.status}
                  data-event-id={d.eventId}
                  data-open={d.deliveryId === openId || undefined}
                >
                  <td>
                    <button
                      type="button"
                      className="link-button drill"
                      onClick={() => setOpenId(d.deliveryId === openId ? undefined : d.deliveryId)}
                      aria-expanded={d.deliveryId === openId}
                      aria-label={`Attempts of ${deliveryTitle(d)}`}
                    >
                      <code>{d.eventType}</code>
                    </button>
                    <br />
                    <code className="hint" title="Event id, sent as webhook-id">
                      {d.eventId}
                    </code>
                  </td>
                  <td>
                    <span
                      className="badge"
                      data-status={d.status === 'delivered' ? 'active' : d.status === 'failed' ? 'past_due' : 'pending'}
                    >
                      {DELIVERY_STATUS_WORDS[d.status]}
                    </span>{' '}
                    <span className="hint">
                      {d.attempts} {d.attempts === 1 ? 'attempt' : 'attempts'}
                    </span>
                  </td>
                  <td>{d.status === 'pending' ? formatInstant(d.nextAttemptAt) : '—'}</td>
                  <td className="delivery-error">{lastProblem(d) ?? '—'}</td>
                  <td>
                    {canResend.allowed ? (
                      <button
                        type="button"
                        className="secondary"
                        onClick={() => resend.mutate(d)}
                        disabled={resend.isPending}
                        aria-label={`Resend ${deliveryTitle(d)}`}
                      >
                        {resend.isPending && resend.variables?.deliveryId === d.deliveryId ? 'Resending…' : 'Resend'}
                      </button>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {resend.errorText && resend.variables ? (
        <FormError text={`Could not resend ${deliveryTitle(resend.variables)}: ${resend.errorText}`} />
      ) : null}
      {pages.hasNextPage ? (
        <button
          type="button"
          className="secondary"
          onClick={() => void pages.fetchNextPage()}
          disabled={pages.isFetchingNextPage}
        >
          {pages.isFetchingNextPage ? 'Loading older…' : 'Older deliveries'}
        </button>
      ) : null}

      {open ? <DeliveryAttempts delivery={open} onClose={() => setOpenId(undefined)} /> : null}

      {canRecover.allowed ? (
        <form
          className="inline-form recover"
          aria-label={`Recover failed deliveries to ${endpoint.url}`}
          onSubmit={submitRecover}
        >
          <div className="field">
            <label htmlFor={`recover-since-${endpoint.id}`}>Recover failed since</label>
            <input
              id={`recover-since-${endpoint.id}`}
              type="datetime-local"
              required
              value={since}
              onChange={(e) => setSince(e.currentTarget.value)}
            />
          </div>
          <button type="submit" className="secondary" disabled={recover.isPending || since === ''}>
            {recover.isPending ? 'Recovering…' : 'Recover failed'}
          </button>
          <FormError text={recover.errorText} />
        </form>
      ) : null}
      {recover.data ? (
        <p className="notice" role="status" data-testid="recover-result">
          {recover.data.recovered === 0
            ? 'No failed delivery since then: nothing was queued.'
            : `Queued ${recover.data.recovered} failed ${recover.data.recovered === 1 ? 'delivery' : 'deliveries'} to go out again.`}
        </p>
      ) : null}
    </section>
  );
}
