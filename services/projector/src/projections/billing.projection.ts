/**
 * The Stripe read models (`billing_customers`, `billing_invoices`, `billing_reconciliations`),
 * from the events of `billing-<orgId>` streams. See docs/billing.md.
 *
 * An invoice is one row, holding the latest state Stripe reported. Webhooks arrive in any order
 * (Stripe does not promise one), so "latest" is not arrival: an invoice's status only moves
 * forward (draft, open, uncollectible, then paid or void), so the row keeps the report with the
 * highest status rank, then the latest Stripe time, then the highest position. That order
 * depends on the events alone, so a rebuild, a replay or a batch of any size lands on the same
 * row. A reconciliation is one row per organization and month: the latest run (by its time,
 * then position) replaces an earlier one, in any batching.
 */
import { sql } from 'kysely';
import { assertUnreachable, streamIds, type BillingEvent } from '@quorum/domain';
import { json, type TableOf, type Trx } from './write-plan';

type InvoiceEvent = Extract<
  BillingEvent,
  { type: 'billing.invoice_finalized' | 'billing.invoice_paid' | 'billing.invoice_payment_failed' }
>;

type ReconciliationEvent = Extract<BillingEvent, { type: 'billing.reconciliation_completed' }>;

interface ReconciliationRow {
  org_id: string;
  period: string;
  run: string;
  customer_id: string;
  reconciled_at: string;
  figures: unknown;
  differences: unknown[];
  difference_count: number;
  event_id: string;
  position: string;
}

interface Envelope {
  id: string;
  position: string;
  at: string;
}

interface InvoiceRow {
  invoice_id: string;
  org_id: string;
  customer_id: string;
  subscription_id: string | null;
  number: string | null;
  status: string | null;
  currency: string;
  subtotal: number;
  total: number;
  amount_due: number;
  amount_paid: number;
  hosted_invoice_url: string | null;
  period_start: string;
  period_end: string;
  lines: unknown[];
  reported_at: string;
  stripe_event_id: string;
  event_id: string;
  position: string;
}

/** Where an invoice status stands in Stripe's lifecycle; a later report never ranks lower. */
function invoiceStatusRank(status: string | null): number {
  switch (status) {
    case 'paid':
    case 'void':
      return 3;
    case 'uncollectible':
      return 2;
    case 'open':
      return 1;
    default:
      return 0;
  }
}

/** Whether report `a` supersedes report `b` of the same invoice (see the module header). */
function supersedes(a: InvoiceRow, b: InvoiceRow): boolean {
  const rank = invoiceStatusRank(a.status) - invoiceStatusRank(b.status);
  if (rank !== 0) return rank > 0;
  const time = Date.parse(a.reported_at) - Date.parse(b.reported_at);
  if (time !== 0) return time > 0;
  return BigInt(a.position) > BigInt(b.position);
}

/** The billing events of a batch, in position order. */
export class BillingPlan {
  private readonly customers = new Map<string, Record<string, unknown>>();
  private readonly invoices = new Map<string, InvoiceRow>();
  private readonly reconciliations = new Map<string, ReconciliationRow>();

  add(orgId: string, streamId: string, envelope: Envelope, event: BillingEvent): void {
    // What Stripe says about one organization filed under another would bill or suspend the
    // wrong account: a producer's bug, refused like a usage event on a foreign stream.
    if (streamId !== streamIds.billing(orgId))
      throw new Error(`${event.type} on stream ${streamId}, not that of org ${orgId}`);
    switch (event.type) {
      case 'billing.customer_linked':
        this.customers.set(event.data.customerId, {
          customer_id: event.data.customerId,
          org_id: orgId,
          event_id: envelope.id,
          position: envelope.position,
          linked_at: event.data.at,
        });
        return;
      case 'billing.invoice_finalized':
      case 'billing.invoice_paid':
      case 'billing.invoice_payment_failed':
        return this.invoice(orgId, envelope, event);
      case 'billing.reconciliation_completed':
        return this.reconciliation(orgId, envelope, event);
      case 'billing.subscription_synced':
      case 'billing.usage_reported':
      case 'billing.sync_failed':
      case 'billing.sync_skipped':
        // The sync's own outcomes: the event log is their record.
        return;
      default:
        return assertUnreachable(event);
    }
  }

  private invoice(orgId: string, e: Envelope, event: InvoiceEvent): void {
    const d = event.data;
    const row: InvoiceRow = {
      invoice_id: d.invoiceId,
      org_id: orgId,
      customer_id: d.customerId,
      subscription_id: d.subscriptionId,
      number: d.number,
      status: d.status,
      currency: d.currency,
      subtotal: d.subtotal,
      total: d.total,
      amount_due: d.amountDue,
      amount_paid: d.amountPaid,
      hosted_invoice_url: d.hostedInvoiceUrl,
      period_start: d.periodStart,
      period_end: d.periodEnd,
      lines: d.lines,
      reported_at: d.at,
      stripe_event_id: d.stripeEventId,
      event_id: e.id,
      position: e.position,
    };
    const held = this.invoices.get(d.invoiceId);
    if (!held || supersedes(row, held)) this.invoices.set(d.invoiceId, row);
  }

  private reconciliation(orgId: string, e: Envelope, event: ReconciliationEvent): void {
    const d = event.data;
    const row: ReconciliationRow = {
      org_id: orgId,
      period: d.period,
      run: d.run,
      customer_id: d.customerId,
      reconciled_at: d.at,
      figures: d.figures,
      differences: d.differences,
      difference_count: d.differences.length,
      event_id: e.id,
      position: e.position,
    };
    const key = `${orgId}|${d.period}`;
    const held = this.reconciliations.get(key);
    const later =
      !held ||
      Date.parse(row.reconciled_at) > Date.parse(held.reconciled_at) ||
      (row.reconciled_at === held.reconciled_at && BigInt(row.position) > BigInt(held.position));
    if (later) this.reconciliations.set(key, row);
  }

  /** Writes the batch: three statements at most. */
  async flush(trx: Trx, t: TableOf): Promise<void> {
    if (this.customers.size > 0) {
      await sql`
        INSERT INTO ${t('billing_customers')} AS c (customer_id, org_id, event_id, position, linked_at)
        SELECT customer_id, org_id, event_id, position, linked_at
          FROM jsonb_to_recordset(${json([...this.customers.values()])}::jsonb) AS v(
            customer_id text, org_id uuid, event_id uuid, position bigint, linked_at timestamptz)
        ON CONFLICT (customer_id) DO UPDATE SET org_id = EXCLUDED.org_id, event_id = EXCLUDED.event_id,
          position = EXCLUDED.position, linked_at = EXCLUDED.linked_at
          WHERE c.position < EXCLUDED.position`.execute(trx);
    }
    if (this.invoices.size > 0) {
      const rank = (col: string) =>
        sql.raw(
          `CASE ${col} WHEN 'paid' THEN 3 WHEN 'void' THEN 3 WHEN 'uncollectible' THEN 2 WHEN 'open' THEN 1 ELSE 0 END`,
        );
      await sql`
        INSERT INTO ${t('billing_invoices')} AS i (invoice_id, org_id, customer_id, subscription_id, number, status,
          currency, subtotal, total, amount_due, amount_paid, hosted_invoice_url, period_start, period_end, lines,
          reported_at, stripe_event_id, event_id, position)
        SELECT invoice_id, org_id, customer_id, subscription_id, number, status, currency, subtotal, total, amount_due,
               amount_paid, hosted_invoice_url, period_start, period_end, lines, reported_at, stripe_event_id, event_id,
               position
          FROM jsonb_to_recordset(${json([...this.invoices.values()])}::jsonb) AS v(
            invoice_id text, org_id uuid, customer_id text, subscription_id text, number text, status text,
            currency text, subtotal bigint, total bigint, amount_due bigint, amount_paid bigint,
            hosted_invoice_url text, period_start timestamptz, period_end timestamptz, lines jsonb,
            reported_at timestamptz, stripe_event_id text, event_id uuid, position bigint)
        ON CONFLICT (invoice_id) DO UPDATE SET org_id = EXCLUDED.org_id, customer_id = EXCLUDED.customer_id,
          subscription_id = EXCLUDED.subscription_id, number = EXCLUDED.number, status = EXCLUDED.status,
          currency = EXCLUDED.currency, subtotal = EXCLUDED.subtotal, total = EXCLUDED.total,
          amount_due = EXCLUDED.amount_due, amount_paid = EXCLUDED.amount_paid,
          hosted_invoice_url = EXCLUDED.hosted_invoice_url, period_start = EXCLUDED.period_start,
          period_end = EXCLUDED.period_end, lines = EXCLUDED.lines, reported_at = EXCLUDED.reported_at,
          stripe_event_id = EXCLUDED.stripe_event_id, event_id = EXCLUDED.event_id, position = EXCLUDED.position
          WHERE (${rank('EXCLUDED.status')}, EXCLUDED.reported_at, EXCLUDED.position)
              > (${rank('i.status')}, i.reported_at, i.position)`.execute(trx);
    }
    if (this.reconciliations.size > 0) {
      await sql`
        INSERT INTO ${t('billing_reconciliations')} AS r (org_id, period, run, customer_id, reconciled_at, figures,
          differences, difference_count, event_id, position)
        SELECT org_id, period, run, customer_id, reconciled_at, figures, differences, difference_count, event_id, position
          FROM jsonb_to_recordset(${json([...this.reconciliations.values()])}::jsonb) AS v(
            org_id uuid, period text, run text, customer_id text, reconciled_at timestamptz, figures jsonb,
            differences jsonb, difference_count integer, event_id uuid, position bigint)
        ON CONFLICT (org_id, period) DO UPDATE SET run = EXCLUDED.run, customer_id = EXCLUDED.customer_id,
          reconciled_at = EXCLUDED.reconciled_at, figures = EXCLUDED.figures, differences = EXCLUDED.differences,
          difference_count = EXCLUDED.difference_count, event_id = EXCLUDED.event_id, position = EXCLUDED.position
          WHERE (EXCLUDED.reconciled_at, EXCLUDED.position) > (r.reconciled_at, r.position)`.execute(trx);
    }
  }
}
