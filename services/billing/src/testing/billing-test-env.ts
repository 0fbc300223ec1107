/**
 * What the billing consumer's tests share: a consumer's test env (`@quorum/relay/testing`), a
 * recording proxy in front of stripe-mock, the test prices, and organization, seat and usage
 * events written as their deciders and metering write them.
 */
import { randomUUID } from 'node:crypto';
import { streamIds, type Plan } from '@quorum/domain';
import type { EventStore, NewEvent } from '@quorum/eventstore';
import { logger, type ConsumerTestEnv } from '@quorum/relay/testing';
import { Billing, type BillingOptions } from '../billing';
import { localCallRateLimit } from '../rate-limit';
import { createStripeClient, StripeCalls } from '../stripe-calls';
import { stripePricesFrom } from '../stripe-prices';
import { STRIPE_MOCK_URL, testStripeEnv } from './stripe-proxy';

export const TEST_PRICES = stripePricesFrom(testStripeEnv(STRIPE_MOCK_URL));
export const TEST_METER_EVENT = 'quorum_meeting_minutes';

/**
 * A billing consumer (not started) on the test env, calling Stripe at `apiBase` (the recording
 * proxy) with quick retries and a rate that never slows a test; `options` add or override.
 */
export function testBilling(
  env: ConsumerTestEnv,
  apiBase: string,
  options: Partial<Omit<BillingOptions, 'store' | 'bus' | 'sql' | 'calls'>> = {},
): Billing {
  const calls = new StripeCalls(createStripeClient('sk_test_123', apiBase), {
    limit: localCallRateLimit(100),
    logger,
    retry: { baseDelayMs: 20, maxDelayMs: 500 },
  });
  return new Billing({
    store: env.store,
    bus: env.bus,
    sql: env.sql,
    calls,
    prices: TEST_PRICES,
    meterEventName: TEST_METER_EVENT,
    logger,
    durableName: 'billing',
    ...options,
  });
}

function meta(orgId: string) {
  return {
    orgId,
    actor: { kind: 'system' as const, id: 'billing-test' },
    correlationId: randomUUID(),
    causationId: null,
  };
}

async function append(store: EventStore, stream: string, type: string, data: unknown): Promise<string> {
  const id = randomUUID();
  const orgId = (data as { orgId?: string }).orgId ?? stream.slice(stream.indexOf('-') + 1, stream.indexOf('-') + 37);
  await store.appendToStream(stream, [{ id, type, version: 1, data, metadata: meta(orgId) }]);
  return id;
}

/** Appends `organization.created`; returns its event id. */
export function createOrganization(store: EventStore, orgId: string, plan: Plan, trialEndsAt: Date): Promise<string> {
  return append(store, streamIds.organization(orgId), 'organization.created', {
    orgId,
    name: `Billed ${orgId.slice(0, 8)}`,
    plan,
    ownerUserId: randomUUID(),
    ownerEmail: `owner-${orgId.slice(0, 8)}@example.com`,
    trialEndsAt: trialEndsAt.toISOString(),
  });
}

/** Appends `seats.purchased` or `seats.released` leaving `total` seats; returns its event id. */
export function changeSeats(
  store: EventStore,
  orgId: string,
  type: 'seats.purchased' | 'seats.released',
  quantity: number,
  total: number,
) {
  return store
    .appendToStream(streamIds.seats(orgId), [
      { id: randomUUID(), type, version: 1, data: { quantity, total }, metadata: meta(orgId) },
    ])
    .then(() => undefined);
}

export async function changePlan(store: EventStore, orgId: string, from: Plan, to: Plan): Promise<void> {
  await store.appendToStream(streamIds.organization(orgId), [
    { id: randomUUID(), type: 'organization.plan_changed', version: 1, data: { from, to }, metadata: meta(orgId) },
  ]);
}

export async function closeOrganization(store: EventStore, orgId: string): Promise<void> {
  await store.appendToStream(streamIds.organization(orgId), [
    { id: randomUUID(), type: 'organization.closed', version: 1, data: {}, metadata: meta(orgId) },
  ]);
}

/**
 * `usage.recorded` events (one per entry of `seconds`) of this month, as metering appends them,
 * starting between the month's start and now (Stripe takes meter events up to 35 days old).
 */
export function meetingUsage(orgId: string, seconds: readonly number[], meter = 'meeting_minutes'): NewEvent[] {
  const now = Date.now();
  const period = currentPeriod(new Date(now));
  const monthStart = Date.UTC(Number(period.slice(0, 4)), Number(period.slice(4)) - 1, 1);
  const step = Math.max(1_000, Math.min(300_000, Math.floor((now - monthStart) / (seconds.length + 1) / 1000) * 1000));
  return seconds.map((s, i) => {
    const from = new Date(monthStart + i * step);
    return {
      id: randomUUID(),
      type: 'usage.recorded',
      version: 1,
      data: {
        meter,
        sessionId: randomUUID(),
        hostUserId: randomUUID(),
        participantId: meter === 'meeting_minutes' ? null : randomUUID(),
        stint: randomUUID(),
        period,
        from: from.toISOString(),
        to: new Date(from.getTime() + s * 1000).toISOString(),
        seconds: s,
        sources: [randomUUID()],
      },
      metadata: meta(orgId),
    };
  });
}

/** This month as `yyyymm` (UTC): meter events must be at most 35 days old. */
export function currentPeriod(now = new Date()): string {
  return `${now.getUTCFullYear()}${String(now.getUTCMonth() + 1).padStart(2, '0')}`;
}
