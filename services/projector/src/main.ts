/** Standalone projector: NATS → Postgres read models, with a health endpoint. */
import { pino } from 'pino';
import { NatsBus } from '@quorum/bus/nats';
import { startTelemetry } from '@quorum/telemetry';
import { openConnections } from './connections';
import { loadProjectorEnv } from './env';
import { createHealthServer } from './health';
import { Projector } from './projector';

const env = loadProjectorEnv();
const logger = pino({ name: 'projector', level: env.LOG_LEVEL });
if (env.NATS_URL === undefined) {
  logger.fatal('NATS_URL is required: a standalone projector consumes the NATS JetStream bus');
  process.exit(1);
}
const telemetry = startTelemetry({
  serviceName: env.OTEL_SERVICE_NAME ?? 'quorum-projector',
  ...(env.OTEL_EXPORTER_OTLP_ENDPOINT ? { otlpEndpoint: env.OTEL_EXPORTER_OTLP_ENDPOINT } : {}),
});
const connections = await openConnections(env, 'quorum-projector');
const bus = await NatsBus.create({
  servers: env.NATS_URL,
  name: 'quorum-projector',
  ...(env.NATS_NAMESPACE ? { namespace: env.NATS_NAMESPACE } : {}),
});
const projector = await Projector.create({
  sql: connections.sql,
  bus,
  store: connections.store,
  logger: logger.child({ component: 'projector' }),
  maxAttempts: env.PROJECTOR_MAX_ATTEMPTS,
  durablePrefix: env.PROJECTOR_DURABLE_PREFIX,
});
await projector.start();
const server = createHealthServer(projector, logger.child({ component: 'health' }));
await new Promise<void>((resolve) => server.listen(env.PORT, env.HOST, resolve));
logger.info({ port: env.PORT, host: env.HOST }, 'projector listening');

let draining = false;
async function shutdown(signal: string): Promise<void> {
  if (draining) return;
  draining = true;
  logger.info({ signal }, 'draining');
  try {
    await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
    await projector.close();
    await bus.close();
    await connections.close();
    await telemetry.shutdown();
    logger.info('drained');
    process.exit(0);
  } catch (err) {
    logger.error({ err }, 'drain failed');
    process.exit(1);
  }
}
process.once('SIGTERM', () => void shutdown('SIGTERM'));
process.once('SIGINT', () => void shutdown('SIGINT'));
