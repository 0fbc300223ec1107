/**
 * One valid sample of every event type's current data, by aggregate. The mapped types make a
 * missing type a compile error, so these lists are the unions spelled out. Tests use them to
 * check the registry and the public contract.
 */
import type { BillingEventType } from '../billing/billing.events';
import type { EventDataOf } from '../events';
import type { OrganizationEventType } from '../organization/organization.events';
import type { SeatsEventType } from '../seats/seats.events';
import type { SessionEventType } from '../session/session.events';
import type { UsageEventType } from '../usage/usage.events';
import type { WebhooksEventType } from '../webhooks/webhooks.events';

export const ORG = '00000000-0000-4000-8000-00000000000a';
export const USER = '00000000-0000-4000-8000-000000000001';
const INV = '00000000-0000-4000-8000-0000000000f1';

// One valid sample per event type of each union; the mapped types make a missing type a
// compile error, so these lists are the unions spelled out.
export const organizationSamples: { [T in OrganizationEventType]: EventDataOf<T> } = {
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
export const seatsSamples: { [T in SeatsEventType]: EventDataOf<T> } = {
  'seats.purchased': { quantity: 2, total: 2 },
  'seats.released': { quantity: 1, total: 1 },
  'seat.assigned': { userId: USER },
  'seat.unassigned': { userId: USER, reason: 'member_removed' },
};

const AT = '2025-01-01T10:00:00.000Z';
export const sessionSamples: { [T in SessionEventType]: EventDataOf<T> } = {
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
export const usageSamples: { [T in UsageEventType]: EventDataOf<T> } = {
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
export const billingSamples: { [T in BillingEventType]: EventDataOf<T> } = {
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
const ENDPOINT = '00000000-0000-4000-8000-0000000000e1';
export const webhooksSamples: { [T in WebhooksEventType]: EventDataOf<T> } = {
  'endpoint.created': {
    endpointId: ENDPOINT,
    url: 'https://hooks.acme.test/quorum',
    description: 'CRM sync',
    eventTypes: ['member.joined', 'member.removed'],
    createdBy: USER,
  },
  'endpoint.updated': {
    endpointId: ENDPOINT,
    url: 'https://hooks.acme.test/quorum/v2',
    description: '',
    eventTypes: [],
    updatedBy: USER,
  },
  'endpoint.paused': { endpointId: ENDPOINT, by: USER },
  'endpoint.resumed': { endpointId: ENDPOINT, by: USER },
  'endpoint.secret_rotated': { endpointId: ENDPOINT, by: USER, previousValidUntil: '2025-01-02T10:00:00.000Z' },
  'endpoint.deleted': { endpointId: ENDPOINT, by: USER },
  'endpoint.disabled': {
    endpointId: ENDPOINT,
    reason: 'failing',
    failingSince: '2025-01-01T10:00:00.000Z',
    at: '2025-01-06T10:00:00.000Z',
  },
};

/** Every event type's sample. */
export const EVENT_SAMPLES = {
  ...organizationSamples,
  ...seatsSamples,
  ...sessionSamples,
  ...usageSamples,
  ...billingSamples,
  ...webhooksSamples,
};
