/**
 * Reconciliation: for one month and each organization with a Stripe Customer, gathers Quorum's
 * figures and Stripe's, lets {@link reconcile} compare them, and appends the outcome as
 * `billing.reconciliation_completed` to `billing-<orgId>` (docs/billing.md, Reconciliation).
 *
 * - Quorum's minutes are the month's meeting seconds rounded up once: the usage cursor's
 *   `meeting_seconds` plus the meeting events after it, read from the store.
 * - Reported minutes are the `billing.usage_reported` of the month in the billing stream; the
 *   meter values add up to exactly Quorum's minutes when every event was sent, so any gap is
 *   the sum of the unsent events' values, and those events are named.
 * - Stripe's figures are read through {@link StripeCalls.read} (call rate, retries, no key).
 *
 * Each organization is reconciled under the sync's lock, so the cursor, the billing stream and
 * the account are read between two syncs, never in the middle of one. The event's id is derived
 * from (organization, month, run): a run repeated (a restart, a second instance) appends once
 * and, finding its event, calls Stripe no more.
 */
import type { SqlDatabase } from '@quorum/db';
import { readModelSchema } from '@quorum/db';
import { currentVersionOf, parseEvent, periodBounds, streamIds, type BillingEvent } from '@quorum/domain';
import { DuplicateEventIdError, type EventStore, type RecordedEvent } from '@quorum/eventstore';
import type { Logger } from 'pino';
import type Stripe from 'stripe';
import type { Accounts, BillingAccount } from './accounts';
import { reconciliationEventId } from './billing-ids';
import { reconcile, type EventRef, type ReconciliationData, type StripeFigure } from './reconciliation';
import { StripeRefused, StripeUnavailable, type StripeCalls } from './stripe-calls';
import type { StripePrices } from './stripe-prices';
import { wantedSubscription } from './subscription-sync';
import { meterReports } from './usage-report';

/** The projection whose read models hold Stripe's invoices (`billing_invoices`). */
const READ_MODEL_PROJECTION = 'core';

export interface ReconcilerOptions {
  store: EventStore;
  sql: SqlDatabase;
  calls: StripeCalls;
  prices: StripePrices;
  accounts: Accounts;
  /** The Billing Meter's id (`mtr_…`): its event summaries are Stripe's minutes. */
  meterId: string;
  logger: Logger;
  now: () => Date;
  /** Runs `fn` as the only billing work on `orgId` (the sync's lock). */
  exclusively: <T>(orgId: string, fn: () => Promise<T>) => Promise<T>;
}

/** One organization's month, reconciled. */
export interface OrgReconciliation {
  orgId: string;
  eventId: string;
  /** False when this run had already appended it (the figures are then that first append's). */
  appended: boolean;
  data: ReconciliationData;
}

export interface ReconcileRun {
  run: string;
  reconciled: OrgReconciliation[];
  /** Organizations Stripe could not be asked about this time; the next run tries again. */
  unavailable: Array<{ orgId: string; period: string; error: string }>;
}

/** The `yyyymm` of `at` (UTC), and of the month before it. */
export function periodsAround(at: Date): [previous: string, current: string] {
  const of = (d: Date) => `${d.getUTCFullYear()}${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
  return [of(new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth() - 1, 1))), of(at)];
}

interface BillingFacts {
  existing: RecordedEvent | undefined;
  reported: Map<string, number>;
  skipped: Map<string, string>;
  lastSync: RecordedEvent | undefined;
}

const refusalOf = (error: StripeRefused) =>
  `${error.info.statusCode ?? ''} ${error.info.code ?? error.info.type}: ${error.info.message}`.trim();

export class Reconciler {
  private readonly minutesPrices: ReadonlySet<string>;

  constructor(private readonly options: ReconcilerOptions) {
    this.minutesPrices = new Set(
      Object.values(options.prices)
        .map((p) => p.minutes)
        .filter((p): p is string => p !== null),
    );
  }

  /** Organizations that have (or had their usage counted toward) a Stripe Customer. */
  private async organizations(period: string): Promise<string[]> {
    const { rows } = await this.options.sql.query<{ org_id: string }>(
      `SELECT org_id FROM billing_accounts WHERE customer_id IS NOT NULL
       UNION SELECT org_id FROM billing_usage_cursors WHERE period = $1
       ORDER BY org_id`,
      [period],
    );
    return rows.map((r) => r.org_id);
  }

  /** Reconciles `periods` of every organization with a Stripe Customer, as run `run`. */
  async run(periods: readonly string[], run: string): Promise<ReconcileRun> {
    const outcome: ReconcileRun = { run, reconciled: [], unavailable: [] };
    for (const period of periods) {
      for (const orgId of await this.organizations(period)) {
        try {
          const done = await this.reconcileOrg(orgId, period, run);
          if (done) outcome.reconciled.push(done);
        } catch (error) {
          if (!(error instanceof StripeUnavailable)) throw error;
          this.options.logger.warn({ orgId, period, run, err: error }, 'reconciliation: Stripe unavailable; next run');
          outcome.unavailable.push({ orgId, period, error: error.message });
        }
      }
    }
    return outcome;
  }

  /**
   * Reconciles `period` of `orgId` as run `run`; undefined when it has no Stripe Customer.
   * @throws {StripeUnavailable} when Stripe could not be asked; nothing is appended then.
   */
  reconcileOrg(orgId: string, period: string, run: string): Promise<OrgReconciliation | undefined> {
    return this.options.exclusively(orgId, () => this.locked(orgId, period, run));
  }

  private async locked(orgId: string, period: string, run: string): Promise<OrgReconciliation | undefined> {
    const eventId = reconciliationEventId(orgId, period, run);
    const billing = await this.billingFacts(orgId, period, eventId);
    if (billing.existing) {
      const e = parseEvent(billing.existing) as Extract<BillingEvent, { type: 'billing.reconciliation_completed' }>;
      return { orgId, eventId, appended: false, data: e.data };
    }
    const account = await this.options.accounts.load(orgId);
    if (!account.customerId) return undefined;

    const usage = await this.usageFacts(orgId, period, billing);
    const meter = await this.meterMinutes(account.customerId, period);
    const seats = await this.seatFacts(orgId, account, billing);
    const { figures, differences } = reconcile({
      quorumMinutes: usage.quorumMinutes,
      reportedMinutes: usage.reportedMinutes,
      unreported: usage.unreported,
      meter,
      invoiceMinutes: await this.invoiceMinutes(orgId, period),
      purchasedSeats: seats.purchased,
      accountSeats: account.seats,
      subscriptionSeats: seats.subscription,
      unsyncedSeatEvents: seats.unsynced,
      lastSync: billing.lastSync
        ? {
            eventId: billing.lastSync.id,
            type: billing.lastSync.type,
            note: `the last sync: left the seat item at ${account.seats ?? 0}`,
          }
        : null,
    });
    const data: ReconciliationData = {
      period,
      run,
      at: this.options.now().toISOString(),
      customerId: account.customerId,
      figures,
      differences,
    };
    try {
      await this.options.store.appendToStream(streamIds.billing(orgId), [
        {
          id: eventId,
          type: 'billing.reconciliation_completed',
          version: currentVersionOf('billing.reconciliation_completed'),
          data,
          metadata: {
            orgId,
            actor: { kind: 'system', id: 'billing' },
            correlationId: eventId,
            causationId: null,
          },
        },
      ]);
    } catch (error) {
      if (!(error instanceof DuplicateEventIdError)) throw error;
      // Another instance ran the same run first: its event stands.
      return { orgId, eventId, appended: false, data };
    }
    return { orgId, eventId, appended: true, data };
  }

  /** What the billing stream says: this run's event, the month's reports, skips, the last sync. */
  private async billingFacts(orgId: string, period: string, eventId: string): Promise<BillingFacts> {
    const facts: BillingFacts = { existing: undefined, reported: new Map(), skipped: new Map(), lastSync: undefined };
    for (const stored of await this.options.store.readStream(streamIds.billing(orgId))) {
      if (stored.id === eventId) facts.existing = stored;
      switch (stored.type) {
        case 'billing.usage_reported': {
          const e = parseEvent(stored) as Extract<BillingEvent, { type: 'billing.usage_reported' }>;
          if (e.data.period === period) facts.reported.set(e.data.usageEventId, e.data.minutes);
          break;
        }
        case 'billing.sync_skipped': {
          const e = parseEvent(stored) as Extract<BillingEvent, { type: 'billing.sync_skipped' }>;
          facts.skipped.set(e.data.cause.eventId, `skipped by ${e.data.by}: ${e.data.reason}`);
          break;
        }
        case 'billing.subscription_synced':
          facts.lastSync = stored;
          break;
      }
    }
    return facts;
  }

  private async usageFacts(orgId: string, period: string, billing: BillingFacts) {
    const streamId = streamIds.usage(orgId, period);
    const { rows } = await this.options.sql.query<{ revision: string; meeting_seconds: string }>(
      `SELECT revision::text, meeting_seconds::text FROM billing_usage_cursors WHERE stream_id = $1`,
      [streamId],
    );
    const cursor = rows[0] ? BigInt(rows[0].revision) : -1n;
    const tail = await this.options.store.readStream(streamId, { fromRevision: cursor + 1n });
    const seconds = meterReports(orgId, tail, rows[0] ? Number(rows[0].meeting_seconds) : 0).meetingSeconds;
    const quorumMinutes = Math.ceil(seconds / 60);
    let reportedMinutes = 0;
    for (const m of billing.reported.values()) reportedMinutes += m;
    if (reportedMinutes === quorumMinutes) return { quorumMinutes, reportedMinutes, unreported: [] };

    // Each event's value is what it added to the month rounded up, so the values of the events
    // not reported add up to exactly the gap.
    const all = cursor >= 0n ? await this.options.store.readStream(streamId) : tail;
    const missing = meterReports(orgId, all, 0).reports.filter(
      (r) => r.minutes > 0 && !billing.reported.has(r.usageEventId),
    );
    const { rows: letters } = await this.options.sql.query<{ cause_event_id: string; error: { message: string } }>(
      `SELECT cause_event_id, error FROM billing_dead_letters
        WHERE operation = 'usage' AND resolved_at IS NULL AND cause_event_id = ANY($1::uuid[])`,
      [missing.map((r) => r.usageEventId)],
    );
    const open = new Map(letters.map((l) => [l.cause_event_id, l.error.message]));
    const revisionOf = new Map(all.map((e) => [e.id, e.revision]));
    const unreported: EventRef[] = missing.map((r) => {
      const id = r.usageEventId;
      const minutes = `${r.minutes} min`;
      let why: string;
      if (open.has(id)) why = `dead letter open: Stripe refused it (${open.get(id)})`;
      else if (billing.skipped.has(id)) why = billing.skipped.get(id)!;
      else if (revisionOf.get(id)! > cursor) why = 'not reported yet: after the sync’s cursor';
      else why = 'not sent: the organization had no Stripe Customer when it was reported';
      return { eventId: id, type: 'usage.recorded', note: `${minutes}; ${why}`.slice(0, 500) };
    });
    return { quorumMinutes, reportedMinutes, unreported };
  }

  /** Stripe's meter summaries for the customer over the month, summed. */
  private async meterMinutes(customerId: string, period: string): Promise<StripeFigure> {
    const { from, to } = periodBounds(period);
    let total = 0;
    let startingAfter: string | undefined;
    try {
      for (;;) {
        const params: Stripe.Billing.MeterListEventSummariesParams = {
          customer: customerId,
          start_time: from / 1000,
          end_time: to / 1000,
          limit: 100,
          ...(startingAfter ? { starting_after: startingAfter } : {}),
        };
        const page = await this.options.calls.read('billing.meters.listEventSummaries', (o) =>
          this.options.calls.stripe.billing.meters.listEventSummaries(this.options.meterId, params, o),
        );
        for (const s of page.data) total += s.aggregated_value;
        if (!page.has_more || page.data.length === 0) break;
        startingAfter = page.data.at(-1)!.id;
      }
    } catch (error) {
      if (!(error instanceof StripeRefused)) throw error;
      return { refused: refusalOf(error) };
    }
    return { value: Math.round(total) };
  }

  private async seatFacts(orgId: string, account: BillingAccount, billing: BillingFacts) {
    const wanted = await wantedSubscription(this.options.store, orgId);
    const purchased = wanted?.seats ?? 0;
    let subscription: StripeFigure | null = null;
    if (account.seatItemId) {
      const itemId = account.seatItemId;
      try {
        const item = await this.options.calls.read('subscriptionItems.retrieve', (o) =>
          this.options.calls.stripe.subscriptionItems.retrieve(itemId, {}, o),
        );
        subscription = { value: item.quantity ?? 0 };
      } catch (error) {
        if (!(error instanceof StripeRefused)) throw error;
        subscription = { refused: refusalOf(error) };
      }
    }
    const unsynced: EventRef[] = [];
    if (purchased !== account.seats) {
      const after = billing.lastSync?.position ?? -1n;
      const seatEvents = (await this.options.store.readStream(streamIds.seats(orgId))).filter(
        (e) => (e.type === 'seats.purchased' || e.type === 'seats.released') && e.position > after,
      );
      const { rows } = await this.options.sql.query<{ cause_event_id: string; error: { message: string } }>(
        `SELECT cause_event_id, error FROM billing_dead_letters
          WHERE operation = 'subscription' AND resolved_at IS NULL AND cause_event_id = ANY($1::uuid[])`,
        [seatEvents.map((e) => e.id)],
      );
      const open = new Map(rows.map((l) => [l.cause_event_id, l.error.message]));
      for (const e of seatEvents) {
        const total = (e.data as { total: number }).total;
        const why = open.has(e.id)
          ? `dead letter open: Stripe refused it (${open.get(e.id)})`
          : (billing.skipped.get(e.id) ?? 'not synced yet');
        unsynced.push({ eventId: e.id, type: e.type, note: `${total} seats; ${why}`.slice(0, 500) });
      }
    }
    return { purchased, subscription, unsynced };
  }

  /**
   * The month's minutes on Stripe's invoices (the projector's `billing_invoices`): the lines of a
   * metered minutes price whose period starts in the month. Null without such a line, or where
   * the read models are not in this database.
   */
  private async invoiceMinutes(orgId: string, period: string): Promise<number | null> {
    const { rows: active } = await this.options.sql.query<{ version: number }>(
      `SELECT version FROM projection_active WHERE projection = $1`,
      [READ_MODEL_PROJECTION],
    );
    const schema = readModelSchema(active[0]?.version ?? 1);
    const { rows: exists } = await this.options.sql.query<{ table: string | null }>(
      `SELECT to_regclass($1)::text AS table`,
      [`${schema}.billing_invoices`],
    );
    if (!exists[0]?.table) return null;
    const { from, to } = periodBounds(period);
    const { rows } = await this.options.sql.query<{ lines: Array<Record<string, unknown>> }>(
      `SELECT lines FROM ${schema}.billing_invoices
        WHERE org_id = $1 AND status IS DISTINCT FROM 'void' AND period_start < $3 AND period_end > $2`,
      [orgId, new Date(from), new Date(to)],
    );
    let minutes: number | null = null;
    for (const r of rows) {
      for (const line of r.lines) {
        const start = Date.parse(String(line.periodStart));
        if (typeof line.priceId !== 'string' || !this.minutesPrices.has(line.priceId)) continue;
        if (start < from || start >= to) continue;
        minutes = (minutes ?? 0) + (typeof line.quantity === 'number' ? line.quantity : 0);
      }
    }
    return minutes;
  }
}
