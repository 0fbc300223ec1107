/**
 * Composition root of the standalone metering consumer: NATS JetStream (session events) →
 * usage events in the event store, with its effects in PostgreSQL.
 */
import { openNatsBus, run } from '@quorum/runtime';
import { openConsumerProcess } from '@quorum/runtime/telemetry';
import { pino } from 'pino';
import { meteringOptions, parseMeteringEnv } from './env';
import { Metering } from './metering';

const env = parseMeteringEnv();
const logger = pino({ level: env.LOG_LEVEL, base: { service: 'metering' } });

await run({ name: 'metering', logger }, async (life) => {
  const { sql, store, adapter } = await openConsumerProcess(life, 'metering', env, {
    applicationName: 'quorum-metering',
    logger,
  });
  const bus = life.use(
    'connection',
    'nats',
    await openNatsBus({ servers: env.NATS_URL, name: 'quorum-metering', namespace: env.NATS_NAMESPACE }),
  );
  const metering = life.use(
    'consumer',
    'metering',
    await Metering.create({
      store,
      bus,
      sql,
      logger: logger.child({ component: 'metering' }),
      durableName: env.METERING_DURABLE,
      ...meteringOptions(env),
    }),
  );
  await metering.start();
  logger.info({ eventStore: adapter, intervalSeconds: env.METERING_INTERVAL_SECONDS }, 'metering running');
});
