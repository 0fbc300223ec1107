/**
 * An organization's Customer and Subscription, brought to what its streams say now: a paid plan
 * gets a Customer (org id in metadata) and a Subscription with the plan's seat price at the
 * purchased seats, the trial's end, and the metered minutes price when the plan bills overage;
 * purchased or released seats set the seat item's quantity (prorated); a plan change swaps the
 * prices; a closed organization (or a move to the free plan) cancels at the period's end.
 *
 * The sync compares the organization's state with the account (what the sync last left in
 * Stripe) and calls Stripe only for a difference, so an event answered twice, late or after a
 * later one changes nothing more. Each call's Idempotency-Key is derived from the event that
 * caused it and the request it sends: a repeat of the same request after a crash is answered
 * by Stripe from its first answer.
 */
import { createHash } from 'node:crypto';
import { currentVersionOf, parseEvent, streamIds, type Plan } from '@quorum/domain';
import type { EventStore, NewEvent } from '@quorum/eventstore';
import type Stripe from 'stripe';
import type { BillingAccount } from './accounts';
import { idempotencyKey, outcomeEventId } from './billing-ids';
import type { StripeCalls } from './stripe-calls';
import type { StripePrices } from './stripe-prices';

/** Event types after which an organization's subscription may need to change. */
export const SUBSCRIPTION_CAUSES: ReadonlySet<string> = new Set([
  'organization.created',
  'organization.plan_changed',
  'organization.closed',
  'seats.purchased',
  'seats.released',
]);

/** What the organization's streams say its subscription should be. */
export interface WantedSubscription {
  orgId: string;
  name: string;
  ownerEmail: string;
  plan: Plan;
  seats: number;
  trialEndsAt: string;
  closed: boolean;
}

/** The organization as its streams hold it now; undefined before it was created. */
export async function wantedSubscription(store: EventStore, orgId: string): Promise<WantedSubscription | undefined> {
  const [org, seats] = await Promise.all([
    store.readStream(streamIds.organization(orgId)),
    store.readStream(streamIds.seats(orgId)),
  ]);
  let wanted: WantedSubscription | undefined;
  for (const stored of org) {
    const e = parseEvent(stored);
    if (e.type === 'organization.created') {
      wanted = {
        orgId,
        name: e.data.name,
        ownerEmail: e.data.ownerEmail,
        plan: e.data.plan,
        seats: 0,
        trialEndsAt: e.data.trialEndsAt,
        closed: false,
      };
    } else if (wanted && e.type === 'organization.plan_changed') wanted = { ...wanted, plan: e.data.to };
    else if (wanted && e.type === 'organization.closed') wanted = { ...wanted, closed: true };
  }
  if (!wanted) return undefined;
  for (const stored of seats) {
    const e = parseEvent(stored);
    if (e.type === 'seats.purchased' || e.type === 'seats.released') wanted = { ...wanted, seats: e.data.total };
  }
  return wanted;
}

/** The event a sync answers. */
export interface SyncCause {
  id: string;
  type: string;
  orgId: string;
  correlationId: string;
}

/** What one sync did: the billing events to append and the account after them. */
export interface SyncOutcome {
  events: NewEvent[];
  account: BillingAccount;
}

function digest(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, 16);
}

/** Stripe's item carrying `price`, else the one at `index` of the request. */
function itemOf(sub: Stripe.Subscription, price: string, index: number): string | null {
  const items = sub.items.data;
  return (items.find((i) => i.price.id === price) ?? items[index])?.id ?? null;
}

export class SubscriptionSync {
  constructor(
    private readonly store: EventStore,
    private readonly calls: StripeCalls,
    private readonly prices: StripePrices,
    private readonly now: () => Date,
  ) {}

  /**
   * Brings `account` to what the organization's streams say, answering `cause`.
   * @throws {StripeRefused} / {StripeUnavailable} from the calls; nothing is appended then.
   */
  async sync(cause: SyncCause, account: BillingAccount, attempt = 1): Promise<SyncOutcome> {
    const wanted = await wantedSubscription(this.store, cause.orgId);
    if (!wanted) throw new Error(`organization ${cause.orgId} has no organization.created event`);
    const paid = wanted.plan !== 'free' && !wanted.closed;
    const events: NewEvent[] = [];
    let next = account;
    const meta = {
      orgId: cause.orgId,
      actor: { kind: 'system' as const, id: 'billing' },
      correlationId: cause.correlationId,
      causationId: cause.id,
    };
    const at = () => this.now().toISOString();
    const causeRef = { eventId: cause.id, type: cause.type };

    if (!next.customerId && paid) {
      const params: Stripe.CustomerCreateParams = {
        name: wanted.name,
        email: wanted.ownerEmail,
        metadata: { orgId: wanted.orgId },
      };
      const customer = await this.calls.call('customers.create', idempotencyKey('customer', cause.id, attempt), (o) =>
        this.calls.stripe.customers.create(params, o),
      );
      next = { ...next, customerId: customer.id };
      events.push({
        id: outcomeEventId('billing.customer_linked', cause.id, attempt),
        type: 'billing.customer_linked',
        version: currentVersionOf('billing.customer_linked'),
        data: { customerId: customer.id, cause: causeRef, at: at() },
        metadata: meta,
      });
    }

    let sub: Stripe.Subscription | undefined;
    const seatPrice = this.prices[wanted.plan].seat;
    const minutesPrice = this.prices[wanted.plan].minutes;
    if (!next.subscriptionId) {
      if (paid && next.customerId && seatPrice) {
        const trialEnd = Date.parse(wanted.trialEndsAt);
        const params: Stripe.SubscriptionCreateParams = {
          customer: next.customerId,
          items: [{ price: seatPrice, quantity: wanted.seats }, ...(minutesPrice ? [{ price: minutesPrice }] : [])],
          ...(trialEnd > this.now().getTime() ? { trial_end: Math.floor(trialEnd / 1000) } : {}),
          metadata: { orgId: wanted.orgId },
          payment_behavior: 'default_incomplete',
          proration_behavior: 'create_prorations',
        };
        sub = await this.calls.call(
          'subscriptions.create',
          `${idempotencyKey('subscription', cause.id, attempt)}-${digest(params)}`,
          (o) => this.calls.stripe.subscriptions.create(params, o),
        );
        next = {
          ...next,
          subscriptionId: sub.id,
          seatItemId: itemOf(sub, seatPrice, 0),
          meteredItemId: minutesPrice ? itemOf(sub, minutesPrice, 1) : null,
          plan: wanted.plan,
          seats: wanted.seats,
          trialEnd: sub.trial_end ? new Date(sub.trial_end * 1000).toISOString() : null,
          cancelAtPeriodEnd: false,
        };
      }
    } else {
      const cancel = !paid;
      const swap = paid && next.plan !== wanted.plan && seatPrice !== null;
      const items: Stripe.SubscriptionUpdateParams.Item[] = [];
      if (swap && next.seatItemId) items.push({ id: next.seatItemId, price: seatPrice, quantity: wanted.seats });
      else if (next.seats !== wanted.seats && next.seatItemId)
        items.push({ id: next.seatItemId, quantity: wanted.seats });
      if (swap && next.meteredItemId) items.push({ id: next.meteredItemId, deleted: true });
      if (swap && minutesPrice) items.push({ price: minutesPrice });
      if (items.length > 0 || cancel !== next.cancelAtPeriodEnd) {
        const params: Stripe.SubscriptionUpdateParams = {
          ...(items.length > 0 ? { items, proration_behavior: 'create_prorations' as const } : {}),
          cancel_at_period_end: cancel,
        };
        sub = await this.calls.call(
          'subscriptions.update',
          `${idempotencyKey('subscription', cause.id, attempt)}-${digest(params)}`,
          (o) => this.calls.stripe.subscriptions.update(next.subscriptionId!, params, o),
        );
        next = {
          ...next,
          seatItemId: swap && seatPrice ? itemOf(sub, seatPrice, 0) : next.seatItemId,
          meteredItemId: swap ? (minutesPrice ? itemOf(sub, minutesPrice, 1) : null) : next.meteredItemId,
          plan: swap ? wanted.plan : next.plan,
          seats: wanted.seats,
          cancelAtPeriodEnd: cancel,
        };
      }
    }
    if (sub) {
      events.push({
        id: outcomeEventId('billing.subscription_synced', cause.id, attempt),
        type: 'billing.subscription_synced',
        version: currentVersionOf('billing.subscription_synced'),
        data: {
          subscriptionId: next.subscriptionId!,
          status: sub.status,
          plan: next.plan!,
          seats: next.seats ?? 0,
          seatItemId: next.seatItemId!,
          meteredItemId: next.meteredItemId,
          trialEnd: next.trialEnd,
          cancelAtPeriodEnd: next.cancelAtPeriodEnd,
          cause: causeRef,
          at: at(),
        },
        metadata: meta,
      });
    }
    return { events, account: next };
  }
}
