/**
 * The Stripe sync, for operators (`finance.stripe`): whether billing is synced with Stripe, and
 * the calls Stripe refused for good, each with Stripe's error. Retry or skip (with a reason) asks
 * the billing process to do it (`finance.stripeRequest`); the list shows the request until the
 * letter is resolved and leaves it. Below them, the last reconciliation run: Quorum's minutes and
 * seats against Stripe's for each organization's month, and each difference with the events
 * behind it.
 */
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { errorMessage } from '../../errors';
import { trpc } from '../../trpc';
import { formatDate, FormError, LoadError, Loading } from '../../ui';

/** The billing process carries requests out within seconds; the list follows them. */
const REFRESH_MS = 5_000;

type StripeView = Awaited<ReturnType<typeof trpc.finance.stripe.query>>;
type Letter = StripeView['deadLetters'][number];
type Run = NonNullable<StripeView['reconciliation']>;

/** What a difference compares Quorum's figure with, in words. */
const COMPARED: Record<string, string> = {
  reported_minutes: 'Minutes reported to Stripe',
  stripe_meter_minutes: "Minutes on Stripe's meter",
  invoice_minutes: "Minutes on Stripe's invoice",
  subscription_seats: "Seats on Stripe's subscription",
  account_seats: 'Seats the sync last set',
};

export function StripeSync() {
  const sync = useQuery({
    queryKey: ['finance.stripe'],
    queryFn: () => trpc.finance.stripe.query(),
    refetchInterval: REFRESH_MS,
  });
  return (
    <section className="card" aria-labelledby="stripe-sync-heading" data-testid="stripe-sync">
      <h2 id="stripe-sync-heading">Stripe sync</h2>
      {sync.isPending ? <Loading what="the Stripe sync" /> : null}
      {sync.isError ? <LoadError error={errorMessage(sync.error)} retry={() => void sync.refetch()} /> : null}
      {sync.data && !sync.data.connected ? (
        <p className="hint" data-testid="stripe-sync-status">
          Stripe is not connected: billing runs on Quorum&apos;s own figures (the invoice previews above), and nothing
          is sent to Stripe.
        </p>
      ) : null}
      {sync.data?.connected ? (
        sync.data.deadLetters.length === 0 ? (
          <p className="hint" data-testid="stripe-sync-status">
            Connected. Every call Stripe was sent went through: no dead letter.
          </p>
        ) : (
          <div className="table-wrap">
            <table data-testid="stripe-dead-letters">
              <caption>Calls Stripe refused, waiting for a decision</caption>
              <thead>
                <tr>
                  <th scope="col">Organization</th>
                  <th scope="col">Sync</th>
                  <th scope="col">Stripe said</th>
                  <th scope="col">Attempts</th>
                  <th scope="col">Since</th>
                  <th scope="col">Decision</th>
                </tr>
              </thead>
              <tbody>
                {sync.data.deadLetters.map((d) => (
                  <DeadLetterRow key={`${d.causeEventId}/${d.operation}`} letter={d} />
                ))}
              </tbody>
            </table>
          </div>
        )
      ) : null}
      {sync.data?.reconciliation ? <LastReconciliation run={sync.data.reconciliation} /> : null}
      {sync.data?.connected && !sync.data.reconciliation ? (
        <p className="hint" data-testid="reconciliation-status">
          No reconciliation has run yet.
        </p>
      ) : null}
    </section>
  );
}

function LastReconciliation({ run }: { run: Run }) {
  const months = `${run.reconciled} organization month${run.reconciled === 1 ? '' : 's'}`;
  return (
    <div data-testid="reconciliation">
      <h3>Reconciliation</h3>
      <p className="hint" data-testid="reconciliation-status">
        Last run <code>{run.run}</code>, {formatDate(run.at)}: {months} compared,{' '}
        {run.differences.length === 0
          ? "Quorum's minutes and seats agree with Stripe's."
          : `${run.differences.length} difference${run.differences.length === 1 ? '' : 's'}.`}
      </p>
      {run.differences.length > 0 ? (
        <div className="table-wrap">
          <table data-testid="reconciliation-differences">
            <caption>Where Stripe and Quorum differ</caption>
            <thead>
              <tr>
                <th scope="col">Organization</th>
                <th scope="col">Month</th>
                <th scope="col">Compared</th>
                <th scope="col">Quorum</th>
                <th scope="col">Other side</th>
                <th scope="col">Why, and the events behind it</th>
              </tr>
            </thead>
            <tbody>
              {run.differences.map((d) => (
                <tr key={`${d.orgId}/${d.period}/${d.compares}`} data-testid="reconciliation-difference">
                  <td>
                    <code title={d.orgId}>{d.orgId.slice(0, 8)}</code>
                  </td>
                  <td>{`${d.period.slice(0, 4)}-${d.period.slice(4)}`}</td>
                  <td>{COMPARED[d.compares] ?? d.compares}</td>
                  <td>{d.quorum}</td>
                  <td>{d.other ?? '—'}</td>
                  <td>
                    {d.detail}
                    {d.events.length > 0 ? (
                      <ul>
                        {d.events.map((e) => (
                          <li key={e.eventId}>
                            <code title={e.eventId}>{e.type}</code> {e.eventId.slice(0, 8)}: {e.note}
                          </li>
                        ))}
                        {d.moreEvents > 0 ? <li>and {d.moreEvents} more</li> : null}
                      </ul>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </div>
  );
}

function DeadLetterRow({ letter }: { letter: Letter }) {
  const queryClient = useQueryClient();
  const [reason, setReason] = useState<string | undefined>(undefined);
  const request = useMutation({
    mutationFn: (input: { action: 'retry' | 'skip'; reason?: string }) =>
      trpc.finance.stripeRequest.mutate({
        causeEventId: letter.causeEventId,
        operation: letter.operation as 'subscription' | 'usage',
        ...input,
      }),
    onSuccess: () => {
      setReason(undefined);
      void queryClient.invalidateQueries({ queryKey: ['finance.stripe'] });
    },
  });
  const what = `${letter.operation} sync of ${letter.causeType}`;
  return (
    <tr data-testid="stripe-dead-letter" data-cause={letter.causeEventId}>
      <td>
        <code title={letter.orgId}>{letter.orgId.slice(0, 8)}</code>
      </td>
      <td>{what}</td>
      <td>
        {letter.error.statusCode ?? ''} {letter.error.code ?? letter.error.type}: {letter.error.message}
      </td>
      <td>{letter.attempts}</td>
      <td>{formatDate(letter.failedAt)}</td>
      <td>
        {letter.requested ? (
          <span data-testid="stripe-request">
            {letter.requested.action === 'retry' ? 'Retry' : 'Skip'} asked by {letter.requested.by}; waiting for the
            billing process
          </span>
        ) : reason === undefined ? (
          <span className="inline-form">
            <button type="button" onClick={() => request.mutate({ action: 'retry' })} disabled={request.isPending}>
              Retry
            </button>
            <button type="button" className="secondary" onClick={() => setReason('')} disabled={request.isPending}>
              Skip…
            </button>
          </span>
        ) : (
          <form
            className="inline-form"
            onSubmit={(e) => {
              e.preventDefault();
              request.mutate({ action: 'skip', reason });
            }}
          >
            <label>
              Why skip it?
              <input value={reason} onChange={(e) => setReason(e.target.value)} required maxLength={500} />
            </label>
            <button type="submit" className="danger" disabled={request.isPending || !reason.trim()}>
              Skip for good
            </button>
            <button type="button" className="secondary" onClick={() => setReason(undefined)}>
              Cancel
            </button>
          </form>
        )}
        <FormError text={request.isError ? errorMessage(request.error) : undefined} />
      </td>
    </tr>
  );
}
