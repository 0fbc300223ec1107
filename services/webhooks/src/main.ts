/**
 * Composition root of the standalone webhook delivery process: NATS JetStream (every event) →
 * deliveries in PostgreSQL → signed POSTs to the organizations' endpoints, with
 * `endpoint.disabled` appended to the event store when an endpoint is gone or keeps failing.
 * `/health` and `/health/ready` on HEALTH_PORT when it is set.
 */
import { openNatsBus, run } from '@quorum/runtime';
import { openConsumerProcess } from '@quorum/runtime/telemetry';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { parseWebhooksEnv, webhooksOptions } from './env';
import { createHealthServer } from './health';
import { Webhooks } from './webhooks';

const env = parseWebhooksEnv();
const logger = pino({ level: env.LOG_LEVEL, base: { service: 'webhooks' } });

await run({ name: 'webhooks', logger }, async (life) => {
  const { sql, store, adapter } = await openConsumerProcess(life, 'webhooks', env, {
    applicationName: 'quorum-webhooks',
    logger,
  });
  const bus = life.use(
    'connection',
    'nats',
    await openNatsBus({ servers: env.NATS_URL, name: 'quorum-webhooks', namespace: env.NATS_NAMESPACE }),
  );
  const options = webhooksOptions(env);
  const webhooks = life.use(
    'consumer',
    'webhooks',
    await Webhooks.create({
      store,
      bus,
      sql,
      logger: logger.child({ component: 'webhooks' }),
      durableName: env.WEBHOOK_DURABLE,
      ...options,
    }),
  );
  await webhooks.start();
  let health: number | undefined;
  if (env.HEALTH_PORT !== undefined) {
    const server = createHealthServer(webhooks, logger.child({ component: 'health' }));
    await new Promise<void>((resolve) => server.listen(env.HEALTH_PORT, env.HEALTH_HOST, resolve));
    life.onClose(
      'server',
      'health server',
      () => new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve()))),
    );
    health = (server.address() as AddressInfo).port;
  }
  logger.info(
    {
      eventStore: adapter,
      workers: options.concurrency,
      timeoutMs: options.timeoutMs,
      retryScale: options.retryScale,
      allowHttp: options.policy.allowHttp,
      allowLoopback: options.policy.allowLoopback,
      ...(health !== undefined ? { healthPort: health } : {}),
    },
    'webhooks running',
  );
});
