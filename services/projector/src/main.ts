/** Standalone projector: NATS → Postgres read models, with a health endpoint. */
import { pino } from 'pino';
import { openNatsBus, run } from '@quorum/runtime';
import { useTelemetry } from '@quorum/runtime/telemetry';
import { openConnections } from './connections';
import { loadProjectorEnv } from './env';
import { createHealthServer } from './health';
import { Projector } from './projector';

const env = loadProjectorEnv();
const logger = pino({ name: 'projector', level: env.LOG_LEVEL });
const natsUrl = env.NATS_URL;
if (natsUrl === undefined) {
  logger.fatal('NATS_URL is required: a standalone projector consumes the NATS JetStream bus');
  process.exit(1);
}

await run({ name: 'projector', logger }, async (life) => {
  useTelemetry(life, {
    serviceName: env.OTEL_SERVICE_NAME ?? 'quorum-projector',
    otlpEndpoint: env.OTEL_EXPORTER_OTLP_ENDPOINT,
  });
  const { sql, store } = life.use('store', 'event store and database', await openConnections(env, 'quorum-projector'));
  const bus = life.use(
    'connection',
    'nats',
    await openNatsBus({
      servers: natsUrl,
      name: 'quorum-projector',
      namespace: env.NATS_NAMESPACE,
      ensureStream: false,
    }),
  );
  const projector = life.use(
    'consumer',
    'projector',
    await Projector.create({
      sql,
      bus,
      store,
      logger: logger.child({ component: 'projector' }),
      maxAttempts: env.PROJECTOR_MAX_ATTEMPTS,
      durablePrefix: env.PROJECTOR_DURABLE_PREFIX,
    }),
  );
  await projector.start();
  const server = createHealthServer(projector, logger.child({ component: 'health' }));
  await new Promise<void>((resolve) => server.listen(env.PORT, env.HOST, resolve));
  life.onClose(
    'server',
    'health server',
    () => new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve()))),
  );
  logger.info({ port: env.PORT, host: env.HOST }, 'projector listening');
});
