/**
 * What the Stripe webhook route reads and writes: its record of handled Stripe events (public
 * `stripe_webhook_events`) and, from the active projection version, which organization a Stripe
 * Customer bills (`billing_customers`).
 */
import { readModelSchema, type Database } from '@quorum/db';
import type { Kysely } from 'kysely';

export interface HandledStripeEvent {
  eventId: string;
  type: string;
  outcome: 'applied' | 'ignored';
  orgId: string | null;
  detail: string;
}

export class StripeWebhooksRepository {
  constructor(
    private readonly db: Kysely<Database>,
    /** The active read-model version (the gateway's `ReadModels.activeVersion`). */
    private readonly activeVersion: () => Promise<number>,
  ) {}

  /** How an already handled Stripe event came out; undefined when it is new. */
  async handled(eventId: string): Promise<HandledStripeEvent | undefined> {
    const row = await this.db
      .selectFrom('stripe_webhook_events')
      .select(['event_id', 'type', 'outcome', 'org_id', 'detail'])
      .where('event_id', '=', eventId)
      .executeTakeFirst();
    return row
      ? { eventId: row.event_id, type: row.type, outcome: row.outcome, orgId: row.org_id, detail: row.detail }
      : undefined;
  }

  /** Records a handled event; a second record of it (another gateway, same delivery) keeps the first. */
  async record(event: HandledStripeEvent): Promise<void> {
    await this.db
      .insertInto('stripe_webhook_events')
      .values({
        event_id: event.eventId,
        type: event.type,
        outcome: event.outcome,
        org_id: event.orgId,
        detail: event.detail,
      })
      .onConflict((oc) => oc.column('event_id').doNothing())
      .execute();
  }

  /** The organization a Stripe Customer bills, once its `billing.customer_linked` is projected. */
  async orgOfCustomer(customerId: string): Promise<string | undefined> {
    const row = await this.db
      .withSchema(readModelSchema(await this.activeVersion()))
      .selectFrom('billing_customers')
      .select('org_id')
      .where('customer_id', '=', customerId)
      .executeTakeFirst();
    return row?.org_id;
  }

  /**
   * Organizations the read model shows past due, each with its latest
   * `organization.marked_past_due` (event id and time) when that is at or before `cutoff`.
   */
  async pastDueSince(cutoff: Date): Promise<Array<{ orgId: string; eventId: string; since: Date }>> {
    const rows = await this.db
      .withSchema(readModelSchema(await this.activeVersion()))
      .selectFrom('organizations as o')
      .innerJoinLateral(
        (eb) =>
          eb
            .selectFrom('event_log as l')
            .select(['l.event_id', 'l.occurred_at'])
            .whereRef('l.org_id', '=', 'o.org_id')
            .where('l.type', '=', 'organization.marked_past_due')
            .orderBy('l.position', 'desc')
            .limit(1)
            .as('m'),
        (join) => join.onTrue(),
      )
      .select(['o.org_id', 'm.event_id', 'm.occurred_at'])
      .where('o.status', '=', 'past_due')
      .where('m.occurred_at', '<=', cutoff)
      .orderBy('m.occurred_at')
      .execute();
    return rows.map((r) => ({ orgId: r.org_id, eventId: r.event_id, since: new Date(r.occurred_at) }));
  }
}
