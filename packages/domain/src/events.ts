/**
 * The event registry: every event type the domain emits, with its current schema version,
 * its data schema, a one-sentence description for the event catalog, and its stream
 * category. Readers call {@link parseEventData} (or {@link parseEvent}) on stored events: it
 * upcasts older versions step by step with {@link UPCASTERS} and then validates against the
 * current schema, so deciders and projections only ever see current shapes.
 *
 * To change an event's data incompatibly: bump `version`, replace `schema` with the new
 * shape, and add `UPCASTERS[type][oldVersion]` turning old data into the next version.
 */
import type { z } from 'zod';
import { badRequest } from './errors';
import { BILLING_EVENT_DATA_SCHEMAS, type BillingEvent } from './billing/billing.events';
import { ORGANIZATION_EVENT_DATA_SCHEMAS, type OrganizationEvent } from './organization/organization.events';
import { SEATS_EVENT_DATA_SCHEMAS, type SeatsEvent } from './seats/seats.events';
import { SESSION_EVENT_DATA_SCHEMAS, type SessionEvent } from './session/session.events';
import { USAGE_EVENT_DATA_SCHEMAS, type UsageEvent } from './usage/usage.events';
import { WEBHOOKS_EVENT_DATA_SCHEMAS, type WebhooksEvent } from './webhooks/webhooks.events';

/** Any event of any aggregate. */
export type DomainEvent = OrganizationEvent | SeatsEvent | SessionEvent | UsageEvent | BillingEvent | WebhooksEvent;
/** Any event type. */
export type DomainEventType = DomainEvent['type'];
/** The current data shape of event type `T`. */
export type EventDataOf<T extends DomainEventType> = Extract<DomainEvent, { type: T }>['data'];

/** Stream categories that hold domain events from this package. */
export type EventCategory = 'organization' | 'seats' | 'session' | 'usage' | 'billing' | 'webhooks';

/** Registry entry of one event type. */
export interface EventRegistration<T extends DomainEventType = DomainEventType> {
  /** Current schema version; new events are appended with it. */
  readonly version: number;
  /** Schema of the current version's data. */
  readonly schema: z.ZodType<EventDataOf<T>>;
  /** One sentence for the event catalog. */
  readonly description: string;
  /** Category of the stream the event is appended to. */
  readonly category: EventCategory;
}

/** A registry: one entry per event type. */
export type EventRegistry = { readonly [T in DomainEventType]: EventRegistration<T> };

const org = ORGANIZATION_EVENT_DATA_SCHEMAS;
const seats = SEATS_EVENT_DATA_SCHEMAS;
const session = SESSION_EVENT_DATA_SCHEMAS;
const usage = USAGE_EVENT_DATA_SCHEMAS;
const billing = BILLING_EVENT_DATA_SCHEMAS;
const webhooks = WEBHOOKS_EVENT_DATA_SCHEMAS;

/** Every domain event type with its current version, schema, description and category. */
export const EVENT_SCHEMAS: EventRegistry = {
  'organization.created': {
    version: 1,
    schema: org['organization.created'],
    description: 'An organization was created on a plan, with its founding owner and a trial end date.',
    category: 'organization',
  },
  'organization.plan_changed': {
    version: 1,
    schema: org['organization.plan_changed'],
    description: 'The organization moved from one plan to another.',
    category: 'organization',
  },
  'organization.activated': {
    version: 1,
    schema: org['organization.activated'],
    description: 'A paid subscription started or recovered, so the organization is active.',
    category: 'organization',
  },
  'organization.marked_past_due': {
    version: 1,
    schema: org['organization.marked_past_due'],
    description: 'A payment failed or the trial ran out without one, so the organization is past due.',
    category: 'organization',
  },
  'organization.suspended': {
    version: 1,
    schema: org['organization.suspended'],
    description: 'The organization was suspended, with the reason given.',
    category: 'organization',
  },
  'organization.reactivated': {
    version: 1,
    schema: org['organization.reactivated'],
    description: 'A suspended organization was made active again.',
    category: 'organization',
  },
  'organization.closed': {
    version: 1,
    schema: org['organization.closed'],
    description: 'The organization was closed for good and accepts no further commands.',
    category: 'organization',
  },
  'member.invited': {
    version: 1,
    schema: org['member.invited'],
    description: 'Someone was invited by email to join the organization with a role, until the invitation expires.',
    category: 'organization',
  },
  'member.joined': {
    version: 1,
    schema: org['member.joined'],
    description: 'A user became a member with a role, by accepting an invitation or by founding the organization.',
    category: 'organization',
  },
  'member.role_changed': {
    version: 1,
    schema: org['member.role_changed'],
    description: "A member's role changed.",
    category: 'organization',
  },
  'member.removed': {
    version: 1,
    schema: org['member.removed'],
    description: 'A member was removed from the organization.',
    category: 'organization',
  },
  'api_key.created': {
    version: 1,
    schema: org['api_key.created'],
    description: 'An API key for integrations was created with a role; its secret is shown once and never logged.',
    category: 'organization',
  },
  'api_key.revoked': {
    version: 1,
    schema: org['api_key.revoked'],
    description: 'An API key was revoked and no longer authenticates.',
    category: 'organization',
  },
  'seats.purchased': {
    version: 1,
    schema: seats['seats.purchased'],
    description: 'The organization bought more seats; total is the new number of purchased seats.',
    category: 'seats',
  },
  'seats.released': {
    version: 1,
    schema: seats['seats.released'],
    description: 'The organization gave back unassigned seats; total is the new number of purchased seats.',
    category: 'seats',
  },
  'seat.assigned': {
    version: 1,
    schema: seats['seat.assigned'],
    description: 'A member was given one of the purchased seats.',
    category: 'seats',
  },
  'seat.unassigned': {
    version: 1,
    schema: seats['seat.unassigned'],
    description: 'A seat was taken back from its holder, by an admin or because the member was removed.',
    category: 'seats',
  },
  'session.scheduled': {
    version: 1,
    schema: session['session.scheduled'],
    description: 'A meeting was scheduled (instant, or for a time) with a title and its host.',
    category: 'session',
  },
  'session.started': {
    version: 1,
    schema: session['session.started'],
    description: 'The first participant joined, so the meeting is live.',
    category: 'session',
  },
  'participant.joined': {
    version: 1,
    schema: session['participant.joined'],
    description: 'Someone connected to the meeting (reported by the SFU), marked when they are its host.',
    category: 'session',
  },
  'participant.left': {
    version: 1,
    schema: session['participant.left'],
    description: 'Someone left the meeting, or their connection was lost and not restored.',
    category: 'session',
  },
  'participant.reconnected': {
    version: 1,
    schema: session['participant.reconnected'],
    description:
      'Someone still in the meeting came back through another SFU node (theirs failed, or the meeting moved); their presence goes on.',
    category: 'session',
  },
  'session.locked': {
    version: 1,
    schema: session['session.locked'],
    description: 'The host locked the meeting: nobody new is admitted; people who were in it may rejoin.',
    category: 'session',
  },
  'session.unlocked': {
    version: 1,
    schema: session['session.unlocked'],
    description: 'The host unlocked the meeting, so new participants are admitted again.',
    category: 'session',
  },
  'participant.muted': {
    version: 1,
    schema: session['participant.muted'],
    description: "The host muted a participant's audio or video; the SFU pauses that media.",
    category: 'session',
  },
  'participant.removed': {
    version: 1,
    schema: session['participant.removed'],
    description: 'The host removed a participant, who leaves and cannot rejoin this session.',
    category: 'session',
  },
  'session.ended': {
    version: 1,
    schema: session['session.ended'],
    description: 'The meeting ended for everyone: by the host, or after it stayed empty for the grace period.',
    category: 'session',
  },
  'usage.recorded': {
    version: 1,
    schema: usage['usage.recorded'],
    description:
      "Metering recorded one closed interval of a participant's connected time or of a meeting's occupied time, in whole seconds, naming the session events it came from.",
    category: 'usage',
  },
  'usage.threshold_crossed': {
    version: 1,
    schema: usage['usage.threshold_crossed'],
    description: "The organization's meeting minutes of a month reached 80% or 100% of the minutes its plan includes.",
    category: 'usage',
  },
  'billing.customer_linked': {
    version: 1,
    schema: billing['billing.customer_linked'],
    description: 'The billing sync linked the organization to its Stripe Customer.',
    category: 'billing',
  },
  'billing.subscription_synced': {
    version: 1,
    schema: billing['billing.subscription_synced'],
    description:
      "The billing sync left the organization's Stripe Subscription at these seats, plan, trial end and cancellation.",
    category: 'billing',
  },
  'billing.usage_reported': {
    version: 1,
    schema: billing['billing.usage_reported'],
    description:
      "The billing sync reported one usage event of meeting minutes to Stripe's Billing Meter, under the usage event's id.",
    category: 'billing',
  },
  'billing.sync_failed': {
    version: 1,
    schema: billing['billing.sync_failed'],
    description: 'Stripe refused a billing sync for good; the cause waits as a dead letter for an operator.',
    category: 'billing',
  },
  'billing.sync_skipped': {
    version: 1,
    schema: billing['billing.sync_skipped'],
    description: 'An operator skipped a dead letter of the billing sync; it is never sent.',
    category: 'billing',
  },
  'billing.invoice_finalized': {
    version: 1,
    schema: billing['billing.invoice_finalized'],
    description: 'Stripe finalized an invoice of the organization, with its lines, totals and hosted page.',
    category: 'billing',
  },
  'billing.invoice_paid': {
    version: 1,
    schema: billing['billing.invoice_paid'],
    description: 'Stripe reported an invoice of the organization paid.',
    category: 'billing',
  },
  'billing.invoice_payment_failed': {
    version: 1,
    schema: billing['billing.invoice_payment_failed'],
    description: 'Stripe reported a failed payment of an invoice of the organization.',
    category: 'billing',
  },
  'billing.reconciliation_completed': {
    version: 1,
    schema: billing['billing.reconciliation_completed'],
    description:
      "A reconciliation compared the organization's minutes and seats of a month with Stripe's, listing each difference with the events behind it.",
    category: 'billing',
  },
  'endpoint.created': {
    version: 1,
    schema: webhooks['endpoint.created'],
    description:
      "A webhook endpoint was created for the organization's events, with its URL, event types and a signing secret (never in the log).",
    category: 'webhooks',
  },
  'endpoint.updated': {
    version: 1,
    schema: webhooks['endpoint.updated'],
    description: "A webhook endpoint's URL, description or event types changed.",
    category: 'webhooks',
  },
  'endpoint.paused': {
    version: 1,
    schema: webhooks['endpoint.paused'],
    description: 'A webhook endpoint was paused: its deliveries wait until it is resumed.',
    category: 'webhooks',
  },
  'endpoint.resumed': {
    version: 1,
    schema: webhooks['endpoint.resumed'],
    description:
      'A webhook endpoint was resumed (after a pause or a disable): waiting deliveries go out, oldest first.',
    category: 'webhooks',
  },
  'endpoint.secret_rotated': {
    version: 1,
    schema: webhooks['endpoint.secret_rotated'],
    description:
      "A webhook endpoint's signing secret was replaced; the previous one also signs until the overlap ends.",
    category: 'webhooks',
  },
  'endpoint.deleted': {
    version: 1,
    schema: webhooks['endpoint.deleted'],
    description: 'A webhook endpoint was deleted: nothing more is delivered to it.',
    category: 'webhooks',
  },
  'endpoint.disabled': {
    version: 1,
    schema: webhooks['endpoint.disabled'],
    description:
      'Quorum stopped delivering to a webhook endpoint on its own: it answered 410 Gone, or every delivery failed for too long.',
    category: 'webhooks',
  },
};

/** Turns data of version `n` (the key) into data of version `n + 1`. */
export type Upcaster = (data: unknown) => unknown;
/** Upcasters per event type, keyed by the version they upgrade from. */
export type Upcasters = { readonly [T in DomainEventType]?: Readonly<Record<number, Upcaster>> };

/**
 * Upcasters of the live registry. Empty: every event is still at version 1. The mechanism is
 * exercised by tests through {@link createEventParser}.
 */
export const UPCASTERS: Upcasters = {};

/** Parses stored event data of any version into the current shape. */
export type EventDataParser = <T extends DomainEventType>(type: T, version: number, data: unknown) => EventDataOf<T>;

/** Whether `type` is a domain event type this package knows. */
export function isDomainEventType(type: string): type is DomainEventType {
  return Object.hasOwn(EVENT_SCHEMAS, type);
}

/**
 * Builds a parser over a registry and its upcasters. Refusals are `BAD_REQUEST` with reasons
 * `events.unknown_type`, `events.unsupported_version`, `events.missing_upcaster` and
 * `events.invalid_data` (details carry the zod issues).
 */
export function createEventParser(registry: EventRegistry, upcasters: Upcasters): EventDataParser {
  return <T extends DomainEventType>(type: T, version: number, data: unknown): EventDataOf<T> => {
    if (!Object.hasOwn(registry, type)) {
      throw badRequest('events.unknown_type', `Unknown event type "${type}".`, { type });
    }
    const entry: EventRegistration<T> = registry[type];
    if (!Number.isInteger(version) || version < 1 || version > entry.version) {
      throw badRequest(
        'events.unsupported_version',
        `Event ${type} has version ${version}; this code reads versions 1 to ${entry.version}.`,
        { type, version, current: entry.version },
      );
    }
    let current = data;
    for (let v = version; v < entry.version; v++) {
      const upcast = upcasters[type]?.[v];
      if (upcast === undefined) {
        throw badRequest('events.missing_upcaster', `No upcaster for ${type} from version ${v} to ${v + 1}.`, {
          type,
          from: v,
        });
      }
      current = upcast(current);
    }
    const parsed = entry.schema.safeParse(current);
    if (!parsed.success) {
      throw badRequest('events.invalid_data', `Event ${type} v${version} has invalid data: ${parsed.error.message}`, {
        type,
        version,
        issues: parsed.error.issues,
      });
    }
    return parsed.data;
  };
}

/** Validates stored data of `type` at `version`, upcasting it to the current version. */
export const parseEventData: EventDataParser = createEventParser(EVENT_SCHEMAS, UPCASTERS);

/** Parses a stored `{ type, version, data }` into a current-version {@link DomainEvent}. */
export function parseEvent(stored: { type: string; version: number; data: unknown }): DomainEvent {
  if (!isDomainEventType(stored.type)) {
    throw badRequest('events.unknown_type', `Unknown event type "${stored.type}".`, { type: stored.type });
  }
  return { type: stored.type, data: parseEventData(stored.type, stored.version, stored.data) } as DomainEvent;
}

/** Current schema version of `type`, to stamp on appended events. */
export function currentVersionOf(type: DomainEventType): number {
  return EVENT_SCHEMAS[type].version;
}
