/**
 * What Stripe's webhook events do (docs/billing.md, "Inbound: Stripe's webhooks").
 *
 * A delivery is checked with the `stripe` SDK (`webhooks.constructEvent`, 300 s tolerance)
 * before anything is read from it. Each Stripe event is handled once: a record keyed by
 * Stripe's event id answers a redelivery, and every event Quorum appends for it has an id
 * derived from that Stripe event id (uuid v5), so a delivery handled on two gateways at once, or
 * retried after a crash between the appends and the record, still appends each event once.
 * A lifecycle command an organization has already been through (PRECONDITION_FAILED
 * `organization.invalid_transition`, or a closed organization) counts as done.
 *
 * - `invoice.finalized` → `billing.invoice_finalized`
 * - `invoice.paid` → `billing.invoice_paid`, and the organization active again (ActivateSubscription,
 *   or ReactivateOrganization when suspended); a zero invoice during the trial leaves it trialing
 * - `invoice.payment_failed` → `billing.invoice_payment_failed`, and MarkPastDue
 * - `customer.subscription.deleted` → SuspendOrganization ("subscription cancelled")
 * - any other type, or an organization Quorum cannot find → recorded as ignored
 */
import Stripe from 'stripe';
import { z } from 'zod';
import {
  AppError,
  InvoiceDataSchema,
  organizationDecider,
  streamIds,
  type BillingEvent,
  type OrganizationCommand,
  type OrganizationState,
} from '@quorum/domain';
import type { Logger } from 'pino';
import type { CommandHandler, CommandMeta } from '../commands/command-handler';
import { createIdSource } from '../commands/ids';
import {
  invoiceData,
  invoiceOrgId,
  StripeEventSchema,
  StripeInvoiceSchema,
  StripeSubscriptionSchema,
  subscriptionOrgId,
  type StripeEvent,
} from './stripe-event.schema';
import type { HandledStripeEvent, StripeWebhooksRepository } from './stripe-webhooks.repository';

/** Seconds a signature's timestamp may be old (Stripe's own default), against replays. */
export const STRIPE_SIGNATURE_TOLERANCE_SECONDS = 300;

/** The suspension reason of a cancelled subscription. */
export const SUBSCRIPTION_CANCELLED = 'subscription cancelled';

/** What the route answers. */
export type WebhookAnswer =
  | {
      status: 200;
      body: { received: true; duplicate: boolean; outcome: HandledStripeEvent['outcome']; detail: string };
    }
  | { status: 400; body: { error: string } };

export interface StripeWebhookDeps {
  secret: string;
  commands: CommandHandler;
  repository: StripeWebhooksRepository;
  logger: Logger;
  now: () => Date;
}

type Outcome = Omit<HandledStripeEvent, 'eventId' | 'type'>;

const INVOICE_EVENTS = {
  'invoice.finalized': 'billing.invoice_finalized',
  'invoice.paid': 'billing.invoice_paid',
  'invoice.payment_failed': 'billing.invoice_payment_failed',
} as const;

const isInvoiceEvent = (type: string): type is keyof typeof INVOICE_EVENTS => type in INVOICE_EVENTS;

/** Thrown by a decision that leaves the organization as it is (nothing to append). */
class LeftAsIs extends Error {}

const refused = (error: string): WebhookAnswer => ({ status: 400, body: { error } });

/** Lists a zod failure's paths and messages for a 400. */
const issuesOf = (err: z.ZodError) =>
  err.issues.map((i) => `${i.path.length > 0 ? i.path.join('.') : '(root)'}: ${i.message}`).join('; ');

export class StripeWebhookHandler {
  constructor(private readonly deps: StripeWebhookDeps) {}

  /** Checks and handles one delivery: `body` exactly as received, `signature` the `Stripe-Signature` header. */
  async handle(body: Buffer, signature: string | undefined): Promise<WebhookAnswer> {
    if (!signature) return refused('the Stripe-Signature header is missing');
    let raw: unknown;
    try {
      raw = Stripe.webhooks.constructEvent(body, signature, this.deps.secret, STRIPE_SIGNATURE_TOLERANCE_SECONDS);
    } catch (err) {
      if (err instanceof Stripe.errors.StripeSignatureVerificationError)
        return refused(`the signature does not hold: ${err.message}`);
      // The SDK parses the body only once the signature holds: a signed body that is not JSON.
      if (err instanceof SyntaxError) return refused(`the body is not JSON: ${err.message}`);
      throw err;
    }
    const parsed = StripeEventSchema.safeParse(raw);
    if (!parsed.success) return refused(`not a Stripe event: ${issuesOf(parsed.error)}`);
    const event = parsed.data;
    const log = this.deps.logger.child({ stripeEvent: event.id, type: event.type });

    const seen = await this.deps.repository.handled(event.id);
    if (seen) {
      log.info({ outcome: seen.outcome }, 'Stripe event delivered again; already handled');
      return { status: 200, body: { received: true, duplicate: true, outcome: seen.outcome, detail: seen.detail } };
    }
    let outcome: Outcome;
    try {
      outcome = await this.apply(event, log);
    } catch (err) {
      if (err instanceof z.ZodError) return refused(`the ${event.type} payload is not as expected: ${issuesOf(err)}`);
      throw err;
    }
    await this.deps.repository.record({ eventId: event.id, type: event.type, ...outcome });
    log.info(
      { outcome: outcome.outcome, orgId: outcome.orgId, detail: outcome.detail },
      `Stripe event ${outcome.outcome}`,
    );
    return {
      status: 200,
      body: { received: true, duplicate: false, outcome: outcome.outcome, detail: outcome.detail },
    };
  }

  private async apply(event: StripeEvent, log: Logger): Promise<Outcome> {
    const meta = (orgId: string): CommandMeta => {
      const ids = createIdSource('stripe-webhook', event.id);
      return {
        orgId,
        actor: { kind: 'system', id: 'gateway:stripe-webhooks' },
        correlationId: ids.entityId('correlation'),
        ids,
      };
    };
    if (isInvoiceEvent(event.type)) {
      const invoice = StripeInvoiceSchema.parse(event.data.object);
      const found = await this.organization(invoiceOrgId(invoice), invoice.customer, log);
      if ('ignored' in found) return found.ignored;
      const { orgId } = found;
      const data = InvoiceDataSchema.parse(invoiceData(invoice, event));
      const billingEvent = { type: INVOICE_EVENTS[event.type], data } satisfies BillingEvent;
      // An append-only record: no decision rests on the stream, and the derived id makes a
      // second append of this event a no-op.
      await this.deps.commands.append(streamIds.billing(orgId), [billingEvent], 'any', meta(orgId));
      const recorded = `${billingEvent.type} ${invoice.id}`;
      switch (event.type) {
        case 'invoice.finalized':
          return { outcome: 'applied', orgId, detail: recorded };
        case 'invoice.paid': {
          const moved = await this.transition(orgId, meta(orgId), log, (state) => {
            if (state.status === 'trialing' && invoice.amount_paid === 0) return undefined;
            return state.status === 'suspended'
              ? { type: 'ReactivateOrganization', orgId, at: this.deps.now() }
              : { type: 'ActivateSubscription', orgId, at: this.deps.now() };
          });
          return { outcome: 'applied', orgId, detail: `${recorded}; ${moved}` };
        }
        case 'invoice.payment_failed': {
          const moved = await this.transition(orgId, meta(orgId), log, () => ({
            type: 'MarkPastDue',
            orgId,
            at: this.deps.now(),
          }));
          return { outcome: 'applied', orgId, detail: `${recorded}; ${moved}` };
        }
      }
    }
    if (event.type === 'customer.subscription.deleted') {
      const subscription = StripeSubscriptionSchema.parse(event.data.object);
      const found = await this.organization(subscriptionOrgId(subscription), subscription.customer, log);
      if ('ignored' in found) return found.ignored;
      const { orgId } = found;
      const moved = await this.transition(orgId, meta(orgId), log, () => ({
        type: 'SuspendOrganization',
        orgId,
        reason: SUBSCRIPTION_CANCELLED,
        at: this.deps.now(),
      }));
      return { outcome: 'applied', orgId, detail: `subscription ${subscription.id} cancelled; ${moved}` };
    }
    return { outcome: 'ignored', orgId: null, detail: `Quorum does not act on ${event.type}` };
  }

  /**
   * The organization a Stripe object bills: the id the sync wrote into its metadata, else the
   * Customer's link. Either must name an organization that exists; one that does not is ignored
   * with a warning (an answer other than 200 would have Stripe retry it for days to no end).
   */
  private async organization(
    fromMetadata: string | undefined,
    customerId: string,
    log: Logger,
  ): Promise<{ orgId: string } | { ignored: Outcome }> {
    const orgId = fromMetadata ?? (await this.deps.repository.orgOfCustomer(customerId));
    if (orgId === undefined) {
      log.warn({ customerId }, 'Stripe event for a customer no organization is linked to; ignored');
      return { ignored: { outcome: 'ignored', orgId: null, detail: `no organization for customer ${customerId}` } };
    }
    const { state } = await this.deps.commands.load(organizationDecider, streamIds.organization(orgId));
    if (!state.exists) {
      log.warn({ customerId, orgId }, 'Stripe event names an organization that does not exist; ignored');
      return {
        ignored: {
          outcome: 'ignored',
          orgId: null,
          detail: `customer ${customerId} names organization ${orgId}, which does not exist`,
        },
      };
    }
    return { orgId };
  }

  /**
   * Runs the lifecycle command `choose` picks on the organization's current state (none: left
   * as it is), and says what happened. One already applied for this Stripe event is found by its
   * derived id; one the organization has already been through counts as done.
   */
  private async transition(
    orgId: string,
    meta: CommandMeta,
    log: Logger,
    choose: (state: Extract<OrganizationState, { exists: true }>) => OrganizationCommand | undefined,
  ): Promise<string> {
    let command: OrganizationCommand | undefined;
    try {
      const result = await this.deps.commands.execute(
        organizationDecider,
        streamIds.organization(orgId),
        meta,
        (state) => {
          if (!state.exists) throw new AppError('NOT_FOUND', 'organization.not_found', `No organization ${orgId}.`);
          command = choose(state);
          if (command === undefined) throw new LeftAsIs();
          return organizationDecider.decide(command, state);
        },
      );
      return result.replayed ? `${command?.type ?? 'its change'} already applied` : `${command!.type} applied`;
    } catch (err) {
      if (err instanceof LeftAsIs) return 'the organization stays in its trial';
      if (!(err instanceof AppError)) throw err;
      if (err.reason === 'organization.invalid_transition' || err.reason === 'organization.closed') {
        log.info({ orgId, command: command?.type, reason: err.reason }, 'organization already past this transition');
        return `${command?.type ?? 'the change'} not needed (${err.reason})`;
      }
      throw err;
    }
  }
}
