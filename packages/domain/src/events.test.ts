import { describe, expect, it } from 'vitest';
import { AppError } from './errors';
import {
  EVENT_SCHEMAS,
  createEventParser,
  currentVersionOf,
  isDomainEventType,
  parseEvent,
  parseEventData,
  type DomainEventType,
  type EventDataOf,
  type EventRegistry,
} from './events';
import type { OrganizationEventType } from './organization/organization.events';
import type { SeatsEventType } from './seats/seats.events';
import type { SessionEventType } from './session/session.events';
import type { UsageEventType } from './usage/usage.events';
import type { BillingEventType } from './billing/billing.events';
import { categoryOf, streamIds } from './streams';

const ORG = '00000000-0000-4000-8000-00000000000a';
const USER = '00000000-0000-4000-8000-000000000001';
const INV = '00000000-0000-4000-8000-0000000000f1';

// One valid sample per event type of each union; the mapped types make a missing type a
// compile error, so these lists are the unions spelled out.
const organizationSamples: { [T in OrganizationEventType]: EventDataOf<T> } = {
  'organization.created': {
    orgId: ORG,
    name: 'Acme',
    plan: 'pro',
    ownerUserId: USER,
    ownerEmail: 'o@acme.test',
    trialEndsAt: '2025-01-15T00:00:00.000Z',
  },
  'organization.plan_changed': { from: 'pro', to: 'business' },
  'organization.activated': {},
  'organization.marked_past_due': {},
  'organization.suspended': { reason: 'chargeback' },
  'organization.reactivated': {},
  'organization.closed': {},
  'member.invited': {
    invitationId: INV,
    email: 'n@acme.test',
    role: 'member',
    invitedBy: USER,
    expiresAt: '2025-01-08T00:00:00.000Z',
  },
  'member.joined': { userId: USER, email: 'n@acme.test', role: 'member', invitationId: null },
  'member.role_changed': { userId: USER, from: 'member', to: 'admin' },
  'member.removed': { userId: USER },
  'api_key.created': { keyId: USER, name: 'CI deploys', role: 'admin', createdBy: USER },
  'api_key.revoked': { keyId: USER, revokedBy: USER },
};
const seatsSamples: { [T in SeatsEventType]: EventDataOf<T> } = {
  'seats.purchased': { quantity: 2, total: 2 },
  'seats.released': { quantity: 1, total: 1 },
  'seat.assigned': { userId: USER },
  'seat.unassigned': { userId: USER, reason: 'member_removed' },
};

const AT = '2025-01-01T10:00:00.000Z';
const sessionSamples: { [T in SessionEventType]: EventDataOf<T> } = {
  'session.scheduled': { sessionId: USER, orgId: ORG, title: 'Standup', hostUserId: USER, scheduledFor: null },
  'session.started': { at: AT },
  'participant.joined': { participantId: USER, displayName: 'Ada', isHost: true, at: AT, node: 'sfu-1/2f1c' },
  'participant.left': { participantId: USER, reason: 'disconnected', at: AT },
  'participant.reconnected': { participantId: USER, node: 'sfu-2/9a0b', at: AT },
  'session.locked': { by: USER },
  'session.unlocked': { by: USER },
  'participant.muted': { participantId: USER, kind: 'audio', by: USER },
  'participant.removed': { participantId: USER, by: USER, at: AT },
  'session.ended': { reason: 'empty', by: null, at: AT },
};
const usageSamples: { [T in UsageEventType]: EventDataOf<T> } = {
  'usage.recorded': {
    meter: 'participant_minutes',
    sessionId: USER,
    hostUserId: USER,
    participantId: USER,
    stint: USER,
    period: '202501',
    from: AT,
    to: '2025-01-01T10:05:00.000Z',
    seconds: 300,
    sources: [USER],
  },
  'usage.threshold_crossed': {
    period: '202501',
    meter: 'meeting_minutes',
    threshold: 80,
    includedMinutes: 600,
    usedSeconds: 28_800,
    at: AT,
  },
};

const cause = { eventId: USER, type: 'seats.purchased' };
const invoice = {
  invoiceId: 'in_1',
  stripeEventId: 'evt_1',
  customerId: 'cus_1',
  subscriptionId: 'sub_1',
  number: 'Q-0001',
  status: 'paid',
  currency: 'usd',
  subtotal: 2400,
  total: 2400,
  amountDue: 2400,
  amountPaid: 2400,
  hostedInvoiceUrl: 'https://invoice.stripe.com/i/1',
  periodStart: AT,
  periodEnd: '2025-02-01T00:00:00.000Z',
  lines: [{ description: '2 seats', priceId: 'price_1', quantity: 2, amount: 2400, periodStart: AT, periodEnd: AT }],
  at: AT,
};
const billingSamples: { [T in BillingEventType]: EventDataOf<T> } = {
  'billing.customer_linked': { customerId: 'cus_1', cause, at: AT },
  'billing.subscription_synced': {
    subscriptionId: 'sub_1',
    status: 'trialing',
    plan: 'pro',
    seats: 2,
    seatItemId: 'si_1',
    meteredItemId: 'si_2',
    trialEnd: AT,
    cancelAtPeriodEnd: false,
    cause,
    at: AT,
  },
  'billing.usage_reported': {
    usageEventId: USER,
    period: '202501',
    eventName: 'quorum_meeting_minutes',
    seconds: 300,
    minutes: 5,
    timestamp: AT,
    customerId: 'cus_1',
    at: AT,
  },
  'billing.sync_failed': {
    operation: 'customer',
    cause,
    error: {
      type: 'StripeInvalidRequestError',
      code: 'parameter_missing',
      message: 'Missing',
      statusCode: 400,
      requestId: 'req_1',
    },
    attempt: 1,
    at: AT,
  },
  'billing.sync_skipped': { operation: 'usage', cause, by: USER, reason: 'Refunded by hand.', at: AT },
  'billing.invoice_finalized': invoice,
  'billing.invoice_paid': invoice,
  'billing.invoice_payment_failed': invoice,
  'billing.reconciliation_completed': {
    period: '202503',
    run: 'scheduled-2025-04-02T00:00:00.000Z',
    at: AT,
    customerId: 'cus_T0r5u9Xw2b',
    figures: {
      quorumMinutes: 12,
      reportedMinutes: 10,
      stripeMeterMinutes: 10,
      invoiceMinutes: null,
      purchasedSeats: 3,
      subscriptionSeats: 3,
    },
    differences: [
      {
        compares: 'reported_minutes',
        quorum: 12,
        other: 10,
        detail: '2 minutes of 1 usage event were not reported.',
        events: [{ eventId: INV, type: 'usage.recorded', note: 'dead letter open' }],
        moreEvents: 0,
      },
    ],
  },
};

function refusal(fn: () => unknown): AppError | undefined {
  try {
    fn();
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  return undefined;
}

describe('EVENT_SCHEMAS', () => {
  it('covers every event type of every union, and nothing else', () => {
    expect(Object.keys(EVENT_SCHEMAS).sort()).toEqual(
      [
        ...Object.keys(organizationSamples),
        ...Object.keys(seatsSamples),
        ...Object.keys(sessionSamples),
        ...Object.keys(usageSamples),
        ...Object.keys(billingSamples),
      ].sort(),
    );
  });

  it("puts each union's events in its stream category", () => {
    for (const type of Object.keys(organizationSamples) as DomainEventType[]) {
      expect(EVENT_SCHEMAS[type].category).toBe(categoryOf(streamIds.organization(ORG)));
    }
    for (const type of Object.keys(seatsSamples) as DomainEventType[]) {
      expect(EVENT_SCHEMAS[type].category).toBe(categoryOf(streamIds.seats(ORG)));
    }
    for (const type of Object.keys(sessionSamples) as DomainEventType[]) {
      expect(EVENT_SCHEMAS[type].category).toBe(categoryOf(streamIds.session(USER)));
    }
    for (const type of Object.keys(usageSamples) as DomainEventType[]) {
      expect(EVENT_SCHEMAS[type].category).toBe(categoryOf(streamIds.usage(ORG, '202501')));
    }
    for (const type of Object.keys(billingSamples) as DomainEventType[]) {
      expect(EVENT_SCHEMAS[type].category).toBe(categoryOf(streamIds.billing(ORG)));
    }
  });

  it('names events in dotted past tense and describes each in one sentence', () => {
    for (const [type, entry] of Object.entries(EVENT_SCHEMAS)) {
      // dotted, with a past-tense verb (`seat.assigned`, `organization.marked_past_due`, `participant.left`)
      expect(type).toMatch(/^[a-z]+(_[a-z]+)*\.([a-z]+_)*([a-z]+ed|left|paid)(_[a-z]+)*$/);
      expect(entry.description).toMatch(/^[A-Z].*\.$/);
      expect(entry.version).toBeGreaterThanOrEqual(1);
      expect(currentVersionOf(type as DomainEventType)).toBe(entry.version);
    }
  });

  it('accepts a valid sample of every event type', () => {
    for (const [type, data] of Object.entries({
      ...organizationSamples,
      ...seatsSamples,
      ...sessionSamples,
      ...usageSamples,
      ...billingSamples,
    })) {
      expect(isDomainEventType(type)).toBe(true);
      expect(parseEvent({ type, version: 1, data })).toEqual({ type, data });
    }
  });
});

describe('parseEventData', () => {
  it('refuses an unknown type, an unsupported version and invalid data (BAD_REQUEST)', () => {
    expect(refusal(() => parseEvent({ type: 'seat.polished', version: 1, data: {} }))).toMatchObject({
      code: 'BAD_REQUEST',
      reason: 'events.unknown_type',
    });
    expect(refusal(() => parseEventData('seat.assigned', 2, { userId: USER }))).toMatchObject({
      reason: 'events.unsupported_version',
    });
    expect(refusal(() => parseEventData('seat.assigned', 0, { userId: USER }))).toMatchObject({
      reason: 'events.unsupported_version',
    });
    expect(refusal(() => parseEventData('seats.purchased', 1, { quantity: -1, total: 0 }))).toMatchObject({
      reason: 'events.invalid_data',
    });
  });

  it('upcasts older versions step by step before validating', () => {
    // A registry where seat.assigned is at v3; v1 stored `user`, v2 stored `holder`.
    const registry: EventRegistry = {
      ...EVENT_SCHEMAS,
      'seat.assigned': { ...EVENT_SCHEMAS['seat.assigned'], version: 3 },
    };
    const parse = createEventParser(registry, {
      'seat.assigned': {
        1: (data) => ({ holder: (data as { user: string }).user }),
        2: (data) => ({ userId: (data as { holder: string }).holder }),
      },
    });
    expect(parse('seat.assigned', 1, { user: USER })).toEqual({ userId: USER });
    expect(parse('seat.assigned', 2, { holder: USER })).toEqual({ userId: USER });
    expect(parse('seat.assigned', 3, { userId: USER })).toEqual({ userId: USER });
    expect(refusal(() => createEventParser(registry, {})('seat.assigned', 1, { user: USER }))).toMatchObject({
      reason: 'events.missing_upcaster',
    });
  });
});
