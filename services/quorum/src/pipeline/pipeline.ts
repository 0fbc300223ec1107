/**
 * The relay, the projector, metering, webhook delivery and (with a Stripe key) the billing sync
 * together: the part of Quorum that moves committed events to the bus, into the read models, into
 * usage, out to integrators' endpoints and into Stripe. It runs on this thread (the embedded default, whose
 * PGlite is one session that cannot be shared) or on a worker thread of the same process
 * (with PostgreSQL and NATS), so that HTTP handling and event processing each get a core.
 */
import type { Billing } from '@quorum/billing/billing';
import { createBilling, type BillingSettings } from '@quorum/billing/compose';
import type { EventBus } from '@quorum/bus';
import type { SqlDatabase } from '@quorum/db';
import type { EventStore } from '@quorum/eventstore';
import type { Redis } from 'ioredis';
import { Metering, type MeteringOptions } from '@quorum/metering/metering';
import { Projector } from '@quorum/projector/projector';
import { Relay } from '@quorum/relay/relay';
import { Webhooks, type WebhooksOptions } from '@quorum/webhook-delivery/webhooks';
import type { Logger } from 'pino';

export type ReadinessChecks = Record<string, { ok: boolean; detail?: unknown }>;

export interface Pipeline {
  /** Read-your-writes: true once the active projection has applied `position`. */
  waitForPosition(position: bigint, timeoutMs: number): Promise<boolean>;
  /** Calls `listener` whenever the projection advances; returns the unsubscribe. */
  onAdvance(listener: () => void): () => void;
  readiness(): Promise<ReadinessChecks>;
  /** Hints that this process appended, so the relay reads at once (thread pipeline; inline shares the store). */
  appended?(): void;
  /** Drains the relay and the projector; idempotent. */
  close(): Promise<void>;
}

export async function readinessOf(
  relay: Relay,
  projector: Projector,
  metering: Metering,
  billing: Billing | undefined,
  webhooks: Webhooks,
): Promise<ReadinessChecks> {
  const p = await projector.status();
  const r = relay.status();
  const m = await metering.status();
  return {
    webhooks: await webhooks.readiness(),
    billing: { ok: true, detail: billing ? { stripe: 'connected' } : { stripe: 'not connected' } },
    metering: { ok: true, detail: m },
    projector: {
      ok: !p.degraded,
      detail: {
        version: p.version,
        checkpoint: p.checkpoint.toString(),
        lag: p.lagPositions.toString(),
        deadLetters: p.deadLetters,
      },
    },
    relay: { ok: true, detail: { leader: r.leader, checkpoint: r.checkpoint.toString() } },
  };
}

/** Starts the relay, the projector and metering on this thread, over the caller's adapters. */
export async function startInlinePipeline(deps: {
  store: EventStore;
  bus: EventBus;
  sql: SqlDatabase;
  logger: Logger;
  /** Cut points, settling and timer of the metering consumer. */
  metering?: Pick<MeteringOptions, 'intervalSeconds' | 'settleLagMs' | 'tickMs'>;
  /** The Stripe sync's settings; it runs only with `STRIPE_SECRET_KEY`. */
  billing?: BillingSettings;
  /** Shares the billing sync's Stripe call rate with other processes. */
  redis?: Redis | undefined;
  /** Webhook delivery's settings (`webhooksOptions`). */
  webhooks: Pick<
    WebhooksOptions,
    'policy' | 'retryScale' | 'timeoutMs' | 'disableAfterMs' | 'concurrency' | 'publicUrl'
  >;
}): Promise<
  Pipeline & {
    relay: Relay;
    projector: Projector;
    metering: Metering;
    webhooks: Webhooks;
    billing: Billing | undefined;
  }
> {
  const relay = await Relay.create({
    store: deps.store,
    bus: deps.bus,
    sql: deps.sql,
    logger: deps.logger.child({ component: 'relay' }),
  });
  relay.start();
  let projector: Projector;
  try {
    projector = await Projector.create({
      sql: deps.sql,
      bus: deps.bus,
      store: deps.store,
      logger: deps.logger.child({ component: 'projector' }),
    });
    await projector.start();
  } catch (err) {
    await relay.close();
    throw err;
  }
  let metering: Metering;
  try {
    metering = await Metering.create({
      store: deps.store,
      bus: deps.bus,
      sql: deps.sql,
      logger: deps.logger.child({ component: 'metering' }),
      ...deps.metering,
    });
    await metering.start();
  } catch (err) {
    await projector.close();
    await relay.close();
    throw err;
  }
  let webhooks: Webhooks;
  try {
    webhooks = await Webhooks.create({
      store: deps.store,
      bus: deps.bus,
      sql: deps.sql,
      logger: deps.logger.child({ component: 'webhooks' }),
      ...deps.webhooks,
    });
    await webhooks.start();
  } catch (err) {
    await metering.close();
    await projector.close();
    await relay.close();
    throw err;
  }
  let billing: Billing | undefined;
  try {
    billing = deps.billing
      ? createBilling(deps.billing, {
          store: deps.store,
          bus: deps.bus,
          sql: deps.sql,
          redis: deps.redis,
          logger: deps.logger.child({ component: 'billing' }),
        })
      : undefined;
    await billing?.start();
  } catch (err) {
    await webhooks.close();
    await metering.close();
    await projector.close();
    await relay.close();
    throw err;
  }
  let closing: Promise<void> | undefined;
  return {
    relay,
    projector,
    metering,
    webhooks,
    billing,
    waitForPosition: (position, timeoutMs) => projector.waitForPosition(position, timeoutMs),
    onAdvance: (listener) => projector.onAdvance(listener),
    readiness: () => readinessOf(relay, projector, metering, billing, webhooks),
    close: () =>
      (closing ??= (async () => {
        await billing?.close();
        await webhooks.close();
        await metering.close();
        await relay.close();
        await projector.close();
      })()),
  };
}
