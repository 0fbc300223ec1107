/**
 * The billing consumer: follows organization, seat and usage events on the bus and keeps each
 * organization's Stripe Customer, Subscription and metered minutes in step with them, recording
 * what each sync did as billing events in `billing-<orgId>` (docs/billing.md).
 *
 * Exactly once, by derived ids:
 * - a subscription sync is answered once per cause event (`billing_effects`), and compares the
 *   organization's streams with the account (what the sync last left in Stripe), so a repeat or a
 *   late event calls Stripe only for a real difference;
 * - usage streams are reported in stream order from a cursor (`billing_usage_cursors`), each meter
 *   event under the usage event's id as its `identifier` and Idempotency-Key; a crash repeats at
 *   most the reports after the last saved cursor, as the same requests;
 * - appended billing events have ids derived from their cause, so appending again is a no-op.
 * One organization is synced by one instance at a time (an advisory lock in PostgreSQL, a queue
 * within the process), so instances sharing the durable consumer never interleave its calls.
 */
import type { Consumer, DeliveredMessage, EventBus } from '@quorum/bus';
import type { SqlDatabase, SqlExecutor } from '@quorum/db';
import { categoryOf, currentVersionOf, streamIds } from '@quorum/domain';
import {
  DuplicateEventIdError,
  parseWireEvent,
  type EventStore,
  type NewEvent,
  type WireEvent,
} from '@quorum/eventstore';
import type { Logger } from 'pino';
import { Accounts, type BillingAccount } from './accounts';
import { outcomeEventId } from './billing-ids';
import { OrgLocks } from './org-locks';
import { periodsAround, Reconciler, type ReconcileRun } from './reconciler';
import { StripeRefused, type StripeCalls } from './stripe-calls';
import type { StripePrices } from './stripe-prices';
import { SUBSCRIPTION_CAUSES, SubscriptionSync, type SyncCause } from './subscription-sync';
import { meterReports, sendMeterReport, type MeterReport } from './usage-report';

/**
 * Stream categories the consumer answers. It reads every subject (`evt.>`): one durable keeps
 * an organization's events in their order (its customer before its usage), and nats-server 2.9
 * filters a consumer on one subject only.
 */
const BILLED_CATEGORIES: ReadonlySet<string> = new Set(['organization', 'seats', 'usage']);
/** Usage events read from a stream at a time; the cursor is saved after each such chunk. */
const USAGE_CHUNK = 200;
/**
 * Organizations synced at once from one batch of messages. Each holds a pooled connection for its
 * advisory lock while its queries take others, so this stays well under the pool (10 in the
 * all-in-one's pipeline thread, shared with the relay, the projector and metering); Stripe's call
 * rate, not this, bounds the throughput.
 */
const PARALLEL_ORGS = 4;

export interface BillingOptions {
  store: EventStore;
  /** Where the events come from; only {@link Billing.start} needs it (the CLI's retries do not). */
  bus?: EventBus | undefined;
  /** Holds the `billing_*` tables (run `migratePublicSchema` first). */
  sql: SqlDatabase;
  calls: StripeCalls;
  prices: StripePrices;
  /** The Billing Meter's event name. */
  meterEventName: string;
  logger: Logger;
  now?: () => Date;
  /** Durable consumer name; instances sharing it share the work. Default `billing`. */
  durableName?: string;
  /** How often operators' requests (retry, skip) from the finance page are carried out; default 2 s. 0: never. */
  requestsEveryMs?: number;
  /** The Billing Meter's id (`mtr_…`); without it there is no reconciliation. */
  meterId?: string | undefined;
  /**
   * How often every organization is reconciled (the month just ended and the current one);
   * default daily. 0: never (the command line still can).
   */
  reconcileEveryMs?: number;
}

/** A dead letter as operators see it. */
export interface DeadLetter {
  causeEventId: string;
  operation: 'customer' | 'subscription' | 'usage';
  orgId: string;
  causeType: string;
  causePosition: string;
  error: { type: string; code: string | null; message: string; statusCode: number | null; requestId: string | null };
  attempts: number;
  failedAt: Date;
  resolvedAt: Date | null;
  resolution: string | null;
  resolvedBy: string | null;
}

/** The event a dead letter holds back. */
type DeadLetterCause = Pick<WireEvent, 'id' | 'type' | 'orgId' | 'position' | 'correlationId'>;

async function mapLimit<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < items.length; i = next++) await fn(items[i]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

export class Billing {
  private consumer: Consumer | undefined;
  private timer: NodeJS.Timeout | undefined;
  private reconcileTimer: NodeJS.Timeout | undefined;
  private requests: Promise<unknown> = Promise.resolve();
  private reconciling: Promise<unknown> = Promise.resolve();
  /** The scheduled slot last reconciled by this process, and the one being reconciled. */
  private reconciledSlot: number | undefined;
  private pendingSlot: number | undefined;
  /** Present when the meter id is set. */
  readonly reconciler: Reconciler | undefined;
  private readonly accounts: Accounts;
  private readonly subscriptions: SubscriptionSync;
  private readonly now: () => Date;
  /** Each organization synced by one instance at a time, one sync after another. */
  private readonly locks: OrgLocks;

  constructor(private readonly options: BillingOptions) {
    this.locks = new OrgLocks(options.sql);
    this.now = options.now ?? (() => new Date());
    this.accounts = new Accounts(options.sql, options.store);
    this.subscriptions = new SubscriptionSync(options.store, options.calls, options.prices, this.now);
    this.reconciler = options.meterId
      ? new Reconciler({
          store: options.store,
          sql: options.sql,
          calls: options.calls,
          prices: options.prices,
          accounts: this.accounts,
          meterId: options.meterId,
          logger: options.logger,
          now: this.now,
          exclusively: (orgId, fn) => this.exclusively(orgId, fn),
        })
      : undefined;
  }

  async start(): Promise<void> {
    if (!this.options.bus) throw new Error('billing: start() needs a bus');
    this.consumer = await this.options.bus.consume({
      durableName: this.options.durableName ?? 'billing',
      maxBatch: 200,
      batchHandler: (messages) => this.handle(messages),
      onError: (error) => this.options.logger.warn({ err: error }, 'billing consumer: bus error'),
    });
    const every = this.options.requestsEveryMs ?? 2_000;
    if (every > 0) {
      this.timer = setInterval(() => {
        this.requests = this.requests
          .then(() => this.carryOutRequests())
          .catch((err: unknown) =>
            this.options.logger.error({ err }, "billing: operators' requests failed; next round retries"),
          );
      }, every);
      this.timer.unref();
    }
    this.scheduleReconciliation();
  }

  /**
   * Reconciles every organization once per slot of `reconcileEveryMs` (checked every minute at
   * most, and at start): the run is named after its slot, so instances and restarts in the same
   * slot append its events once.
   */
  private scheduleReconciliation(): void {
    const every = this.options.reconcileEveryMs ?? 86_400_000;
    if (every <= 0) return;
    if (!this.reconciler) {
      this.options.logger.info('billing: no reconciliation (the Billing Meter id is not set)');
      return;
    }
    const tick = () => {
      const slot = Math.floor(this.now().getTime() / every) * every;
      if (slot === this.reconciledSlot || slot === this.pendingSlot) return;
      this.pendingSlot = slot;
      this.reconciling = this.reconciling
        .then(async () => {
          const run = await this.reconcile(periodsAround(new Date(slot)), `scheduled-${new Date(slot).toISOString()}`);
          this.reconciledSlot = slot;
          this.options.logger.info(
            {
              run: run.run,
              organizations: run.reconciled.length,
              differences: run.reconciled.reduce((n, r) => n + r.data.differences.length, 0),
              unavailable: run.unavailable.length,
            },
            'billing: reconciliation run',
          );
        })
        .catch((err: unknown) =>
          this.options.logger.error({ err }, 'billing: reconciliation failed; next tick retries'),
        )
        .finally(() => {
          this.pendingSlot = undefined;
        });
    };
    tick();
    this.reconcileTimer = setInterval(tick, Math.min(every, 60_000));
    this.reconcileTimer.unref();
  }

  /** Reconciles `periods` of every organization with a Stripe Customer as run `run`. */
  reconcile(periods: readonly string[], run: string): Promise<ReconcileRun> {
    if (!this.reconciler) throw new Error('reconciliation needs the Billing Meter id (STRIPE_METER_ID)');
    return this.reconciler.run(periods, run);
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    clearInterval(this.reconcileTimer);
    await this.requests.catch(() => undefined);
    await this.reconciling.catch(() => undefined);
    await this.consumer?.close();
    this.consumer = undefined;
    await this.locks.close();
  }

  /** One batch from the bus: each organization's events in order, organizations side by side. */
  async handle(messages: readonly DeliveredMessage[]): Promise<void> {
    const byOrg = new Map<string, WireEvent[]>();
    for (const m of messages) {
      const e = parseWireEvent(m.payload);
      if (!BILLED_CATEGORIES.has(categoryOf(e.streamId))) continue;
      const list = byOrg.get(e.orgId) ?? [];
      list.push(e);
      byOrg.set(e.orgId, list);
    }
    await mapLimit([...byOrg], PARALLEL_ORGS, ([orgId, events]) => this.syncOrg(orgId, events));
  }

  /** Answers `events` of one organization (in stream order): subscription causes, then usage streams. */
  async syncOrg(orgId: string, events: readonly WireEvent[]): Promise<void> {
    await this.exclusively(orgId, async () => {
      for (const e of events) if (SUBSCRIPTION_CAUSES.has(e.type)) await this.syncSubscription(e);
      const usageStreams = new Set(
        events.filter((e) => categoryOf(e.streamId) === 'usage' && e.type === 'usage.recorded').map((e) => e.streamId),
      );
      for (const streamId of usageStreams) await this.reportUsage(orgId, streamId);
    });
  }

  /** Runs `fn` as the only sync of `orgId`: queued in this process, locked across processes. */
  private exclusively<T>(orgId: string, fn: () => Promise<T>): Promise<T> {
    return this.locks.run(orgId, fn);
  }

  private meta(orgId: string, correlationId: string, causationId: string): NewEvent['metadata'] {
    return { orgId, actor: { kind: 'system', id: 'billing' }, correlationId, causationId };
  }

  private async answered(causeEventId: string, operation: string): Promise<boolean> {
    const { rows } = await this.options.sql.query(
      `SELECT 1 FROM billing_effects WHERE cause_event_id = $1 AND operation = $2
       UNION ALL SELECT 1 FROM billing_dead_letters WHERE cause_event_id = $1 AND operation = $2`,
      [causeEventId, operation],
    );
    return rows.length > 0;
  }

  private async syncSubscription(e: WireEvent): Promise<void> {
    if (await this.answered(e.id, 'subscription')) return;
    const cause: SyncCause = { id: e.id, type: e.type, orgId: e.orgId, correlationId: e.correlationId };
    const account = await this.accounts.load(e.orgId);
    try {
      const outcome = await this.subscriptions.sync(cause, account);
      await this.append(e.orgId, outcome.events);
      await this.options.sql.transaction(async (tx) => {
        await this.accounts.save(tx, outcome.account);
        await this.recordEffect(tx, e.id, 'subscription', e.orgId, outcome.events.at(-1)?.id ?? null);
      });
    } catch (error) {
      if (!(error instanceof StripeRefused)) throw error;
      await this.deadLetter(e, 'subscription', error, null, 1);
    }
  }

  private async recordEffect(db: SqlExecutor, cause: string, operation: string, orgId: string, outcome: string | null) {
    await db.query(
      `INSERT INTO billing_effects (cause_event_id, operation, org_id, outcome_event_id) VALUES ($1, $2, $3, $4)
       ON CONFLICT DO NOTHING`,
      [cause, operation, orgId, outcome],
    );
  }

  /** Reports the usage stream from its cursor to its end. */
  private async reportUsage(orgId: string, streamId: string): Promise<void> {
    const { rows } = await this.options.sql.query<{ revision: string; meeting_seconds: string }>(
      `SELECT revision::text, meeting_seconds::text FROM billing_usage_cursors WHERE stream_id = $1`,
      [streamId],
    );
    let revision = rows[0] ? BigInt(rows[0].revision) : -1n;
    let seconds = rows[0] ? Number(rows[0].meeting_seconds) : 0;
    const period = streamId.slice(-6);
    for (;;) {
      const chunk = await this.options.store.readStream(streamId, {
        fromRevision: revision + 1n,
        maxCount: USAGE_CHUNK,
      });
      if (chunk.length === 0) return;
      const counted = meterReports(orgId, chunk, seconds);
      const account = await this.accounts.load(orgId);
      const outcomes: NewEvent[] = [];
      const refused: Array<{ report: MeterReport; error: StripeRefused; cause: DeadLetterCause }> = [];
      if (account.customerId) {
        for (const report of counted.reports) {
          const source = chunk.find((c) => c.id === report.usageEventId)!;
          const meta = this.meta(orgId, source.metadata.correlationId, source.id);
          try {
            outcomes.push(
              await sendMeterReport(
                this.options.calls,
                this.options.meterEventName,
                account.customerId,
                report,
                meta,
                this.now().toISOString(),
              ),
            );
          } catch (error) {
            if (!(error instanceof StripeRefused)) throw error;
            refused.push({
              report,
              error,
              cause: {
                id: source.id,
                type: source.type,
                orgId,
                position: source.position.toString(),
                correlationId: source.metadata.correlationId,
              },
            });
          }
        }
      }
      await this.append(orgId, outcomes);
      for (const r of refused) await this.deadLetter(r.cause, 'usage', r.error, r.report, 1);
      revision = chunk.at(-1)!.revision;
      seconds = counted.meetingSeconds;
      await this.options.sql.query(
        `INSERT INTO billing_usage_cursors (stream_id, org_id, period, revision, meeting_seconds, updated_at)
         VALUES ($1, $2, $3, $4, $5, now())
         ON CONFLICT (stream_id) DO UPDATE SET revision = $4, meeting_seconds = $5, updated_at = now()`,
        [streamId, orgId, period, revision.toString(), seconds],
      );
      if (chunk.length < USAGE_CHUNK) return;
    }
  }

  /** Appends `events` to the organization's billing stream; ids already there are skipped. */
  private async append(orgId: string, events: readonly NewEvent[]): Promise<void> {
    if (events.length === 0) return;
    const stream = streamIds.billing(orgId);
    try {
      await this.options.store.appendToStream(stream, events);
    } catch (err) {
      if (!(err instanceof DuplicateEventIdError)) throw err;
      for (const event of events) await this.options.store.appendToStream(stream, [event]);
    }
  }

  private async deadLetter(
    cause: DeadLetterCause,
    operation: 'subscription' | 'usage',
    error: StripeRefused,
    request: MeterReport | null,
    attempt: number,
  ): Promise<void> {
    await this.append(cause.orgId, [
      {
        id: outcomeEventId('billing.sync_failed', cause.id, attempt),
        type: 'billing.sync_failed',
        version: currentVersionOf('billing.sync_failed'),
        data: {
          operation,
          cause: { eventId: cause.id, type: cause.type },
          error: error.info,
          attempt,
          at: this.now().toISOString(),
        },
        metadata: this.meta(cause.orgId, cause.correlationId, cause.id),
      },
    ]);
    await this.options.sql.query(
      `INSERT INTO billing_dead_letters (cause_event_id, operation, org_id, cause_type, cause_position, request, error, attempts, failed_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
       ON CONFLICT (cause_event_id, operation) DO UPDATE SET error = $7, attempts = $8, failed_at = $9, resolved_at = NULL, resolution = NULL`,
      [
        cause.id,
        operation,
        cause.orgId,
        cause.type,
        cause.position,
        request ? JSON.stringify(request) : null,
        JSON.stringify(error.info),
        attempt,
        this.now(),
      ],
    );
    this.options.logger.warn(
      { cause: cause.id, type: cause.type, orgId: cause.orgId, operation, error: error.info },
      'stripe refused a billing sync; dead-lettered',
    );
  }

  /** Dead letters, the open ones first, newest first. */
  async deadLetters(options: { all?: boolean } = {}): Promise<DeadLetter[]> {
    const { rows } = await this.options.sql.query<Record<string, unknown>>(
      `SELECT cause_event_id, operation, org_id, cause_type, cause_position::text, error, attempts, failed_at, resolved_at, resolution, resolved_by
         FROM billing_dead_letters ${options.all ? '' : 'WHERE resolved_at IS NULL'}
        ORDER BY resolved_at IS NOT NULL, failed_at DESC LIMIT 1000`,
    );
    return rows.map((r) => ({
      causeEventId: r.cause_event_id as string,
      operation: r.operation as DeadLetter['operation'],
      orgId: r.org_id as string,
      causeType: r.cause_type as string,
      causePosition: r.cause_position as string,
      error: r.error as DeadLetter['error'],
      attempts: r.attempts as number,
      failedAt: new Date(r.failed_at as string),
      resolvedAt: r.resolved_at ? new Date(r.resolved_at as string) : null,
      resolution: (r.resolution as string | null) ?? null,
      resolvedBy: (r.resolved_by as string | null) ?? null,
    }));
  }

  private async openDeadLetter(causeEventId: string, operation: string) {
    const { rows } = await this.options.sql.query<{
      org_id: string;
      cause_type: string;
      cause_position: string;
      request: MeterReport | null;
      attempts: number;
    }>(
      `SELECT org_id, cause_type, cause_position::text, request, attempts FROM billing_dead_letters
        WHERE cause_event_id = $1 AND operation = $2 AND resolved_at IS NULL`,
      [causeEventId, operation],
    );
    const row = rows[0];
    if (!row) throw new Error(`no open dead letter for ${operation} of event ${causeEventId}`);
    return row;
  }

  /**
   * Sends a dead letter again (a new attempt, under a new Idempotency-Key). Resolves `retried`
   * when Stripe took it, `refused` (recorded as the letter's latest attempt) when it did not.
   */
  async retry(causeEventId: string, operation: 'subscription' | 'usage', by: string): Promise<'retried' | 'refused'> {
    const letter = await this.openDeadLetter(causeEventId, operation);
    const orgId = letter.org_id;
    const attempt = letter.attempts + 1;
    const cause = {
      id: causeEventId,
      type: letter.cause_type,
      orgId,
      position: letter.cause_position,
      correlationId: causeEventId,
    };
    return this.exclusively(orgId, async () => {
      try {
        if (operation === 'subscription') {
          const outcome = await this.subscriptions.sync(cause, await this.accounts.load(orgId), attempt);
          await this.append(orgId, outcome.events);
          await this.options.sql.transaction(async (tx) => {
            await this.accounts.save(tx, outcome.account);
            await this.resolve(tx, causeEventId, operation, 'retried', by);
          });
        } else {
          const account: BillingAccount = await this.accounts.load(orgId);
          if (!account.customerId) throw new Error(`organization ${orgId} has no Stripe customer`);
          const outcome = await sendMeterReport(
            this.options.calls,
            this.options.meterEventName,
            account.customerId,
            letter.request!,
            this.meta(orgId, causeEventId, causeEventId),
            this.now().toISOString(),
            attempt,
          );
          await this.append(orgId, [outcome]);
          await this.resolve(this.options.sql, causeEventId, operation, 'retried', by);
        }
        return 'retried';
      } catch (error) {
        if (!(error instanceof StripeRefused)) throw error;
        await this.deadLetter(cause, operation, error, letter.request, attempt);
        return 'refused';
      }
    });
  }

  /**
   * Carries out what operators asked for on open dead letters from the finance page (the gateway
   * records the request; only this process calls Stripe). Returns how many it carried out.
   */
  async carryOutRequests(): Promise<number> {
    const { rows } = await this.options.sql.query<{
      cause_event_id: string;
      operation: 'subscription' | 'usage';
      requested_action: 'retry' | 'skip';
      requested_by: string;
      requested_reason: string | null;
    }>(
      `SELECT cause_event_id, operation, requested_action, requested_by, requested_reason FROM billing_dead_letters
        WHERE resolved_at IS NULL AND requested_action IS NOT NULL ORDER BY requested_at LIMIT 100`,
    );
    for (const r of rows) {
      // Cleared first: a request is carried out at most once, whatever happens next.
      const { rowCount } = await this.options.sql.query(
        `UPDATE billing_dead_letters SET requested_action = NULL, requested_at = NULL
          WHERE cause_event_id = $1 AND operation = $2 AND requested_action = $3`,
        [r.cause_event_id, r.operation, r.requested_action],
      );
      if (rowCount === 0) continue;
      if (r.requested_action === 'retry') await this.retry(r.cause_event_id, r.operation, r.requested_by);
      else
        await this.skip(
          r.cause_event_id,
          r.operation,
          r.requested_by,
          r.requested_reason ?? 'Skipped from the finance page.',
        );
    }
    return rows.length;
  }

  /** Gives up on a dead letter: it is never sent; `billing.sync_skipped` records who and why. */
  async skip(causeEventId: string, operation: 'subscription' | 'usage', by: string, reason: string): Promise<void> {
    const letter = await this.openDeadLetter(causeEventId, operation);
    await this.append(letter.org_id, [
      {
        id: outcomeEventId('billing.sync_skipped', causeEventId, letter.attempts),
        type: 'billing.sync_skipped',
        version: currentVersionOf('billing.sync_skipped'),
        data: {
          operation,
          cause: { eventId: causeEventId, type: letter.cause_type },
          by,
          reason,
          at: this.now().toISOString(),
        },
        metadata: this.meta(letter.org_id, causeEventId, causeEventId),
      },
    ]);
    await this.resolve(this.options.sql, causeEventId, operation, 'skipped', by);
  }

  private async resolve(db: SqlExecutor, cause: string, operation: string, resolution: string, by: string) {
    await db.query(
      `UPDATE billing_dead_letters SET resolved_at = $3, resolution = $4, resolved_by = $5
        WHERE cause_event_id = $1 AND operation = $2 AND resolved_at IS NULL`,
      [cause, operation, this.now(), resolution, by],
    );
  }
}
