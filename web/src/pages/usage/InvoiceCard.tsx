/**
 * The month's invoice as Quorum previews it (`billing.preview`: seats prorated, overage at the
 * plan's price) beside what Stripe reported: its invoices of the month with their hosted pages,
 * or, when billing is not synced with Stripe, a plain statement that these are Quorum's figures.
 */
import { errorMessage } from '../../errors';
import { formatMoney } from '../../prices';
import { trpc } from '../../trpc';
import { LoadError, Loading } from '../../ui';
import { useOrgQuery } from '../org-context';
import { periodLabel } from './usage-view';

export function InvoiceCard({ orgId, period }: { orgId: string; period: string }) {
  const preview = useOrgQuery('billing.preview', orgId, (p) => trpc.billing.preview.query({ orgId, period, ...p }), {
    extraKey: [period],
  });
  return (
    <section className="card" aria-labelledby="invoice-heading" data-testid="invoice-card">
      <h2 id="invoice-heading">Invoice for {periodLabel(period)}</h2>
      {preview.isPending ? <Loading what="the invoice preview" /> : null}
      {preview.isError ? <LoadError error={errorMessage(preview.error)} retry={() => void preview.refetch()} /> : null}
      {preview.data ? (
        <>
          <dl className="facts" data-testid="invoice-preview-totals">
            <div>
              <dt>Seats</dt>
              <dd>{formatMoney(preview.data.totals.seats, preview.data.currency)}</dd>
            </div>
            <div>
              <dt>Meeting minutes beyond the plan</dt>
              <dd>{formatMoney(preview.data.totals.usage, preview.data.currency)}</dd>
            </div>
            <div>
              <dt>{preview.data.monthEnded ? 'Total' : 'Total so far'}</dt>
              <dd data-testid="invoice-preview-total">
                {formatMoney(preview.data.totals.total, preview.data.currency)}
              </dd>
            </div>
          </dl>
          {!preview.data.stripe.connected ? (
            <p className="hint" data-testid="stripe-status">
              Stripe is not connected: this preview is Quorum&apos;s own figures, and no invoice is sent or charged.
            </p>
          ) : preview.data.stripe.invoices.length === 0 ? (
            <p className="hint" data-testid="stripe-status">
              Billed through Stripe{preview.data.stripe.customerId ? '' : ' once this organization is on a paid plan'}.
              Stripe has sent no invoice for this month yet.
            </p>
          ) : (
            <div className="table-wrap">
              <table data-testid="stripe-invoices">
                <caption>Stripe&apos;s invoices</caption>
                <thead>
                  <tr>
                    <th scope="col">Invoice</th>
                    <th scope="col">Status</th>
                    <th scope="col">Total</th>
                    <th scope="col">Paid</th>
                  </tr>
                </thead>
                <tbody>
                  {preview.data.stripe.invoices.map((i) => (
                    <tr key={i.invoiceId}>
                      <th scope="row">
                        {i.hostedInvoiceUrl ? (
                          <a href={i.hostedInvoiceUrl} target="_blank" rel="noreferrer">
                            {i.number ?? i.invoiceId}
                          </a>
                        ) : (
                          (i.number ?? i.invoiceId)
                        )}
                      </th>
                      <td>{i.status ?? '—'}</td>
                      <td>{formatMoney(i.total, i.currency)}</td>
                      <td>{formatMoney(i.amountPaid, i.currency)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </>
      ) : null}
    </section>
  );
}
