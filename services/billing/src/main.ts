/**
 * Composition root of the standalone billing consumer: NATS JetStream (organization, seat and
 * usage events) → Stripe, its outcomes as billing events in the event store, its own tables in
 * PostgreSQL. Refuses to start without a Stripe key: there would be nothing to sync.
 */
import { openNatsBus, run } from '@quorum/runtime';
import { openConsumerProcess } from '@quorum/runtime/telemetry';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { createBilling } from './compose';
import { parseBillingEnv } from './env';

const env = parseBillingEnv();
const logger = pino({ level: env.LOG_LEVEL, base: { service: 'billing' } });

await run({ name: 'billing', logger }, async (life) => {
  if (!env.STRIPE_SECRET_KEY)
    throw new Error('STRIPE_SECRET_KEY is not set: Stripe is not connected, so there is nothing to sync');
  const { sql, store, adapter } = await openConsumerProcess(life, 'billing', env, {
    applicationName: 'quorum-billing',
    logger,
  });
  const bus = life.use(
    'connection',
    'nats',
    await openNatsBus({ servers: env.NATS_URL, name: 'quorum-billing', namespace: env.NATS_NAMESPACE }),
  );
  let redis: Redis | undefined;
  if (env.REDIS_URL) {
    const client = new Redis(env.REDIS_URL);
    redis = client;
    life.onClose('connection', 'redis', () => client.quit());
    client.on('error', (err: Error) => logger.warn({ err }, 'redis connection error; reconnecting'));
  }
  const billing = createBilling(env, {
    store,
    bus,
    sql,
    redis,
    logger: logger.child({ component: 'billing' }),
    durableName: env.BILLING_DURABLE,
  })!;
  life.use('consumer', 'billing', billing);
  await billing.start();
  logger.info(
    {
      eventStore: adapter,
      stripeApi: env.STRIPE_API_BASE ?? 'api.stripe.com',
      callsPerSecond: env.BILLING_STRIPE_CALLS_PER_SECOND,
      reconcileEverySeconds: env.STRIPE_METER_ID ? env.BILLING_RECONCILE_EVERY_SECONDS : 'off (no STRIPE_METER_ID)',
    },
    'billing running',
  );
});
