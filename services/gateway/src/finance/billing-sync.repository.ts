/**
 * What the finance review reads of the Stripe sync: the billing process's dead letters (calls
 * Stripe refused for good) and operators' requests on them, each organization's Stripe
 * invoices and Customer from the read models, and the last reconciliation run. Requests are only recorded here; the billing
 * process, which alone calls Stripe, carries them out (services/billing, `carryOutRequests`).
 */
import { readModelSchema, type Database } from '@quorum/db';
import type { Kysely } from 'kysely';

export interface BillingDeadLetterView {
  causeEventId: string;
  operation: string;
  orgId: string;
  causeType: string;
  error: { type: string; code: string | null; message: string; statusCode: number | null };
  attempts: number;
  failedAt: string;
  requested: { action: string; by: string | null; at: string | null } | null;
}

export interface StripeInvoiceView {
  invoiceId: string;
  number: string | null;
  status: string | null;
  currency: string;
  total: number;
  amountDue: number;
  amountPaid: number;
  hostedInvoiceUrl: string | null;
  periodStart: string;
  periodEnd: string;
}

/** A difference of one organization's month, as the last reconciliation run found it. */
export interface ReconciliationDifferenceView {
  orgId: string;
  period: string;
  compares: string;
  quorum: number;
  other: number | null;
  detail: string;
  events: Array<{ eventId: string; type: string; note: string }>;
  moreEvents: number;
}

/** The last reconciliation run: when, how many organization months, and every difference. */
export interface ReconciliationRunView {
  run: string;
  /** When its last organization month was reconciled. */
  at: string;
  reconciled: number;
  differences: ReconciliationDifferenceView[];
}

/** Organization months of one run read at most; a run over more lists the first ones' differences. */
const RUN_ROWS = 2_000;

const iso = (d: Date | string) => new Date(d).toISOString();

export class BillingSyncRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly activeVersion: () => Promise<number>,
  ) {}

  /** Open dead letters, oldest first (at most `limit`). */
  async openDeadLetters(limit = 200): Promise<BillingDeadLetterView[]> {
    const rows = await this.db
      .selectFrom('billing_dead_letters')
      .select([
        'cause_event_id',
        'operation',
        'org_id',
        'cause_type',
        'error',
        'attempts',
        'failed_at',
        'requested_action',
        'requested_by',
        'requested_at',
      ])
      .where('resolved_at', 'is', null)
      .orderBy('failed_at')
      .limit(limit)
      .execute();
    return rows.map((r) => {
      const error = r.error as BillingDeadLetterView['error'];
      return {
        causeEventId: r.cause_event_id,
        operation: r.operation,
        orgId: r.org_id,
        causeType: r.cause_type,
        error: { type: error.type, code: error.code, message: error.message, statusCode: error.statusCode },
        attempts: r.attempts,
        failedAt: iso(r.failed_at),
        requested: r.requested_action
          ? { action: r.requested_action, by: r.requested_by, at: r.requested_at ? iso(r.requested_at) : null }
          : null,
      };
    });
  }

  /** Records an operator's request on an open dead letter; false when there is no such open letter. */
  async request(
    causeEventId: string,
    operation: string,
    action: 'retry' | 'skip',
    by: string,
    reason: string | null,
    at: Date,
  ): Promise<boolean> {
    const result = await this.db
      .updateTable('billing_dead_letters')
      .set({ requested_action: action, requested_by: by, requested_reason: reason, requested_at: at })
      .where('cause_event_id', '=', causeEventId)
      .where('operation', '=', operation)
      .where('resolved_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /** The organization's Stripe Customer, once the sync linked one. */
  async customerOf(orgId: string): Promise<string | null> {
    const row = await this.db
      .withSchema(readModelSchema(await this.activeVersion()))
      .selectFrom('billing_customers')
      .select('customer_id')
      .where('org_id', '=', orgId)
      .orderBy('position', 'desc')
      .executeTakeFirst();
    return row?.customer_id ?? null;
  }

  /** The last reconciliation run (the run of the latest reconciled month), or null before any. */
  async lastReconciliation(): Promise<ReconciliationRunView | null> {
    const db = this.db.withSchema(readModelSchema(await this.activeVersion()));
    const last = await db
      .selectFrom('billing_reconciliations')
      .select('run')
      .orderBy('reconciled_at', 'desc')
      .orderBy('position', 'desc')
      .limit(1)
      .executeTakeFirst();
    if (!last) return null;
    const rows = await db
      .selectFrom('billing_reconciliations')
      .select(['org_id', 'period', 'reconciled_at', 'differences'])
      .where('run', '=', last.run)
      .orderBy('org_id')
      .orderBy('period')
      .limit(RUN_ROWS)
      .execute();
    let at = 0;
    const differences: ReconciliationDifferenceView[] = [];
    for (const r of rows) {
      at = Math.max(at, new Date(r.reconciled_at).getTime());
      for (const d of r.differences as Array<Omit<ReconciliationDifferenceView, 'orgId' | 'period'>>)
        differences.push({ orgId: r.org_id, period: r.period, ...d });
    }
    return { run: last.run, at: new Date(at).toISOString(), reconciled: rows.length, differences };
  }

  /** Stripe's invoices of the organization whose period overlaps `[from, to)`, oldest first. */
  async invoicesOf(orgId: string, from: Date, to: Date): Promise<StripeInvoiceView[]> {
    const rows = await this.db
      .withSchema(readModelSchema(await this.activeVersion()))
      .selectFrom('billing_invoices')
      .select([
        'invoice_id',
        'number',
        'status',
        'currency',
        'total',
        'amount_due',
        'amount_paid',
        'hosted_invoice_url',
        'period_start',
        'period_end',
      ])
      .where('org_id', '=', orgId)
      .where('period_start', '<', to)
      .where('period_end', '>=', from)
      .orderBy('period_start')
      .execute();
    return rows.map((r) => ({
      invoiceId: r.invoice_id,
      number: r.number,
      status: r.status,
      currency: r.currency,
      total: Number(r.total),
      amountDue: Number(r.amount_due),
      amountPaid: Number(r.amount_paid),
      hostedInvoiceUrl: r.hosted_invoice_url,
      periodStart: iso(r.period_start),
      periodEnd: iso(r.period_end),
    }));
  }
}
