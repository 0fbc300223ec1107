/**
 * The billing consumer from settings, for its own process and the all-in-one process: nothing
 * when no Stripe key is set (billing stays local), else the SDK on the configured API base, the
 * call rate shared through Redis when there is one, and the plans' prices.
 */
import type { EventBus } from '@quorum/bus';
import type { SqlDatabase } from '@quorum/db';
import type { EventStore } from '@quorum/eventstore';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { Billing } from './billing';
import { localCallRateLimit, redisCallRateLimit } from './rate-limit';
import { createStripeClient, StripeCalls } from './stripe-calls';
import { stripePricesFrom, type StripePriceEnv } from './stripe-prices';

export interface BillingSettings extends StripePriceEnv {
  STRIPE_SECRET_KEY?: string | undefined;
  STRIPE_API_BASE?: string | undefined;
  STRIPE_METER_EVENT_NAME: string;
  BILLING_STRIPE_CALLS_PER_SECOND: number;
  /** Reconciliation's Billing Meter; unset, there is none. */
  STRIPE_METER_ID?: string | undefined;
  /** Default daily; 0: never scheduled. */
  BILLING_RECONCILE_EVERY_SECONDS?: number | undefined;
}

export interface BillingParts {
  store: EventStore;
  bus?: EventBus;
  sql: SqlDatabase;
  logger: Logger;
  /** Shares the call rate with every other instance; without it the rate is this process's. */
  redis?: Redis | undefined;
  durableName?: string;
}

/** The billing consumer (not started), or undefined when Stripe is not connected. */
export function createBilling(settings: BillingSettings, parts: BillingParts): Billing | undefined {
  if (!settings.STRIPE_SECRET_KEY) return undefined;
  const prices = stripePricesFrom(settings);
  const perSecond = settings.BILLING_STRIPE_CALLS_PER_SECOND;
  const calls = new StripeCalls(createStripeClient(settings.STRIPE_SECRET_KEY, settings.STRIPE_API_BASE), {
    limit: parts.redis ? redisCallRateLimit(parts.redis, perSecond) : localCallRateLimit(perSecond),
    logger: parts.logger,
  });
  return new Billing({
    store: parts.store,
    bus: parts.bus,
    sql: parts.sql,
    calls,
    prices,
    meterEventName: settings.STRIPE_METER_EVENT_NAME,
    meterId: settings.STRIPE_METER_ID,
    reconcileEveryMs: (settings.BILLING_RECONCILE_EVERY_SECONDS ?? 86_400) * 1000,
    logger: parts.logger,
    ...(parts.durableName ? { durableName: parts.durableName } : {}),
  });
}
