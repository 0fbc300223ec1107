/**
 * Each organization's Stripe objects as the sync last left them: a row of `billing_accounts`,
 * folded from the organization's `billing-<orgId>` stream whenever the row is missing, so
 * deleting the table (or losing it) rebuilds the same state from the events.
 */
import type { SqlDatabase, SqlExecutor } from '@quorum/db';
import { parseEvent, streamIds, type BillingEvent, type Plan } from '@quorum/domain';
import type { EventStore } from '@quorum/eventstore';

export interface BillingAccount {
  orgId: string;
  customerId: string | null;
  subscriptionId: string | null;
  seatItemId: string | null;
  meteredItemId: string | null;
  plan: Plan | null;
  seats: number | null;
  trialEnd: string | null;
  cancelAtPeriodEnd: boolean;
}

export function emptyAccount(orgId: string): BillingAccount {
  return {
    orgId,
    customerId: null,
    subscriptionId: null,
    seatItemId: null,
    meteredItemId: null,
    plan: null,
    seats: null,
    trialEnd: null,
    cancelAtPeriodEnd: false,
  };
}

/** The account after `event`. */
export function evolveAccount(account: BillingAccount, event: BillingEvent): BillingAccount {
  switch (event.type) {
    case 'billing.customer_linked':
      return { ...account, customerId: event.data.customerId };
    case 'billing.subscription_synced':
      return {
        ...account,
        subscriptionId: event.data.subscriptionId,
        seatItemId: event.data.seatItemId,
        meteredItemId: event.data.meteredItemId,
        plan: event.data.plan,
        seats: event.data.seats,
        trialEnd: event.data.trialEnd,
        cancelAtPeriodEnd: event.data.cancelAtPeriodEnd,
      };
    default:
      return account;
  }
}

interface AccountRow {
  customer_id: string | null;
  subscription_id: string | null;
  seat_item_id: string | null;
  metered_item_id: string | null;
  plan: Plan | null;
  seats: number | null;
  trial_end: Date | null;
  cancel_at_period_end: boolean;
}

export class Accounts {
  constructor(
    private readonly sql: SqlDatabase,
    private readonly store: EventStore,
  ) {}

  /** The account of `orgId`: its row, or (no row yet) its billing stream folded and saved. */
  async load(orgId: string): Promise<BillingAccount> {
    const { rows } = await this.sql.query<AccountRow>(
      `SELECT customer_id, subscription_id, seat_item_id, metered_item_id, plan, seats, trial_end, cancel_at_period_end
         FROM billing_accounts WHERE org_id = $1`,
      [orgId],
    );
    const row = rows[0];
    if (row) {
      return {
        orgId,
        customerId: row.customer_id,
        subscriptionId: row.subscription_id,
        seatItemId: row.seat_item_id,
        meteredItemId: row.metered_item_id,
        plan: row.plan,
        seats: row.seats,
        trialEnd: row.trial_end ? new Date(row.trial_end).toISOString() : null,
        cancelAtPeriodEnd: row.cancel_at_period_end,
      };
    }
    let account = emptyAccount(orgId);
    for (const e of await this.store.readStream(streamIds.billing(orgId))) {
      if (e.type !== 'billing.customer_linked' && e.type !== 'billing.subscription_synced') continue;
      account = evolveAccount(account, parseEvent(e) as BillingEvent);
    }
    await this.save(this.sql, account);
    return account;
  }

  async save(db: SqlExecutor, a: BillingAccount): Promise<void> {
    await db.query(
      `INSERT INTO billing_accounts (org_id, customer_id, subscription_id, seat_item_id, metered_item_id, plan, seats, trial_end, cancel_at_period_end, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, now())
       ON CONFLICT (org_id) DO UPDATE SET customer_id = $2, subscription_id = $3, seat_item_id = $4, metered_item_id = $5,
         plan = $6, seats = $7, trial_end = $8, cancel_at_period_end = $9, updated_at = now()`,
      [
        a.orgId,
        a.customerId,
        a.subscriptionId,
        a.seatItemId,
        a.meteredItemId,
        a.plan,
        a.seats,
        a.trialEnd,
        a.cancelAtPeriodEnd,
      ],
    );
  }
}
